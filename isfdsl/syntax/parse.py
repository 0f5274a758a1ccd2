"""Parse: .isf source text to the AST, with Lark's LALR parser and positions; syntax errors become
diagnostics that say in words what was expected.

One piece (about 600 lines) because it is one transformer over one grammar: a method per rule of
``grammar/isf.lark``, beside the error recovery and the limit check that run on the same tree."""

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
                maybe_placeholders=False, transformer=reducer)  # type: ignore[arg-type]
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


def unescape(literal: str) -> str:
    """The value of a quoted string token (``\\"``, ``\\\\``, ``\\n``, ``\\t`` escapes)."""
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def quote(text: str) -> str:
    """The string token whose value is ``text`` (inverse of :func:`unescape`)."""
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
    the parse; only a text with a number near the digit limit, or a declaration nesting too deep, is parsed
    again the reference way (a tree, :func:`_within_limits`, then the builder) to find and report the excess."""
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
    return cast(list[ast.Decl], _TreeBuilder(_Builder(path)).transform(tree))


_DIGIT_RUN = re.compile(rf"[0-9.]{{{limits.DIGITS + 1},}}|\d[\d.]{{{limits.DIGITS},}}")


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


def _tok_span(path: str, tok: Token) -> Span:
    return Span(path, tok.line or 1, tok.column or 1, tok.end_line or 0, tok.end_column or 0)


def _str(tok: Token | None) -> str | None:
    return None if tok is None else unescape(str(tok))


def _strings(children: list[object]) -> list[str]:
    return [unescape(str(c)) for c in children if isinstance(c, Token) and c.type == "STRING"]


def _binary(op: ast.BinaryOp) -> Callable[[Any, Any, list[Any]], ast.Binary]:
    """A transformer method building a binary expression with operator ``op``."""
    def build(self: Any, span: Span, c: list[Any]) -> ast.Binary:
        return ast.Binary(span, op, c[0], c[-1])
    return build


def _cond(op: ast.CondOp) -> Callable[[Any, Any, list[Any]], ast.Cond]:
    """A transformer method building a row condition with operator ``op``."""
    def build(self: Any, span: Span, c: list[Any]) -> ast.Cond:
        rest = c[1] if len(c) > 1 else None
        value = rest if isinstance(rest, ast.Value) else None
        values = rest if isinstance(rest, ast.ValueSet) else None
        return ast.Cond(span, str(c[0]), op, value, values)
    return build


class _Builder:
    """Makes AST nodes of the children of each grammar rule (one method per rule, given the rule's span and
    its children without the anonymous tokens), for both ways of parsing: :class:`_Reducer` during the parse,
    :class:`_TreeBuilder` over a Lark tree."""

    def __init__(self, path: str) -> None:
        self.path = path

    # -- header and files
    def version(self, span: Span, c: list[Any]) -> ast.Version:
        valid = next((x for x in c if isinstance(x, tuple)), (None, None, None))
        return ast.Version(span, str(c[0]), int(c[1]), unescape(str(c[2])), *valid)

    def valid(self, span: Span, c: list[Any]) -> Any:
        dates = [str(x) for x in c if x.type == "DATE"]
        by = next((str(x) for x in c if x.type == "NAME"), None)
        return (dates[0], dates[1] if len(dates) > 1 else None, by)

    def import_(self, span: Span, c: list[Any]) -> ast.Import:
        return ast.Import(span, unescape(str(c[0])))

    def codesystem(self, span: Span, c: list[Any]) -> ast.CodeSystem:
        title = _str(c[1]) if len(c) > 1 and isinstance(c[1], Token) else None
        opts: dict[str, str] = dict(x for x in c if isinstance(x, tuple))
        return ast.CodeSystem(span, str(c[0]), title, opts.get("syntax"), opts.get("ignore", ""),
                              bool(opts.get("case")))

    def cs_syntax(self, span: Span, c: list[Any]) -> Any:
        return ("syntax", unescape(str(c[0])))

    def cs_ignore(self, span: Span, c: list[Any]) -> Any:
        return ("ignore", unescape(str(c[0])))

    def cs_case_sensitive(self, span: Span, c: list[Any]) -> Any:
        return ("case", "sensitive")

    def enum(self, span: Span, c: list[Any]) -> ast.EnumDecl:
        title = _str(c[1]) if len(c) > 1 and isinstance(c[1], Token) else None
        members = tuple(x for x in c if isinstance(x, ast.EnumMember))
        return ast.EnumDecl(span, str(c[0]), title, members)

    def enum_member(self, span: Span, c: list[Any]) -> ast.EnumMember:
        return ast.EnumMember(span, str(c[0]), unescape(str(c[1])), _str(c[2]) if len(c) > 2 else None)

    def episode(self, span: Span, c: list[Any]) -> ast.Episode:
        return ast.Episode(span, tuple(c))

    def pathway(self, span: Span, c: list[Any]) -> ast.Pathway:
        title = next(iter(_strings(c[:1])), None)
        return ast.Pathway(span, title, tuple(x for x in c if isinstance(x, ast.PathwayAttr)))

    def pathway_attr(self, span: Span, c: list[Any]) -> ast.PathwayAttr:
        label = next(iter(_strings(c[2:3])), None)
        default = next((x for x in c if isinstance(x, ast.Literal)), None)
        members = str(c[-1]) if len(c) > 2 and isinstance(c[-1], Token) and c[-1].type == "NAME" else None
        return ast.PathwayAttr(span, str(c[0]), c[1], label, default, members)

    def over(self, span: Span, c: list[Any]) -> Any:
        return ("over", "pathway")

    def attr(self, span: Span, c: list[Any]) -> ast.Attr:
        label = next(iter(_strings(c[2:3])), None)
        default = next((x for x in c if isinstance(x, ast.Literal)), None)
        return ast.Attr(span, str(c[0]), c[1], label, default)

    # -- types
    def t_int(self, span: Span, c: list[Any]) -> ast.IntType:
        lo = int(c[0]) if c else None
        hi = int(c[1]) if len(c) > 1 else None
        return ast.IntType(span, lo, hi)

    def t_decimal(self, span: Span, c: list[Any]) -> ast.ScalarType:
        return ast.ScalarType(span, "decimal")

    def t_text(self, span: Span, c: list[Any]) -> ast.ScalarType:
        return ast.ScalarType(span, "text")

    def t_bool(self, span: Span, c: list[Any]) -> ast.ScalarType:
        return ast.ScalarType(span, "bool")

    def t_date(self, span: Span, c: list[Any]) -> ast.ScalarType:
        return ast.ScalarType(span, "date")

    def t_code(self, span: Span, c: list[Any]) -> ast.CodeType:
        return ast.CodeType(span, str(c[0]))

    def t_pair(self, span: Span, c: list[Any]) -> ast.CodeType:
        return ast.CodeType(span, str(c[0]), pair=True)

    def t_list(self, span: Span, c: list[Any]) -> ast.ListType:
        return ast.ListType(span, c[0])

    def t_named(self, span: Span, c: list[Any]) -> ast.NamedType:
        return ast.NamedType(span, str(c[0]))

    def lit_string(self, span: Span, c: list[Any]) -> ast.Literal:
        return ast.Literal(span, "string", unescape(str(c[0])))

    def lit_number(self, span: Span, c: list[Any]) -> ast.Literal:
        return ast.Literal(span, "number", str(c[0]))

    def lit_true(self, span: Span, c: list[Any]) -> ast.Literal:
        return ast.Literal(span, "bool", "true")

    def lit_false(self, span: Span, c: list[Any]) -> ast.Literal:
        return ast.Literal(span, "bool", "false")

    def lit_name(self, span: Span, c: list[Any]) -> ast.Literal:
        return ast.Literal(span, "name", str(c[0]))

    # -- code lists and tables
    def codelist(self, span: Span, c: list[Any]) -> ast.CodeList:
        title = _str(c[2]) if len(c) > 2 and isinstance(c[2], Token) else None
        entries = tuple(x for x in c if isinstance(x, ast.CodeEntry))
        return ast.CodeList(span, str(c[0]), str(c[1]), title, entries)

    def code_entry(self, span: Span, c: list[Any]) -> ast.CodeEntry:
        text = str(c[0])
        desc = _str(c[1]) if len(c) > 1 else None
        span = _tok_span(self.path, c[0])
        if text.endswith("*"):
            return ast.CodeEntry(span, "prefix", text[:-1], None, desc)
        if "-" in text:
            lo, hi = text.split("-", 1)
            return ast.CodeEntry(span, "range", lo, hi, desc)
        return ast.CodeEntry(span, "code", text, None, desc)

    def table(self, span: Span, c: list[Any]) -> ast.Table:
        name, key, vtype = str(c[0]), c[1], c[2]
        title = _str(c[3]) if isinstance(c[3], Token) else None
        body = c[-1]
        rows, source = (body, None) if isinstance(body, tuple) else ((), body)
        return ast.Table(span, name, key, vtype, title, rows, source)

    def key_code(self, span: Span, c: list[Any]) -> Any:
        return str(c[0])

    def key_text(self, span: Span, c: list[Any]) -> Any:
        return None

    def inline_rows(self, span: Span, c: list[Any]) -> Any:
        return tuple(c)

    def file_rows(self, span: Span, c: list[Any]) -> Any:
        return unescape(str(c[0]))

    def table_row(self, span: Span, c: list[Any]) -> ast.TableRow:
        key, second = c[0]
        return ast.TableRow(span, key, second, tuple(c[1:]))

    def row_key(self, span: Span, c: list[Any]) -> Any:
        return (c[0], c[1] if len(c) > 1 else None)

    def row_value(self, span: Span, c: list[Any]) -> Any:
        tok = c[0]
        return unescape(str(tok)) if tok.type == "STRING" else str(tok)

    # -- derivations and expressions
    def derive(self, span: Span, c: list[Any]) -> ast.Derive:
        title = _str(c[2]) if isinstance(c[2], Token) else None
        return ast.Derive(span, str(c[0]), c[1], title, c[-1])

    def if_(self, span: Span, c: list[Any]) -> ast.If:
        return ast.If(span, *c)

    def classify(self, span: Span, c: list[Any]) -> ast.Classify:
        return ast.Classify(span, c[0], tuple(c[1:-1]), c[-1])

    def classify_arm(self, span: Span, c: list[Any]) -> ast.ClassifyArm:
        return ast.ClassifyArm(span, str(c[0]), c[1])

    or_ = _binary("or")
    and_ = _binary("and")
    in_ = _binary("in")
    not_in = _binary("not in")
    plus = _binary("+")

    def compare(self, span: Span, c: list[Any]) -> ast.Binary:
        return ast.Binary(span, cast(ast.BinaryOp, str(c[1])), c[0], c[2])

    def not_(self, span: Span, c: list[Any]) -> ast.Unary:
        return ast.Unary(span, "not", c[0])

    def is_present(self, span: Span, c: list[Any]) -> ast.Unary:
        return ast.Unary(span, "present", c[0])

    def is_absent(self, span: Span, c: list[Any]) -> ast.Unary:
        return ast.Unary(span, "absent", c[0])

    def field(self, span: Span, c: list[Any]) -> ast.Field:
        return ast.Field(span, c[0], str(c[1]))

    def name(self, span: Span, c: list[Any]) -> ast.Name:
        return ast.Name(span, str(c[0]))

    def string(self, span: Span, c: list[Any]) -> ast.Literal:
        return ast.Literal(span, "string", unescape(str(c[0])))

    def number(self, span: Span, c: list[Any]) -> ast.Literal:
        return ast.Literal(span, "number", str(c[0]))

    def bare_code(self, span: Span, c: list[Any]) -> ast.Literal:
        return ast.Literal(span, "code", str(c[0]))

    def true(self, span: Span, c: list[Any]) -> ast.Literal:
        return ast.Literal(span, "bool", "true")

    def false(self, span: Span, c: list[Any]) -> ast.Literal:
        return ast.Literal(span, "bool", "false")

    def absent(self, span: Span, c: list[Any]) -> ast.Literal:
        return ast.Literal(span, "absent", "absent")

    def call(self, span: Span, c: list[Any]) -> ast.Call:
        return ast.Call(span, str(c[0]), tuple(x for x in c[1:] if x is not None))

    def quant(self, span: Span, c: list[Any]) -> ast.Quant:
        return ast.Quant(span, cast(ast.QuantKind, str(c[0])), str(c[1]), c[2], c[3])

    def list_(self, span: Span, c: list[Any]) -> ast.ListExpr:
        return ast.ListExpr(span, tuple(x for x in c if x is not None))

    def set_(self, span: Span, c: list[Any]) -> ast.ListExpr:
        return ast.ListExpr(span, tuple(x for x in c if x is not None), braces=True)

    def comprehension(self, span: Span, c: list[Any]) -> ast.Comprehension:
        return ast.Comprehension(span, c[0], str(c[1]), c[2], c[3] if len(c) > 3 else None)

    # -- catalogues
    def catalogue(self, span: Span, c: list[Any]) -> ast.Catalogue:
        title = _str(c[1]) if len(c) > 1 and isinstance(c[1], Token) else None
        return ast.Catalogue(span, str(c[0]), title, tuple(x for x in c if isinstance(x, ast.Group)))

    def group(self, span: Span, c: list[Any]) -> ast.Group:
        opts: dict[str, object] = {}
        for key, value in c[2:]:
            opts[key] = value
        return ast.Group(span, str(c[0]), unescape(str(c[1])), **opts)  # type: ignore[arg-type]

    def g_points(self, span: Span, c: list[Any]) -> Any:
        return ("points", str(c[0]))

    def g_trim(self, span: Span, c: list[Any]) -> Any:
        return ("trim", int(c[0]))

    def g_perday(self, span: Span, c: list[Any]) -> Any:
        return ("perday", str(c[0]))

    def g_parent(self, span: Span, c: list[Any]) -> Any:
        return ("parent", str(c[0]))

    def g_flags(self, span: Span, c: list[Any]) -> Any:
        return ("flags", tuple(str(x) for x in c))

    def g_source(self, span: Span, c: list[Any]) -> Any:
        return ("source", unescape(str(c[0])))

    # -- decisions
    def decision(self, span: Span, c: list[Any]) -> ast.Decision:
        name = str(c[0])
        i = 1
        title = None
        if isinstance(c[i], Token) and c[i].type == "STRING":
            title, i = unescape(str(c[i])), i + 1
        rest = [x for x in c[i:] if not (isinstance(x, tuple) and x == ("over", "pathway"))]
        catalogue, policy = str(rest[0]), cast(ast.Policy, str(rest[1]))
        fallback = next((x for x in c if isinstance(x, tuple) and x[0] not in ("otherwise", "over")), (None, None))
        over: ast.Over = "pathway" if ("over", "pathway") in c else "episode"
        otherwise = next((x[1] for x in c if isinstance(x, tuple) and x[0] == "otherwise"), None)
        rules = tuple(x for x in c if isinstance(x, ast.Rule))
        post = next((x for x in c if isinstance(x, list)), [])
        return ast.Decision(span, name, title, catalogue, policy, rules, fallback[0], fallback[1], tuple(post),
                            otherwise, over)

    def otherwise(self, span: Span, c: list[Any]) -> Any:
        return ("otherwise", str(c[0]))

    def fallback(self, span: Span, c: list[Any]) -> Any:
        return (str(c[0]), str(c[1]) if len(c) > 1 else None)

    def rule(self, span: Span, c: list[Any]) -> ast.Rule:
        rid = str(c[0])
        title = _str(c[1]) if len(c) > 1 and isinstance(c[1], Token) and c[1].type == "STRING" else None
        when = next((x for x in c if isinstance(x, (ast.Cond, ast.AllOf, ast.AnyOf))), None)
        groups = [x for x in c if isinstance(x, Token) and x.type == "GROUP"]
        rc = str(groups[1]) if len(groups) > 1 else None
        return ast.Rule(span, rid, title, when, str(groups[0]), rc, _tok_span(self.path, groups[0]))

    def post(self, span: Span, c: list[Any]) -> Any:
        return list(c)

    def post_rule(self, span: Span, c: list[Any]) -> ast.Rule:
        rid = str(c[0])
        title = _str(c[1]) if len(c) > 1 and isinstance(c[1], Token) and c[1].type == "STRING" else None
        when = next((x for x in c if isinstance(x, (ast.Cond, ast.AllOf, ast.AnyOf))), None)
        group, rc, out = c[-1]
        return ast.Rule(span, rid, title, when, group, rc, out)

    def when_all(self, span: Span, c: list[Any]) -> ast.AllOf:
        items = [x for item in c for x in (item.items if isinstance(item, ast.AllOf) else (item,))]
        return ast.AllOf(span, tuple(items))

    def when_any(self, span: Span, c: list[Any]) -> ast.AnyOf:
        items = [x for item in c for x in (item.items if isinstance(item, ast.AnyOf) else (item,))]
        return ast.AnyOf(span, tuple(items))

    def out_group(self, span: Span, c: list[Any]) -> Any:
        return (str(c[0]), str(c[1]) if len(c) > 1 else None, _tok_span(self.path, c[0]))

    def out_rc(self, span: Span, c: list[Any]) -> Any:
        return (None, str(c[0]), _tok_span(self.path, c[0]))

    c_in = _cond("in")
    c_not_in = _cond("not in")
    c_has = _cond("has")
    c_lacks = _cond("lacks")
    c_present = _cond("present")
    c_absent = _cond("absent")
    c_true = _cond("true")
    c_false = _cond("false")

    def c_compare(self, span: Span, c: list[Any]) -> ast.Cond:
        return ast.Cond(span, str(c[0]), cast(ast.CondOp, str(c[1])), c[2])

    def v_string(self, span: Span, c: list[Any]) -> ast.Value:
        return ast.Value(span, "string", unescape(str(c[0])))

    def v_number(self, span: Span, c: list[Any]) -> ast.Value:
        return ast.Value(span, "number", str(c[0]))

    def v_name(self, span: Span, c: list[Any]) -> ast.Value:
        return ast.Value(span, "name", str(c[0]))

    def v_code(self, span: Span, c: list[Any]) -> ast.Value:
        return ast.Value(span, "code", str(c[0]))

    def vs_set(self, span: Span, c: list[Any]) -> ast.ValueSet:
        return ast.ValueSet(span, tuple(c))

    def vs_name(self, span: Span, c: list[Any]) -> ast.ValueSet:
        return ast.ValueSet(span, name=str(c[0]))

    def vs_interval(self, span: Span, c: list[Any]) -> ast.ValueSet:
        return ast.ValueSet(span, lo=str(c[0]), hi=str(c[1]))

    # -- payment
    def payment(self, span: Span, c: list[Any]) -> ast.Payment:
        title = _str(c[0]) if c and isinstance(c[0], Token) else None
        opts: dict[str, object] = {}
        for item in c:
            if isinstance(item, dict):
                opts.update(item)
        return ast.Payment(span, title, **opts)  # type: ignore[arg-type]

    def p_unit_price(self, span: Span, c: list[Any]) -> Any:
        return {"unit_price": str(c[0]), "unit_price_provenance": c[1] if len(c) > 1 else None}

    def p_unit_prices(self, span: Span, c: list[Any]) -> Any:
        return {"price_attr": str(c[0]), "prices": tuple(c[1:])}

    def p_share(self, span: Span, c: list[Any]) -> Any:
        return {"share_attr": str(c[0]), "shares": tuple(c[1:])}

    def p_stay(self, span: Span, c: list[Any]) -> Any:
        return {"stay_attr": str(c[0])}

    def share(self, span: Span, c: list[Any]) -> ast.Share:
        return ast.Share(span, str(c[0]), str(c[1]), c[2] if len(c) > 2 else None)

    def prov_source(self, span: Span, c: list[Any]) -> ast.Provenance:
        return ast.Provenance(span, unescape(str(c[0])))

    def prov_illustrative(self, span: Span, c: list[Any]) -> ast.Provenance:
        return ast.Provenance(span, None)

    def start(self, span: Span, c: list[Any]) -> Any:
        return c



class _TreeBuilder(Transformer[Token, object]):
    """Builds the AST over a Lark tree (the reference way): each node's span from its tree's positions."""

    def __init__(self, builder: _Builder) -> None:
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
    anonymous tokens a tree leaves out, and calls the :class:`_Builder` method of the rule."""

    def __init__(self) -> None:
        #: The terminals a tree leaves out (filled in once the parser is made; see :func:`_anonymous_terminals`).
        self.anonymous: set[str] = set()
        self.builder = _Builder("")
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
        if name.startswith("_") or not name.islower() or not hasattr(_Builder, name):
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
