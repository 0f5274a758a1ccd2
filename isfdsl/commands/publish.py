"""The documentation commands' driver: ``isf docs``, ``isf diff`` and ``isf export-excel`` — load and
check the definitions, run the emitters with a progress bar, write the files, report what was done."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from isfdsl.analysis import reverse
from isfdsl.commands.pipeline import check_paths
from isfdsl.emit import changes as diffs
from isfdsl.emit import docs as emit_docs
from isfdsl.emit import excel as emit_excel
from isfdsl.emit import guide as guides
from isfdsl.emit import site
from isfdsl.emit.describe import plain
from isfdsl.emit.messages import messages
from isfdsl.ir import model as ir


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


def docs(defs: str | Sequence[str], out: Path, diagrams: bool = True, progress: bool = False, lang: str | None = None,
         excel: bool = False) -> Done:
    """The guide of one version into ``out``; of several (``defs`` a list of more than one folder), one site
    with a folder per version, the change documentation between consecutive versions and an index.
    ``excel``: each version's definition tables as ``NAME-tables.xlsx`` in its folder. ``lang``: the language
    of the guide's own words, by default the one the newest version declares (:func:`language`)."""
    started = time.perf_counter()
    folders = [defs] if isinstance(defs, str) else list(defs)
    programs = [load(d) for d in folders]
    m = messages(language(lang, programs))
    changes: dict[str, emit_docs.Page] = {}
    if len(folders) == 1:
        with progress_bar(progress, reverse.work(programs[0]), "code index") as advance:
            built = guides.guide(programs[0], out.name, _shown(folders[0]), m, diagrams, advance)
        files = built.files(diagrams)  # after the progress bar's thread has ended: rendering may fork
        books = [(programs[0], out / f"{out.name}-tables.xlsx")]
    else:
        names = [Path(d).resolve().name for d in folders]
        if len(set(names)) != len(names):
            raise DefinitionError(f"two version folders have the same name ({', '.join(names)}); the site names a version by its folder")
        sources = [site.Source(n, p, _shown(d)) for n, p, d in zip(names, programs, folders, strict=True)]
        work = sum(reverse.work(p) for p in programs) + 2 * sum(reverse.work(p) for p in programs[1:])
        with progress_bar(progress, work, "code indexes") as advance:
            files, changes = site.build_site(sources, m, diagrams=diagrams, progress=advance)
        books = [(s.program, out / s.name / f"{s.name}-tables.xlsx") for s in sources]
    written = emit_docs.write_docs(files, out)
    for name, page in changes.items():
        emit_excel.write_workbook(out / name / "changes.xlsx", grid_sheets(page), page.title)
        written.append(out / name / "changes.xlsx")
    if excel:
        for program, path in books:
            emit_excel.export(program, path, m)
    pages = sum(1 for f in files if f.endswith(".html"))
    return Done(len(written) + (len(books) if excel else 0), time.perf_counter() - started, f"{pages} pages")


def language(asked: str | None, programs: Sequence[ir.Program]) -> str | None:
    """The language of a guide: the one asked for (``--lang``), else the one the newest version declares in its
    header (``language en``), else None (the catalogue's default, bokmål)."""
    return asked or max(programs, key=lambda p: p.year).language


def _shown(path: str) -> str:
    """A definitions path as shown in generated files: relative to the working folder when inside it."""
    p = Path(path)
    with contextlib.suppress(ValueError):
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    return p.as_posix()


def diff(old: str, new: str, out: Path | None, progress: bool = False, lang: str | None = None) -> tuple[diffs.Changes, Done]:
    """Compare two versions; with ``out``, write index.html, index.md and changes.xlsx there, else put
    the Markdown in ``Done.detail``."""
    started = time.perf_counter()
    a, b = load(old), load(new)
    m = messages(language(lang, [a, b]))
    codes = reverse.known(a, b)
    with progress_bar(progress, reverse.work(a, codes) + reverse.work(b, codes), "code indexes") as advance:
        changes = diffs.compare(a, b, advance, m)
    page = diffs.page(changes)
    site = emit_docs.Site(out.name if out else "changes", f"{a.label} → {b.label}",
                          f"{emit_docs.validity(a, m)} → {emit_docs.validity(b, m)}", f"{_shown(old)}, {_shown(new)}",
                          [(m("nav.changes"), "index")] if out else [], m.lang, search=None)
    rendered = emit_docs.render_pages([page], site)
    if out is None:
        return changes, Done(0, time.perf_counter() - started, rendered["index.md"])
    files: dict[str, str | bytes] = {**rendered, **emit_docs.static_files()}
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


def export_excel(defs: str, out: Path, lang: str | None = None) -> Done:
    started = time.perf_counter()
    program = load(defs)
    sheets = emit_excel.export(program, out, messages(language(lang, [program])))
    return Done(1, time.perf_counter() - started, f"{sheets} sheets")
