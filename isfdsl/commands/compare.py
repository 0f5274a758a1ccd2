"""``isf compare``: one file of episodes grouped by two versions side by side, streamed — each row's two
results go to the per-episode file and into a :class:`~isfdsl.analysis.migration.Tally` (the aggregates; the
results themselves are not kept), then :mod:`isfdsl.emit.compare` writes the pages, charts and workbook.
With ``jobs`` > 1, chunks of rows are grouped in worker processes, a bounded number of chunks at a time,
and their tallies merged in row order."""

from __future__ import annotations

import importlib.util
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from isfdsl.analysis.migration import CENT, POINTS, Comparison, Key, Side, Tally, label, shown
from isfdsl.commands import batch
from isfdsl.commands.group import REPLACED, column_notes, grouping, load_source
from isfdsl.commands.pipeline import load_package
from isfdsl.runtime.contract import Result, describe

#: Rows per chunk handed to a worker process (and per progress update).
CHUNK = 4096
#: The per-episode file's result columns, for each side after ``old_`` / ``new_``.
SIDE_FIELDS = ("system", "group", "rule", "return_code", "points", "refund", "problems")
#: Overrides of the payment parameters: unit prices (``*`` for every member) and ISF shares.
Overrides = tuple[Mapping[str, Decimal], Mapping[str, Decimal]]


def episode_columns(keep: Sequence[str], by: Sequence[str]) -> list[str]:
    """The per-episode file's columns: the row, the kept and ``--by`` input columns, each side's result
    and whether the episode moved."""
    passed = list(dict.fromkeys((*keep, *by)))
    return ["row", *passed, *(f"old_{f}" for f in SIDE_FIELDS), *(f"new_{f}" for f in SIDE_FIELDS), "moved"]


def _side_row(prefix: str, result: Result, problems: Sequence[str]) -> dict[str, object]:
    found = [*problems, describe(result.problems)] if result.problems else problems
    return {f"{prefix}system": result.system, f"{prefix}group": result.group, f"{prefix}rule": result.rule,
            f"{prefix}return_code": result.return_code, f"{prefix}points": str(result.points),
            f"{prefix}refund": "" if result.refund is None else shown(result.refund, CENT),
            f"{prefix}problems": "; ".join(p for p in found if p)}


Chunk = list[tuple[int, dict[str, object], list[str]]]
Group = Callable[[Mapping[str, object]], Result]


def compare_chunk(chunk: Chunk, old: Group, new: Group, passed: Sequence[str], by: Sequence[str],
                  rows: bool = True) -> tuple[Tally, list[dict[str, object]]]:
    """Group a chunk of records (row, values, read problems) with both versions: their tally and, with
    ``rows``, their per-episode output rows."""
    tally = Tally(tuple(by))
    out: list[dict[str, object]] = []
    for row, values, problems in chunk:
        a, b = old(values), new(values)
        tally.add(row, a, b, {c: batch.cell(values.get(c)) for c in by} if by else None)
        if rows:
            line: dict[str, object] = {"row": row, **{c: values.get(c) for c in passed}}
            line.update(_side_row("old_", a, problems))
            line.update(_side_row("new_", b, problems))
            line["moved"] = "yes" if (a.system, a.group) != (b.system, b.group) else "no"
            out.append(line)
    return tally, out


# ---------------------------------------------------------------------- worker processes

_WORKER: dict[str, Any] = {}


def _start_worker(old: tuple[str, Overrides], new: tuple[str, Overrides], table: str | None, passed: Sequence[str],
                  by: Sequence[str], rows: bool) -> None:
    groups = [grouping(load_package(Path(folder)), table, *pay) for folder, pay in (old, new)]
    _WORKER.update(old=groups[0], new=groups[1], passed=passed, by=by, rows=rows)


def _work(chunk: Chunk) -> tuple[Tally, list[dict[str, object]]]:
    w = _WORKER
    return compare_chunk(chunk, w["old"], w["new"], w["passed"], w["by"], w["rows"])


def _chunks(records: Iterable[batch.Record]) -> Iterator[Chunk]:
    it = iter(records)
    while chunk := [(r.row, r.values, r.problems) for r in islice(it, CHUNK)]:
        yield chunk


def _in_order(chunks: Iterator[Chunk], pool: ProcessPoolExecutor, window: int) -> Iterator[tuple[Tally, list[dict[str, object]]]]:
    """The workers' results in the order of the chunks, with at most ``window`` chunks in flight."""
    pending: deque[Future[tuple[Tally, list[dict[str, object]]]]] = deque()
    for chunk in chunks:
        pending.append(pool.submit(_work, chunk))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


# ---------------------------------------------------------------------- the run


def default_episodes_format() -> str:
    """``parquet`` when pyarrow is installed, else ``csv``."""
    return "parquet" if importlib.util.find_spec("pyarrow") is not None else "csv"


def _side(source: str, stack: ExitStack, prices: Mapping[str, Decimal], shares: Mapping[str, Decimal],
          table: str | None) -> tuple[Side, Group]:
    pkg, program = load_source(source, stack)
    group = grouping(pkg, table, prices, shares)
    parents: dict[Key, str | None] = {}
    if program is not None:
        parents = {(cat, code): g.parent for cat, groups in program.catalogues.items() for code, g in groups.items()}
    side = Side(source, f"{pkg.SYSTEM} {pkg.YEAR}", pkg.VERSION_LABEL, pkg.VALID_FROM, pkg.VALID_TO,
                Path(str(pkg.__file__)).parent, tuple(pkg.ATTRIBUTES), parents, dict(prices), dict(shares))
    return side, group


def run(old_source: str, new_source: str, input_path: str, out: Path, *, by: Sequence[str] = (), keep: Sequence[str] = (),
        table: str | None = None, episodes: str | None = None, input_format: str | None = None, encoding: str = "auto",
        delimiter: str = "auto", old_payment: Overrides = ({}, {}), new_payment: Overrides = ({}, {}), jobs: int = 1,
        top: int = 12, progress: bool | None = None, console: Console | None = None) -> Comparison:
    """Compare the versions ``old_source`` and ``new_source`` (definitions folders or generated
    packages) on the episodes in ``input_path``; write ``out``/index.html, index.md, compare.xlsx, the
    charts and (``episodes``: ``parquet``, ``csv`` or ``none``; default :func:`default_episodes_format`)
    the per-episode file; print the summary to standard error. ``old_payment`` / ``new_payment``
    override each side's unit prices and ISF shares. ``top``: flows drawn in the chart."""
    from isfdsl.emit import compare as emit

    console = console or Console(stderr=True)
    started = time.perf_counter()
    episodes = episodes or default_episodes_format()
    if episodes not in ("parquet", "csv", "none"):
        raise ValueError(f"--episodes {episodes!r}: expected parquet, csv or none")
    with ExitStack() as stack:
        old, old_group = _side(old_source, stack, *old_payment, table)
        new, new_group = _side(new_source, stack, *new_payment, table)
        try:
            reader = batch.read(input_path, input_format, encoding, delimiter)
        except batch.BatchError as exc:
            raise ValueError(str(exc)) from None
        columns = [c for c in reader.columns if c not in REPLACED]
        missing = [c for c in (*by, *keep) if reader.header and c not in columns]
        if missing:
            raise ValueError(f"no column {', '.join(map(repr, missing))} in {input_path}; its columns are {', '.join(columns)}")
        notes = _notes(reader, old, new)
        for note in notes:
            console.print(note, style="yellow" if "warning" in note else None, markup=False, highlight=False)
        out.mkdir(parents=True, exist_ok=True)
        writer = None
        name = None
        if episodes != "none":
            name = f"episodes.{episodes}"
            try:
                writer = batch.Writer(str(out / name), episodes, episode_columns(keep, by))
            except batch.BatchError as exc:
                raise ValueError(str(exc)) from None
            stack.callback(writer.close)
        passed = list(dict.fromkeys((*keep, *by)))
        if jobs > 1:
            pool = stack.enter_context(ProcessPoolExecutor(
                jobs, initializer=_start_worker,
                initargs=((str(old.package), (old.prices, old.shares)), (str(new.package), (new.prices, new.shares)),
                          table, passed, tuple(by), writer is not None)))
            results = _in_order(_chunks(reader.records), pool, 2 * jobs)
        else:
            results = (compare_chunk(c, old_group, new_group, passed, by, writer is not None) for c in _chunks(reader.records))
        show = console.is_terminal if progress is None else progress
        bar = Progress(TextColumn("comparing"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[rows]:,} rows"),
                       TimeRemainingColumn(), console=console, disable=not show, transient=True)
        stack.enter_context(bar)
        task = bar.add_task("compare", total=reader.size or None, rows=0)
        tally = Tally(tuple(by))
        try:
            for part, lines in results:
                tally.merge(part)
                if writer is not None:
                    for line in lines:
                        writer.write(line)
                bar.update(task, completed=reader.position(), rows=tally.rows)
        except batch.BatchError as exc:
            raise ValueError(str(exc)) from None
    comparison = Comparison(old, new, tally, input_path, name, notes)
    comparison.files = emit.write(comparison, out, top)
    comparison.seconds = time.perf_counter() - started
    console.print(f"isf compare: {old.label} → {new.label} on {input_path} → {out}", markup=False, highlight=False)
    console.print(summary_table(comparison))
    return comparison


def _notes(reader: batch.Reader, old: Side, new: Side) -> list[str]:
    """What the input's columns mean for each version (see :func:`column_notes`), said once when both agree."""
    if not reader.header:
        return []
    a = column_notes(reader.columns, old.attributes, reader.delimiter)
    b = column_notes(reader.columns, new.attributes, reader.delimiter)
    if a == b:
        return a
    return [f"{old.label}: {n}" for n in a] + [f"{new.label}: {n}" for n in b]


def summary_table(c: Comparison) -> Table:
    """The summary on the terminal: episodes, moves, totals on each side, the budget-neutral factor and
    the largest flows."""
    t = c.tally
    total, moved = t.total(), t.moved()
    factor = t.factor()
    grid = Table(show_header=True)
    grid.add_column("")
    grid.add_column(c.old.title, justify="right")
    grid.add_column(c.new.title, justify="right")
    grid.add_column("change", justify="right")
    grid.add_row("episodes", f"{total.count:,}", f"{total.count:,}", "")
    grid.add_row("episodes that change group", "", f"{moved.count:,}", f"{100 * moved.count / max(total.count, 1):.1f} %")
    grid.add_row("points", _n(total.old_points, POINTS), _n(total.new_points, POINTS), _n(total.new_points - total.old_points, POINTS, True))
    grid.add_row("refund (NOK)", _n(total.old_refund), _n(total.new_refund), _n(total.new_refund - total.old_refund, CENT, True))
    if factor is not None:
        grid.add_row("budget-neutral factor f", "", f"{factor}", "")
        grid.add_row("points × f", _n(total.old_points, POINTS), _n(total.new_points * factor, POINTS), "")
        grid.add_row("refund at f (NOK)", _n(total.old_refund), _n(total.new_refund * factor),
                     _n(total.new_refund * factor - total.old_refund, CENT, True))
    for old, new, flow in t.flows()[:5]:
        if old == new:
            break
        grid.add_row(f"  {label(old)} → {label(new)}", "", f"{flow.count:,}", _n(flow.new_refund - flow.old_refund, CENT, True))
    return grid


def _n(value: Decimal, places: Decimal = CENT, sign: bool = False) -> str:
    return f"{value.quantize(places):{'+' if sign else ''},f}"


def cpu_jobs(jobs: int) -> int:
    """``jobs`` (0: one per processor)."""
    return jobs if jobs > 0 else os.cpu_count() or 1
