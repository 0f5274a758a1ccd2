"""``isf group-pathways``: group a JSON Lines file of pathways (one per line: ``{"id": …, "pathway":
{…}, "episodes": [{…}, …]}``) with a generated package or definitions compiled on the fly, writing
one CSV row per input line — the pathway's group, whether it is financed, its members' groups and
the points and refund paid — and a closing summary. A malformed line still gets its row, with the
line number and the reason in ``problems``."""

from __future__ import annotations

import csv
import json
from collections import Counter
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .group import load_grouper
from .runtime import PATHWAY_FIELDS


def run(source: str, input_path: str, out: str, table: str | None = None) -> tuple[int, Counter[str], Decimal]:
    """Group every pathway in ``input_path``; (rows, rows per group, points paid)."""
    groups: Counter[str] = Counter()
    paid = Decimal(0)
    refund = Decimal(0)
    financed = rows = 0
    with ExitStack() as stack:
        pkg = load_grouper(source, stack)
        if not hasattr(pkg, "group_pathway"):
            raise ValueError(f"{source}: these definitions declare no pathway tables")
        src = stack.enter_context(Path(input_path).open(encoding="utf-8"))
        dst = stack.enter_context(Path(out).open("w", encoding="utf-8", newline=""))
        writer = csv.writer(dst)
        writer.writerow(["row", "id", *PATHWAY_FIELDS])
        for n, line in enumerate(src, 1):
            if not line.strip():
                continue
            rows += 1
            problem = ""
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                item, problem = {}, f"row {n}: not JSON: {exc}"
            if not isinstance(item, dict):
                item, problem = {}, problem or f"row {n}: a line must be a JSON object with `pathway` and `episodes`"
            pathway = item.get("pathway", {})
            if not isinstance(pathway, dict):
                problem = problem or f"row {n}: field `pathway`: expected an object of pathway attributes"
            episodes = item.get("episodes", [])
            if not isinstance(episodes, list):
                problem = problem or f"row {n}: field `episodes`: expected a list of episodes"
                episodes = []
            res = pkg.group_pathway(pathway if isinstance(pathway, dict) else {}, episodes, table=table)
            values = res.as_dict()
            if problem:
                values["problems"] = "; ".join(x for x in (problem, str(values["problems"])) if x)
            writer.writerow([n, item.get("id", ""), *(values[f] for f in PATHWAY_FIELDS)])
            groups[res.result.group] += 1
            paid += res.points
            refund += res.refund or 0
            financed += res.financed
    grid = Table(title=f"isf group-pathways → {out}", show_header=False)
    grid.add_row("pathways", str(rows))
    grid.add_row("financed at pathway level", str(financed))
    grid.add_row("groups", ", ".join(f"{g} {k}" for g, k in sorted(groups.items())))
    grid.add_row("points paid", f"{paid:.3f}")
    grid.add_row("refund paid", f"{refund:,.2f}")
    Console(stderr=True).print(grid)
    return rows, groups, paid
