"""Format: print an AST back as canonical .isf source, keeping comments (the basis of round trips)."""

from __future__ import annotations

from isfdsl.syntax import ast
from isfdsl.syntax.parse import quote

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
               "in": 4, "not in": 4, "present": 4, "absent": 4, "+": 5}


def format_module(module: ast.Module) -> str:
    """Canonical source of ``module``; each comment is printed before the declaration it preceded."""
    out: list[str] = []
    comments = sorted(module.comments, key=lambda c: c.span.line)
    i = 0
    for item in module.items:
        while i < len(comments) and comments[i].span.line <= item.span.line:
            out.append(comments[i].text)
            i += 1
        out.append(format_decl(item))
    out.extend(c.text for c in comments[i:])
    return "\n".join(out) + "\n"


def _q(text: str | None) -> str:
    return "" if text is None else " " + quote(text)


def format_type(t: ast.TypeExpr) -> str:
    if isinstance(t, ast.IntType):
        if t.lo is None:
            return "int"
        return f"int {t.lo}..{'' if t.hi is None else t.hi}"
    if isinstance(t, ast.ScalarType):
        return t.name
    if isinstance(t, ast.CodeType):
        return f"{'pair' if t.pair else 'code'} {t.system}"
    if isinstance(t, ast.ListType):
        return f"list {format_type(t.element)}"
    return t.name


def format_literal(lit: ast.Literal) -> str:
    return quote(lit.value) if lit.kind == "string" else lit.value


def format_expr(e: ast.Expr, parent: int = 0) -> str:
    """Source of an expression, parenthesised only where precedence needs it."""
    if isinstance(e, ast.Literal):
        return format_literal(e)
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.Field):
        return f"{format_expr(e.operand, 9)}.{e.name}"
    if isinstance(e, ast.Call):
        return f"{e.func}({', '.join(format_expr(a) for a in e.args)})"
    if isinstance(e, ast.Quant):
        return f"{e.kind}({e.var} in {format_expr(e.source)} where {format_expr(e.cond)})"
    if isinstance(e, ast.ListExpr):
        return "[" + ", ".join(format_expr(a) for a in e.items) + "]"
    if isinstance(e, ast.Comprehension):
        where = f" where {format_expr(e.cond)}" if e.cond is not None else ""
        return f"[{format_expr(e.expr)} for {e.var} in {format_expr(e.source)}{where}]"
    if isinstance(e, ast.If):
        text = f"if {format_expr(e.cond)} then {format_expr(e.then)} else {format_expr(e.other)}"
        return f"({text})" if parent else text
    if isinstance(e, ast.Unary):
        prec = _PRECEDENCE[e.op]
        if e.op == "not":
            text = f"not {format_expr(e.operand, prec)}"
        else:
            text = f"{format_expr(e.operand, prec + 1)} is {e.op}"
        return f"({text})" if prec < parent or (prec == parent and e.op != "not") else text
    prec = _PRECEDENCE[e.op]
    # Left-associative operators; comparisons do not chain, so both sides bind tighter.
    left_prec = prec if e.op in ("and", "or", "+") else prec + 1
    text = f"{format_expr(e.left, left_prec)} {e.op} {format_expr(e.right, prec + 1)}"
    return f"({text})" if prec < parent else text


def _value(v: ast.Value) -> str:
    return quote(v.text) if v.kind == "string" else v.text


def format_cond(c: ast.Cond) -> str:
    if c.op == "true":
        return c.feature
    if c.op == "false":
        return f"not {c.feature}"
    if c.op in ("present", "absent"):
        return f"{c.feature} is {c.op}"
    if c.values is not None:
        vs = c.values
        if vs.name is not None:
            right = vs.name
        elif vs.lo is not None:
            right = f"{vs.lo}..{vs.hi}"
        else:
            right = "{" + ", ".join(_value(v) for v in vs.values) + "}"
        return f"{c.feature} {c.op} {right}"
    assert c.value is not None
    return f"{c.feature} {c.op} {_value(c.value)}"


def _rule(r: ast.Rule, post: bool = False) -> str:
    when = " when " + " and ".join(format_cond(c) for c in r.conds) if r.conds else ""
    out = f" {r.group}" if r.group is not None else ""
    rc = f" rc {r.rc}" if r.rc is not None else ""
    return f"rule {r.id}{_q(r.title)}{when} ->{out}{rc}"


def _prov(p: ast.Provenance | None) -> str:
    if p is None:
        return ""
    return " illustrative" if p.source is None else f" source {quote(p.source)}"


def _code_token(text: str) -> str:
    return text if text and text.replace(".", "").isalnum() else quote(text)


def format_decl(d: ast.Decl) -> str:
    """Source of one declaration."""
    if isinstance(d, ast.Version):
        valid = ""
        if d.valid_from:
            valid = f" valid {d.valid_from} ..{' ' + d.valid_to if d.valid_to else ''}"
            valid += f" by {d.dated_by}" if d.dated_by else ""
        return f"version {d.system} {d.year} {quote(d.label)}{valid}"
    if isinstance(d, ast.Import):
        return f"import {quote(d.path)}"
    if isinstance(d, ast.CodeSystem):
        syntax = f" syntax {quote(d.syntax)}" if d.syntax is not None else ""
        ignore = f" ignore {quote(d.ignore)}" if d.ignore else ""
        case = " case sensitive" if d.case_sensitive else ""
        return f"codesystem {d.name}{_q(d.title)}{syntax}{ignore}{case}"
    if isinstance(d, ast.EnumDecl):
        members = "".join(f"\n  {m.name} = {quote(m.value)}{_q(m.label)}" for m in d.members)
        return f"enum {d.name}{_q(d.title)} {{{members}\n}}"
    if isinstance(d, ast.Episode):
        lines = []
        for a in d.attrs:
            default = f" default {format_literal(a.default)}" if a.default is not None else ""
            lines.append(f"\n  {a.name}: {format_type(a.type)}{_q(a.label)}{default}")
        return "episode {" + "".join(lines) + "\n}"
    if isinstance(d, ast.Pathway):
        lines = []
        for pa in d.attrs:
            default = f" default {format_literal(pa.default)}" if pa.default is not None else ""
            members = f" = members {pa.members}" if pa.members else ""
            lines.append(f"\n  {pa.name}: {format_type(pa.type)}{_q(pa.label)}{default}{members}")
        return f"pathway{_q(d.title)} {{" + "".join(lines) + "\n}"
    if isinstance(d, ast.CodeList):
        entries = "".join(f"\n  {e.text}{_q(e.description)}" for e in d.entries)
        return f"codelist {d.name} of {d.system}{_q(d.title)} {{{entries}\n}}"
    if isinstance(d, ast.Table):
        key = d.key_system or "text"
        head = f"table {d.name} of {key} -> {format_type(d.value_type)}{_q(d.title)}"
        if d.source is not None:
            return f"{head} from {quote(d.source)}"
        rows = []
        for r in d.rows:
            k = _code_token(r.key) + (f" & {_code_token(r.second)}" if r.second else "")
            rows.append(f"\n  {k} : " + ", ".join(_code_token(v) for v in r.values))
        return head + " {" + "".join(rows) + "\n}"
    if isinstance(d, ast.Derive):
        return f"derive {d.name}: {format_type(d.type)}{_q(d.title)} = {format_expr(d.expr)}"
    if isinstance(d, ast.Catalogue):
        lines = []
        for g in d.groups:
            opts = ""
            if g.points is not None:
                opts += f" points {g.points}"
            if g.trim is not None:
                opts += f" trim {g.trim}"
            if g.perday is not None:
                opts += f" perday {g.perday}"
            if g.parent is not None:
                opts += f" parent {g.parent}"
            if g.flags:
                opts += " flags " + ", ".join(g.flags)
            if g.source is not None:
                opts += f" source {quote(g.source)}"
            lines.append(f"\n  {g.code} {quote(g.name)}{opts}")
        return f"catalogue {d.name}{_q(d.title)} {{" + "".join(lines) + "\n}"
    if isinstance(d, ast.Decision):
        fallback = ""
        if d.fallback is not None:
            fallback = f" fallback {d.fallback}" + (f" rc {d.fallback_rc}" if d.fallback_rc else "")
        elif d.otherwise is not None:
            fallback = f" otherwise {d.otherwise}"
        body = "".join(f"\n  {_rule(r)}" for r in d.rules)
        if d.post:
            body += "\n  post {" + "".join(f"\n    {_rule(r, True)}" for r in d.post) + "\n  }"
        over = " over pathway" if d.over == "pathway" else ""
        return f"decision {d.name}{_q(d.title)} for {d.catalogue}{over} policy {d.policy}{fallback} {{{body}\n}}"
    assert isinstance(d, ast.Payment)
    items = []
    if d.unit_price is not None:
        items.append(f"\n  unit_price {d.unit_price}{_prov(d.unit_price_provenance)}")
    if d.price_attr is not None:
        prices = "".join(f"\n    {s.member} {s.value}{_prov(s.provenance)}" for s in d.prices)
        items.append(f"\n  unit_price by {d.price_attr} {{{prices}\n  }}")
    if d.share_attr is not None:
        shares = "".join(f"\n    {s.member} {s.value}{_prov(s.provenance)}" for s in d.shares)
        items.append(f"\n  share by {d.share_attr} {{{shares}\n  }}")
    if d.stay_attr is not None:
        items.append(f"\n  stay {d.stay_attr}")
    return f"payment{_q(d.title)} {{" + "".join(items) + "\n}"
