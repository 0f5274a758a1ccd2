"""`isf group --jobs N` (issue 19, item 3): chunks of rows grouped in worker processes give the output
of one process byte for byte, malformed rows included, in input order, with a bounded number of
chunks in flight; the summary and the progress bar count every worker's rows; a stop leaves no
output and no worker behind. Also the machinery itself (`isfdsl.commands.parallel`), which
`isf compare --jobs` shares."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from isfdsl.commands import batch, group, parallel
from isfdsl.commands.cli import main
from isfdsl.commands.pipeline import build, build_versions

from .conftest import DEFINITIONS

DEFS = DEFINITIONS / "isf2025"
HEADER = "id,sex,age,care_level,pdx,procedures,drugs,note"
GOOD = ["2,78,3,H35.3,CKD05,S01LA05", "1,70,2,H25.1,CJE20,", "1,45,3,M16,,", "2,30,1,O80,,", "1,64,3,I21.0,FNG05 FNA00,"]
#: Lines that cannot be read whole or hold invalid values (each still one row, flagged).
BAD = [b"1,abc,3,M16,,", b"x,40,3,M16,,", b"1,40,9,M16,,", b"1,40,3", b"1,40,3,M16,,,surplus,more", b'1,40,3,"M16,,',
       b"1,40,3,M\xff16,,", b"1,40,3,M16,\"CJE20\"x,"]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pkg") / "isf2025"
    assert build(str(DEFS), out).package is not None
    return out


def _messy(path: Path, n: int, seed: int = 5) -> Path:
    """``n`` rows of CSV, one in ten malformed, some blank lines and a quoted field over two lines."""
    rng = random.Random(seed)
    lines = [HEADER.encode()]
    for k in range(1, n + 1):
        body = rng.choice(BAD) if k % 10 == 0 else rng.choice(GOOD).encode()
        note = b'"two\nlines"' if k % 333 == 0 else f"n{k}".encode()
        lines.append(str(k).encode() + b"," + body + b"," + note)
        if k % 250 == 0:
            lines.append(b"")
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _run(package: Path, src: Path, out: Path, jobs: int, chunk: int = 97, **kw: Any) -> tuple[group.Summary, str]:
    console = Console(file=io.StringIO(), width=100)
    summary = group.run(str(package), str(src), str(out), jobs=jobs, chunk=chunk, console=console, **kw)
    assert isinstance(console.file, io.StringIO)
    return summary, console.file.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_jobs_two_is_jobs_one_byte_for_byte_on_malformed_rows(tmp_path: Path, package: Path, fmt: str) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow.parquet")
    src = _messy(tmp_path / "in.csv", 3000)
    one, two = tmp_path / f"one.{fmt}", tmp_path / f"two.{fmt}"
    s1, said1 = _run(package, src, one, jobs=1)
    s2, said2 = _run(package, src, two, jobs=2)
    assert one.read_bytes() == two.read_bytes()
    assert said1.replace(str(one), "OUT") == said2.replace(str(two), "OUT")
    assert (s1.rows, s1.with_problems, s1.points, s1.refund, s1.groups) == (s2.rows, s2.with_problems, s2.points, s2.refund, s2.groups)
    assert s1.rows == 3000 and 200 <= s1.with_problems < 3000
    if fmt == "csv":  # rows in input order, every one of them, the malformed ones flagged
        text = one.read_text(encoding="utf-8")
        rows = [line.split(",", 1)[0] for line in text.splitlines()[1:] if re.match(r"\d+,", line)]
        assert rows == [str(k) for k in range(1, 3001)]


def test_parquet_in_parquet_out_with_money_as_decimals(tmp_path: Path, package: Path) -> None:
    """The measured configuration: Parquet in, Parquet out, money exact; the same bytes for 1 and 3
    workers and any chunk size (row groups of 8,192 rows whatever the chunks)."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rng = random.Random(3)
    names = HEADER.split(",")
    rows = [dict(zip(names, [str(k), *rng.choice(GOOD).split(","), f"n{k}"], strict=True)) for k in range(1, 9001)]
    rows[7]["age"] = "old"
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), src, row_group_size=1000)
    outs = []
    for jobs, chunk in ((1, 4096), (1, 300), (3, 700)):
        outs.append(tmp_path / f"out{jobs}-{chunk}.parquet")
        _run(package, src, outs[-1], jobs=jobs, chunk=chunk)
    assert outs[0].read_bytes() == outs[1].read_bytes() == outs[2].read_bytes()
    assert [g.num_rows for g in map(pq.ParquetFile(outs[0]).metadata.row_group, range(2))] == [batch.ROW_GROUP, 9000 - batch.ROW_GROUP]
    table = pq.read_table(outs[0])
    assert table.schema.field("refund").type == pa.decimal128(38, 2) and table.num_rows == 9000
    assert table.column("id").to_pylist() == [str(k) for k in range(1, 9001)]
    assert table.column("row").to_pylist() == list(range(1, 9001))
    assert "age='old'" in table.column("problems")[7].as_py()


def _one_by_one(package: Path, src: Path, out: Path) -> None:
    """``src`` grouped into ``out`` row by row as ``isf group`` wrote it before it went column by column:
    each output row a dict of the input's values and the result's text, laid out and written alone."""
    from isfdsl.commands.pipeline import load_package
    from isfdsl.runtime.contract import RESULT_FIELDS, describe

    pkg = load_package(package)
    grouper = group.grouping(pkg)
    reader = batch.read(str(src))
    columns = [c for c in reader.columns if c not in group.REPLACED]
    with batch.Writer(str(out), None, ["row", *columns, *RESULT_FIELDS], [], pkg.arrow_schema) as writer:
        for record in reader.records:
            result = grouper(record.values)
            problems = [*record.problems, describe(result.problems)] if result.problems else record.problems
            row: dict[str, object] = {"row": record.row, **{c: record.values.get(c) for c in columns}}
            row.update(result.as_dict())
            row["problems"] = "; ".join(p for p in problems if p)
            writer.write(row)


def test_parquet_laid_out_by_columns_is_the_rows_laid_out_one_by_one(tmp_path: Path, package: Path) -> None:
    """Parquet output is made column by column (input columns passed through as Arrow, money as the
    results' decimals): the same bytes as each row laid out alone, whatever the input columns' types
    (text with gaps, large text, integers, booleans, floats, lists with absent items, empty and absent
    lists) — and for CSV in, Parquet out."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rng = random.Random(11)
    n = 3000
    names = HEADER.split(",")[1:-1]
    rows = [dict(zip(names, rng.choice(GOOD).split(","), strict=True)) for _ in range(n)]
    for k, row in enumerate(rows):
        row["procedures"] = None if k % 7 == 0 else [] if k % 7 == 1 else row["procedures"].split()  # type: ignore[union-attr]
        row["id"] = None if k % 11 == 0 else k  # type: ignore[assignment]
        row["note"] = None if k % 5 == 0 else f"nøte {k}"
        row["big"] = f"B{k}"
        row["flag"] = None if k % 13 == 0 else k % 2 == 0  # type: ignore[assignment]
        row["weight"] = k / 8  # type: ignore[assignment]
        row["tags"] = ["a", None, "b"] if k % 17 == 0 else ["x", "y"]  # type: ignore[assignment]
        row["counts"] = [k, None] if k % 3 else []  # type: ignore[assignment]
    rows[5]["age"] = "old"
    table = pa.Table.from_pylist(rows)
    table = table.set_column(table.schema.get_field_index("big"), "big", table.column("big").cast(pa.large_string()))
    src = tmp_path / "in.parquet"
    pq.write_table(table, src, row_group_size=1000)
    for source in (src, _messy(tmp_path / "in.csv", n)):
        expected, got = tmp_path / "expected.parquet", tmp_path / "got.parquet"
        _one_by_one(package, source, expected)
        _run(package, source, got, jobs=1, chunk=700)
        assert got.read_bytes() == expected.read_bytes(), source
        assert pq.read_table(got).num_rows == n

def test_a_run_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path, package: Path) -> None:
    """The objects a run freezes out of the collector's way (the package's tables) are given back at
    its end; a caller's own freeze is left alone."""
    import gc

    src = _messy(tmp_path / "in.csv", 50)
    assert gc.get_freeze_count() == 0
    _run(package, src, tmp_path / "out.csv", jobs=1)
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        _run(package, src, tmp_path / "out.csv", jobs=1)
        assert gc.get_freeze_count() > frozen // 2  # still frozen (a frozen object may have been freed since)
    finally:
        gc.unfreeze()

def test_the_command_line_uses_every_core_by_default(tmp_path: Path, package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`isf group` without --jobs asks for one worker per processor; `--jobs 1` for none; the output is the same."""
    src = _messy(tmp_path / "in.csv", 9000)
    seen: list[int] = []
    real = parallel.ordered

    def spy(work: Any, parts: Any, jobs: int, start: Any, args: Any) -> Any:
        seen.append(jobs)
        return real(work, parts, jobs, start, args)

    monkeypatch.setattr(parallel, "ordered", spy)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    for name, extra in (("default.csv", []), ("one.csv", ["--jobs", "1"])):
        result = CliRunner().invoke(main, ["group", str(package), str(src), "-o", str(tmp_path / name), "--no-progress", *extra])
        assert result.exit_code == 0, result.output
    assert seen == [2, 1]
    assert (tmp_path / "default.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert "9,000" in result.output


def test_the_progress_bar_counts_every_workers_rows(tmp_path: Path, package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _messy(tmp_path / "in.csv", 1000)
    counts: list[int] = []
    from rich.progress import Progress

    real = Progress.update

    def update(self: Progress, task: Any, **kw: Any) -> None:
        counts.append(kw["rows"])
        real(self, task, **kw)

    monkeypatch.setattr(Progress, "update", update)
    _run(package, src, tmp_path / "out.csv", jobs=2, chunk=100, progress=True)
    assert counts == list(range(100, 1001, 100))


def test_several_versions_name_each_rows_version_in_workers(tmp_path: Path) -> None:
    """A package of several versions: the version column is filled by the workers as by one process."""
    # the bundled versions pick by discharge_date
    assert build_versions([str(DEFINITIONS / "isf2024"), str(DEFINITIONS / "isf2025")], tmp_path / "isf").package is not None
    src = tmp_path / "in.jsonl"
    with src.open("w", encoding="utf-8") as f:
        for k in range(600):
            f.write(json.dumps({"sex": "1", "age": 81, "care_level": "3", "pdx": "H35.3", "procedures": ["CKD05"],
                                "discharge_date": ("2024-05-01", "01.05.2025", "")[k % 3]}) + "\n")
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    _run(tmp_path / "isf", src, one, jobs=1, chunk=50)
    _run(tmp_path / "isf", src, two, jobs=2, chunk=50)
    assert one.read_bytes() == two.read_bytes()
    # the version column (the last) holds the version's label, "ISF-modellen 2024 (…)", or nothing
    versions = [(re.findall(r"\b20\d\d\b", line.rsplit(",", 1)[1]) or [""])[0] for line in one.read_text(encoding="utf-8").splitlines()[1:]]
    assert versions == ["2024", "2025", ""] * 200


def test_an_interrupted_parallel_run_leaves_no_output_and_no_worker(tmp_path: Path, package: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while workers group: exit 130, no output file, and the workers are gone."""
    import multiprocessing

    src = _messy(tmp_path / "in.csv", 20_000)
    out = tmp_path / "out.csv"
    real = batch.Writer.put
    count = [0]

    def stop(self: batch.Writer, part: Any) -> None:
        count[0] += 1
        if count[0] == 3:
            raise KeyboardInterrupt
        real(self, part)

    monkeypatch.setattr(batch.Writer, "put", stop)
    before = {p.pid for p in multiprocessing.active_children()}
    r = CliRunner().invoke(main, ["group", str(package), str(src), "-o", str(out), "--jobs", "2"])
    assert r.exit_code == 130 and f"interrupted (SIGINT); no {out} was written" in r.output, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
    deadline = time.monotonic() + 30
    while {p.pid for p in multiprocessing.active_children()} - before:
        assert time.monotonic() < deadline, "worker processes left running"
        time.sleep(0.1)


# ---------------------------------------------------------------------- the machinery


def _start_identity(delay: float) -> Callable[[list[int]], tuple[int, list[int]]]:
    def work(part: list[int]) -> tuple[int, list[int]]:
        time.sleep(delay * (part[0] % 3))  # later parts often finish first
        return os.getpid(), part
    return work


def _start_dying(at: int) -> Callable[[list[int]], list[int]]:
    def work(part: list[int]) -> list[int]:
        if part[0] == at:
            os._exit(3)
        return part
    return work


def test_ordered_keeps_order_and_bounds_the_chunks_in_flight() -> None:
    pulled = [0]
    seen: list[int] = []

    def parts() -> Iterator[list[int]]:
        for k in range(40):
            pulled[0] += 1
            yield [k, k]

    here = _start_identity(0)
    with closing(parallel.ordered(here, parts(), 2, _start_identity, (0.01,))) as results:
        for pid, part in results:
            seen.append(part[0])
            assert pulled[0] - len(seen) <= parallel.WINDOW * 2
            assert pid != os.getpid()
    assert seen == list(range(40))
    # one process: the work function given, here
    assert [pid for pid, _ in parallel.ordered(here, ([k] for k in range(5)), 1, _start_identity, (0,))] == [os.getpid()] * 5
    # a single part is not worth starting workers
    assert [pid for pid, _ in parallel.ordered(here, iter([[1]]), 4, _start_identity, (0,))] == [os.getpid()]


def test_a_worker_that_dies_is_reported() -> None:
    results = parallel.ordered(_start_dying(-1), ([k] for k in range(30)), 2, _start_dying, (7,))
    with pytest.raises(parallel.WorkerDied, match="ended abruptly"):
        list(results)


def test_a_signal_while_a_worker_starts_waits_until_the_pool_knows_it(monkeypatch: pytest.MonkeyPatch,
                                                                    capfd: pytest.CaptureFixture[str]) -> None:
    """Reproduction (CI, `kill` during `isf group`): SIGTERM arrived after a worker process was started
    but before the pool had noted it; the pool did not stop that worker, and once the parent was gone
    the worker printed a start-up traceback. Now the signal waits until the pool knows the worker: it
    is raised right after, and every worker is stopped."""
    import multiprocessing
    from multiprocessing.process import BaseProcess

    real = BaseProcess.start

    def start(self: BaseProcess) -> None:  # SIGTERM to this process just after each worker has started
        real(self)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(BaseProcess, "start", start)
    before = {p.pid for p in multiprocessing.active_children()}
    with batch.interruptible(), pytest.raises(batch.Interrupted):
        list(parallel.ordered(_start_identity(0), ([k] for k in range(30)), 2, _start_identity, (0,)))
    deadline = time.monotonic() + 30
    while left := {p.pid for p in multiprocessing.active_children()} - before:
        assert time.monotonic() < deadline, f"worker processes {left} left running, unknown to the pool"
        time.sleep(0.1)
    assert "Traceback" not in capfd.readouterr().err


def test_jobs_zero_means_every_core() -> None:
    assert parallel.jobs_or_cores(0) == parallel.cores() >= 1
    assert parallel.jobs_or_cores(3) == 3


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_key_first_appearing_after_the_first_json_line_is_noted_once(tmp_path: Path, package: Path, jobs: int) -> None:
    """JSON Lines (issue 18, item 15): a key that is no attribute, first seen in a later record, is
    named once with its first row and the closest attribute, however the rows are split among workers."""
    src = tmp_path / "in.jsonl"
    first = {"id": 1, "sex": 2, "age": 78, "care_level": 3, "pdx": "H35.3", "procedures": ["CKD05"], "drugs": ["S01LA05"]}
    records = [first, {**first, "id": 2, "drugs": None, "drugz": ["L01FG01"]}, {**first, "id": 3, "hdiag": "X"},
               *({**first, "id": k, "drugz": [], "hdiag": "Y"} for k in range(4, 40))]
    src.write_text("".join(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n" for r in records),
                   encoding="utf-8")
    summary, said = _run(package, src, tmp_path / "out.csv", jobs=jobs, chunk=3)
    said = " ".join(said.split())
    assert ("note: 2 key(s) first appearing after the first record are no attribute: row 2: drugz (did you mean drugs?), "
            "row 3: hdiag; they are not grouped, and not written") in said, said
    assert said.count("drugz") == 1 and summary.notes[-1].startswith("note: 2 key(s)")
    assert summary.unknown == {"drugz": 2, "hdiag": 3}
    assert "pass through unused: id" in said  # the first record's own key, noted before the run


def _group_processes(pgid: int) -> dict[int, str]:
    """The live (not zombie) processes of the process group ``pgid``, with their command lines."""
    found = {}
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # not a process, or one that has just ended
            continue
        state, _ppid, group = stat[stat.rfind(")") + 2:].split()[:3]
        if int(group) == pgid and state != "Z":
            found[int(entry)] = command
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_end_when_the_run_is_killed_outright(tmp_path: Path, package: Path) -> None:
    """kill -9 of `isf group --jobs 2` (issue 18): its workers, the forkserver and the resource tracker
    end within seconds; the hidden `.part` file it could not remove is left (docs/grouping.md)."""
    src = _messy(tmp_path / "in.csv", 200_000)
    out = tmp_path / "out.csv"
    run = subprocess.Popen([sys.executable, "-m", "isfdsl", "group", str(package), str(src), "-o", str(out), "--jobs", "2"],
                           start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while sum("forkserver" in c for c in _group_processes(run.pid).values()) < 3:  # the server and two workers
            assert run.poll() is None and time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        time.sleep(0.5)  # grouping
        assert run.poll() is None, "the run ended before it was killed: give it more rows"
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 10
        while (left := _group_processes(run.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not left, left
        assert not out.exists() and [p.name[:len(".out.csv.new-")] for p in tmp_path.glob(".*.part")] == [".out.csv.new-"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)  # without the fix: the workers this test started
