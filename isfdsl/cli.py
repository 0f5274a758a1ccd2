"""The command line: ``isf check`` and the other subcommands (click for arguments, rich for output)."""

from __future__ import annotations

import sys

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
