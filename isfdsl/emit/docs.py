"""Emit: the page model of the user guides and its rendering — a static HTML site and the same pages in
Markdown.

A page is a small document model (:class:`Page` of headings, paragraphs, grids, lists, figures, boxes)
built by :mod:`isfdsl.emit.guide` (one version's guide), :mod:`isfdsl.emit.changes` (the change
documentation) and :mod:`isfdsl.emit.compare`; two Jinja2 templates then render every page as HTML
(autoescaped) and as Markdown (escaped by the ``md`` filter), so both always say the same thing. The
templates' own words come from the message catalogue (:mod:`isfdsl.emit.messages`) in the site's
language. Output is deterministic: no timestamps unless ``SOURCE_DATE_EPOCH`` is set (then its date is
shown in the footer), everything sorted, the Graphviz version line removed from the diagrams.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import markupsafe

from isfdsl import __version__
from isfdsl.emit.describe import Phrase, Tok
from isfdsl.emit.messages import DEFAULT_LANG, Messages, messages
from isfdsl.files import replace_file
from isfdsl.ir import model as ir
from isfdsl.resources import template_text

#: The site's scripts and stylesheet, copied as they are.
STATIC = ("style.css", "site.js")

# ---------------------------------------------------------------------- the document model


@dataclass(slots=True)
class Heading:
    level: int
    text: str
    id: str | None = None


@dataclass(slots=True)
class Para:
    phrase: Phrase


@dataclass(slots=True)
class Grid:
    header: list[str]
    rows: list[list[Phrase]]
    #: An anchor id per row (or None).
    ids: list[str | None] = field(default_factory=list)
    #: Whether a reader can sort it by a column (in HTML, by a button in each column heading).
    sortable: bool = False
    #: The columns whose cells never break across lines (group codes, "DRG 901A"): in HTML, class ``nowrap``.
    nowrap: tuple[int, ...] = ()


@dataclass(slots=True)
class Bullets:
    items: list[Phrase]


@dataclass(slots=True)
class Figure:
    """A decision diagram: ``path`` (no extension) names ``path.dot``, always written, and ``path.svg``,
    written only when ``drawn`` (a page never links to a diagram that was not drawn); ``too_large``: a diagram of
    ``rows`` rows, more than a readable diagram holds, is neither drawn nor written as .dot."""
    path: str
    alt: str
    drawn: bool = True
    rows: int = 0
    too_large: bool = False


@dataclass(slots=True)
class Pre:
    """Preformatted text; ``lang`` ``isf`` marks .isf source, highlighted in HTML and fenced as ``isf`` in Markdown."""

    text: str
    lang: str = ""


@dataclass(slots=True)
class Box:
    """An aside: a heading and a list (the "changes" box of a group or code page)."""

    title: str
    items: list[Phrase]


Block = Heading | Para | Grid | Bullets | Figure | Pre | Box


@dataclass(slots=True)
class Page:
    path: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def h(self, level: int, text: str, id: str | None = None) -> None:
        self.blocks.append(Heading(level, text, id))

    def p(self, *parts: object) -> None:
        self.blocks.append(Para(phrase(parts)))

    def grid(self, header: list[str], rows: Iterable[Iterable[object]], ids: Sequence[str | None] | None = None,
             sortable: bool = False, nowrap: tuple[int, ...] = ()) -> None:
        cells = [[phrase((c,)) for c in r] for r in rows]
        self.blocks.append(Grid(header, cells, list(ids or []), sortable, nowrap))

    def bullets(self, items: Iterable[Iterable[object]]) -> None:
        self.blocks.append(Bullets([phrase(tuple(i)) for i in items]))


def phrase(parts: Iterable[object]) -> Phrase:
    """Tokens from tokens, text and lists of tokens (anything else as its text)."""
    out: Phrase = []
    for part in parts:
        if isinstance(part, Tok):
            out.append(part)
        elif isinstance(part, list):
            out.extend(phrase(part))
        else:
            out.append(Tok(str(part)))
    return out


def link(text: str, href: str, style: str | None = None) -> Tok:
    return Tok(text, href, style)


def code(text: str, href: str | None = None) -> Tok:
    return Tok(text, href, "code")


# ---------------------------------------------------------------------- rendering


#: Text that needs no Markdown escaping (the common case, checked first for speed).
_MD_PLAIN = re.compile(r"[^\\`*_\[\]|~&<>\r\n0-9=+#-][^\\`*_\[\]|~&<>\r\n]*|")


def _md(text: object) -> str:
    """Text safe inside Markdown: every character Markdown or HTML could read as markup escaped."""
    s = str(text)
    if _MD_PLAIN.fullmatch(s):
        return s
    s = s.replace("\r", " ").replace("\n", " ")
    s = re.sub(r"([\\`*_\[\]|~])", r"\\\1", s)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # At the start of a line, what would open a list, a heading or a setext underline.
    s = re.sub(r"^(\d+)\.(?=\s|$)", r"\1\\.", s)
    s = re.sub(r"^([-+#])(?=[\s#]|$)", r"\\\1", s)
    return re.sub(r"^(=+)$", r"\\\1", s)


def _mdcode(text: object) -> str:
    """A Markdown code span that holds any text (fence longer than any backtick run; pipes escaped for tables)."""
    s = str(text)
    if not any(ch in s for ch in "\r\n|`"):
        return f"`{s}`"
    s = s.replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{ticks}{pad}{s}{pad}{ticks}"


def _mdfence(text: object, lang: str = "") -> str:
    s = str(text)
    fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", s)), default=0) + 1)
    return f"{fence}{lang}\n{s}\n{fence}"


def _highlight(text: str, lang: str) -> markupsafe.Markup:
    """``text`` as HTML: .isf source through the ``isf`` Pygments lexer (classes styled in style.css),
    anything else escaped."""
    if lang != "isf":
        return markupsafe.escape(text)
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    from isfdsl.syntax.highlight import IsfLexer

    return markupsafe.Markup(highlight(text, IsfLexer(), HtmlFormatter(nowrap=True)).rstrip("\n"))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FunctionLoader(lambda name: template_text(f"docs/{name}")),
                             autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["md"] = _md
    env.filters["mdcode"] = _mdcode
    env.filters["mdfence"] = _mdfence
    env.filters["highlight"] = _highlight
    env.tests.update({
        "heading": lambda b: isinstance(b, Heading), "para": lambda b: isinstance(b, Para),
        "grid": lambda b: isinstance(b, Grid), "bullets": lambda b: isinstance(b, Bullets),
        "figure": lambda b: isinstance(b, Figure), "pre": lambda b: isinstance(b, Pre),
        "box": lambda b: isinstance(b, Box),
    })
    return env


def href(target: str, page: str, ext: str) -> str:
    """A site path (``groups/DRG-802U``, ``features#c-age``) as a link relative to ``page``."""
    path, _, frag = target.partition("#")
    depth = page.count("/")
    rel = "../" * depth + (path + ext if path else "")
    if not path:
        rel = page.rsplit("/", 1)[-1] + ext
    return rel + (f"#{frag}" if frag else "")


def phrase_html(toks: Phrase, link_to: Callable[[str], str]) -> markupsafe.Markup:
    """A phrase as HTML (every text escaped); in Python rather than a template macro, for speed."""
    return markupsafe.Markup(_phrase_html(toks, link_to))


def _phrase_html(toks: Phrase, link_to: Callable[[str], str]) -> str:
    out = []
    for t in toks:
        text = str(_escape(t.text))
        if t.style == "code":
            text = f"<code>{text}</code>"
        elif t.style == "em":
            text = f"<em>{text}</em>"
        if t.href:
            text = f'<a href="{_escape(link_to(t.href))}">{text}</a>'
        out.append(text)
    return "".join(out)


_escape = markupsafe.escape


def phrase_md(toks: Phrase, link_to: Callable[[str], str]) -> str:
    """A phrase as Markdown (every text escaped)."""
    out = []
    for t in toks:
        text = _mdcode(t.text) if t.style == "code" else f"*{_md(t.text)}*" if t.style == "em" else _md(t.text)
        out.append(f"[{text}]({link_to(t.href)})" if t.href else text)
    return "".join(out)


def rows_html(g: Grid, link_to: Callable[[str], str]) -> markupsafe.Markup:
    """The body rows of a grid as HTML, one line each (in Python rather than a template loop, for speed)."""
    out = []
    for i, row in enumerate(g.rows):
        rid = g.ids[i] if i < len(g.ids) else None
        cells = "".join(f'<td class="nowrap">{_phrase_html(c, link_to)}</td>' if k in g.nowrap else f"<td>{_phrase_html(c, link_to)}</td>"
                        for k, c in enumerate(row))
        out.append(f'<tr id="{_escape(rid)}">{cells}</tr>\n' if rid else f"<tr>{cells}</tr>\n")
    return markupsafe.Markup("".join(out))


def rows_md(g: Grid, link_to: Callable[[str], str]) -> str:
    """The body rows of a grid as Markdown table rows, one line each (the first cell carries the row's anchor)."""
    out = []
    for i, row in enumerate(g.rows):
        rid = g.ids[i] if i < len(g.ids) else None
        cells = [phrase_md(c, link_to) for c in row]
        if rid and cells:
            cells[0] = f'<a id="{rid}"></a>' + cells[0]
        out.append("|" + "".join(f" {c} |" for c in cells) + "\n")
    return "".join(out)


def render_pages(pages: list[Page], site: Site) -> dict[str, str]:
    """Every page as ``path.html`` and ``path.md`` (text)."""
    env = _environment()
    html = env.get_template("page.html.j2")
    md = env.get_template("page.md.j2")
    m = messages(site.lang)
    footer = m("site.footer", version=__version__, source=site.source)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        footer += m("site.footer_date", date=datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).strftime("%Y-%m-%d"))
    out: dict[str, str] = {}
    for page in pages:
        root = "../" * page.path.count("/")
        for ext, template in ((".html", html), (".md", md)):
            def link_to(t: str, p: str = page.path, e: str = ext) -> str:
                return href(t, p, e)
            render = phrase_html if ext == ".html" else phrase_md
            rows = rows_html if ext == ".html" else rows_md
            out[page.path + ext] = template.render(page=page, site=site, root=root, ext=ext, footer=footer, href=link_to, m=m,
                                                   versions=site.switch(page.path, root, ext),
                                                   phrase=lambda toks, r=render, f=link_to: r(toks, f),
                                                   rows=lambda g, r=rows, f=link_to: r(g, f))
    return out


#: Pages rendered in one process at most; a larger site is rendered by two forked processes (where the
#: platform forks), each rendering every other page.
PAGES_PER_PROCESS = 400
_SHARED: tuple[list[Page], Site] | None = None


def render_many(pages: list[Page], site: Site) -> dict[str, str]:
    """:func:`render_pages`, in two processes for a large site on a machine of several cores (the same
    output: each page is rendered alone)."""
    global _SHARED
    # Forking is safe only while this process runs no other thread (a progress bar's, for one).
    forks = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
    if len(pages) <= PAGES_PER_PROCESS or not forks or (os.cpu_count() or 1) < 2:
        return render_pages(pages, site)
    _SHARED = (pages, site)
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            parts = pool.map(_render_share, [0, 1])
    finally:
        _SHARED = None
    return {**parts[0], **parts[1]}


def _render_share(k: int) -> dict[str, str]:
    assert _SHARED is not None
    pages, site = _SHARED
    return render_pages(pages[k::2], site)


def static_files() -> dict[str, str | bytes]:
    """The stylesheet and the script every site carries."""
    return {name: template_text(f"docs/{name}") for name in STATIC}


# ---------------------------------------------------------------------- the site


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a site of several versions: its folder beside the others, its label, its pages."""

    name: str
    label: str
    pages: frozenset[str] = frozenset()


@dataclass(slots=True)
class Site:
    name: str
    label: str
    validity: str
    source: str
    nav: list[tuple[str, str]] = field(default_factory=list)
    #: The language of the site's own words (a key of the message catalogue).
    lang: str = DEFAULT_LANG
    #: Every version of a site of several versions (this one included), oldest first; empty for one version.
    versions: list[Version] = field(default_factory=list)
    #: The folder, from the site's root and ending in ``/``, whose search index the pages' search box uses: ``""``
    #: the site's own; another version's (``../isf2025/``) for the pages of a site of several versions that have
    #: none of their own (its index, the change documentation); None for no search box (a page without codes).
    search: str | None = ""

    def switch(self, path: str, root: str, ext: str) -> list[tuple[str, str | None]]:
        """The version switcher of the page ``path``: (label, link) per version, the same page in another
        version where it has it (else that version's index), no link for this version."""
        return [(v.label, None if v.name == self.name else
                 f"{root}../{v.name}/{path if path in v.pages else 'index'}{ext}") for v in self.versions]


def validity(program: ir.Program, m: Messages | None = None) -> str:
    m = m or messages()
    if program.valid_from or program.valid_to:
        return m("valid", start=program.valid_from or "…", end=program.valid_to or "…")
    return m("valid.none")


def render_svg(dot: str) -> str:
    """SVG from Graphviz ``dot``, without the version comment (so that it is byte-identical)."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("Graphviz `dot` is not installed; install graphviz or pass --no-diagrams")
    try:
        svg = subprocess.run([exe, "-Tsvg"], input=dot.encode(), capture_output=True, check=True, timeout=300).stdout.decode()
    except subprocess.TimeoutExpired:
        raise RuntimeError("Graphviz `dot` took over 300 s for one diagram; pass --no-diagrams") from None
    return re.sub(r"<!-- Generated by graphviz[^>]*-->\n", "", svg)


#: The record of what a build wrote, kept in the output folder: a later build removes only files it can
#: prove it wrote (listed here, and unchanged since) and only folders it created.
MANIFEST = ".isfdsl-manifest.json"


def write_docs(files: dict[str, str | bytes], out: Path) -> list[Path]:
    """Write the site into ``out`` and remove what an earlier build wrote that is no longer produced.

    Only files listed in the folder's manifest (:data:`MANIFEST`) with the content the earlier build gave
    them are ever removed, and only folders that build created (when empty); anything else in ``out`` —
    a reader's own files, a file edited since, folders that were there before — is left alone. Every file
    is written to a temporary file beside it and renamed, and the manifest last, so an interrupted build
    leaves whole files and a manifest that still describes what it lists."""
    for rel in files:
        if rel.startswith(("/", "\\")) or ".." in Path(rel).parts or rel == MANIFEST:
            raise ValueError(f"not a path inside the site: {rel!r}")
    existed = out.is_dir()
    out.mkdir(parents=True, exist_ok=True)
    before = _manifest(out)
    folders, owned = before.get("folders"), before.get("files")
    made: set[str] = {str(f) for f in folders} if isinstance(folders, dict) else set()
    if not existed:
        made.add(".")
    for rel, digest in sorted(owned.items() if isinstance(owned, dict) else ()):
        path = out / rel
        if rel not in files and path.is_file() and not path.is_symlink() and _digest(path.read_bytes()) == digest:
            path.unlink()
    written, record = [], {}
    for rel, content in sorted(files.items()):
        path = out / rel
        for parent in reversed(Path(rel).parents[:-1]):
            if not (out / parent).is_dir():
                (out / parent).mkdir()
                made.add(parent.as_posix())
        data = content.encode() if isinstance(content, str) else content
        if not path.is_file() or path.is_symlink() or path.read_bytes() != data:
            replace_file(path, data, follow_symlinks=False)  # a link is replaced, never followed out of the site
        record[rel] = _digest(data)
        written.append(path)
    needed = {Path(rel).parent.as_posix() for rel in files}
    for folder in sorted(made - needed - {"."}, key=lambda f: -f.count("/")):
        gone = out / folder
        if gone.is_dir() and not gone.is_symlink() and not any(gone.iterdir()):
            gone.rmdir()
    kept = {f for f in made if (out / f).is_dir()}
    manifest = {"generator": "isfdsl", "files": record, "folders": {f: True for f in sorted(kept)}}
    replace_file(out / MANIFEST, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode(), follow_symlinks=False)
    return written


def _manifest(out: Path) -> dict[str, object]:
    path = out / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() and path.stat().st_size < 64 << 20 else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("generator") == "isfdsl" else {}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
