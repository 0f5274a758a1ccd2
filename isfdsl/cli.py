"""The command line: ``isf check`` and the other subcommands (click for arguments, rich for output)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .diagnostics import render_json, render_text
from .pipeline import check_paths

FORMATS = click.Choice(["text", "json"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="isf")
def main() -> None:
    """isfdsl: compile .isf grouping rules for Norway's ISF hospital financing."""


@main.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="Diagnostics as text or JSON.")
@click.option("--color/--no-color", default=None, help="Colour the text output (default: when a terminal).")
def check_cmd(paths: tuple[str, ...], fmt: str, color: bool | None) -> None:
    """Parse and check the .isf files under PATHS (files or folders; each folder is one version)."""
    result = check_paths(list(paths))
    diags = result.diags.sorted()
    if fmt == "json":
        click.echo(render_json(diags))
    else:
        use_color = sys.stderr.isatty() if color is None else color
        if diags:
            click.echo(render_text(diags, result.sources, color=use_color), err=True)
        errors = sum(1 for d in diags if d.severity.value == "error")
        warnings = len(diags) - errors
        files = len(result.sources)
        click.echo(f"checked {files} file{'s' if files != 1 else ''} in {len(result.models)} program"
                   f"{'s' if len(result.models) != 1 else ''}: {errors} error{'s' if errors != 1 else ''}, "
                   f"{warnings} warning{'s' if warnings != 1 else ''}", err=True)
    sys.exit(0 if result.ok else 1)


@main.command("explain")
@click.argument("defs", type=click.Path(exists=True))
@click.argument("episode", type=click.Path(exists=True, dir_okay=False))
@click.option("--table", default=None, help="Decision table to apply (default: the first declared).")
def explain_cmd(defs: str, episode: str, table: str | None) -> None:
    """Group the episode in EPISODE (a JSON object) with the definitions DEFS and print the trace:
    which rows were tried, which condition failed first, which codes satisfied the winning row."""
    from rich.console import Console
    from rich.table import Table

    from .interpret import group
    from .ir import lower

    result = check_paths([defs])
    if not result.ok or len(result.models) != 1:
        click.echo(render_text(result.diags.errors, result.sources), err=True)
        raise SystemExit(1 if not result.ok else 2)
    try:
        data = json.loads(Path(episode).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise click.UsageError(f"{episode}: not a JSON object: {exc}") from None
    if not isinstance(data, dict):
        raise click.UsageError(f"{episode}: expected a JSON object of attribute values")
    program = lower(result.models[0])
    if table is not None and table not in {t.name for t in program.decisions}:
        raise click.UsageError(f"no decision table `{table}`")
    res = group(program, data, table)
    console = Console()
    for attr, raw, reason in res.problems:
        console.print(f"[yellow]input problem[/]: {attr} = {raw!r}: {reason}")
    grid = Table(title=f"{program.label}: decision table `{res.table}`")
    for col in ("rule", "result", "first failing condition / codes that satisfied the row"):
        grid.add_column(col)
    for step in res.trace:
        detail = step.failed or "; ".join(f"{text}: {', '.join(codes)}" for text, codes in step.witnesses)
        grid.add_row(step.rule, "[green]match[/]" if step.matched else "no", detail)
    console.print(grid)
    console.print(f"[bold]{res.catalogue} {res.group}[/] {res.name} — rule {res.rule}, return code {res.return_code}, "
                  f"points {res.points}" + (f", refund {res.refund:.2f}" if res.refund is not None else ""))
