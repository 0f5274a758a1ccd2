"""The command line: ``isf check`` and the other subcommands (click for arguments, rich for output)."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from isfdsl import __version__
from isfdsl.commands.pipeline import check_paths
from isfdsl.diagnostics import render_json, render_text
from isfdsl.types import LANGUAGES

if TYPE_CHECKING:
    from isfdsl.analysis.cache import AnalysisCache

FORMATS = click.Choice(["text", "json"])
CACHE_HELP = ("Reuse the findings of an earlier analysis of the same tables, and keep new ones, in the cache folder "
              "($ISF_CACHE_DIR, else $XDG_CACHE_HOME/isfdsl or ~/.cache/isfdsl; at most 256 MiB).")


def _cache(use: bool) -> AnalysisCache | None:
    from isfdsl.analysis.cache import AnalysisCache

    return AnalysisCache() if use else None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="isf")
def main() -> None:
    """isfdsl: compile .isf grouping rules for Norway's ISF hospital financing."""


@main.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="Diagnostics as text or JSON.")
@click.option("--color/--no-color", default=None, help="Colour the text output (default: when a terminal).")
@click.option("--analyse/--no-analyse", default=True, show_default=True,
              help="Also analyse the decision tables (overlaps, gaps, shadowed rows; see `isf verify`).")
@click.option("--cache/--no-cache", "use_cache", default=True, show_default=True, help=CACHE_HELP)
def check_cmd(paths: tuple[str, ...], fmt: str, color: bool | None, analyse: bool, use_cache: bool) -> None:
    """Parse and check the .isf files under PATHS (files or folders; each folder is one version)."""
    result = check_paths(list(paths), analyse=analyse, cache=_cache(use_cache))
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


@main.command("fmt")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--check", is_flag=True, help="Change nothing: show a diff of what would change and exit 1 if anything would.")
def fmt_cmd(paths: tuple[str, ...], check: bool) -> None:
    """Rewrite the .isf files under PATHS (files or folders) in the canonical layout, keeping every comment.
    Exit codes: 0 nothing (left) to change, 1 files would change (--check) or have syntax errors, 2 usage."""
    from isfdsl.commands.fmt import run_fmt

    result = run_fmt(list(paths), check, lambda line: click.echo(line, err=True))
    for diff in result.diffs:
        click.echo(diff, nl=False)
    for problem in result.problems:
        click.echo(problem, err=True)
    verb = "would reformat" if check else "reformatted"
    click.echo(f"{result.files} file{'s' if result.files != 1 else ''}: {verb} {len(result.changed)}, "
               f"{len(result.problems)} with problems", err=True)
    sys.exit(1 if result.problems or (check and result.changed) else 0)


@main.command("lsp")
@click.option("--cache/--no-cache", "use_cache", default=True, show_default=True, help=CACHE_HELP)
def lsp_cmd(use_cache: bool) -> None:
    """Run the language server over standard input and output (for editors: see editors/)."""
    from isfdsl.lsp.server import main as serve

    serve(use_cache)


@main.command("explain")
@click.argument("defs", type=click.Path(exists=True))
@click.argument("episode", type=click.Path(exists=True, dir_okay=False))
@click.option("--table", default=None, help="Decision table to apply (default: the entry table: the first declared that no `otherwise` names).")
def explain_cmd(defs: str, episode: str, table: str | None) -> None:
    """Group the episode in EPISODE (a JSON object) with the definitions DEFS and print the trace:
    which rows were tried, which condition failed first, which codes satisfied the winning row."""
    from rich.console import Console
    from rich.table import Table

    from isfdsl.interpret import trace
    from isfdsl.ir.model import lower

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
    res, steps = trace(program, data, table)
    console = Console()
    for attr, raw, reason in res.problems:
        console.print(f"[yellow]input problem[/]: {attr} = {raw!r}: {reason}")
    tables = list(dict.fromkeys(step.table for step in steps)) or [res.table]
    grid = Table(title=f"{program.label}: decision table{'s' if len(tables) > 1 else ''} "
                       f"{' → '.join(f'`{t}`' for t in tables)}")
    columns = ("table", "rule", "result", "first failing condition / codes that satisfied the row")
    for col in columns if len(tables) > 1 else columns[1:]:
        grid.add_column(col)
    for step in steps:
        detail = step.failed or "; ".join(f"{text}: {', '.join(codes)}" for text, codes in step.witnesses)
        cells = (step.table, step.rule, "[green]match[/]" if step.matched else "no", detail)
        grid.add_row(*(cells if len(tables) > 1 else cells[1:]))
    console.print(grid)
    console.print(f"[bold]{res.system} {res.group}[/] {res.name} — rule {res.rule}, return code {res.return_code}, "
                  f"points {res.points}" + (f", refund {res.refund:.2f}" if res.refund is not None else ""))


@main.command("verify")
@click.argument("defs", type=click.Path(exists=True))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="Report as text or JSON.")
@click.option("--episodes/--no-episodes", default=True, show_default=True,
              help="Search for a concrete episode behind each overlap and gap (checked with the interpreter).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when a terminal).")
def verify_cmd(defs: str, fmt: str, episodes: bool, progress: bool | None) -> None:
    """Analyse the decision tables of DEFS: rows earlier rows shadow, overlaps in `unique` tables, gaps
    in tables without a fallback, groups no row produces, conditions that can never hold and code-list
    entries no rule reaches, each with a witness. Exit code 1 when an error is found."""
    from isfdsl.commands.verify import run_verify

    raise SystemExit(run_verify(defs, fmt, episodes, sys.stderr.isatty() if progress is None else progress))


@main.command("build")
@click.argument("defs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False),
              help="Folder of the generated package, e.g. generated/isf2025 (its name is the package name).")
@click.option("--analyse/--no-analyse", default=True, show_default=True,
              help="Analyse the decision tables first: overlaps in `unique` tables and gaps are errors that stop "
                   "the build (see `isf verify`). --no-analyse skips that (the checks of names and types remain).")
@click.option("--wheel", "dist", default=None, type=click.Path(file_okay=False),
              help="Also write the package as an installable wheel into this folder (NAME-YEAR.0+HASH-py3-none-any.whl).")
@click.option("--cache/--no-cache", "use_cache", default=True, show_default=True, help=CACHE_HELP)
def build_cmd(defs: tuple[str, ...], out: str, analyse: bool, dist: str | None, use_cache: bool) -> None:
    """Compile the definitions in DEFS (one version folder) into a standalone Python grouper package.
    Several version folders make one package whose `group` picks the version valid on the episode's
    date (the attribute the versions name with `valid FROM .. TO by ATTR`); each version is a
    subpackage."""
    import time

    from isfdsl.commands.pipeline import build, build_versions, wheel

    started = time.perf_counter()
    try:
        cache = _cache(use_cache)
        built = (build(defs[0], Path(out), analyse=analyse, cache=cache) if len(defs) == 1
                 else build_versions(list(defs), Path(out), analyse=analyse, cache=cache))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    diags = built.checked.diags.sorted()
    if diags:
        click.echo(render_text(diags, built.checked.sources, color=sys.stderr.isatty()), err=True)
    if built.package is None:
        click.echo("nothing written: the definitions have errors", err=True)
        raise SystemExit(1)
    if dist is not None:
        try:
            click.echo(f"wrote {wheel(built, Path(dist))}", err=True)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    click.echo(f"wrote {len(built.files)} files to {out} in {time.perf_counter() - started:.2f} s", err=True)


@main.command("group")
@click.argument("grouper", metavar="DEFS|PACKAGE", type=click.Path(exists=True))
@click.argument("input_path", metavar="INPUT", type=click.Path())
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="Output file: .csv, .jsonl or .parquet (the extension chooses the format).")
@click.option("--table", default=None, help="Decision table (default: the entry table: the first declared that no `otherwise` names).")
@click.option("--input-format", type=click.Choice(["csv", "jsonl", "parquet", "norddrg-string"]), default=None,
              help="Input format (default: from the extension). norddrg-string: one official 165-field NordDRG "
                   "grouping string per line (an optional header line `DRGGrupperingsstreng`).")
@click.option("--output-format", type=click.Choice(["csv", "jsonl", "parquet"]), default=None,
              help="Output format (default: from the extension).")
@click.option("--encoding", default="auto", show_default=True,
              help="CSV/JSONL input encoding: auto (UTF-8, else Windows-1252), utf-8, cp1252, iso-8859-1, …")
@click.option("--delimiter", default="auto", show_default=True,
              help="CSV field separator; auto: the most frequent of , ; tab | in the header line (tab for .tsv).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when a terminal).")
@click.option("--unit-price", "prices", multiple=True, metavar="[MEMBER=]NOK",
              help="Override the unit price: for every sector (`56000`) or one (`phv=3800`); repeatable.")
@click.option("--share", "shares", multiple=True, metavar="MEMBER=FRACTION",
              help="Override an ISF share, e.g. `somatic=0.5`; repeatable.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, show_default=True,
              help="Worker processes grouping chunks of rows (0: one per processor; 1: this process only). "
                   "The output is the same, row for row and byte for byte, whatever the number.")
def group_cmd(grouper: str, input_path: str, out: str, table: str | None, input_format: str | None,
              output_format: str | None, encoding: str, delimiter: str, progress: bool | None,
              prices: tuple[str, ...], shares: tuple[str, ...], jobs: int) -> None:
    """Group every episode in INPUT with a generated PACKAGE (a folder from `isf build`) or with the
    definitions DEFS (compiled on the fly), writing one output row per input row, in input order."""
    from isfdsl.commands.group import run

    with _batch_run("isf group", out):
        run(grouper, input_path, out, table=table, input_format=input_format, output_format=output_format,
            encoding=encoding, delimiter=delimiter, progress=progress,
            prices=_overrides(prices, "--unit-price", default_key="*"), shares=_overrides(shares, "--share"), jobs=jobs)


@contextmanager
def _batch_run(command: str, out: str) -> Iterator[None]:
    """Run a batch command: usage errors exit 2; a run that stops (an unreadable input, an unwritable
    output: exit 1; Ctrl-C, SIGTERM: exit 128 + the signal) says so, and what became of ``out``
    (outputs are renamed into place only on success), without a traceback."""
    from isfdsl.commands import batch

    try:
        with batch.interruptible():
            yield
    except (ValueError, KeyError) as exc:
        raise click.UsageError(str(exc)) from None
    except batch.Stopped as exc:
        click.echo(f"{command}: stopped: {exc}", err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, batch.Interrupted) else signal.SIGINT
        click.echo(f"{command}: interrupted ({signal.Signals(signum).name}); {batch.fate(out)}", err=True)
        raise SystemExit(128 + signum) from None


LANG = click.Choice(list(LANGUAGES))
LANG_HELP = ("Language of the guide's own words: nb (Norwegian bokmål) or en; by default the one the (newest) version "
             "declares in its header (`language en`), else nb.")


@main.command("compare")
@click.argument("old", metavar="OLD", type=click.Path(exists=True))
@click.argument("new", metavar="NEW", type=click.Path(exists=True))
@click.argument("input_path", metavar="EPISODES", type=click.Path())
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False),
              help="Folder for index.html, index.md, compare.xlsx, the charts and the per-episode file.")
@click.option("--by", "by", multiple=True, metavar="COLUMN",
              help="Also total per value of this input column (e.g. a hospital or health trust); repeatable.")
@click.option("--keep", "keep", multiple=True, metavar="COLUMN",
              help="Copy this input column (e.g. an episode id) into the per-episode file; repeatable.")
@click.option("--episodes", "episodes", type=click.Choice(["parquet", "csv", "none"]), default=None,
              help="The per-episode file, DIR/episodes.parquet or .csv (default: parquet when pyarrow is installed).")
@click.option("--table", default=None, help="Decision table (default: each version's entry table).")
@click.option("--input-format", type=click.Choice(["csv", "jsonl", "parquet", "norddrg-string"]), default=None,
              help="Input format (default: from the extension), as for `isf group`.")
@click.option("--encoding", default="auto", show_default=True, help="CSV/JSONL input encoding, as for `isf group`.")
@click.option("--delimiter", default="auto", show_default=True, help="CSV field separator, as for `isf group`.")
@click.option("--unit-price", "prices", multiple=True, metavar="[MEMBER=]NOK", help="Override the unit price of both versions.")
@click.option("--share", "shares", multiple=True, metavar="MEMBER=FRACTION", help="Override an ISF share of both versions.")
@click.option("--old-unit-price", "old_prices", multiple=True, metavar="[MEMBER=]NOK", help="… of the old version only.")
@click.option("--old-share", "old_shares", multiple=True, metavar="MEMBER=FRACTION", help="… of the old version only.")
@click.option("--new-unit-price", "new_prices", multiple=True, metavar="[MEMBER=]NOK", help="… of the new version only.")
@click.option("--new-share", "new_shares", multiple=True, metavar="MEMBER=FRACTION", help="… of the new version only.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, show_default=True,
              help="Worker processes grouping chunks of rows (0: one per processor; 1: this process only), "
                   "as for `isf group`. The output is the same whatever the number.")
@click.option("--top", type=click.IntRange(min=1), default=12, show_default=True, help="Flows drawn in the chart of the largest flows.")
@click.option("--lang", type=LANG, default=None,
              help="Language of the pages and the workbook: nb (Norwegian bokmål, the default) or en.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when a terminal).")
def compare_cmd(old: str, new: str, input_path: str, out: str, by: tuple[str, ...], keep: tuple[str, ...],
                episodes: str | None, table: str | None, input_format: str | None, encoding: str, delimiter: str,
                prices: tuple[str, ...], shares: tuple[str, ...], old_prices: tuple[str, ...], old_shares: tuple[str, ...],
                new_prices: tuple[str, ...], new_shares: tuple[str, ...], jobs: int, top: int, lang: str | None,
                progress: bool | None) -> None:
    """Group the episodes in EPISODES with the versions OLD and NEW (definitions folders or generated
    packages) and show what changes: each episode's two results, the migration matrix between the old
    and the new groups, totals per group system, group, MDC and --by column, and the budget-neutral
    factor."""
    from isfdsl.commands.compare import default_episodes_format, run

    both_p, both_s = _overrides(prices, "--unit-price", default_key="*"), _overrides(shares, "--share")
    old_pay = ({**both_p, **_overrides(old_prices, "--old-unit-price", default_key="*")},
               {**both_s, **_overrides(old_shares, "--old-share")})
    new_pay = ({**both_p, **_overrides(new_prices, "--new-unit-price", default_key="*")},
               {**both_s, **_overrides(new_shares, "--new-share")})
    # a run that stops part-way leaves the per-episode file (and the pages) as they were
    with _batch_run("isf compare", str(Path(out) / f"episodes.{episodes or default_episodes_format()}")):
        done = run(old, new, input_path, Path(out), by=by, keep=keep, table=table, episodes=episodes,
                   input_format=input_format, encoding=encoding, delimiter=delimiter, old_payment=old_pay,
                   new_payment=new_pay, jobs=jobs, top=top, progress=progress, lang=lang)
    click.echo(f"wrote {len(done.files) + bool(done.episodes)} files to {out} in {done.seconds:.2f} s; open {out}/index.html",
               err=True)


@main.command("docs")
@click.argument("defs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False),
              help="Folder of the site, e.g. generated/docs/isf2025 (HTML and Markdown side by side); with several "
                   "DEFS, a folder per version in it.")
@click.option("--diagrams/--no-diagrams", default=True, show_default=True,
              help="Decision diagrams as SVG (needs Graphviz `dot`); the .dot sources are always written.")
@click.option("--excel/--no-excel", default=True, show_default=True,
              help="Also write the definition tables as NAME-tables.xlsx into the (version's) folder (as `isf export-excel`).")
@click.option("--lang", type=LANG, default=None, help=LANG_HELP)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when a terminal).")
def docs_cmd(defs: tuple[str, ...], out: str, diagrams: bool, excel: bool, lang: str | None, progress: bool | None) -> None:
    """Write the user guide of the definitions in DEFS: index, a page per group, table, code list and
    code table, the code index (codes to the rows and groups they can lead to), a table of all groups, a
    reading guide, payment parameters, decision diagrams and an offline search. With several DEFS (version
    folders): one site with a folder per version, a version switcher on every page, the changes between
    consecutive versions and a "changes" box on each group and code page."""
    from isfdsl.commands import publish

    try:
        done = publish.docs(defs[0] if len(defs) == 1 else list(defs), Path(out), diagrams,
                            sys.stderr.isatty() if progress is None else progress, lang=lang, excel=excel)
    except publish.DefinitionError as exc:
        click.echo(exc.text, err=True)
        raise SystemExit(1) from None
    except RuntimeError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"wrote {done.files} files ({done.detail}) to {out} in {done.seconds:.2f} s; open {out}/index.html",
               err=True)


@main.command("diff")
@click.argument("old", type=click.Path(exists=True))
@click.argument("new", type=click.Path(exists=True))
@click.option("-o", "--output", "out", default=None, type=click.Path(file_okay=False),
              help="Folder for index.html, index.md and changes.xlsx (default: print the Markdown).")
@click.option("--lang", type=LANG, default=None, help=LANG_HELP)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when a terminal).")
def diff_cmd(old: str, new: str, out: str | None, lang: str | None, progress: bool | None) -> None:
    """Document the changes from the definitions OLD to NEW: groups added, removed, renamed and
    re-weighted, rows by rule id, code-list entries, codes whose reachable groups changed, payment
    parameters, fields and features."""
    from isfdsl.commands import publish
    from isfdsl.emit.changes import summary_lines

    try:
        changes, done = publish.diff(old, new, Path(out) if out else None,
                                     sys.stderr.isatty() if progress is None else progress, lang=lang)
    except publish.DefinitionError as exc:
        click.echo(exc.text, err=True)
        raise SystemExit(1) from None
    if out is None:
        click.echo(done.detail, nl=False)
        return
    for line in summary_lines(changes):
        click.echo(line, err=True)
    click.echo(f"wrote {done.files} files to {out} in {done.seconds:.2f} s", err=True)


@main.command("export-excel")
@click.argument("defs", type=click.Path(exists=True))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="The .xlsx file to write.")
@click.option("--lang", type=LANG, default=None, help="Language of the headers: nb (Norwegian bokmål) or en; by default the "
              "one the version declares in its header (`language en`), else nb.")
def export_excel_cmd(defs: str, out: str, lang: str | None) -> None:
    """Write the definition tables of DEFS as an .xlsx workbook in the published layout: one sheet per
    decision table (a column per feature), catalogue, code lists, code table, fields, features, payment."""
    from isfdsl.commands import publish

    try:
        done = publish.export_excel(defs, Path(out), lang)
    except publish.DefinitionError as exc:
        click.echo(exc.text, err=True)
        raise SystemExit(1) from None
    click.echo(f"wrote {out} ({done.detail}) in {done.seconds:.2f} s", err=True)


@main.command("group-pathways")
@click.argument("grouper", metavar="DEFS|PACKAGE", type=click.Path(exists=True))
@click.argument("input_path", metavar="INPUT.jsonl", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False), help="Output CSV file.")
@click.option("--table", default=None, help="Pathway decision table (default: the first).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when a terminal).")
def group_pathways_cmd(grouper: str, input_path: str, out: str, table: str | None, progress: bool | None) -> None:
    """Group pathways (one JSON object per line: `id`, `pathway` attributes, member `episodes`): each
    member episode, then the pathway (e.g. a TFG); where the pathway group is financed its points
    replace the members' points. One CSV row per input line."""
    from isfdsl.commands.pathways import run

    with _batch_run("isf group-pathways", out):
        run(grouper, input_path, out, table, progress)


@main.group("import")
def import_group() -> None:
    """Import official definition data as .isf source."""


@import_group.command("norddrg")
@click.argument("path", type=click.Path(exists=True))
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False),
              help="Folder for the .isf and .tsv files: created, or replaced when it holds only an earlier import's files.")
@click.option("--year", type=int, default=None, help="Definition year (default: from a cover sheet or the file name).")
@click.option("--recode-properties/--no-recode-properties", default=None,
              help="Recode 98 diagnosis properties by sex (SEMANTICS §3.2-8; default: on from 2016).")
@click.option("--groups", "groups_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Group list (CSV, TSV or XLSX) giving names, points, trim points, per-day points and flags; "
                   "columns found by header: DRG/Kode, Navn/Name, Poeng/Kostnadsvekt/Weight, Trimpunkt, Poeng per dag, Flagg.")
@click.option("--column", "columns", multiple=True, metavar="ROLE=HEADER",
              help="The header of a column of the group list (roles: code, name, points, trim, perday, flags); repeatable.")
@click.option("--payment", "payment_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Payment parameters (CSV, TSV or XLSX, rows `parameter, value[, source]`: `unit price [SECTOR]`, "
                   "`share [SECTOR]`).")
@click.option("--unit-price", "prices", multiple=True, metavar="[SECTOR=]NOK",
              help="Unit price for every sector (`56155`) or one (`phv=3800`); repeatable; overrides --payment.")
@click.option("--share", "shares", multiple=True, metavar="[SECTOR=]FRACTION",
              help="ISF share of a sector (default sector: somatic), e.g. `0.3`; repeatable; overrides --payment.")
def import_norddrg_cmd(path: str, out: str, year: int | None, recode_properties: bool | None, groups_path: str | None,
                       columns: tuple[str, ...], payment_path: str | None, prices: tuple[str, ...],
                       shares: tuple[str, ...]) -> None:
    """Import NordDRG definition data into .isf files under OUTPUT: the directorate's .xlsx workbook
    (DefinitionData), a folder of CSV/TSV files (one per table), or the JSON (.zip or .json). With
    --groups and a payment the imported grouper gives names, points and refunds. The tables belong
    to the Norwegian Directorate of Health: import into a working folder, never into a repository.
    Exit code 1 when the data cannot be read (the message names file, table, row and column)."""
    from isfdsl.importers.groups import ROLES, PaymentParameters, add, read_groups, read_payment, sector_of
    from isfdsl.importers.norddrg import ImportError_, write

    mapping: dict[str, str] = {}
    for item in columns:
        role, sep, header = item.partition("=")
        if not sep or not header.strip() or role.strip() not in ROLES:
            raise click.BadParameter(f"{item!r}: expected ROLE=HEADER, ROLE one of {', '.join(ROLES)}", param_hint="--column")
        mapping[role.strip()] = header.strip()
    if mapping and groups_path is None:
        raise click.BadParameter("--column maps the columns of a --groups file; none was given", param_hint="--column")
    price_options = _overrides(prices, "--unit-price", default_key="*")
    share_options = _overrides(shares, "--share", default_key="somatic")
    for option, values in (("--unit-price", price_options), ("--share", share_options)):
        for key, value in values.items():
            if key != "*" and sector_of(key) is None:
                raise click.BadParameter(f"{key!r}: expected a sector: somatic, phv or tsb", param_hint=option)
            if option == "--share" and value > 1:
                raise click.BadParameter(f"{key}={value}: a share is a fraction between 0 and 1", param_hint=option)
    try:
        groups = read_groups(Path(groups_path), mapping) if groups_path else None
        payment = read_payment(Path(payment_path)) if payment_path else None
        if price_options or share_options:
            payment = payment or PaymentParameters()
            for key, value in price_options.items():
                add(payment, "unit_price", None if key == "*" else sector_of(key), value, "isf import norddrg --unit-price")
            for key, value in share_options.items():
                add(payment, "share", sector_of(key), value, "isf import norddrg --share")
        if payment is not None and (not payment.shares or (payment.unit_price is None and not payment.prices)):
            raise click.UsageError("a refund needs a unit price and an ISF share: give both (--unit-price, --share "
                                   "or --payment)")
        done = write(Path(path), Path(out), year, recode_properties, groups, payment)
    except ImportError_ as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    release = f" {done.release}" if done.release else ""
    click.echo(f"wrote {len(done.files)} files to {out} (NordDRG {done.year}{release}): {done.rows:,} table rows, "
               f"{done.groups} DRGs, {done.codes:,} diagnosis codes; next: isf check {out}", err=True)
    for note in done.notes:
        click.echo(f"note: {note}", err=True)
    if groups is not None:
        for warning in groups.warnings:
            click.echo(f"warning: {warning}", err=True)
        if done.listed_not_produced:
            click.echo(f"warning: {len(done.listed_not_produced)} groups of {groups.source} are never produced by the "
                       f"logic (not imported unless drgnames has them): {' '.join(done.listed_not_produced)}", err=True)
        if done.produced_not_listed:
            click.echo(f"warning: {len(done.produced_not_listed)} groups the logic produces are not in {groups.source} "
                       f"(no name, no points): {' '.join(done.produced_not_listed)}", err=True)


def _overrides(items: tuple[str, ...], option: str, default_key: str | None = None) -> dict[str, Decimal]:
    """``member=number`` pairs (or a bare number under ``default_key``) as a mapping."""
    from decimal import InvalidOperation

    out: dict[str, Decimal] = {}
    for item in items:
        key, sep, value = item.rpartition("=")
        if not sep:
            if default_key is None:
                raise click.BadParameter(f"{item!r}: expected MEMBER=NUMBER", param_hint=option)
            key = default_key
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise click.BadParameter(f"{item!r}: {value!r} is not a number", param_hint=option) from None
        if not number.is_finite() or number < 0:
            raise click.BadParameter(f"{item!r}: expected a non-negative number", param_hint=option)
        out[key.strip()] = number
    return out
