"""The documentation commands' driver: ``isf docs``, ``isf diff`` and ``isf export-excel`` — load and
check the definitions, run the emitters with a progress bar, write the files, report what was done."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from isfdsl.analysis import reverse
from isfdsl.commands.pipeline import check_paths
from isfdsl.emit import changes as diffs
from isfdsl.emit import docs as emit_docs
from isfdsl.emit import excel as emit_excel
from isfdsl.emit.describe import plain
from isfdsl.ir import model as ir
from isfdsl.resources import template_text


class DefinitionError(Exception):
    """The definitions could not be loaded: ``text`` holds the rendered diagnostics."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def load(defs: str) -> ir.Program:
    """Check and lower the one version under ``defs``."""
    from isfdsl.diagnostics import render_text
    from isfdsl.ir.model import lower

    checked = check_paths([defs])
    if not checked.ok:
        raise DefinitionError(render_text(checked.diags.errors, checked.sources))
    if len(checked.models) != 1:
        raise DefinitionError(f"{defs}: holds {len(checked.models)} versions; name one version folder")
    return lower(checked.models[0])


@contextlib.contextmanager
def progress_bar(show: bool, total: int, what: str) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar (on stderr) when ``show``; yields the advance callback or None."""
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


@dataclass(slots=True)
class Done:
    files: int
    seconds: float
    detail: str = ""


def docs(defs: str, out: Path, diagrams: bool = True, progress: bool = False) -> Done:
    started = time.perf_counter()
    program = load(defs)
    with progress_bar(progress, reverse.work(program), "code index") as advance:
        files = emit_docs.build_docs(program, out.name, _shown(defs), diagrams=diagrams, progress=advance)
    written = emit_docs.write_docs(files, out)
    pages = sum(1 for f in files if f.endswith(".html"))
    return Done(len(written), time.perf_counter() - started, f"{pages} pages")


def _shown(path: str) -> str:
    """A definitions path as shown in generated files: relative to the working folder when inside it."""
    p = Path(path)
    with contextlib.suppress(ValueError):
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    return p.as_posix()


def diff(old: str, new: str, out: Path | None, progress: bool = False) -> tuple[diffs.Changes, Done]:
    """Compare two versions; with ``out``, write index.html, index.md and changes.xlsx there, else put
    the Markdown in ``Done.detail``."""
    started = time.perf_counter()
    a, b = load(old), load(new)
    codes = reverse.known(a, b)
    with progress_bar(progress, reverse.work(a, codes) + reverse.work(b, codes), "code indexes") as advance:
        changes = diffs.compare(a, b, advance)
    page = diffs.page(changes)
    site = emit_docs.Site(out.name if out else "changes", f"{a.label} → {b.label}",
                          f"{emit_docs.validity(a)} → {emit_docs.validity(b)}", f"{_shown(old)} and {_shown(new)}",
                          [("Changes", "index")] if out else [])
    rendered = emit_docs.render_pages([page], site)
    if out is None:
        return changes, Done(0, time.perf_counter() - started, rendered["index.md"])
    files: dict[str, str | bytes] = dict(rendered)
    files["style.css"] = template_text("docs/style.css")
    files["search.js"] = template_text("docs/search.js")
    files["search-index.js"] = "window.ISF_SEARCH = {\"items\":[],\"ranges\":[],\"systems\":{}};\n"
    written = emit_docs.write_docs(files, out)
    emit_excel.write_workbook(out / "changes.xlsx", grid_sheets(page), page.title)
    return changes, Done(len(written) + 1, time.perf_counter() - started)


def grid_sheets(page: emit_docs.Page) -> list[emit_excel.Sheet]:
    """Each grid of a page as a sheet named by the heading above it."""
    sheets: list[emit_excel.Sheet] = []
    heading = page.title
    for block in page.blocks:
        if isinstance(block, emit_docs.Heading):
            heading = block.text
        elif isinstance(block, emit_docs.Grid):
            sheets.append((heading, block.header, [[plain(cell) for cell in row] for row in block.rows]))
    return sheets


def export_excel(defs: str, out: Path) -> Done:
    started = time.perf_counter()
    program = load(defs)
    sheets = emit_excel.export(program, out)
    return Done(1, time.perf_counter() - started, f"{sheets} sheets")
