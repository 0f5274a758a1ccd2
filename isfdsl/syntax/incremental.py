"""Parse again only what an edit changed (the language server's parser): a file is cut into its declarations
and a decision table into its rows, and the parse of each piece is remembered by its text and first line, so
typing in one row of a 2,000-row table parses that row alone.

The result is :func:`isfdsl.syntax.parse.parse_module`'s, exactly. Pieces are cut at line starts, where no
token can continue, and a decision is its header and last rows with its other rows in between; each row is
parsed inside a stand-in decision, on its own lines. When every piece parses cleanly (no syntax error, no
limit reached), the file's tokens are the pieces' tokens in order, so the whole parse is theirs put together;
otherwise the file is parsed whole, which reports what it must.

Spans are absolute: a declaration is remembered at its first line, a row wherever it stood (its spans moved
to its line when a line was added or removed above it). While a file has a syntax error, every change parses
it whole.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import replace
from typing import TypeVar

from lark.exceptions import UnexpectedInput

from isfdsl.diagnostics import Collector, Span
from isfdsl.syntax import ast
from isfdsl.syntax.parse import chunks, comments, parse_items, parse_module

_ROW = re.compile(r"[ \t]*rule\b")
_POST = re.compile(r"[ \t]*post\b")
#: A decision around one row; its rows are placed on their own lines below it.
_STAND_IN = "decision row for rows policy first {"

Piece = tuple[str, int, str]  # (kind, first line, text)
T = TypeVar("T")


class IncrementalParser:
    """A parser that remembers the pieces of the files it parsed last (per file name)."""

    def __init__(self) -> None:
        self.pieces: dict[str, dict[Piece, list[ast.Decl] | None]] = {}

    def parse_module(self, text: str, path: str, diags: Collector) -> ast.Module:
        """What :func:`parse_module` gives for ``text``, from the remembered pieces where they are unchanged."""
        before = self.pieces.get(path, {})
        now: dict[Piece, list[ast.Decl] | None] = {}
        items = self._items(text, path, before, now)
        self.pieces[path] = now  # only the pieces of this text: memory stays that of one parse
        if items is None:
            return parse_module(text, path, diags)
        return ast.Module(path, tuple(items), tuple(comments(text, path)))

    def _items(self, text: str, path: str, before: dict[Piece, list[ast.Decl] | None],
               now: dict[Piece, list[ast.Decl] | None]) -> list[ast.Decl] | None:
        items: list[ast.Decl] = []
        for start, chunk in chunks(text):
            got = (self._decision(start, chunk, path, before, now) if chunk.startswith("decision")
                   else _piece(("chunk", start, chunk), "\n" * start + chunk, path, before, now))
            if got is None:
                return None
            items.extend(got)
        return items

    def _decision(self, start: int, chunk: str, path: str, before: dict[Piece, list[ast.Decl] | None],
                  now: dict[Piece, list[ast.Decl] | None]) -> list[ast.Decl] | None:
        """A decision: the header and the last row (with any post-rules) as one piece, each other row as one."""
        parts = chunk.split("\n")  # lines as the parser counts them
        lines = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
        rows = []
        for i, line in enumerate(lines[1:], 1):
            if _POST.match(line):
                break
            if _ROW.match(line):
                rows.append(i)
        if len(rows) < 2:
            return _piece(("chunk", start, chunk), "\n" * start + chunk, path, before, now)
        first, last = rows[0], rows[-1]
        skeleton = "".join(lines[:first]) + "\n" * (last - first) + "".join(lines[last:])
        outer = _piece(("decision", start, skeleton), "\n" * start + skeleton, path, before, now)
        if outer is None or len(outer) != 1 or not isinstance(outer[0], ast.Decision):
            return None
        rules: list[ast.Rule] = []
        for a, b in itertools.pairwise(rows):
            row = "".join(lines[a:b])
            key = ("row", 0, row)  # a row is remembered wherever it stood, and moved to its line
            got = _piece(key, _STAND_IN + "\n" * (start + a) + row + "}", path, before, now)
            if got is None or len(got) != 1 or not isinstance(got[0], ast.Decision) or got[0].post:
                return None
            stand_in = got[0]
            delta = start + a + 1 - stand_in.rules[0].span.line
            if delta:
                stand_in = replace(stand_in, rules=_moved(stand_in.rules, delta))
                now[key] = [stand_in]
            rules.extend(stand_in.rules)
        return [replace(outer[0], rules=(*rules, *outer[0].rules))]


def _piece(key: Piece, text: str, path: str, before: dict[Piece, list[ast.Decl] | None],
           now: dict[Piece, list[ast.Decl] | None]) -> list[ast.Decl] | None:
    """The declarations of one piece (placed on its lines by ``text``), or None unless it parses cleanly."""
    if key in before:
        now[key] = before[key]
        return now[key]
    found = Collector()
    try:
        items: list[ast.Decl] | None = parse_items(text, path, found)
    except UnexpectedInput:
        items = None
    now[key] = None if found.items else items
    return now[key]


_FIELDS: dict[type, tuple[str, ...]] = {}


def _moved(node: T, delta: int) -> T:
    """``node`` (a span, an AST node or a tuple of them) with every span ``delta`` lines further down."""
    if isinstance(node, Span):
        return Span(node.file, node.line + delta, node.col, node.end_line + delta if node.end_line else 0,  # type: ignore[return-value]
                    node.end_col)
    if isinstance(node, tuple):
        return tuple(_moved(x, delta) for x in node)  # type: ignore[return-value]
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return node
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    return type(node)(*(_moved(getattr(node, n), delta) for n in names))
