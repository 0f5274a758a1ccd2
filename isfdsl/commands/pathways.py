"""``isf group-pathways``: group a JSON Lines file of pathways (one per line: ``{"id": …, "pathway":
{…}, "episodes": [{…}, …]}``) with a generated package or definitions compiled on the fly, writing
one CSV row per input line — the pathway's group, whether it is financed, its members' groups and
the points and refund paid — and a closing summary. A malformed line still gets its row, with the
line number and the reason in ``problems``."""

from __future__ import annotations

import csv
import functools
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from isfdsl.commands import batch
from isfdsl.commands.group import load_grouper
from isfdsl.runtime.contract import PATHWAY_FIELDS, round_refund
from isfdsl.runtime.grouper import unknown_columns


def _item(n: int, raw: bytes) -> tuple[dict[str, object], str]:
    """One line as a JSON object, or an empty one and what was wrong with the line."""
    try:
        item = json.loads(raw.decode("utf-8-sig"))  # a byte-order mark (first line) is not part of the JSON
    except UnicodeDecodeError as exc:
        return {}, f"row {n}: not UTF-8 text ({exc.reason} at byte {exc.start})"
    except json.JSONDecodeError as exc:
        return {}, f"row {n}: not JSON: {exc}"
    except (ValueError, RecursionError) as exc:  # nested too deeply, an integer of over 4,300 digits
        return {}, f"row {n}: not JSON: {'nested too deeply' if isinstance(exc, RecursionError) else str(exc).split(';')[0]}"
    if not isinstance(item, dict):
        return {}, f"row {n}: a line must be a JSON object with `pathway` and `episodes`"
    return item, ""


def _lines(src: Iterable[bytes], input_path: str, out: str) -> Iterator[bytes]:
    try:
        yield from src
    except OSError as exc:
        raise batch.Stopped(f"cannot read {input_path}: {exc.strerror or exc}; {batch.fate(out)}") from None


def _write(writer: Any, out: str, row: list[object]) -> None:
    try:
        writer.writerow(row)
    except OSError as exc:
        raise batch.OutputError(f"cannot write {out}: {exc.strerror or exc}; {batch.fate(out)}") from None


def run(source: str, input_path: str, out: str, table: str | None = None, progress: bool | None = None,
        console: Console | None = None) -> tuple[int, Counter[str], Decimal]:
    """Group every pathway in ``input_path``; (rows, rows per group, points paid)."""
    console = console or Console(stderr=True)
    groups: Counter[str] = Counter()
    paid = Decimal(0)
    refund = Decimal(0)
    financed = rows = 0
    with ExitStack() as stack:
        pkg = load_grouper(source, stack)
        if not hasattr(pkg, "group_pathway"):
            raise ValueError(f"{source}: these definitions declare no pathway tables")
        try:
            batch.check_output(out, [input_path])
            src = stack.enter_context(Path(input_path).open("rb"))
            output = stack.enter_context(batch.Output(out, [input_path]))
        except batch.BatchError as exc:
            raise ValueError(str(exc)) from None
        except OSError as exc:
            raise ValueError(f"cannot read {input_path}: {exc.strerror or exc}") from None
        dst = output.text()
        writer = csv.writer(dst)
        writerow = functools.partial(_write, writer, out)
        writerow(["row", "id", *PATHWAY_FIELDS])
        show = console.is_terminal if progress is None else progress
        bar = stack.enter_context(Progress(TextColumn("grouping pathways"), BarColumn(), DownloadColumn(),
                                           TimeRemainingColumn(), console=console, disable=not show, transient=True))
        task = bar.add_task("pathways", total=Path(input_path).stat().st_size or None)
        position = 0
        episode_keys, pathway_keys = frozenset(pkg.ATTRIBUTES), frozenset(pkg.PATHWAY_ATTRIBUTES)
        unknown: dict[tuple[str, str], None] = {}

        def keep(values: dict[str, object], known: frozenset[str], where: str) -> dict[str, object]:
            if values.keys() <= known:
                return values
            if len(unknown) < 100:
                unknown.update(dict.fromkeys((where, str(k)) for k in values if k not in known))
            return {k: v for k, v in values.items() if k in known}

        for n, raw in enumerate(_lines(src, input_path, out), 1):
            position += len(raw)
            if n % 1024 == 0:
                bar.update(task, completed=position)
            if not raw.strip():
                continue
            rows += 1
            item, problem = _item(n, raw)
            pathway = item.get("pathway", {})
            if not isinstance(pathway, dict):
                problem = problem or f"row {n}: field `pathway`: expected an object of pathway attributes"
            episodes = item.get("episodes", [])
            if not isinstance(episodes, list):
                problem = problem or f"row {n}: field `episodes`: expected a list of episodes"
                episodes = []
            elif item and "episodes" not in item:
                problem = problem or f"row {n}: no field `episodes` (the member episodes): grouped without members"
            # only attributes are grouped; other keys (an episode's id, …) are noted once, at the end
            pathway = keep(pathway, pathway_keys, "pathway") if isinstance(pathway, dict) else {}
            episodes = [keep(e, episode_keys, "episode") if isinstance(e, dict) else e for e in episodes]
            res = pkg.group_pathway(pathway, episodes, table=table)
            values = res.as_dict()
            if problem:
                values["problems"] = "; ".join(x for x in (problem, str(values["problems"])) if x)
            writerow([n, item.get("id", ""), *(values[f] for f in PATHWAY_FIELDS)])
            groups[res.result.group] += 1
            paid += res.points
            refund += 0 if res.refund is None else round_refund(res.refund)  # the total of paid_refund
            financed += res.financed
        bar.update(task, completed=position)
    for where, names in (("episode", pkg.ATTRIBUTES), ("pathway", pkg.PATHWAY_ATTRIBUTES)):
        keys = [k for w, k in unknown if w == where]
        if keys:
            console.print(f"note: {len(keys)} key(s) of the {where}s are no {where} attribute and were not grouped: "
                          f"{unknown_columns(keys, list(names))}", markup=False, highlight=False)
    grid = Table(title=f"isf group-pathways → {out}", show_header=False)
    grid.add_row("pathways", str(rows))
    grid.add_row("financed at pathway level", str(financed))
    grid.add_row("groups", ", ".join(f"{g} {k}" for g, k in sorted(groups.items())))
    grid.add_row("points paid", f"{paid:.3f}")
    grid.add_row("refund paid", f"{refund:,.2f}")
    console.print(grid)
    return rows, groups, paid
