"""Parse: .isf source text to the AST, with Lark's LALR parser; syntax errors become diagnostics that say
in words what was expected, and declarations beyond the limits are reported (ISF107).

The AST is built as the parser reduces each rule (:class:`_Reducer` calls :class:`isfdsl.syntax.build.Builder`,
placing each node as Lark's propagated positions would): no tree is built and walked. The reference way —
a Lark tree with positions, the limit check on it, then the builder over it — is kept for the rare text near
a limit, and tests/test_parse.py holds the two to the same AST and diagnostics."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, cast

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from isfdsl import limits
from isfdsl.diagnostics import Collector, Span, did_you_mean, source_lines
from isfdsl.resources import grammar_text
from isfdsl.syntax import ast
from isfdsl.syntax.build import Builder

TOP_KEYWORDS = (
    "version", "import", "codesystem", "enum", "episode", "codelist", "table", "derive",
    "catalogue", "decision", "payment",
)
_TOP_LINE = re.compile(rf"^(?:{'|'.join(TOP_KEYWORDS)})\b", re.MULTILINE)

#: Named terminals in words, for "expected ..." messages.
TERMINAL_WORDS = {
    "NAME": "a name",
    "GROUP": "a group code",
    "RULEID": "a rule id",
    "CODE": "a code",
    "DATE": "a date (YYYY-MM-DD)",
    "NUMBER": "a number",
    "INT": "a whole number",
    "STRING": 'a quoted string',
    "CMP": "a comparison (==, !=, <, <=, >, >=)",
    "QUANT": "`any`, `all`, `none` or `find`",
    "BARE_CODE": "a code",
    "POLICY": "a hit policy (`first` or `unique`)",
    "$END": "end of file",
}


@cache
def parser() -> Lark:
    """The LALR parser that builds a Lark tree with positions: the reference way of parsing (contextual lexer,
    positions propagated), taken for the rare file whose numbers or nesting come near the limits."""
    return Lark(grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=False)


@cache
def _reducing_parser() -> tuple[Lark, _Reducer]:
    """The same grammar and parse tables, with AST nodes built as each rule is reduced (Lark's embedded
    transformer, given every token so that it can place each node): no tree is built and walked."""
    reducer = _Reducer()
    lark = Lark(grammar_text(), parser="lalr", lexer="contextual", keep_all_tokens=True,
                maybe_placeholders=False, transformer=reducer)
    reducer.anonymous.update(_anonymous_terminals(lark, grammar_text()))
    return lark, reducer


def _anonymous_terminals(lark: Lark, grammar: str) -> set[str]:
    """The terminals a Lark tree leaves out: those written as a quoted string inside a rule (keywords and
    punctuation), which have no definition of their own in the grammar."""
    defined = set(re.findall(r"^([A-Z_][A-Z0-9_]*)(?:\.\d+)?\s*:", grammar, re.MULTILINE))
    defined |= set(re.findall(r"^%import \w+\.(\w+)", grammar, re.MULTILINE))
    return {t.name for t in lark.terminals if t.name not in defined}


def _words(name: str) -> str:
    if name in TERMINAL_WORDS:
        return TERMINAL_WORDS[name]
    try:
        pattern = _reducing_parser()[0].get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"`{pattern.value}`"


def _expected(names: set[str]) -> str:
    words = sorted({_words(n) for n in names}, key=lambda w: (not w.startswith("`"), w))
    if len(words) > 12:
        words = words[:12] + ["…"]
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1] if words else "nothing"


def quote(text: str) -> str:
    """The string token whose value is ``text`` (inverse of :func:`isfdsl.syntax.build.unescape`)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def parse_module(text: str, path: str, diags: Collector) -> ast.Module:
    """Parse one file. Syntax errors go to ``diags``; after one, parsing resumes at the next line that
    starts a declaration, so independent errors are all reported and the rest of the file is kept."""
    try:
        items = parse_items(text, path, diags)
    except UnexpectedInput:
        items = []
        for start, chunk in chunks(text):
            padded = "\n" * start + chunk
            try:
                items.extend(parse_items(padded, path, diags))
            except UnexpectedInput as exc:
                _report_syntax(exc, path, padded, diags)
    return ast.Module(path, tuple(items), tuple(comments(text, path)))


def parse_items(text: str, path: str, diags: Collector) -> list[ast.Decl]:
    """The declarations of ``text`` within the limits (those beyond them reported as ISF107, see
    :func:`_within_limits`), or :class:`UnexpectedInput` at the first syntax error. The AST is built during
    the parse; a text that may hold a number beyond the digit limit, or with a declaration nesting too deep,
    is parsed the reference way instead (a tree, :func:`_within_limits`, then the builder), which reports it."""
    if not _long_number(text):
        lark, reducer = _reducing_parser()
        with reducer.parsing(path):
            nodes: list[_Node] = lark.parse(text)  # type: ignore[assignment]
        if all(node.height <= limits.NESTING for node in nodes):
            return [node.value for node in nodes]
    return _parse_tree(text, path, diags)


def _parse_tree(text: str, path: str, diags: Collector) -> list[ast.Decl]:
    """The reference way: parse to a Lark tree, drop what exceeds the limits, then build the AST."""
    tree = _within_limits(parser().parse(text), path, diags)
    return cast(list[ast.Decl], _TreeBuilder(Builder(path)).transform(tree))


_DIGIT_RUN = re.compile(rf"[\d.]{{{limits.DIGITS + 1},}}")


def _long_number(text: str) -> bool:
    """Whether ``text`` may hold a number token of more than :data:`limits.DIGITS` digits (a number's
    digits all lie in one run of digits and dots, so a text without such a run holds none)."""
    return any(sum(ch.isdigit() for ch in m.group()) > limits.DIGITS for m in _DIGIT_RUN.finditer(text))


def _within_limits(tree: Tree[Token], path: str, diags: Collector) -> Tree[Token]:
    """``tree`` without the declarations that nest deeper than :data:`limits.NESTING` levels or hold a
    number of more than :data:`limits.DIGITS` digits, each reported as ISF107 at its position. The walk
    is iterative, so no depth of input can exhaust the stack; the declarations kept are within the
    limits every later stage (and the generated Python) is built for."""
    kept = []
    for item in tree.children:
        excess = _excess(item) if isinstance(item, Tree) else None
        if excess is None:
            kept.append(item)
            continue
        where, message = excess
        diags.report("ISF107", Span(path, where.line or 1, where.column or 1), message)
    return Tree(tree.data, kept, tree.meta)


def _excess(item: Tree[Token]) -> tuple[Token, str] | None:
    """Where and how ``item`` exceeds a limit (its first excess in source order), or None."""
    stack: list[tuple[Tree[Token] | Token, int]] = [(item, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Token):
            digits = sum(ch.isdigit() for ch in node) if node.type in ("NUMBER", "INT") else 0
            if digits > limits.DIGITS:
                return node, f"a number of {digits} digits; at most {limits.DIGITS} are allowed"
            continue
        if depth > limits.NESTING:
            where = Token("NEST", "", line=getattr(node.meta, "line", 1), column=getattr(node.meta, "column", 1))
            return where, (f"nesting deeper than {limits.NESTING} levels; split the expression "
                           "(a derived attribute can name a part of it)")
        stack.extend((child, depth + 1) for child in reversed(node.children))
    return None


def chunks(text: str) -> list[tuple[int, str]]:
    """``text`` cut before each line that starts with a declaration's keyword: (lines before, piece)."""
    starts = [m.start() for m in _TOP_LINE.finditer(text)] or [0]
    if starts[0] != 0:
        starts.insert(0, 0)
    bounds = starts + [len(text)]
    return [(text.count("\n", 0, a), text[a:b]) for a, b in itertools.pairwise(bounds)]


_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|(#[^\n]*)')


def comments(text: str, path: str) -> list[ast.Comment]:
    """Every comment of ``text``, for the formatter."""
    out = []
    for lineno, line in enumerate(source_lines(text), 1):
        for m in _COMMENT.finditer(line):
            if m.group(1):
                out.append(ast.Comment(Span(path, lineno, m.start(1) + 1), m.group(1)))
    return out


def _report_syntax(exc: UnexpectedInput, path: str, text: str, diags: Collector) -> None:
    line, col = exc.line, exc.column
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END" or isinstance(exc, UnexpectedEOF):
        line, col = _end_of_content(text)
        expected: set[str] = set(getattr(exc, "expected", None) or ())
        diags.report("ISF103", Span(path, line, col), f"unexpected end of file; expected {_expected(set(expected))}")
        return
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        allowed = set(exc.allowed or ())
        diags.report("ISF102", Span(path, line, col, line, col + 1),
                     f"unexpected character {char!r}; expected {_expected(allowed)}")
        return
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    expected = set(exc.expected)
    keywords = [_words(n).strip("`") for n in expected if _words(n).startswith("`")]
    note = did_you_mean(str(tok), [k for k in keywords if k.isalpha()]) if str(tok).isalpha() else ""
    width = len(str(tok)) or 1
    diags.report("ISF101", Span(path, line, col, line, col + width),
                 f"unexpected {str(tok)!r}; expected {_expected(expected)}", note)


def _end_of_content(text: str) -> tuple[int, int]:
    """Line and column just after the last source text that is not blank or a comment."""
    lines = source_lines(text)
    for i in range(len(lines) - 1, -1, -1):
        content = _COMMENT.sub(lambda m: "" if m.group(1) else m.group(0), lines[i]).rstrip()
        if content:
            return i + 1, len(content) + 1
    return 1, 1


def _span(path: str, meta: object) -> Span:
    m = meta
    return Span(path, getattr(m, "line", 1), getattr(m, "column", 1),
                getattr(m, "end_line", 0), getattr(m, "end_column", 0))


class _TreeBuilder(Transformer[Token, object]):
    """Builds the AST over a Lark tree (the reference way): each node's span from its tree's positions."""

    def __init__(self, builder: Builder) -> None:
        super().__init__()
        self.builder = builder

    def __default__(self, data: str, children: list[Any], meta: Any) -> Any:
        return getattr(self.builder, data)(_span(self.builder.path, meta), children)


class _Node:
    """A value built during the parse, with the extent Lark's positions give its tree node — its
    *container*: a parenthesised expression reaches over its parentheses — and the height of that node's
    tree (a declaration deeper than :data:`limits.NESTING` is parsed again the reference way)."""

    __slots__ = ("col", "end_col", "end_line", "height", "line", "value")

    def __init__(self, value: Any, line: int, col: int, end_line: int, end_col: int, height: int) -> None:
        self.value = value
        self.line, self.col, self.end_line, self.end_col = line, col, end_line, end_col
        self.height = height


class _Reducer:
    """Lark's embedded transformer for :func:`_reducing_parser`: an attribute per rule (looked up once, when
    the parser is made), called with the rule's children — every token, keywords included, since the grammar
    is loaded keeping all tokens — as the parser reduces it. Each callback places the node as Lark's
    ``propagate_positions`` would (from its first child's start to its last child's end), drops the
    anonymous tokens a tree leaves out, and calls the :class:`Builder` method of the rule."""

    def __init__(self) -> None:
        #: The terminals a tree leaves out (filled in once the parser is made; see :func:`_anonymous_terminals`).
        self.anonymous: set[str] = set()
        self.builder = Builder("")
        self.lock = threading.Lock()

    @contextmanager
    def parsing(self, path: str) -> Iterator[None]:
        """Parse one file, named ``path`` in the spans (one parse at a time: the callbacks are shared)."""
        with self.lock:
            self.builder.path = path
            yield

    def __getattr__(self, name: str) -> Callable[[list[Any]], Any]:
        if name == "start":
            return list
        if name in ("primary", "when_atom"):  # `"(" expr ")"`: the inner node, placed over the parentheses
            return _parenthesised
        if name.startswith("_") or not name.islower() or not hasattr(Builder, name):
            raise AttributeError(name)
        return self._callback(getattr(self.builder, name))

    def _callback(self, method: Callable[[Span, list[Any]], Any]) -> Callable[[list[Any]], _Node]:
        anonymous, builder = self.anonymous, self.builder

        def reduce(children: list[Any]) -> _Node:
            first, last = children[0], children[-1]
            line, col = (first.line, first.col) if type(first) is _Node else (first.line, first.column)
            end_line, end_col = ((last.end_line, last.end_col) if type(last) is _Node
                                 else (last.end_line, last.end_column))
            kept = []
            height = 0
            for child in children:
                if type(child) is _Node:
                    kept.append(child.value)
                    height = max(height, child.height)
                elif child.type not in anonymous:
                    kept.append(child)
            value = method(Span(builder.path, line, col, end_line, end_col), kept)
            return _Node(value, line, col, end_line, end_col, height + 1)
        return reduce


def _parenthesised(children: list[Any]) -> _Node:
    opening, inner, closing = children
    return _Node(inner.value, opening.line, opening.column, closing.end_line, closing.end_column, inner.height)
