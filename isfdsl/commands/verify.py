"""``isf verify``: run the analyses of :mod:`isfdsl.analysis.analyse` over one version and print a report."""

from __future__ import annotations

import json
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from isfdsl.analysis.analyse import Finding, Report, analyse, witness_notes
from isfdsl.analysis.analyse import span_of as span_of_where
from isfdsl.commands.pipeline import check_paths
from isfdsl.diagnostics import CODES, Severity, render_text
from isfdsl.ir.model import lower


def run_verify(defs: str, fmt: str, episodes: bool, progress: bool) -> int:
    """Check and analyse ``defs``; print the report as text or JSON. The exit code: 1 on any error."""
    checked = check_paths([defs])
    console = Console(stderr=True)
    if not checked.ok or len(checked.models) != 1:
        console.print(render_text(checked.diags.errors, checked.sources) or f"{defs}: expected one version folder")
        return 1
    program = lower(checked.models[0])
    rows = sum(len(t.rows) for t in program.decisions)
    started = time.perf_counter()
    if progress:
        with Progress(TextColumn("analysing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("rows", total=rows)
            report = analyse(program, episodes=episodes, progress=lambda n: bar.advance(task, n))
    else:
        report = analyse(program, episodes=episodes)
    seconds = time.perf_counter() - started
    if fmt == "json":
        print(json.dumps(as_json(program.label, report, seconds), ensure_ascii=False, indent=2))
    else:
        print_report(Console(), program.label, report, seconds)
    return 1 if report.errors else 0


def as_json(label: str, report: Report, seconds: float) -> dict[str, object]:
    return {
        "version": label,
        "seconds": round(seconds, 3),
        "tables": [{"table": n, "policy": p, "rows": r, "rows_that_can_match": m} for n, p, r, m, _ in report.summary],
        "errors": len(report.errors),
        "warnings": len(report.findings) - len(report.errors),
        "findings": [{**f.as_dict(), "severity": CODES[f.code][0].value, "summary": CODES[f.code][1]}
                     for f in report.findings],
    }


def print_report(console: Console, label: str, report: Report, seconds: float) -> None:
    grid = Table(title=f"{label}: analysis of the decision tables")
    for col, justify in (("table", "left"), ("policy", "left"), ("rows", "right"), ("can match", "right"),
                         ("seconds", "right")):
        grid.add_column(col, justify=justify)  # type: ignore[arg-type]
    for name, policy, rows, matching, secs in report.summary:
        grid.add_row(name, policy, f"{rows:,}", f"{matching:,}", f"{secs:.1f}")
    console.print(grid)
    for f in report.findings:
        _print_finding(console, f)
    errors = len(report.errors)
    warnings = len(report.findings) - errors
    console.print(f"{report.rows:,} rows in {report.tables} table{'s' if report.tables != 1 else ''} analysed in "
                  f"{seconds:.1f} s: {errors} error{'s' if errors != 1 else ''}, "
                  f"{warnings} warning{'s' if warnings != 1 else ''}", highlight=False)


def _print_finding(console: Console, f: Finding) -> None:
    severity = CODES[f.code][0]
    tint = "red" if severity is Severity.ERROR else "yellow"
    console.print(f"[bold]{span_of_where(f.where)}[/]: [{tint}]{severity.value}[{f.code}][/]: {f.message}",
                  highlight=False, markup=True, soft_wrap=True)
    for note in (*f.notes, *witness_notes(f)):
        if note:
            console.print(f"      = {note}", highlight=False, markup=False, soft_wrap=True)
