"""``isf compare``: one file of episodes grouped by two versions side by side, streamed — each row's two
results go to the per-episode file and into a :class:`~isfdsl.analysis.migration.Tally` (the aggregates; the
results themselves are not kept), then :mod:`isfdsl.emit.compare` writes the pages, charts and workbook.
With ``jobs`` > 1, chunks of rows are grouped in worker processes, a bounded number of chunks at a time,
and their tallies merged in row order (:mod:`isfdsl.commands.parallel`, shared with ``isf group``)."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, closing
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from isfdsl.analysis.migration import CENT, POINTS, Comparison, Key, Side, Tally, label, rounded
from isfdsl.commands import batch, parallel
from isfdsl.commands.group import REPLACED, column_notes, grouping, load_source, package_title
from isfdsl.commands.pipeline import load_package
from isfdsl.runtime.contract import Result, describe, points_text, refund_text

#: The per-episode file's result columns, for each side after ``old_`` / ``new_``.
SIDE_FIELDS = ("system", "group", "rule", "return_code", "points", "refund", "problems")
#: Overrides of the payment parameters: unit prices (``*`` for every member) and ISF shares.
Overrides = tuple[Mapping[str, Decimal], Mapping[str, Decimal]]


def episode_columns(keep: Sequence[str], by: Sequence[str], versions: tuple[bool, bool] = (False, False)) -> list[str]:
    """The per-episode file's columns: the row, the kept and ``--by`` input columns, each side's result
    (and, for a side that is a package of several versions, ``versions``, the version that grouped the
    row, as ``isf group`` names it in its column ``version``) and whether the episode moved."""
    passed = list(dict.fromkeys((*keep, *by)))
    sides = [[f"{prefix}{f}" for f in SIDE_FIELDS] + ([f"{prefix}version"] if several else [])
             for prefix, several in zip(("old_", "new_"), versions, strict=True)]
    return ["row", *passed, *sides[0], *sides[1], "moved"]


def _side_row(prefix: str, result: Result, problems: Sequence[str]) -> dict[str, object]:
    """One side's result as ``isf group`` writes it: points exact with three decimals, the refund as
    paid (rounded half up to whole øre; empty when there is none)."""
    found = [*problems, describe(result.problems)] if result.problems else problems
    return {f"{prefix}system": result.system, f"{prefix}group": result.group, f"{prefix}rule": result.rule,
            f"{prefix}return_code": result.return_code, f"{prefix}points": points_text(result.points),
            f"{prefix}refund": refund_text(result.refund), f"{prefix}problems": "; ".join(p for p in found if p)}


def episode_schema(old: ModuleType, new: ModuleType) -> Callable[[], Any]:
    """The Arrow types of the per-episode file's money columns, each side's as its package writes them
    (``decimal128``: a ``SUM`` over them is exact); the other columns are text."""
    def schema() -> Any:
        pa = importlib.import_module("pyarrow")
        fields = [pa.field(f"{prefix}{f.name}", f.type) for prefix, pkg in (("old_", old), ("new_", new))
                  for f in pkg.arrow_schema() if f.name in ("points", "refund")]
        return pa.schema(fields)
    return schema


Chunk = parallel.Chunk
Group = Callable[[Mapping[str, object]], Result]
#: A package of several versions' ``version_of``: the label of the version that groups an episode.
VersionOf = Callable[[Mapping[str, object]], str | None]


def compare_chunk(chunk: Chunk, old: Group, new: Group, passed: Sequence[str], by: Sequence[str],
                  layout: batch.Layout | None = None,
                  version_of: tuple[VersionOf | None, VersionOf | None] = (None, None)) -> tuple[Tally, Any]:
    """Group a chunk of records (row, values, read problems) with both versions: their tally and, with
    a ``layout``, their per-episode output rows laid out for :meth:`batch.Writer.put` (else None); a
    side with a ``version_of`` (a package of several versions) names the version of each row."""
    tally = Tally(tuple(by))
    out: list[dict[str, object]] = []
    for row, values, problems in chunk:
        a, b = old(values), new(values)
        tally.add(row, a, b, {c: batch.cell(values.get(c)) for c in by} if by else None)
        if layout is not None:
            line: dict[str, object] = {"row": row, **{c: values.get(c) for c in passed}}
            for prefix, result, which in (("old_", a, version_of[0]), ("new_", b, version_of[1])):
                line.update(_side_row(prefix, result, problems))
                if which is not None:
                    line[f"{prefix}version"] = which(values) or ""
            line["moved"] = "yes" if (a.system, a.group) != (b.system, b.group) else "no"
            out.append(line)
    return tally, None if layout is None else layout.part(out)


def _start_worker(old: tuple[str, Overrides], new: tuple[str, Overrides], table: str | None, passed: Sequence[str],
                  by: Sequence[str], layout: batch.Layout | None) -> Callable[[Chunk], tuple[Tally, Any]]:
    """In a worker process: both versions loaded, and :func:`compare_chunk` over them (the rows laid
    out here, so that the parent only stores them)."""
    packages = [load_package(Path(folder)) for folder, _ in (old, new)]
    groups = [grouping(pkg, table, *pay) for pkg, (_, pay) in zip(packages, (old, new), strict=True)]
    version_of = (_version_of(packages[0]), _version_of(packages[1]))
    return functools.partial(compare_chunk, old=groups[0], new=groups[1], passed=passed, by=by, layout=layout,
                             version_of=version_of)


def _version_of(pkg: ModuleType) -> VersionOf | None:
    """A package of several versions' ``version_of`` (None for a package of one version)."""
    found: VersionOf | None = getattr(pkg, "version_of", None)
    return found


# ---------------------------------------------------------------------- the run


def default_episodes_format() -> str:
    """``parquet`` when pyarrow is installed, else ``csv``."""
    return "parquet" if importlib.util.find_spec("pyarrow") is not None else "csv"


def _side(source: str, stack: ExitStack, prices: Mapping[str, Decimal], shares: Mapping[str, Decimal],
          table: str | None) -> tuple[Side, Group, ModuleType]:
    pkg, _ = load_source(source, stack)  # a definitions folder is built into a package first
    group = grouping(pkg, table, prices, shares)
    # each group's parent (its MDC) as the package's catalogues give it (a package built before packages
    # carried CATALOGUES has none: its groups count as without an MDC, and the page says so)
    parents: dict[Key, str | None] = {(system, code): g.parent for system, groups in getattr(pkg, "CATALOGUES", {}).items()
                                      for code, g in groups.items()}
    versions = getattr(pkg, "VERSIONS", ())  # a package of several versions: (label, from, to, package) each
    title = package_title(pkg)  # a package of several versions: "ISF 2024–2025"
    side = Side(source, title, title if versions else pkg.VERSION_LABEL, pkg.VALID_FROM, pkg.VALID_TO,
                Path(str(pkg.__file__)).parent, tuple(pkg.ATTRIBUTES), parents, dict(prices), dict(shares),
                tuple(v[0] for v in versions))
    return side, group, pkg


def run(old_source: str, new_source: str, input_path: str, out: Path, *, by: Sequence[str] = (), keep: Sequence[str] = (),
        table: str | None = None, episodes: str | None = None, input_format: str | None = None, encoding: str = "auto",
        delimiter: str = "auto", old_payment: Overrides = ({}, {}), new_payment: Overrides = ({}, {}), jobs: int = 0,
        top: int = 12, progress: bool | None = None, console: Console | None = None, lang: str | None = None) -> Comparison:
    """Compare the versions ``old_source`` and ``new_source`` (definitions folders or generated
    packages) on the episodes in ``input_path``; write ``out``/index.html, index.md, compare.xlsx, the
    charts and (``episodes``: ``parquet``, ``csv`` or ``none``; default :func:`default_episodes_format`)
    the per-episode file; print the summary to standard error. ``old_payment`` / ``new_payment``
    override each side's unit prices and ISF shares. ``jobs``: worker processes (0: one per processor;
    1: this process only). ``top``: flows drawn in the chart. ``lang``: the language of the pages and
    the workbook (``nb``, the default, or ``en``). A run that stops part-way raises
    :class:`batch.Stopped` (or ``KeyboardInterrupt``) and leaves the per-episode file and the pages
    as they were: each file is written beside its place and renamed into it only when whole."""
    from isfdsl.emit import compare as emit

    console = console or Console(stderr=True)
    started = time.perf_counter()
    episodes = episodes or default_episodes_format()
    if episodes not in ("parquet", "csv", "none"):
        raise ValueError(f"--episodes {episodes!r}: expected parquet, csv or none")
    with ExitStack() as stack:
        old, old_group, old_pkg = _side(old_source, stack, *old_payment, table)
        new, new_group, new_pkg = _side(new_source, stack, *new_payment, table)
        try:
            reader = batch.read(input_path, input_format, encoding, delimiter)
        except batch.BatchError as exc:
            raise ValueError(str(exc)) from None
        by_dup = [c for c in dict.fromkeys(by) if list(by).count(c) > 1]
        if by_dup:
            raise ValueError(f"--by {', '.join(map(repr, by_dup))} given more than once")
        several = (_version_of(old_pkg) is not None, _version_of(new_pkg) is not None)
        reserved = REPLACED | set(episode_columns((), (), several))
        columns = [c for c in reader.columns if c not in reserved]
        taken = [c for c in dict.fromkeys((*by, *keep)) if c in reserved]
        if taken:
            raise ValueError(f"{', '.join(map(repr, taken))}: a column the comparison writes itself (its results replace an "
                             f"input column of that name); rename the input's column to total or keep it")
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
                batch.check_output(str(out / name), [input_path])
                # entered: renamed into place when the run ends well, removed when it stops part-way
                writer = stack.enter_context(batch.Writer(str(out / name), episodes, episode_columns(keep, by, several), [input_path],
                                                          episode_schema(old_pkg, new_pkg)))
            except batch.BatchError as exc:
                raise ValueError(str(exc)) from None
        passed = list(dict.fromkeys((*keep, *by)))
        layout = None if writer is None else writer.layout
        here = functools.partial(compare_chunk, old=old_group, new=new_group, passed=passed, by=by, layout=layout,
                                 version_of=(_version_of(old_pkg), _version_of(new_pkg)))
        results = stack.enter_context(closing(parallel.ordered(
            here, parallel.chunks(reader.records), parallel.jobs_or_cores(jobs), _start_worker,
            ((str(old.package), (old.prices, old.shares)), (str(new.package), (new.prices, new.shares)),
             table, passed, tuple(by), layout))))
        show = console.is_terminal if progress is None else progress
        bar = Progress(TextColumn("comparing"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[rows]:,} rows"),
                       TimeRemainingColumn(), console=console, disable=not show, transient=True)
        stack.enter_context(bar)
        task = bar.add_task("compare", total=reader.size or None, rows=0)
        tally = Tally(tuple(by))
        left = f"{batch.fate(str(out / name))}; the pages in {out} are not written" if name else f"the pages in {out} are not written"
        with parallel.stopped_as(input_path, lambda: left):
            for part, laid_out in results:
                tally.merge(part)
                if writer is not None:
                    writer.put(laid_out)
                bar.update(task, completed=reader.position(), rows=tally.rows)
    if tally.rows == 0:  # an empty file, or a header alone: said, as isf group says it
        notes.append("warning: the input holds no rows")
        console.print(notes[-1], style="yellow", markup=False, highlight=False)
    for column in by:  # JSON Lines: a key no record has (a header's columns were checked before)
        if set(tally.by.get(column, {})) <= {""} and tally.rows:
            notes.append(f"warning: no episode has a value in the column {column!r} of --by")
            console.print(notes[-1], style="yellow", markup=False, highlight=False)
    comparison = Comparison(old, new, tally, input_path, name, notes)
    comparison.files = emit.write(comparison, out, top, lang)
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
    return f"{rounded(value, places):{'+' if sign else ''},f}"
