"""Build: the AST node of each rule of ``grammar/isf.lark`` from its span and children — the parser's
callbacks (:mod:`isfdsl.syntax.parse` calls them as it reduces each rule, or over a Lark tree)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

from lark import Token

from isfdsl.diagnostics import Span
from isfdsl.syntax import ast


def unescape(literal: str) -> str:
    """The value of a quoted string token (``\\"``, ``\\\\``, ``\\n``, ``\\t`` escapes)."""
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


class _Language(str):
    """The name after ``language`` in the version header, told apart from the header's other children."""


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


class Builder:
    """Makes the AST node of each grammar rule: a method per rule (or alias), given the rule's span and its
    children without the anonymous tokens, for both ways of parsing in :mod:`isfdsl.syntax.parse` (during the
    parse, and over a Lark tree)."""

    def __init__(self, path: str) -> None:
        self.path = path

    # -- header and files
    def version(self, span: Span, c: list[Any]) -> ast.Version:
        start, end, by = next((x for x in c if isinstance(x, tuple)), (None, None, None))
        language = next((str(x) for x in c if isinstance(x, _Language)), None)
        return ast.Version(span, str(c[0]), int(c[1]), unescape(str(c[2])), start, end, by, language)

    def language(self, span: Span, c: list[Any]) -> Any:
        return _Language(str(c[0]))

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
