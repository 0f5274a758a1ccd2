"""`isf group`: every input row gives one output row; malformed rows are flagged with row, field and
reason; CSV in UTF-8 and ISO-8859-1, JSON Lines and Parquet in and out."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from isfdsl.commands.cli import main
from isfdsl.runtime.io import DELIMITERS, sniff_delimiter

from .conftest import DEFINITIONS

DEFS = str(DEFINITIONS / "isf2025")
HEADER = ["id", "sex", "age", "care_level", "pdx", "procedures", "drugs"]
GOOD = [["2", "78", "3", "H35.3", "CKD05", "S01LA05"], ["1", "70", "2", "H25.1", "CJE20", ""],
        ["1", "45", "3", "M16", "", ""], ["2", "30", "1", "O80", "", ""]]
#: Malformed rows: (fields after the id, the text the problem must hold).
BAD = [
    (["1", "abc", "3", "M16", "", ""], "age='abc': not an integer"),
    (["1", "300", "3", "M16", "", ""], "age='300': outside int 0..125"),
    (["x", "40", "3", "M16", "", ""], "sex='x': not a value of Sex"),
    (["1", "40", "9", "M16", "", ""], "care_level='9': not a value of CareLevel"),
    (["1", "40", "3"], "4 fields where the header has 7"),
    (["1", "40", "3", "M16", "", "", "surplus", "more"], "9 fields where the header has 7"),
]


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, ["group", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_five_percent_malformed_rows_are_kept_and_flagged(tmp_path: Path) -> None:
    rng = random.Random(7)
    rows, expected = [], {}
    for n in range(1, 1001):
        if n % 20 == 0:  # 5 %
            fields, problem = BAD[rng.randrange(len(BAD))]
            expected[n] = problem
        else:
            fields = GOOD[rng.randrange(len(GOOD))]
        rows.append([str(n), *fields])
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write_csv(src, rows)
    output = _run(DEFS, str(src), "-o", str(out))
    with out.open(encoding="utf-8", newline="") as f:
        result = list(csv.DictReader(f))
    assert len(result) == 1000
    assert [r["id"] for r in result] == [str(n) for n in range(1, 1001)]
    flagged = {int(r["row"]): r["problems"] for r in result if r["problems"]}
    assert set(flagged) == set(expected)
    for n, problem in expected.items():
        assert problem in flagged[n]
        if "fields where" in problem:
            assert flagged[n].startswith(f"row {n} (line {n + 1})")
    assert all(r["group"] for r in result)
    assert "1,000" in output and "rows with input problems" in output


def test_iso_8859_1_csv_is_detected(tmp_path: Path) -> None:
    src, out = tmp_path / "latin1.csv", tmp_path / "out.csv"
    _write_csv(src, [["Ø1", *GOOD[0]], ["Å2", *GOOD[1]]], encoding="iso-8859-1")
    assert "é".encode("iso-8859-1") != "é".encode()
    _run(DEFS, str(src), "-o", str(out))
    result = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [r["id"] for r in result] == ["Ø1", "Å2"] and [r["group"] for r in result] == ["802U", "39O"]


def test_jsonl_with_broken_lines(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"id": 1, "pdx": "H25.1", "procedures": ["CJE20"], "age": 70, "care_level": "2"}\n{"id": 2, "pdx": \n[1, 2]\n\n'
                   '{"id": 4, "age": "old"}\n', encoding="utf-8")
    _run(DEFS, str(src), "-o", str(out))
    result = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in result] == [1, 2, 3, 4]
    assert result[0]["group"] == "39O"
    assert "row 2: not valid JSON" in result[1]["problems"] and "row 3: a JSON object was expected" in result[2]["problems"]
    assert "age='old': not an integer" in result[3]["problems"]


def test_parquet_round_trip(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (the `arrow` extra) is not installed")
    src, out = tmp_path / "in.csv", tmp_path / "out.parquet"
    _write_csv(src, [[str(n), *GOOD[n % 4]] for n in range(50)])
    _run(DEFS, str(src), "-o", str(out))
    table = pq.read_table(out)
    assert table.num_rows == 50 and table.column("group").to_pylist()[:2] == ["802U", "39O"]
    again = tmp_path / "again.csv"
    _run(str(DEFINITIONS / "isf2025"), str(out), "-o", str(again))
    assert len(list(csv.DictReader(again.open(encoding="utf-8")))) == 50


def test_arrow_batches_fit_map_in_arrow(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow", reason="pyarrow (the `arrow` extra) is not installed")
    from isfdsl.commands.pipeline import build, load_package

    pkg = load_package(build(DEFS, tmp_path / "isf2025").package)  # type: ignore[arg-type]
    batch = pa.RecordBatch.from_pylist([dict(zip(HEADER, [str(n), *GOOD[n % 4]])) for n in range(10)])
    [out] = list(pkg.group_arrow(iter([batch]), keep=["id"]))
    assert out.num_rows == 10 and out.schema == pkg.arrow_schema([batch.schema.field("id")])
    assert out.column("group").to_pylist()[:2] == ["802U", "39O"]


@pytest.mark.parametrize(("suffix", "delimiter"), [(".csv", ";"), (".csv", "\t"), (".tsv", "\t"), (".txt", "|")])
def test_the_separator_is_read_from_the_header(tmp_path: Path, suffix: str, delimiter: str) -> None:
    """Norwegian spreadsheets save CSV with semicolons: grouped the same as with commas, quoted
    separators inside a field kept."""
    src, out = tmp_path / f"in{suffix}", tmp_path / "out.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows([[f"{n}{delimiter},x", *fields] for n, fields in enumerate(GOOD)])
    output = _run(DEFS, str(src), "-o", str(out))
    result = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [r["id"] for r in result] == [f"{n}{delimiter},x" for n in range(len(GOOD))]
    assert [r["group"] for r in result] == ["802U", "39O", "901A", "373"]
    assert "warning" not in output


def test_columns_that_are_no_attribute_are_reported(tmp_path: Path) -> None:
    """A file whose columns are none of the attributes (a wrong file or separator) is grouped row for
    row, with a warning; attributes the input lacks and columns no rule reads are named."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("sex;age;pdx\n1;40;M16\n", encoding="utf-8")
    output = _run(DEFS, str(src), "-o", str(out), "--delimiter", ",")
    assert "no input column is an attribute of these definitions" in output and "'sex;age;pdx'" in output
    assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == 1
    src.write_text("sex,age,pdx,ward\n1,40,M16,B3\n", encoding="utf-8")
    output = " ".join(_run(DEFS, str(src), "-o", str(out)).split())
    assert "warning" not in output
    # the bundled schema has 13 attributes (discharge_date among them: the version a date picks)
    assert "10 attribute(s) not in the input count as missing in every row: care_level, sector, contact, los, discharge_date," in output
    assert "1 input column(s) are no attribute and pass through unused: ward" in output


@given(st.lists(st.text(alphabet='ab_1 ,;\t|"', min_size=1, max_size=6), min_size=2, max_size=8),
       st.sampled_from(DELIMITERS), st.booleans())
def test_sniffed_separator_is_the_one_written(names: list[str], delimiter: str, quote_all: bool) -> None:
    """The separator found is the one the header was written with: names plain, or quoted whatever
    they hold (separators inside quotes do not count)."""
    if not quote_all:
        names = ["".join(c for c in name if c not in ',;\t|"') or "x" for name in names]
    line = io.StringIO()
    csv.writer(line, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL).writerow(names)
    assert sniff_delimiter(line.getvalue()) == delimiter


def test_unknown_table_and_missing_pyarrow_messages(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    _write_csv(src, [["1", *GOOD[0]]])
    result = CliRunner().invoke(main, ["group", DEFS, str(src), "-o", str(tmp_path / "o.csv"), "--table", "nope"])
    assert result.exit_code == 2 and "no decision table 'nope'" in result.output
    result = CliRunner().invoke(main, ["group", DEFS, str(src), "-o", str(tmp_path / "o.xyz")])
    assert result.exit_code == 2 and "cannot tell the format" in result.output


def test_readme_main_job_on_the_example_episodes(tmp_path: Path) -> None:
    from .conftest import ROOT

    example = ROOT / "examples" / "isf2025-episodes.csv"
    out = tmp_path / "grouped.csv"
    _run(str(ROOT / "generated" / "isf2025"), str(example), "-o", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == len(example.read_text(encoding="utf-8").splitlines()) - 1
    by_id = {r["id"]: (r["group"], r["return_code"]) for r in rows}
    assert by_id["1"] == ("802U", "0") and by_id["4"] == ("39O", "0") and by_id["25"] == ("470", "1")
    assert by_id["14"] == ("DS03", "0") and by_id["27"] == ("901I", "0")
