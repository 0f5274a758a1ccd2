"""Emit: user guides for the definition tables — a static HTML site and the same pages in Markdown.

Each page is first built as a small document model (:class:`Page` of headings, paragraphs, grids,
lists, figures) from the IR, the plain words of :mod:`isfdsl.emit.describe` and the reverse index of
:mod:`isfdsl.analysis.reverse`; two Jinja2 templates then render every page as HTML (autoescaped) and as
Markdown (escaped by the ``md`` filter), so both always say the same thing. Output is deterministic:
no timestamps unless ``SOURCE_DATE_EPOCH`` is set (then its date is shown in the footer), everything
sorted, the Graphviz version line removed from the diagrams.

Why one module of ~750 lines: the page builders share the site's link table, anchors and the reverse
index; the Markdown escaping, Graphviz call and clean-up of stale files are small helpers at the end.
(Issue 17 proposes splitting the page model from those helpers.)
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import markupsafe

from isfdsl import __version__
from isfdsl.analysis import reverse
from isfdsl.emit import describe
from isfdsl.emit.describe import Phrase, Tok, anchor
from isfdsl.ir import model as ir
from isfdsl.resources import template_text
from isfdsl.runtime.contract import GroupRecord

#: Codes per page of the reverse index before a code system is split by first character.
CODES_PER_PAGE = 1500
#: Rows per decision diagram before a table's diagrams are split by the groups' parent (MDC).
ROWS_PER_DIAGRAM = 80
OWNED = (".html", ".md", ".svg", ".dot", ".js", ".css")

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


@dataclass(slots=True)
class Bullets:
    items: list[Phrase]


@dataclass(slots=True)
class Figure:
    """A decision diagram: ``path`` (no extension) names ``path.dot``, always written, and ``path.svg``,
    written only when ``drawn`` (a page never links to a diagram that was not drawn)."""
    path: str
    alt: str
    drawn: bool = True


@dataclass(slots=True)
class Pre:
    """Preformatted text; ``lang`` ``isf`` marks .isf source, highlighted in HTML and fenced as ``isf`` in Markdown."""

    text: str
    lang: str = ""


Block = Heading | Para | Grid | Bullets | Figure | Pre


@dataclass(slots=True)
class Page:
    path: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def h(self, level: int, text: str, id: str | None = None) -> None:
        self.blocks.append(Heading(level, text, id))

    def p(self, *parts: object) -> None:
        self.blocks.append(Para(_phrase(parts)))

    def grid(self, header: list[str], rows: Iterable[Iterable[object]], ids: Sequence[str | None] | None = None) -> None:
        cells = [[_phrase((c,)) for c in r] for r in rows]
        self.blocks.append(Grid(header, cells, list(ids or [])))

    def bullets(self, items: Iterable[Iterable[object]]) -> None:
        self.blocks.append(Bullets([_phrase(tuple(i)) for i in items]))


def _phrase(parts: Iterable[object]) -> Phrase:
    """Tokens from tokens, text and lists of tokens (anything else as its text)."""
    out: Phrase = []
    for part in parts:
        if isinstance(part, Tok):
            out.append(part)
        elif isinstance(part, list):
            out.extend(_phrase(part))
        else:
            out.append(Tok(str(part)))
    return out


def link(text: str, href: str, style: str | None = None) -> Tok:
    return Tok(text, href, style)


def code(text: str, href: str | None = None) -> Tok:
    return Tok(text, href, "code")


# ---------------------------------------------------------------------- rendering


def _md(text: object) -> str:
    """Text safe inside Markdown: every character Markdown or HTML could read as markup escaped."""
    s = str(text).replace("\r", " ").replace("\n", " ")
    s = re.sub(r"([\\`*_\[\]|~])", r"\\\1", s)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # At the start of a line, what would open a list, a heading or a setext underline.
    s = re.sub(r"^(\d+)\.(?=\s|$)", r"\1\\.", s)
    s = re.sub(r"^([-+#])(?=[\s#]|$)", r"\\\1", s)
    return re.sub(r"^(=+)$", r"\\\1", s)


def _mdcode(text: object) -> str:
    """A Markdown code span that holds any text (fence longer than any backtick run; pipes escaped for tables)."""
    s = str(text).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
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
    out = []
    for t in toks:
        text = markupsafe.escape(t.text)
        if t.style == "code":
            text = markupsafe.Markup("<code>%s</code>") % text
        elif t.style == "em":
            text = markupsafe.Markup("<em>%s</em>") % text
        if t.href:
            text = markupsafe.Markup('<a href="%s">%s</a>') % (link_to(t.href), text)
        out.append(text)
    return markupsafe.Markup("").join(out)


def phrase_md(toks: Phrase, link_to: Callable[[str], str]) -> str:
    """A phrase as Markdown (every text escaped)."""
    out = []
    for t in toks:
        text = _mdcode(t.text) if t.style == "code" else f"*{_md(t.text)}*" if t.style == "em" else _md(t.text)
        out.append(f"[{text}]({link_to(t.href)})" if t.href else text)
    return "".join(out)


def render_pages(pages: list[Page], site: Site) -> dict[str, str]:
    env = _environment()
    html = env.get_template("page.html.j2")
    md = env.get_template("page.md.j2")
    footer = f"Generated by isfdsl {__version__} from {site.source}"
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        footer += " on " + datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).strftime("%Y-%m-%d")
    out: dict[str, str] = {}
    for page in pages:
        root = "../" * page.path.count("/")
        for ext, template in ((".html", html), (".md", md)):
            def link_to(t: str, p: str = page.path, e: str = ext) -> str:
                return href(t, p, e)
            render = phrase_html if ext == ".html" else phrase_md
            out[page.path + ext] = template.render(page=page, site=site, root=root, ext=ext, footer=footer, href=link_to,
                                                   phrase=lambda toks, r=render, f=link_to: r(toks, f))
    return out


# ---------------------------------------------------------------------- the site


@dataclass(slots=True)
class Site:
    name: str
    label: str
    validity: str
    source: str
    nav: list[tuple[str, str]] = field(default_factory=list)


def validity(program: ir.Program) -> str:
    if program.valid_from or program.valid_to:
        return f"valid {program.valid_from or '…'} to {program.valid_to or '…'}"
    return "no validity dates declared"


def build_docs(program: ir.Program, name: str, source: str, diagrams: bool = True,
               progress: Callable[[int], None] | None = None) -> dict[str, str | bytes]:
    """Every file of the documentation site of ``program``: relative path -> text (or bytes)."""
    index = reverse.build(program, progress)
    site = Site(name, program.label, validity(program), source,
                [("Index", "index"), ("Reading guide", "guide"), ("Features", "features"), ("Codes", "codes"),
                 ("Payment", "payment")])
    if program.pathway_program() is not None:
        site.nav.insert(3, ("Pathways", "pathway"))
    docs = _Docs(program, index, site, drawn=diagrams)
    pages = docs.pages()
    files: dict[str, str | bytes] = dict(render_pages(pages, site))
    files["style.css"] = template_text("docs/style.css")
    files["search.js"] = template_text("docs/search.js")
    files["search-index.js"] = "window.ISF_SEARCH = " + json.dumps(docs.search, ensure_ascii=False, sort_keys=True,
                                                                    separators=(",", ":")) + ";\n"
    for path, dot in docs.dots.items():
        files[path + ".dot"] = dot
        if diagrams:
            files[path + ".svg"] = render_svg(dot)
    return files


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


def write_docs(files: dict[str, str | bytes], out: Path) -> list[Path]:
    """Write the site into ``out``, removing files of an earlier build that are no longer produced."""
    out.mkdir(parents=True, exist_ok=True)
    for old in sorted(out.rglob("*")):
        rel = old.relative_to(out).as_posix()
        if old.is_file() and old.suffix in OWNED and rel not in files and _ours(old, rel):
            old.unlink()
    written = []
    for rel, content in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        written.append(path)
    for d in sorted((p for p in out.rglob("*") if p.is_dir()), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    return written


def _ours(path: Path, rel: str) -> bool:
    """Whether a file is one an earlier `isf docs` wrote (only those are removed when no longer produced;
    a folder's other files are left alone)."""
    if rel in ("style.css", "search.js", "search-index.js") or (rel.startswith("diagrams/") and path.suffix in (".dot", ".svg")):
        return True
    if path.suffix not in (".html", ".md"):
        return False
    text = path.read_text(encoding="utf-8", errors="replace")
    return '<meta name="generator" content="isfdsl">' in text or "\nGenerated by isfdsl " in text



class _Docs:
    def __init__(self, program: ir.Program, index: reverse.ReverseIndex, site: Site, drawn: bool = True) -> None:
        self.p = program
        #: Whether the diagrams are drawn as SVG (else only their .dot sources are written).
        self.drawn = drawn
        self.index = index
        self.site = site
        self.search: dict[str, object] = {"items": [], "ranges": [], "systems": {}}
        self.dots: dict[str, str] = {}
        self.code_pages: dict[str, dict[str, str]] = {}
        self.uses = reverse.uses(program)
        self.catalogue_of = catalogue_of = {t.name: t.catalogue for t in program.decisions}
        #: (catalogue, group) -> the codes that can lead to it.
        self.codes_of: dict[tuple[str, str], list[reverse.CodeUse]] = {}
        for u in index:
            for key in dict.fromkeys((catalogue_of[lead.table], lead.group) for lead in u.leads if lead.group):
                self.codes_of.setdefault(key, []).append(u)
        #: The pathway tables' own program (its "episode" is the pathway record), if any.
        self.view = program.pathway_program()
        #: (catalogue, group) -> rows that lead to it (program, table, row).
        self.leads_to: dict[tuple[str, str], list[tuple[ir.Program, ir.Table, ir.Row]]] = {}
        for prog in (program, self.view):
            for t in prog.decisions if prog else ():
                for r in (*t.rows, *t.post):
                    if r.group:
                        self.leads_to.setdefault((t.catalogue, r.group), []).append((prog, t, r))  # type: ignore[arg-type]

    def all_tables(self) -> tuple[ir.Table, ...]:
        return (*self.p.decisions, *(self.view.decisions if self.view else ()))

    def item(self, kind: str, key: str, label: str, target: str, code: str | None = None) -> None:
        items = self.search["items"]
        assert isinstance(items, list)
        items.append([kind, key, label, target] + ([code] if code is not None else []))

    def pages(self) -> list[Page]:
        self.plan_codes()
        pages = [self.home(), self.guide(), self.features(), self.payment()]
        pages += [self.table(t) for t in self.p.decisions]
        if self.view is not None:
            pages += [self.pathway_page()] + [self.table(t, self.view) for t in self.view.decisions]
        for cat, groups in self.p.catalogues.items():
            pages += [self.group(cat, g) for g in groups.values()]
        pages += [self.codelist(cs) for cs in self.p.codesets.values()]
        pages += [self.codetable(t) for t in self.p.tables.values()]
        pages += self.codes()
        return pages

    # -- index

    def home(self) -> Page:
        p = self.p
        page = Page("index", p.label)
        page.p(f"{p.system} {p.year}, {self.site.validity}.")
        page.h(2, "Group systems")
        rows = []
        for t in self.all_tables():
            how = {"first": "first matching row", "unique": "exactly one row (proven)"}.get(t.policy, t.policy)
            after = [link(t.otherwise, f"tables/{t.otherwise}", "code"), " (when no row matches)"] if t.otherwise else \
                [code(t.fallback or "")] if t.fallback else ["—"]
            rows.append([link(t.name, f"tables/{t.name}", "code"), t.title or "", f"{t.catalogue} (over {t.over}s)",
                         p.catalogue_titles.get(t.catalogue, ""), str(len(t.rows)), how, _phrase(after)])
            self.item("table", t.name, t.title or t.name, f"tables/{t.name}")
        page.grid(["Decision table", "Title", "Catalogue", "Group system", "Rows", "Picks", "Otherwise"], rows)
        for cat, groups in p.catalogues.items():
            page.h(2, f"{cat}: {p.catalogue_titles.get(cat, cat)}", anchor(cat))
            parents = sorted({g.parent or "" for g in groups.values()})
            for parent in parents:
                if len(parents) > 1:
                    page.h(3, f"MDC {parent}" if parent else "Without an MDC")
                page.grid(["Group", "Name", "Points", "Flags"],
                          [[link(g.code, describe.group_path(cat, g.code), "code"), g.name, describe.number(g.points), ", ".join(g.flags)]
                           for g in groups.values() if (g.parent or "") == parent])
        page.h(2, "Code lists and code tables")
        page.grid(["Name", "Title", "Code system", "Entries"],
                  [[link(cs.name, f"lists/{cs.name}", "code"), cs.title or "", cs.system, str(len(cs.entries))]
                   for cs in p.codesets.values()]
                  + [[link(t.name, f"properties/{t.name}", "code"), t.title or "", t.key_system or "text", str(len(t.rows))]
                     for t in p.tables.values()])
        return page

    # -- reading guide

    def guide(self) -> Page:
        p = self.p
        page = Page("guide", f"How to read the tables of {p.label}")
        page.p("This guide is generated from the definitions themselves: every example below is one of "
               "their own rows.")
        page.h(2, "1. What is grouped")
        page.p(f"An episode is described by {len(p.attributes)} fields (the ",
               link("features", "features"), " page lists them with their types and defaults). A missing or "
               "invalid value counts as absent; the error rows of the tables decide what absent values lead to.")
        page.p(f"From the fields the definitions derive {len(p.derivations)} features (for example a diagnosis "
               "category or whether a drug of a list was given). Rows test fields and features alike.")
        page.h(2, "2. Decision tables")
        for t in p.decisions:
            words: list[Tok | str] = [link(t.name, f"tables/{t.name}", "code"), f" assigns a group of the {t.catalogue} catalogue. "]
            if t.policy == "first":
                words.append("Its rows are tried from top to bottom; the first row whose conditions all hold decides "
                             "the group, so the order of the rows matters. ")
            else:
                words.append("At most one of its rows can hold for any episode (the analysis proves it), so the order "
                             "of its rows does not matter. ")
            if t.otherwise:
                words += ["When no row holds, the episode is grouped by ", link(t.otherwise, f"tables/{t.otherwise}", "code"),
                          " instead. "]
            elif t.fallback:
                words += ["When no row holds, the episode goes to ", describe.group(p, t.catalogue, t.fallback)[0],
                          f" (return code {t.fallback_rc or '0'}). "]
            if t.post:
                words.append(f"After a row has decided, {len(t.post)} post-rule(s) may change the group or the return code. ")
            if p.entry.name == t.name:
                words.append("An episode is grouped by this table first.")
            page.p(*words)
        page.h(2, "3. Reading a row")
        example = next((r for t in p.decisions for r in t.rows if len(r.constraints) >= 2), None)
        if example is not None:
            table = next(t for t in p.decisions if example in t.rows)
            page.p("Each row has a stable id, its conditions and the group it leads to. In the source, row ",
                   code(example.id), f" of {table.name} reads:")
            page.blocks.append(Pre(" and ".join(c.text for c in example.constraints) + f" -> {example.group or ''}", "isf"))
            page.p("In plain words: ", describe.row(p, example), " → ", describe.group(p, table.catalogue, example.group))
        page.p("A condition on a list (all procedures, all drugs) holds when any of its elements satisfies it: "
               "“include a code in” a list. A condition on an absent value never holds, except “is missing”.")
        page.h(2, "4. Code lists")
        systems = sorted({cs.system for cs in p.codesets.values()})
        page.p("A code list names codes of one code system in three ways: a code (", code("H35.3"), "), every code "
               "that starts with a prefix (", code("H25*"), ") and a range of categories (", code("C81-C88"),
               ", every code from the first category through the last). ")
        attrs = {a.type.elem.ref if a.type.kind == "list" and a.type.elem else a.type.ref: a for a in p.attributes}
        page.bullets([[code(s), f" {p.system_titles.get(s, '')}"] + (
            [f": the characters {attrs[s].ignore!r} are ignored"] if s in attrs and attrs[s].ignore else [])
            + ([": letters are upper-cased"] if s in attrs and attrs[s].upper else []) for s in systems])
        page.h(2, "5. Points and payment")
        page.p("A group carries points. For groups with a trim point and per-day points, each day of stay beyond the "
               "trim point adds the per-day points. The refund is points × unit price × ISF share; the ",
               link("payment", "payment"), " page gives the year's numbers and where each comes from.")
        page.h(2, "6. Finding a code")
        page.p("The ", link("code index", "codes"), " lists, for every code the definitions mention, the rows and groups it "
               "can lead to, and the codes that never affect grouping. The search box finds groups, lists and codes, "
               "including codes inside a range or under a prefix.")
        return page

    # -- features

    def features(self) -> Page:
        p = self.p
        page = Page("features", "Fields and derived features")
        page.h(2, "Fields of an episode")
        page.grid(["Field", "Label", "Type", "Default"],
                  [[code(a.name), a.label or "", str(a.type), "" if a.default is None else str(a.default)]
                   for a in p.attributes], [anchor(a.name) for a in p.attributes])
        for a in p.attributes:
            if a.labels:
                page.h(3, f"Values of {a.name}")
                inverse: dict[str, list[str]] = {}
                for raw, member in a.members.items():
                    if raw != member:
                        inverse.setdefault(member, []).append(raw)
                page.grid(["Value", "Input", "Label"], [[code(m), ", ".join(inverse.get(m, [])), label]
                                                        for m, label in a.labels.items()])
            self.item("field", a.name, a.label or a.name, f"features#{anchor(a.name)}")
        page.h(2, "Derived features")
        page.grid(["Feature", "Meaning", "Type", "Definition"],
                  [[code(d.name), d.title or "", str(d.type), code(d.text)] for d in p.derivations],
                  [anchor(d.name) for d in p.derivations])
        for d in p.derivations:
            self.item("feature", d.name, d.title or d.name, f"features#{anchor(d.name)}")
        return page

    # -- payment

    def payment(self) -> Page:
        p = self.p
        page = Page("payment", "Payment parameters")
        pay = p.payment
        if pay is None:
            page.p("These definitions declare no payment parameters.")
            return page
        page.p("Refund of an episode = points × unit price × ISF share. Numbers with a source were confirmed from it; "
               "numbers marked ", Tok("illustrative", None, "code"), " could not be confirmed and are placeholders "
               "(override them with ", code("isf group --unit-price/--share"), ").")

        labels = {"unit_price": "Unit price (all)", "price": f"Unit price by {pay.price_attr}",
                  "share": f"ISF share by {pay.share_attr}"}
        page.grid(["Parameter", "For", "Value", "Source"],
                  [[labels[kind], member, f"{describe.number(v * 100)} %" if kind == "share" else f"{describe.number(v)} kr",
                    origin or "not stated"] for kind, member, v, origin in pay.parameters()])
        long_stay = [(cat, g) for cat, gs in p.catalogues.items() for g in gs.values() if g.trim is not None]
        page.h(2, "Long stays: trim points and per-day points")
        if pay.stay_attr:
            page.p("For a stay (", link(describe.feature_label(p, pay.stay_attr), f"features#{anchor(pay.stay_attr)}", "em"),
                   ") longer than a group's trim point, each day beyond it adds the group's per-day points.")
        page.grid(["Group", "Name", "Points", "Trim point (days)", "Per-day points"],
                  [[link(g.code, describe.group_path(cat, g.code), "code"), g.name, describe.number(g.points), str(g.trim), describe.number(g.perday)]
                   for cat, g in long_stay])
        return page

    # -- decision tables

    def pathway_page(self) -> Page:
        assert self.view is not None and self.p.pathway is not None
        pw = self.p.pathway
        page = Page("pathway", f"Pathways: {pw.title or 'pathway'}")
        page.p("A pathway is the episodes of one patient in one care pathway. Each member episode is grouped as "
               "always; the pathway record below (given with the pathway or gathered from its members) is then "
               "grouped by the pathway tables. Where the pathway's group is financed (points above zero, not "
               "flagged unfinanced), its points replace the members' points; otherwise the members keep theirs.")
        gathered = {"group": "the groups of the member episodes", "count": "the number of member episodes"}
        page.grid(["Attribute", "Label", "Type", "Where from"],
                  [[code(a.name), a.label or "", str(a.type), gathered.get(pw.gather.get(a.name, ""), "")
                    or ([Tok("every member's "), describe.feature(self.p, pw.gather[a.name])] if a.name in pw.gather
                        else "given with the pathway")] for a in self.view.attributes],
                  [anchor(a.name) for a in self.view.attributes])
        page.p("Tables over pathways: ", *[x for t in self.view.decisions
                                           for x in (link(t.name, f"tables/{t.name}", "code"), " ")])
        self.item("page", "pathway", "Pathways (TFG)", "pathway")
        return page

    def table(self, t: ir.Table, program: ir.Program | None = None) -> Page:
        p = program or self.p
        page = Page(f"tables/{t.name}", f"Decision table {t.name}: {t.title or t.catalogue}")
        page.p(f"Catalogue {t.catalogue}, over {t.over}s; policy ", code(t.policy), f"; {len(t.rows)} rows.")
        for path, title in self.diagrams(t):
            page.blocks.append(Figure(path, title, self.drawn))
        page.h(2, "Rows")
        page.grid(["#", "Row", "Conditions", "Group", "Return code", "Source"],
                  [[str(n), code(r.id), describe.row(p, r), describe.group(p, t.catalogue, r.group), r.rc or "0", r.where]
                   for n, r in enumerate(t.rows, 1)], [anchor(r.id) for r in t.rows])
        if t.otherwise:
            page.p("No row holds: grouped by ", link(t.otherwise, f"tables/{t.otherwise}", "code"), ".")
        elif t.fallback:
            page.p("No row holds: ", describe.group(p, t.catalogue, t.fallback), f", return code {t.fallback_rc or '0'}.")
        if t.post:
            page.h(2, "Post-rules")
            page.grid(["Row", "Conditions", "Group", "Return code"],
                      [[code(r.id), describe.row(p, r), describe.group(p, t.catalogue, r.group), r.rc or ""] for r in t.post])
        return page

    def diagrams(self, t: ir.Table) -> list[tuple[str, str]]:
        if len(t.rows) <= ROWS_PER_DIAGRAM:
            parts = {"": list(t.rows)}
        else:
            groups = self.p.catalogues.get(t.catalogue, {})
            parts = {}
            for r in t.rows:
                rec = groups.get(r.group or "")
                parts.setdefault(rec.parent or "other" if rec else "other", []).append(r)
        out = []
        last = t.rows[-1] if t.rows else None
        for part, rows in sorted(parts.items()):
            # At most ROWS_PER_DIAGRAM rows a diagram, so that Graphviz lays each out in moments.
            chunks = [rows[k:k + ROWS_PER_DIAGRAM] for k in range(0, len(rows), ROWS_PER_DIAGRAM)] or [[]]
            for n, chunk in enumerate(chunks, 1):
                suffix = "-".join(x for x in (part, str(n) if len(chunks) > 1 else "") if x)
                path = f"diagrams/{t.name}" + (f"-{suffix}" if suffix else "")
                self.dots[path] = _dot(t, chunk, last is not None and last in chunk)
                title = f"Decision diagram of {t.name}" + (f", MDC {part}" if part else "")
                out.append((path, title + (f", part {n} of {len(chunks)}" if len(chunks) > 1 else "")))
        return out

    # -- groups

    def group(self, cat: str, g: GroupRecord) -> Page:
        p = self.p
        path = describe.group_path(cat, g.code)
        self.item("group", g.code, g.name, path)
        page = Page(path, f"{cat} {g.code}: {g.name}")
        facts = [["Group system", cat], ["Points", describe.number(g.points)]]
        if g.trim is not None:
            facts.append(["Trim point (days)", str(g.trim)])
        if g.perday is not None:
            facts.append(["Per-day points beyond the trim point", describe.number(g.perday)])
        if g.parent:
            facts.append(["MDC (parent)", g.parent])
        if g.flags:
            facts.append(["Flags", ", ".join(g.flags)])
        page.grid(["Property", "Value"], facts)
        if "illustrative" in g.flags:
            page.p("The points of this group are illustrative: they could not be confirmed from a public source.")
        page.h(2, "Rows that lead here")
        rows = self.leads_to.get((cat, g.code), [])
        if rows:
            page.grid(["Table", "Row", "Conditions", "Source"],
                      [[link(t.name, f"tables/{t.name}", "code"), link(r.id, f"tables/{t.name}#{anchor(r.id)}", "code"),
                        describe.row(prog, r), r.where] for prog, t, r in rows])
        fallbacks = [t for t in (*p.decisions, *(self.view.decisions if self.view else ()))
                     if t.fallback == g.code and t.catalogue == cat]
        for t in fallbacks:
            page.p("Also the fallback of ", link(t.name, f"tables/{t.name}", "code"), ": episodes no row of it takes.")
        if not rows and not fallbacks:
            page.p("No row leads to this group.")
        codes = self.codes_of.get((cat, g.code), [])
        page.h(2, "Codes that can lead here")
        if codes:
            shown = codes[:200]
            page.p(f"{len(codes)} codes" + (f" (the first {len(shown)} shown)" if len(codes) > len(shown) else "") + ":")
            page.grid(["Code", "System", "As", "Description"],
                      [[code(u.shown, self.code_href(u)), u.system,
                        ", ".join(sorted({lead.attribute for lead in u.leads if lead.group == g.code})), "; ".join(u.titles)]
                       for u in shown])
        else:
            page.p("No code leads here on its own.")
        return page

    def _leads(self, u: reverse.CodeUse) -> Phrase:
        """Per field the code can sit in: each group it can lead to (linked) with the rows (as text)."""
        by_attr: dict[str, dict[tuple[str, str], list[str]]] = {}
        for lead in u.leads:
            key = (self._catalogue(lead.table), lead.group or "")
            by_attr.setdefault(lead.attribute, {}).setdefault(key, []).append(lead.row)
        out: Phrase = []
        for attr, groups in by_attr.items():
            if out:
                out.append(Tok("; "))
            out.append(Tok(f"as {attr}: "))
            for k, ((cat, g), rows) in enumerate(groups.items()):
                out += [Tok(", " if k else ""), Tok(g or "(keeps)", describe.group_path(cat, g) if g else None, "code"),
                        Tok(f" ({' '.join(rows)})")]
        return out

    def _catalogue(self, table: str) -> str:
        return self.catalogue_of[table]

    # -- code lists and tables

    def codelist(self, cs: ir.CodeSet) -> Page:
        page = Page(f"lists/{cs.name}", f"Code list {cs.name}: {cs.title or ''}".rstrip(": "))
        self.item("list", cs.name, cs.title or cs.name, f"lists/{cs.name}")
        page.p(f"Code system {cs.system}; {len(cs.entries)} entries.")
        used = [(t, r) for t in self.all_tables() for r in t.rows if any(c.ref == cs.name for c in r.constraints)]
        derived = [d for d in self.p.derivations if cs.name in self.uses.get(d.name, ())] if not used else []
        page.grid(["Entry", "Kind", "Description", "Source"],
                  [[code(e.shown, self.code_href_for(cs.system, e)), e.kind,
                    e.description or "", e.where] for e in cs.entries])
        page.h(2, "Used by")
        if used:
            page.bullets([[link(f"{t.name} {r.id}", f"tables/{t.name}#{anchor(r.id)}", "code"), " → ",
                           describe.group(self.p, t.catalogue, r.group)] for t, r in used])
        elif derived:
            page.bullets([[link(d.name, f"features#{anchor(d.name)}", "code"), f" {d.title or ''}"] for d in derived])
        else:
            page.p("No row tests this list directly.")
        return page

    def codetable(self, t: ir.CodeTable) -> Page:
        page = Page(f"properties/{t.name}", f"Code table {t.name}: {t.title or ''}".rstrip(": "))
        self.item("table", t.name, t.title or t.name, f"properties/{t.name}")
        page.p(f"Key: {t.key_system or 'text'}; values: {t.value_type}; {len(t.rows)} keys.")
        rows = []
        for key, values in t.rows.items():
            for second, v in values:
                k = code(key, self.code_href_for(t.key_system, None, key) if t.key_system else None)
                rows.append([k, second or "", str(v)])
        page.grid(["Code", "Together with", "Value"], rows)
        return page

    # -- the reverse index

    def code_href(self, u: reverse.CodeUse) -> str:
        return f"{self.code_pages[u.system][u.code]}#{anchor(u.code)}"

    def code_href_for(self, system: str | None, e: ir.Entry | None, key: str | None = None) -> str | None:
        if system is None or system not in self.code_pages:
            return None
        k = key if key is not None else (e.lo if e and e.kind == "code" else e.shown if e else "")
        page = self.code_pages[system].get(k)
        return f"{page}#{anchor(k)}" if page else None

    def plan_codes(self) -> None:
        for system, codes in self.index.systems.items():
            split = len(codes) > CODES_PER_PAGE
            self.code_pages[system] = {c: f"codes/{system}-{c[0]}" if split else f"codes/{system}" for c in codes}

    def codes(self) -> list[Page]:
        p = self.p
        top = Page("codes", "Code index")
        top.p("For every code the definitions mention: the rows and groups it can lead to when it is the only code of "
              "its field. A row may need other fields too; rows that earlier rows shadow are still listed "
              "(", code("isf verify"), " reports them). A prefix or range entry is tried with its first code.")
        out = [top]
        systems = self.p.system_titles
        for system, codes in self.index.systems.items():
            unused = [u for u in codes.values() if not u.leads]
            top.h(2, f"{system}: {systems.get(system, '')}".rstrip(": "))
            pages = sorted(set(self.code_pages[system].values()))
            top.p(f"{len(codes)} codes, {len(unused)} of which never affect grouping. Pages: ",
                  *[x for path in pages for x in (link(path.split("/")[-1], path, "code"), " ")])
            if unused:
                top.h(3, f"{system} codes that never affect grouping", anchor(f"unused-{system}"))
                top.p(*[x for u in unused[:500] for x in (code(u.shown, self.code_href(u)), " ")],
                      f"… and {len(unused) - 500} more" if len(unused) > 500 else "")
            for path in pages:
                mine = [u for u in codes.values() if self.code_pages[system][u.code] == path]
                split = path != f"codes/{system}"
                page = Page(path, f"{system} codes" + (f" starting with {mine[0].code[0]}" if split else ""))
                rows, ids = [], []
                for u in mine:
                    leads = self._leads(u)
                    where = [link(n, f"lists/{n}", "code") for n in u.lists] + \
                            [link(n, f"properties/{n}", "code") for n in u.tables]
                    rows.append([code(u.shown), "; ".join(u.titles), _phrase([x for w in where for x in (w, " ")]),
                                 leads or [Tok("never affects grouping")]])
                    ids.append(anchor(u.code))
                    self.item("code", u.shown, system, f"{path}#{anchor(u.code)}", u.code)
                page.grid(["Code", "Description", "Listed in", "Can lead to"], rows, ids)
                out.append(page)
        for system, codes in self.index.systems.items():
            attr = next((a for a in p.attributes if (a.type.elem or a.type).ref == system), None)
            entry = self.search["systems"]
            assert isinstance(entry, dict)
            entry[system] = {"ignore": attr.ignore if attr else "", "upper": attr.upper if attr else True}
            for cs in p.codesets.values():
                if cs.system != system:
                    continue
                for e in cs.entries:
                    if e.kind != "code":
                        target = self.code_href_for(system, e)
                        ranges = self.search["ranges"]
                        assert isinstance(ranges, list)
                        ranges.append([system, e.lo, e.hi if e.kind == "range" else e.lo, e.kind, e.shown, target])
        return out


def _dot_text(s: str, limit: int = 60) -> str:
    s = s if len(s) <= limit else s[: limit - 1] + "…"
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _dot(t: ir.Table, rows: list[ir.Row], ends: bool) -> str:
    """A diagram of some rows of a table: the rows in order (a chain of "no" under `first`), each with a
    "yes" edge to its group; ``ends``: the chunk holds the last row, so it shows what no row takes."""
    lines = [f'digraph "{_dot_text(t.name)}" {{', "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];',
             '  start [shape=circle, label="start"];']
    groups: list[str] = []
    prev = "start"
    for n, r in enumerate(rows):
        node = f"r{n}"
        label = f"{r.id}\\n" + _dot_text(" and ".join(c.text for c in r.constraints) or "always")
        lines.append(f'  {node} [shape=box, label="{label}"];')
        lines.append(f'  {prev} -> {node}' + (' [label="no"];' if prev != "start" and t.policy == "first" else ";"))
        if t.policy == "first":
            prev = node
        g = r.group or "(keep)"
        if g not in groups:
            groups.append(g)
            lines.append(f'  g{groups.index(g)} [shape=ellipse, style=filled, fillcolor="#e8f0fe", label="{_dot_text(g)}"];')
        lines.append(f'  {node} -> g{groups.index(g)} [label="yes"];')
    end = t.otherwise and f"table {t.otherwise}" or (t.fallback and f"fallback {t.fallback}") or "no group"
    if ends:
        lines.append(f'  end [shape=ellipse, style=dashed, label="{_dot_text(end)}"];')
        lines.append(f'  {prev} -> end [label="none"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
