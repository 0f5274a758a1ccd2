"""Emit: one site for several versions of the definitions — each version's guide in a folder of its own
(``isf2024/``, ``isf2025/``), the change documentation between consecutive versions beside them
(``changes-isf2024-isf2025/``) and an index over all of them. Every page carries a version switcher that
leads to the same page in the other versions where they have it; the group and code pages of each
version after the first carry a "changes" box (:func:`isfdsl.emit.changes.for_group`, ``for_codes``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from isfdsl.emit import changes as diffs
from isfdsl.emit import guide as guides
from isfdsl.emit.docs import Page, Site, Version, link, render_pages, static_files, validity
from isfdsl.emit.messages import Messages
from isfdsl.ir import model as ir


@dataclass(frozen=True, slots=True)
class Source:
    """One version to document: its folder name in the site, its program and where it came from (as shown)."""

    name: str
    program: ir.Program
    shown: str


def changes_name(old: Source, new: Source) -> str:
    return f"changes-{old.name}-{new.name}"


def build_site(sources: Sequence[Source], m: Messages, diagrams: bool = True,
               progress: Callable[[int], None] | None = None) -> tuple[dict[str, str | bytes], dict[str, Page]]:
    """Every file of the site (paths relative to its root), the versions ordered oldest first (by year, then
    as given); and the change pages by their folder (for their workbooks)."""
    ordered = sorted(sources, key=lambda s: s.program.year)
    files: dict[str, str | bytes] = {}
    history: list[diffs.Changes | None] = [None]
    for old, new in itertools.pairwise(ordered):
        history.append(diffs.compare(old.program, new.program, progress, m))
    built: list[guides.Guide] = []
    for k, s in enumerate(ordered):
        ch = history[k]
        past = guides.History(ch, f"../{changes_name(ordered[k - 1], s)}/index") if ch is not None else None
        built.append(guides.guide(s.program, s.name, s.shown, m, diagrams, progress, past))
    versions = [Version(s.name, s.program.label, frozenset(p.path for p in g.pages)) for s, g in zip(ordered, built, strict=True)]
    for k, (s, g) in enumerate(zip(ordered, built, strict=True)):
        g.site.versions = versions
        home = g.pages[0]
        home.h(2, m("home.versions"), "versions")
        home.bullets([[link(v.label, f"../{v.name}/index")] for v in versions if v.name != s.name]
                     + [[link(m("home.changes_link", old=a.program.label, new=b.program.label), f"../{changes_name(a, b)}/index")]
                        for a, b in itertools.pairwise(ordered)])
        files.update({f"{s.name}/{path}": data for path, data in g.files(diagrams).items()})
    pages: dict[str, Page] = {}
    for (a, b), ch in zip(itertools.pairwise(ordered), history[1:], strict=True):
        assert ch is not None
        name = changes_name(a, b)
        pages[name] = diffs.page(ch)
        site = Site(name, m("changes.title", old=a.program.label, new=b.program.label),
                    f"{validity(a.program, m)} → {validity(b.program, m)}", f"{a.shown} {m('row.and').strip()} {b.shown}",
                    [(a.program.label, f"../{a.name}/index"), (b.program.label, f"../{b.name}/index")], m.lang,
                    search=f"../{ordered[-1].name}/")
        files.update({f"{name}/{path}": data for path, data in {**render_pages([pages[name]], site), **static_files()}.items()})
    top = Page("index", m("site.all_versions"))
    top.bullets([[link(s.program.label, f"{s.name}/index"), f" ({validity(s.program, m)})"] for s in reversed(ordered)])
    top.h(2, m("nav.changes"))
    top.bullets([[link(m("home.changes_link", old=a.program.label, new=b.program.label), f"{changes_name(a, b)}/index")]
                 for a, b in itertools.pairwise(ordered)])
    label = " · ".join(s.program.label for s in ordered)
    root = Site("", label, "", ", ".join(s.shown for s in ordered), [], m.lang, search=f"{ordered[-1].name}/")
    files.update({**render_pages([top], root), **static_files()})
    return files, pages
