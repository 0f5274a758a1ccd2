"""Batch files as they really come (issue 18): the output never replaces the input nor is left half
written, every physical record of the input is one output row (a stray quote, a bad byte or a blank
line loses nothing and counts nothing extra), Windows-1252 is detected, and money is exact in every
output. Ends with the malformed-batch property."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isfdsl.commands import batch
from isfdsl.commands.cli import main
from isfdsl.commands.pipeline import build, load_package
from isfdsl.runtime.contract import points_text, refund_text, round_refund
from isfdsl.runtime.io import csv_main

from .conftest import DEFINITIONS, ROOT

DEFS = str(DEFINITIONS / "isf2025")
HEADER = "id,sex,age,care_level,pdx,procedures,drugs,note"
#: Episodes of known groups (fields after the id, before the note): 802U, 39O, 901A, 373.
GOOD = ["2,78,3,H35.3,CKD05,S01LA05", "1,70,2,H25.1,CJE20,", "1,45,3,M16,,", "2,30,1,O80,,"]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """isf2025 built with this runtime (generated/ may lag behind it until rebuilt)."""
    out = tmp_path_factory.mktemp("pkg") / "isf2025"
    assert build(DEFS, out).package is not None
    return out


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _episodes(n: int) -> str:
    return HEADER + "\n" + "".join(f"{k},{GOOD[k % 4]},n{k}\n" for k in range(1, n + 1))


# ---------------------------------------------------------------------- 1. output = input


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "relative"])
def test_output_that_is_the_input_is_refused(tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`isf group … episodes.csv -o episodes.csv` grew the file without end and destroyed the rows."""
    src = tmp_path / "episodes.csv"
    src.write_text(_episodes(20), encoding="utf-8")
    before = src.read_bytes()
    out = {"same": src, "symlink": tmp_path / "link.csv", "hardlink": tmp_path / "hard.csv", "relative": Path("episodes.csv")}[how]
    if how == "symlink":
        out.symlink_to(src)
    elif how == "hardlink":
        os.link(src, out)
    monkeypatch.chdir(tmp_path)
    r = _invoke("group", DEFS, str(src), "-o", str(out))
    assert r.exit_code == 2 and "is the input file" in r.output, r.output
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []


def test_pathways_output_that_is_the_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "p.jsonl"
    src.write_text('{"id": "a", "pathway": {"kind": "knee"}, "episodes": []}\n', encoding="utf-8")
    r = _invoke("group-pathways", DEFS, str(src), "-o", str(src))
    assert r.exit_code == 2 and "is the input file" in r.output
    assert src.read_text(encoding="utf-8").startswith('{"id": "a"')


# ---------------------------------------------------------------------- 2. a stray quote


def test_a_stray_quote_is_one_flagged_row(tmp_path: Path, package: Path) -> None:
    """7 data lines with `"unbalanced` in one field gave 3 rows and no problem."""
    lines = [f"{k},{GOOD[k % 4]},n{k}" for k in range(1, 8)]
    lines[2] = f'3,{GOOD[3]},"unbalanced'
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    _invoke("group", str(package), str(src), "-o", str(out))
    rows = _rows(out)
    assert [r["id"] for r in rows] == [str(k) for k in range(1, 8)]
    flagged = {r["row"]: r["problems"] for r in rows if r["problems"]}
    assert list(flagged) == ["3"] and flagged["3"].startswith("row 3 (line 4): a quote opened in this line is not closed")
    assert rows[3]["group"] == "802U" and rows[3]["note"] == "n4"


def test_stray_quotes_in_twenty_thousand_rows_lose_none(tmp_path: Path, package: Path) -> None:
    """20,000 rows with stray quotes gave 9,510 rows, none flagged. Quoted fields elsewhere (as a
    spreadsheet writes a note holding the separator) close a stray quote's field in the middle of
    another line: that record is no CSV record, so the stray line is read alone all the same."""
    lines = []
    for k in range(1, 20_001):
        note = '"a, b"' if k % 7 == 0 else f"n{k}"
        if k % 1000 == 500:
            note = '"unbalanced'
        lines.append(f"{k},{GOOD[k % 4]},{note}")
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    output = _invoke("group", str(package), str(src), "-o", str(out), "--no-progress").output
    rows = _rows(out)
    assert len(rows) == 20_000 and [r["id"] for r in rows] == [str(k) for k in range(1, 20_001)]
    assert [r["row"] for r in rows if r["problems"]] == [str(k) for k in range(500, 20_001, 1000)]
    assert "20,000" in output


def test_a_quoted_field_over_several_lines_is_still_one_record(tmp_path: Path, package: Path) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(HEADER + f'\n1,{GOOD[0]},"two\nlines"\n2,{GOOD[1]},x\n', encoding="utf-8")
    _invoke("group", str(package), str(src), "-o", str(out))
    rows = _rows(out)
    assert [(r["id"], r["note"], r["problems"]) for r in rows] == [("1", "two\nlines", ""), ("2", "x", "")]


def test_python_m_package_reads_a_stray_quote_as_one_row(package: Path, capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    pkg = load_package(package)
    src = tmp_path / "in.csv"
    src.write_text(HEADER + f'\n1,{GOOD[0]},x\n2,{GOOD[1]},"oops\n\n3,{GOOD[2]},y\n', encoding="utf-8")
    assert csv_main(pkg._GROUPER, "t", [str(src)], pkg.ATTRIBUTES) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[1]["problems"].startswith("line 3: a quote opened in this line is not closed")
    assert rows[0]["problems"] == rows[2]["problems"] == ""


# ---------------------------------------------------------------------- 4. a run that stops


def test_an_undecodable_byte_after_64_kib_is_the_right_row(tmp_path: Path, package: Path) -> None:
    """A UTF-8 file (`ø` in its first row) with a byte that is not UTF-8 far past the part read to
    detect the encoding: it stopped with the rows before it in the output and named the wrong row."""
    rows_in = [f"{k},{GOOD[k % 4]},{'blå' if k == 1 else 'n'}" for k in range(1, 8001)]
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    data = (HEADER + "\n" + "\n".join(rows_in) + "\n").encode("utf-8")
    assert len(data) > 1 << 17
    cut = data.index(b"\n4500,") + 1
    data = data[:cut] + data[cut:].replace(b",n\n", b",\xff\n", 1)
    src.write_bytes(data)
    r = _invoke("group", str(package), str(src), "-o", str(out))
    assert r.exit_code == 0, r.output
    rows = _rows(out)
    assert len(rows) == 8000 and rows[0]["note"] == "blå"
    assert [(r["row"], r["problems"]) for r in rows if r["problems"]] == [
        ("4500", "row 4500 (line 4501): not UTF-8 text: byte 0xff at position 33 of the line (invalid start byte)")]


def test_a_failing_run_keeps_the_previous_output(tmp_path: Path, package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that fills up part-way: a traceback and a CSV cut mid-row. Now the previous file stays,
    nothing else is left in the folder, and the message says so (exit 1)."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(_episodes(10_000), encoding="utf-8")
    out.write_text("previous\n", encoding="utf-8")
    real = batch.Writer.put
    count = [0]

    def full(self: batch.Writer, part: object) -> None:  # the second chunk of rows: 4,096 written
        count[0] += 1
        if count[0] == 2:
            raise OSError(28, "No space left on device")
        real(self, part)

    monkeypatch.setattr(batch.Writer, "put", full)
    r = CliRunner().invoke(main, ["group", str(package), str(src), "-o", str(out)])
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit), r.output
    assert "No space left on device" in r.output and f"{out} is unchanged (the previous file is kept)" in r.output
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_interrupted_run_leaves_no_output(tmp_path: Path, package: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    """Ctrl-C at the third chunk of rows (the first 8,192 rows already written to Parquet): no file
    that looks complete; exit 130."""
    if fmt == "parquet":
        pytest.importorskip("pyarrow.parquet")
    src, out = tmp_path / "in.csv", tmp_path / f"out.{fmt}"
    src.write_text(_episodes(10_000), encoding="utf-8")
    real = batch.Writer.put
    count = [0]

    def stop(self: batch.Writer, part: object) -> None:
        count[0] += 1
        if count[0] == 3:
            raise KeyboardInterrupt
        real(self, part)

    monkeypatch.setattr(batch.Writer, "put", stop)
    r = CliRunner().invoke(main, ["group", str(package), str(src), "-o", str(out)])
    assert r.exit_code == 130 and f"interrupted (SIGINT); no {out} was written" in r.output, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_sigterm_keeps_the_previous_output(tmp_path: Path, package: Path) -> None:
    """kill (SIGTERM) in the middle of a run: the previous output stays as it was, the temporary file
    is removed, exit 143 and a message instead of a traceback."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(_episodes(400_000), encoding="utf-8")
    out.write_text("previous\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "isfdsl", "group", str(package), str(src), "-o", str(out), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(p.name.endswith(".part") for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and f"interrupted (SIGTERM); {out} is unchanged" in err
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def _refuses(folder: Path) -> bool:
    try:
        os.close(os.open(folder / "probe.csv", os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    except PermissionError:
        return True
    (folder / "probe.csv").unlink()
    return False


def test_unwritable_targets_say_so_without_a_traceback(tmp_path: Path, package: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(_episodes(50), encoding="utf-8")
    r = CliRunner().invoke(main, ["group", str(package), str(src), "-o", str(tmp_path / "missing" / "out.csv")])
    assert r.exit_code == 1 and "the folder" in r.output and "does not exist" in r.output, r.output
    if Path("/dev/full").exists():
        r = CliRunner().invoke(main, ["group", str(package), str(src), "-o", "/dev/full", "--output-format", "csv"])
        assert r.exit_code == 1 and "No space left on device" in r.output, r.output
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if not _refuses(folder):  # root: permissions do not stop it; /sys refuses everyone
        folder = Path("/sys")
        if not folder.is_dir() or not _refuses(folder):
            pytest.skip("no folder that refuses writing")
    r = CliRunner().invoke(main, ["group", str(package), str(src), "-o", str(folder / "out.csv")])
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit), r.output
    assert "cannot write" in r.output and "ermission denied" in r.output, r.output


# ---------------------------------------------------------------------- 5. blank lines, carriage returns


def test_lines_of_separators_alone_are_no_episodes(tmp_path: Path, package: Path) -> None:
    """Excel's "CSV" of a sheet with formatted empty rows below the table: `;;;;` lines are blank."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("id;sex;age\n1;1;40\n;;\n2;2;50\n ; ; \n;;\n", encoding="utf-8")
    r = _invoke("group", str(package), str(src), "-o", str(out), "--no-progress")
    assert r.exit_code == 0, r.output
    assert [row["id"] for row in _rows(out)] == ["1", "2"]


def test_blank_lines_are_no_episodes(tmp_path: Path, package: Path) -> None:
    """Blank lines became episodes (470, return code 1) and inflated the summary."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(f"\n{HEADER}\r\n\r\n1,{GOOD[0]},a\n\n  \n2,{GOOD[1]},b\n\n", encoding="utf-8")
    output = _invoke("group", str(package), str(src), "-o", str(out)).output
    rows = _rows(out)
    assert [(r["row"], r["id"], r["group"]) for r in rows] == [("1", "1", "802U"), ("2", "2", "39O")]
    assert re.search(r"rows in = rows out\W+2\W", output), output


def test_a_json_line_with_a_carriage_return_is_one_record(tmp_path: Path, package: Path) -> None:
    """A CR between tokens (JSON allows it) split the line into two "not valid JSON" rows."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b'{"id": 1,\r "pdx": "H25.1", "procedures": ["CJE20"], "age": 70, "care_level": "2"}\n\n'
                    b'{"id": 2, "pdx": "M16",\r "age": 45, "care_level": "3"}\r\n')
    _invoke("group", str(package), str(src), "-o", str(out))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["row"], r["id"], r["group"], r["problems"]) for r in rows] == [(1, 1, "39O", ""), (2, 2, "901A", "")]


def test_a_json_integer_of_thousands_of_digits_is_an_invalid_value_in_its_row(tmp_path: Path, package: Path) -> None:
    """Past Python's 4,300 digits the line was "not valid JSON" and lost its id; now it is read, and the
    huge integer is an invalid value (shown cut), the row keeping its id and other values."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.csv"
    src.write_text('{"id": 1, "pdx": "H25.1", "procedures": ["CJE20"], "age": 70, "care_level": "2"}\n'
                   '{"id": 2, "pdx": "H25.1", "procedures": ["CJE20"], "age": ' + "9" * 5000 + ', "care_level": "2"}\n',
                   encoding="utf-8")
    _invoke("group", str(package), str(src), "-o", str(out))
    rows = _rows(out)
    assert [(r["row"], r["id"], r["pdx"]) for r in rows] == [("1", "1", "H25.1"), ("2", "2", "H25.1")]
    assert rows[0]["group"] == "39O" and rows[1]["group"]  # the invalid age counts as missing
    assert rows[1]["problems"] == f"age='{'9' * 100}… <5,000 characters>': an integer of more than 28 digits", rows[1]["problems"]
    assert rows[1]["age"] == "9" * 5000  # passed through whole


@pytest.mark.parametrize("text", ["", HEADER + "\n", "\n\n"])
def test_an_input_without_rows_is_a_warning(tmp_path: Path, package: Path, text: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """An empty input gave 0 rows, exit 0 and no word: still exit 0 and the header alone, with a warning."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(text, encoding="utf-8")
    r = _invoke("group", str(package), str(src), "-o", str(out))
    assert r.exit_code == 0 and "warning: the input holds no rows" in r.output, r.output
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("row,") and len(_rows(out)) == 0
    pkg = load_package(package)
    assert csv_main(pkg._GROUPER, "t", [str(src)], pkg.ATTRIBUTES) == 0
    assert "warning: the input holds no rows" in capsys.readouterr().err


# ---------------------------------------------------------------------- 16. Windows-1252, money


def test_windows_1252_is_detected(tmp_path: Path, package: Path) -> None:
    """Norwegian Excel writes Windows-1252: `–` and `€` arrived as `\\x96` and `\\x80`; also when the
    first 64 KiB are ASCII."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes((HEADER + f"\n1,{GOOD[0]},Øye – 1 000 €\n").encode("cp1252"))
    _invoke("group", str(package), str(src), "-o", str(out))
    assert [r["note"] for r in _rows(out)] == ["Øye – 1 000 €"]
    late = _episodes(3000).encode("ascii") + f"3001,{GOOD[0]},Øye – €\n".encode("cp1252")
    assert len(late) > 1 << 16
    src.write_bytes(late)
    _invoke("group", str(package), str(src), "-o", str(out))
    rows = _rows(out)
    assert len(rows) == 3001 and rows[-1]["note"] == "Øye – €" and not any(r["problems"] for r in rows)


def test_refunds_have_two_decimals_rounded_half_up(tmp_path: Path, package: Path) -> None:
    """Refunds printed with varying decimals and rounded half to even by the decimal context; points
    as `0.1`, `2.2`. Now: points exact with three decimals, refunds to whole øre, half up."""
    assert round_refund(Decimal("0.125")) == Decimal("0.13") and round_refund(Decimal("0.135")) == Decimal("0.14")
    assert refund_text(Decimal("1684.650")) == "1684.65" and refund_text(Decimal("842.3250")) == "842.33"
    assert points_text(Decimal("0.1")) == "0.100" and points_text(Decimal("0.12345")) == "0.12345"
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(HEADER + f"\n1,{GOOD[0]},a\n2,{GOOD[1]},b\n", encoding="utf-8")
    _invoke("group", str(package), str(src), "-o", str(out), "--unit-price", "2.5", "--share", "somatic=0.5")
    assert [(r["group"], r["points"], r["refund"]) for r in _rows(out)] == [("802U", "0.100", "0.13"), ("39O", "0.450", "0.56")]


def test_money_is_decimal_in_arrow_and_parquet(tmp_path: Path, package: Path) -> None:
    """`group_arrow` gave float64 (a sum of 1412.5499999997885), Parquet output text (DuckDB's
    SUM(points) failed). Both are decimal128 now, and their sums exact."""
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    pq = pytest.importorskip("pyarrow.parquet")
    pkg = load_package(package)
    names = HEADER.split(",")
    episodes = [dict(zip(names, f"{k},{GOOD[k % 4]},x".split(","))) for k in range(5000)]
    [out] = list(pkg.group_arrow([pa.RecordBatch.from_pylist(episodes)]))
    want = [pkg.group(e) for e in episodes]
    assert out.schema.field("points").type == pa.decimal128(38, 3) and out.schema.field("refund").type == pa.decimal128(38, 2)
    assert pc.sum(out.column("points")).as_py() == sum(r.points for r in want)
    assert pc.sum(out.column("refund")).as_py() == sum(round_refund(r.refund) for r in want)
    src, parquet = tmp_path / "in.csv", tmp_path / "out.parquet"
    src.write_text(_episodes(300), encoding="utf-8")
    output = _invoke("group", str(package), str(src), "-o", str(parquet), "--no-progress").output
    table = pq.read_table(parquet)
    assert table.schema.field("points").type == pa.decimal128(38, 3) and table.schema.field("row").type == pa.int64()
    total = pc.sum(table.column("refund")).as_py()
    assert f"{total:,.2f}" in output  # the summary's total is the column's
    assert table.schema.field("note").type == pa.string()


# ---------------------------------------------------------------------- the malformed-batch property

LETTERS = st.text(alphabet="abcxyzæø", min_size=1, max_size=6)
#: Lines of a generated file: a few dozen in CI, hundreds under the `deep` profile (tests/conftest.py).
LINES = 400 if settings.default.max_examples >= settings.get_profile("deep").max_examples else 40


@st.composite
def csv_batch(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, bool]], str]:
    """A CSV file of good rows and malformed ones; (bytes, the records expected as (id, flagged),
    encoding). Every quote is followed by a letter, so a stray one never closes into a CSV record."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    encoding = draw(st.sampled_from(["auto", "utf-8"]))
    bom = draw(st.booleans())  # a byte-order mark: UTF-8 for certain
    out = [b"\xef\xbb\xbf" if bom else b"", delimiter.join(HEADER.split(",")).encode() + b"\r\n"]
    expected: list[tuple[str, bool]] = []
    for k in range(1, draw(st.integers(0, LINES)) + 1):
        kind = draw(st.sampled_from(["good", "good", "quoted", "multiline", "blank", "stray", "short", "long",
                                     "bad byte", "cr"]))
        fields = [str(k), *GOOD[k % 4].split(",")]
        end = draw(st.sampled_from([b"\n", b"\r\n"]))
        note = draw(LETTERS)
        if kind == "blank":
            out.append(draw(st.sampled_from([b"", b" ", b"\t ", (delimiter * 4).encode(), f" {delimiter} ".encode()])) + end)
            continue
        flagged = kind in ("stray", "short", "long") or (kind == "bad byte" and (encoding == "utf-8" or bom))
        if kind == "quoted":
            note = f'"{note}{delimiter}{draw(LETTERS)}"'
        elif kind == "multiline":
            note = f'"{note}\n{draw(LETTERS)}"'
        elif kind == "stray":
            note = '"' + note
        elif kind == "short":
            fields = fields[: draw(st.integers(1, len(fields) - 1))]
        elif kind == "long":
            fields += draw(st.lists(LETTERS, min_size=1, max_size=3))
        text = delimiter.join(fields if kind == "short" else [*fields, note]).encode()
        if kind == "bad byte":
            text += draw(st.sampled_from([b"\xff", b"\x96", b"\xc3("]))
        if kind == "cr":  # a carriage return alone ends a line (as old spreadsheets write): two records
            text += b"\r" + draw(LETTERS).encode()
            expected.append((str(k), False))
            expected.append(("", True))
        else:
            expected.append((str(k), flagged))
        out.append(text + end)
    return b"".join(out), expected, encoding


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(csv_batch())
def test_malformed_csv_batches_lose_no_row(tmp_path: Path, package: Path, case: tuple[bytes, list[tuple[str, bool]], str]) -> None:
    """Rows out = records in, every malformed record flagged and every good one not, ids in order,
    never a traceback."""
    data, expected, encoding = case
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(data)
    r = _invoke("group", str(package), str(src), "-o", str(out), "--encoding", encoding, "--no-progress")
    assert r.exit_code == 0, r.output
    rows = _rows(out)
    assert len(rows) == len(expected), (data, rows)
    for row, (ident, flagged) in zip(rows, expected, strict=True):
        if ident:
            assert row["id"] == ident, (data, row)
            assert bool(row["problems"]) == flagged, (data, row)
        else:
            assert row["problems"], (data, row)
        assert row["problems"].startswith(f"row {row['row']} (line ") or not row["problems"]
    # python -m <package> reads with the same reader: the same rows, flagged alike
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert csv_main(load_package(package)._GROUPER, "t", [str(src), "--encoding", encoding]) == 0
    again = list(csv.DictReader(io.StringIO(printed.getvalue())))
    assert [(r["id"], bool(r["problems"])) for r in again] == [(r["id"], bool(r["problems"])) for r in rows]


@st.composite
def jsonl_batch(draw: st.DrawFn) -> tuple[bytes, list[tuple[int | None, bool]]]:
    out: list[bytes] = []
    expected: list[tuple[int | None, bool]] = []
    for k in range(1, draw(st.integers(0, LINES)) + 1):
        kind = draw(st.sampled_from(["good", "good", "cr", "blank", "stray", "bad byte", "array", "deep", "number"]))
        good = json.dumps({"id": k, "pdx": "H25.1", "procedures": ["CJE20"], "age": 70, "care_level": "2", "note": draw(LETTERS)},
                          ensure_ascii=False).encode()
        end = draw(st.sampled_from([b"\n", b"\r\n"]))
        line = {"good": good, "cr": good.replace(b", ", b",\r ", 1), "blank": draw(st.sampled_from([b"", b"  ", b"\r"])),
                "stray": good.replace(b'"pdx"', b'"pdx', 1), "bad byte": good[:-1] + b', "x": "\xff"}',
                "array": b"[1, 2]", "deep": b"[" * 5000 + b"]" * 5000, "number": good.replace(b'"age": 70', b'"age": 1' + b"0" * 5000, 1)}[kind]  # an invalid age
        out.append(line + end)
        if kind != "blank":
            expected.append((k if kind in ("good", "cr", "bad byte") else None, kind not in ("good", "cr")))
    return b"".join(out), expected


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(jsonl_batch())
def test_malformed_jsonl_batches_lose_no_row(tmp_path: Path, package: Path, case: tuple[bytes, list[tuple[int | None, bool]]]) -> None:
    data, expected = case
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(data)
    r = _invoke("group", str(package), str(src), "-o", str(out), "--encoding", "utf-8", "--no-progress")
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(expected), (data, rows)
    for n, (row, (ident, flagged)) in enumerate(zip(rows, expected, strict=True), 1):
        assert row["row"] == n and bool(row["problems"]) == flagged, (data, row)
        if ident is not None:
            assert row["id"] == ident and row["group"] == "39O", (data, row)


def test_readme_and_guide_state_the_rounding_rule() -> None:
    """The one rounding rule of money, where money is described."""
    for doc in (ROOT / "README.md", ROOT / "docs" / "grouping.md"):
        text = " ".join(doc.read_text(encoding="utf-8").split())
        assert "half up" in text and "two decimals" in text and "three decimals" in text, doc
