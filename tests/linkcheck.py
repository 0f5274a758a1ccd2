"""A fast link and anchor check for a generated documentation site, in plain Python: every internal
link (href, src) of every HTML page and every Markdown link must name a file that exists and, with a
fragment, an id that file defines."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.links.append(value)


MD_LINK = re.compile(r"(?<!\\)\]\(([^)\s]+)\)")  # not an escaped \](
MD_ID = re.compile(r'<a id="([^"]+)"></a>')


def _targets(path: Path) -> tuple[set[str], list[str]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        page = _Page()
        page.feed(text)
        return page.ids, page.links
    return set(MD_ID.findall(text)), MD_LINK.findall(text)


def check_links(site: Path) -> tuple[int, list[str]]:
    """(links checked, problems) over every .html and .md file under ``site``."""
    cache: dict[Path, tuple[set[str], list[str]]] = {}

    def targets(p: Path) -> tuple[set[str], list[str]]:
        if p not in cache:
            cache[p] = _targets(p)
        return cache[p]

    problems: list[str] = []
    checked = 0
    for page in sorted([*site.rglob("*.html"), *site.rglob("*.md")]):
        for link in targets(page)[1]:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                problems.append(f"{page.relative_to(site)}: external link {link}")
                continue
            checked += 1
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
            if not target.is_file():
                problems.append(f"{page.relative_to(site)}: broken link {link}")
            elif parts.fragment and target.suffix in (".html", ".md") and parts.fragment not in targets(target)[0]:
                problems.append(f"{page.relative_to(site)}: no anchor #{parts.fragment} in {link}")
    return checked, problems
