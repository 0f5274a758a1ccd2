"""The language server's view of one program: every declared name with where it is declared and what a
reader should see on hover, every place a name is used, and the code lists a code belongs to.

Pure functions over the parsed and checked program (no editor protocol here; :mod:`isfdsl.lsp.server`
turns this into LSP answers). Positions are 1-based lines and columns, as in :class:`~isfdsl.diagnostics.Span`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from isfdsl.check.checker import Model
from isfdsl.diagnostics import Span
from isfdsl.syntax import ast
from isfdsl.syntax.format import format_condition, format_expr, format_type

#: Words of the language (offered in completion, never renamed).
KEYWORDS = ("version", "valid", "language", "import", "codesystem", "syntax", "ignore", "case", "sensitive", "enum", "episode",
            "pathway", "members", "codelist", "of", "table", "from", "derive", "catalogue", "points", "trim",
            "perday", "parent", "flags", "source", "decision", "for", "over", "policy", "first", "unique",
            "fallback", "otherwise", "rc", "rule", "when", "post", "payment", "unit_price", "share", "by", "stay",
            "illustrative", "and", "or", "not", "in", "has", "lacks", "is", "present", "absent", "if", "then",
            "else", "classify", "any", "all", "none", "where", "true", "false", "default", "int", "text", "bool", "decimal",
            "date", "code", "pair", "list")

_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_WORD = re.compile(r"[A-Za-z0-9_]+")
_CODE_AT = re.compile(r"[A-Za-z0-9_.*\-]+")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a name is written: file (as the program names it), line, first and past-last column."""

    file: str
    line: int
    col: int
    end_col: int


@dataclass(frozen=True, slots=True)
class Symbol:
    """A declared name: what kind of thing it is, where its name is written, a one-line ``detail`` and
    the Markdown a reader sees on hover."""

    name: str
    kind: str
    place: Place
    detail: str
    doc: str
    #: The whole declaration (for outlines): first and last line.
    lines: tuple[int, int] = (0, 0)
    parent: str | None = None


@dataclass(slots=True)
class Index:
    """Everything the server answers from: symbols by name, uses by name, code-list entries by list."""

    symbols: dict[str, list[Symbol]] = field(default_factory=dict)
    uses: dict[str, list[Place]] = field(default_factory=dict)
    entries: dict[str, list[tuple[ast.CodeEntry, str]]] = field(default_factory=dict)  # code system -> (entry, list)
    sources: dict[str, str] = field(default_factory=dict)

    def at(self, file: str, line: int, col: int) -> str | None:
        """The word (a name, a group or a code) under 1-based ``line``/``col`` of ``file``."""
        lines = self.sources.get(file, "").splitlines()
        if not 1 <= line <= len(lines):
            return None
        text = lines[line - 1]
        for m in _CODE_AT.finditer(text):
            if m.start() <= col - 1 <= m.end():
                word = m.group().strip(".-")
                return word or None
        return None

    def lists_of(self, code: str) -> list[tuple[ast.CodeEntry, str]]:
        """The code-list entries (with their list's name) that contain ``code``."""
        key = _norm(code)
        found = []
        for entries in self.entries.values():
            for e, owner in entries:
                if _contains(e, key):
                    found.append((e, owner))
        return found

    def codes(self, prefix: str, limit: int = 200) -> list[tuple[str, str]]:
        """Single codes written in code lists that start with ``prefix`` (dots ignored), with descriptions."""
        key = _norm(prefix)
        out: dict[str, str] = {}
        for entries in self.entries.values():
            for e, owner in entries:
                if e.kind == "code" and _norm(e.lo).startswith(key) and e.lo not in out:
                    out[e.lo] = e.description or f"in `{owner}`"
                    if len(out) >= limit:
                        return sorted(out.items())
        return sorted(out.items())


def build_index(model: Model, sources: dict[str, str]) -> Index:
    """The index of a checked program (its declarations) over the texts of its files."""
    index = Index(sources=dict(sources))
    rows_to: dict[str, list[tuple[str, ast.Rule]]] = {}
    for d in model.decisions.values():
        for r in (*d.rules, *d.post):
            if r.group is not None:
                rows_to.setdefault(r.group, []).append((d.name, r))
    lines = {name: text.splitlines() for name, text in model.program.sources.items() if name.endswith(".isf")}
    for module in model.program.modules:
        for decl in module.items:
            for sym in _symbols(decl, lines, rows_to):
                index.symbols.setdefault(sym.name, []).append(sym)
            if isinstance(decl, ast.CodeList):
                for e in decl.entries:
                    index.entries.setdefault(decl.system, []).append((e, decl.name))
    for file, text in sources.items():
        if not file.endswith(".isf"):
            continue
        for place, word in words(file, text):
            if word in index.symbols:
                index.uses.setdefault(word, []).append(place)
    return index


def words(file: str, text: str) -> Iterator[tuple[Place, str]]:
    """Every word of ``text`` outside strings and comments, with its place."""
    for n, line in enumerate(text.splitlines(), 1):
        code = _STRING.sub(lambda m: " " * len(m.group()), line)
        cut = code.find("#")
        if cut >= 0:
            code = code[:cut]
        for m in _WORD.finditer(code):
            if m.start() and code[m.start() - 1] == ".":  # a field (pdx.first) or the tail of a code (H35.3)
                continue
            yield Place(file, n, m.start() + 1, m.end() + 1), m.group()


def _place(span: Span, name: str, lines: dict[str, list[str]]) -> Place:
    """Where ``name`` is written in the declaration that starts at ``span`` (its first occurrence as a
    word outside strings); ``lines`` holds each file's lines (split once per index)."""
    text = lines.get(span.file, [])
    last = min(len(text), max(span.end_line, span.line) + 1)
    for n in range(span.line, last + 1):
        if n - 1 >= len(text):
            break
        line = text[n - 1]
        if '"' in line:
            line = _STRING.sub(lambda m: " " * len(m.group()), line)
        at = line.find(name, span.col - 1 if n == span.line else 0)
        while at >= 0:
            before = line[at - 1] if at else " "
            after = line[at + len(name)] if at + len(name) < len(line) else " "
            if not (before.isalnum() or before in "_.") and not (after.isalnum() or after == "_"):
                return Place(span.file, n, at + 1, at + len(name) + 1)
            at = line.find(name, at + 1)
    return Place(span.file, span.line, span.col, span.col + len(name))


def _q(text: str | None) -> str:
    return f" — {text}" if text else ""


def _symbols(decl: ast.Decl, lines: dict[str, list[str]],
             rows_to: dict[str, list[tuple[str, ast.Rule]]]) -> Iterator[Symbol]:
    src = lines
    whole = (decl.span.line, decl.span.end_line or decl.span.line)
    if isinstance(decl, ast.CodeSystem):
        yield Symbol(decl.name, "code system", _place(decl.span, decl.name, src), f"codesystem {decl.name}",
                     f"**code system** `{decl.name}`{_q(decl.title)}" + (f"\n\nsyntax `{decl.syntax}`" if decl.syntax else ""),
                     whole)
    elif isinstance(decl, ast.EnumDecl):
        members = "\n".join(f"- `{m.name}` = `{m.value}`{_q(m.label)}" for m in decl.members)
        yield Symbol(decl.name, "enumeration", _place(decl.span, decl.name, src), f"enum {decl.name}",
                     f"**enumeration** `{decl.name}`{_q(decl.title)}\n\n{members}", whole)
        for m in decl.members:
            yield Symbol(m.name, "member", _place(m.span, m.name, src), f"{decl.name}.{m.name} = {m.value!r}",
                         f"**member** `{m.name}` of `{decl.name}`: input value `{m.value}`{_q(m.label)}",
                         (m.span.line, m.span.line), decl.name)
    elif isinstance(decl, ast.Episode | ast.Pathway):
        what = "attribute" if isinstance(decl, ast.Episode) else "pathway attribute"
        yield Symbol("episode" if isinstance(decl, ast.Episode) else "pathway", "schema", Place(decl.span.file, decl.span.line, decl.span.col, decl.span.col + 7),
                     what + "s", f"**{what}s**: " + ", ".join(f"`{a.name}`" for a in decl.attrs), whole)
        for a in decl.attrs:
            default = f"\n\ndefault `{format_expr(a.default)}`" if a.default is not None else ""
            yield Symbol(a.name, what, _place(a.span, a.name, src), f"{a.name}: {format_type(a.type)}",
                         f"**{what}** `{a.name}: {format_type(a.type)}`{_q(a.label)}{default}",
                         (a.span.line, a.span.line), "episode" if isinstance(decl, ast.Episode) else "pathway")
    elif isinstance(decl, ast.CodeList):
        shown = "\n".join(f"- `{e.text}`{_q(e.description)}" for e in decl.entries[:40])
        more = f"\n- … and {len(decl.entries) - 40} more" if len(decl.entries) > 40 else ""
        yield Symbol(decl.name, "code list", _place(decl.span, decl.name, src), f"codelist {decl.name} of {decl.system}",
                     f"**code list** `{decl.name}` of `{decl.system}`{_q(decl.title)}, {len(decl.entries)} "
                     f"entr{'y' if len(decl.entries) == 1 else 'ies'}\n\n{shown}{more}", whole)
    elif isinstance(decl, ast.Table):
        rows = f"{len(decl.rows):,} rows" + (f" from `{decl.source}`" if decl.source else "")
        yield Symbol(decl.name, "table", _place(decl.span, decl.name, src),
                     f"table {decl.name} of {decl.key_system or 'text'} -> {format_type(decl.value_type)}",
                     f"**code table** `{decl.name}`: `{decl.key_system or 'text'}` → `{format_type(decl.value_type)}`"
                     f"{_q(decl.title)}\n\n{rows}", whole)
    elif isinstance(decl, ast.Derive):
        expr = format_expr(decl.expr)
        expr = expr if len(expr) <= 400 else expr[:400] + " …"
        yield Symbol(decl.name, "derived feature", _place(decl.span, decl.name, src),
                     f"derive {decl.name}: {format_type(decl.type)}",
                     f"**derived feature** `{decl.name}: {format_type(decl.type)}`{_q(decl.title)}\n\n```isf\n{expr}\n```",
                     whole)
    elif isinstance(decl, ast.Catalogue):
        yield Symbol(decl.name, "catalogue", _place(decl.span, decl.name, src), f"catalogue {decl.name}",
                     f"**group catalogue** `{decl.name}`{_q(decl.title)}, {len(decl.groups)} groups", whole)
        for g in decl.groups:
            facts = ", ".join(f"{k} {v}" for k, v in (("points", g.points), ("trim point", g.trim),
                                                      ("per-day points", g.perday), ("MDC", g.parent)) if v is not None)
            leads = rows_to.get(g.code, [])
            shown = "\n".join(f"- rule `{r.id}` of `{t}`" + (f" when `{format_condition(r.when)}`" if r.when else "")
                               for t, r in leads[:15])
            more = f"\n- … and {len(leads) - 15} more rows" if len(leads) > 15 else ""
            yield Symbol(g.code, "group", _place(g.span, g.code, src), f"{decl.name} {g.code} {g.name}",
                         f"**{decl.name} {g.code}** {g.name}\n\n{facts or 'no points'}"
                         + (f"; flags {', '.join(g.flags)}" if g.flags else "")
                         + (f"\n\n{len(leads)} row{'s' if len(leads) != 1 else ''} lead here:\n{shown}{more}" if leads
                            else "\n\nno row leads here"),
                         (g.span.line, g.span.line), decl.name)
    elif isinstance(decl, ast.Decision):
        yield Symbol(decl.name, "decision table", _place(decl.span, decl.name, src),
                     f"decision {decl.name} for {decl.catalogue}",
                     f"**decision table** `{decl.name}` for `{decl.catalogue}`{_q(decl.title)}: policy `{decl.policy}`, "
                     f"{len(decl.rules)} rows" + (f", fallback `{decl.fallback}`" if decl.fallback else ""), whole)
        for r in (*decl.rules, *decl.post):
            conds = format_condition(r.when) if r.when is not None else ""
            yield Symbol(r.id, "rule", _place(r.span, r.id, src), f"rule {r.id} -> {r.group or ''}",
                         f"**rule** `{r.id}` of `{decl.name}`{_q(r.title)}\n\n"
                         + (f"when `{conds}` " if conds else "") + f"→ `{r.group or '(keeps the group)'}`"
                         + (f" rc `{r.rc}`" if r.rc else ""), (r.span.line, r.span.line), decl.name)


def _norm(code: str) -> str:
    return code.replace(".", "").upper()


def _contains(e: ast.CodeEntry, code: str) -> bool:
    lo = _norm(e.lo)
    if e.kind == "prefix":
        return code.startswith(lo)
    if e.kind == "range" and e.hi is not None:
        hi = _norm(e.hi)
        return lo <= code[:len(lo)] and code[:len(hi)] <= hi
    return code == lo
