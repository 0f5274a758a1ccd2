"""Format: print an AST back as canonical .isf source, keeping comments (the basis of round trips)."""

from __future__ import annotations

from isfdsl.syntax import ast
from isfdsl.syntax.parse import quote

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
               "in": 4, "not in": 4, "present": 4, "absent": 4, "+": 5}


def format_module(module: ast.Module, text: str | None = None) -> str:
    """Canonical source of ``module``. Every comment is kept: a comment on a line of its own stays before
    the element it preceded (inside blocks too), at that element's indentation; a comment after code
    stays at the end of that element's line. With the source ``text``, blank lines between elements are
    kept (one at most); without it, declarations follow each other with no blank line."""
    lines = text.splitlines() if text is not None else []
    blank = [n for n, line in enumerate(lines, 1) if not line.strip()]
    own: list[ast.Comment] = []
    trailing: dict[int, ast.Comment] = {}
    for c in sorted(module.comments, key=lambda c: (c.span.line, c.span.col)):
        before = lines[c.span.line - 1][:c.span.col - 1] if c.span.line <= len(lines) else ""
        if before.strip() and c.span.line not in trailing:
            trailing[c.span.line] = c
        else:
            own.append(c)
    entries = [entry for item in module.items for entry in _layout(item)]
    lines_of_entries = {line for _, _, line in entries if line is not None}
    for line in [n for n in trailing if n not in lines_of_entries]:  # after code that gets no line of its own
        own.append(trailing.pop(line))
    own.sort(key=lambda c: (c.span.line, c.span.col))
    out: list[str] = []
    last = 0  # the last source line accounted for

    def gap(upto: int) -> None:
        """One blank line where the source had at least one between ``last`` and ``upto``."""
        if out and out[-1] and not out[-1].endswith("{") and any(last < b < upto for b in blank):
            out.append("")

    i = 0
    for indent, line_text, src in entries:
        closer = line_text.lstrip().startswith("}")
        if src is not None:
            while i < len(own) and own[i].span.line < src:
                gap(own[i].span.line)
                out.append("  " * (indent + closer) + own[i].text)
                last = own[i].span.line
                i += 1
            if not closer:
                gap(src)
            last = max(last, src)
        extra = f"  {trailing.pop(src).text}" if src is not None and src in trailing else ""
        out.append("  " * indent + line_text + extra)
    for c in own[i:]:
        gap(c.span.line)
        out.append(c.text)
        last = c.span.line
    return "\n".join(out) + "\n"


#: One output line: indentation level, text, and the source line it comes from (None: made up).
_Entry = tuple[int, str, "int | None"]


def _layout(d: ast.Decl) -> list[_Entry]:
    """The lines of one declaration, each with the source line of the element it prints, so that
    comments and blank lines can be put back beside the right element."""
    end = d.span.end_line or None
    if isinstance(d, ast.EnumDecl):
        return [(0, f"enum {d.name}{_q(d.title)} {{", d.span.line),
                *[(1, f"{m.name} = {quote(m.value)}{_q(m.label)}", m.span.line) for m in d.members], (0, "}", end)]
    if isinstance(d, ast.Episode):
        return [(0, "episode {", d.span.line), *[(1, _attr(a), a.span.line) for a in d.attrs], (0, "}", end)]
    if isinstance(d, ast.Pathway):
        return [(0, f"pathway{_q(d.title)} {{", d.span.line), *[(1, _pathway_attr(a), a.span.line) for a in d.attrs],
                (0, "}", end)]
    if isinstance(d, ast.CodeList):
        return [(0, f"codelist {d.name} of {d.system}{_q(d.title)} {{", d.span.line),
                *[(1, f"{e.text}{_q(e.description)}", e.span.line) for e in d.entries], (0, "}", end)]
    if isinstance(d, ast.Table) and d.source is None:
        head = format_decl(d).split("\n", 1)[0]
        return [(0, head, d.span.line), *[(1, _table_row(r), r.span.line) for r in d.rows], (0, "}", end)]
    if isinstance(d, ast.Derive) and isinstance(d.expr, ast.Classify):
        c = d.expr
        return [(0, f"derive {d.name}: {format_type(d.type)}{_q(d.title)} =", d.span.line),
                (1, f"classify {format_expr(c.subject, 9)} by {{", c.span.line),
                *[(2, f"{arm.codelist} -> {format_expr(arm.value)}", arm.span.line) for arm in c.arms],
                (1, f"}} else {format_expr(c.other, 1)}", c.other.span.line)]
    if isinstance(d, ast.Derive) and isinstance(d.expr, ast.If) and isinstance(d.expr.other, ast.If):
        out: list[_Entry] = [(0, f"derive {d.name}: {format_type(d.type)}{_q(d.title)} =", d.span.line)]
        e: ast.Expr = d.expr
        word = "if"
        while isinstance(e, ast.If):
            out.append((1, f"{word} {format_expr(e.cond)} then {format_expr(e.then, 1)}", e.cond.span.line))
            word, e = "else if", e.other
        out.append((1, f"else {format_expr(e, 1)}", e.span.line))
        return out
    if isinstance(d, ast.Catalogue):
        return [(0, f"catalogue {d.name}{_q(d.title)} {{", d.span.line),
                *[(1, _group(g), g.span.line) for g in d.groups], (0, "}", end)]
    if isinstance(d, ast.Decision):
        head = format_decl(d).split("\n", 1)[0]
        out = [(0, head, d.span.line), *[(1, _rule(r), r.span.line) for r in d.rules]]
        if d.post:
            out.append((1, "post {", None))
            out.extend((2, _rule(r, True), r.span.line) for r in d.post)
            out.append((1, "}", None))
        return [*out, (0, "}", end)]
    if isinstance(d, ast.Payment):
        return [(0, f"payment{_q(d.title)} {{", d.span.line), *_payment_lines(d), (0, "}", end)]
    return [(0, format_decl(d), d.span.line)]


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
        items = ", ".join(format_expr(a) for a in e.items)
        return "{" + items + "}" if e.braces else "[" + items + "]"
    if isinstance(e, ast.Comprehension):
        where = f" where {format_expr(e.cond)}" if e.cond is not None else ""
        return f"[{format_expr(e.expr)} for {e.var} in {format_expr(e.source)}{where}]"
    if isinstance(e, ast.If):
        text = f"if {format_expr(e.cond)} then {format_expr(e.then)} else {format_expr(e.other)}"
        return f"({text})" if parent else text
    if isinstance(e, ast.Classify):
        arms = ", ".join(f"{arm.codelist} -> {format_expr(arm.value)}" for arm in e.arms)
        text = f"classify {format_expr(e.subject, 9)} by {{{arms}}} else {format_expr(e.other)}"
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
    right = e.right
    if e.op in ("in", "not in") and isinstance(right, ast.ListExpr):
        right = ast.ListExpr(right.span, right.items, braces=True)  # the set syntax (`[a, b]` is deprecated there)
    text = f"{format_expr(e.left, left_prec)} {e.op} {format_expr(right, prec + 1)}"
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


def format_condition(c: ast.Condition, parent: int = 0) -> str:
    """Source of a rule's condition: ``and`` binds tighter than ``or``; parentheses only where needed."""
    if isinstance(c, ast.Cond):
        return format_cond(c)
    if isinstance(c, ast.AllOf):
        return " and ".join(format_condition(x, 2) for x in c.items)
    text = " or ".join(format_condition(x, 1) for x in c.items)
    return f"({text})" if parent > 1 else text


def _rule(r: ast.Rule, post: bool = False) -> str:
    when = " when " + format_condition(r.when) if r.when is not None else ""
    out = f" {r.group}" if r.group is not None else ""
    rc = f" rc {r.rc}" if r.rc is not None else ""
    return f"rule {r.id}{_q(r.title)}{when} ->{out}{rc}"


def _attr(a: ast.Attr) -> str:
    default = f" default {format_literal(a.default)}" if a.default is not None else ""
    return f"{a.name}: {format_type(a.type)}{_q(a.label)}{default}"


def _pathway_attr(pa: ast.PathwayAttr) -> str:
    default = f" default {format_literal(pa.default)}" if pa.default is not None else ""
    members = f" = members {pa.members}" if pa.members else ""
    return f"{pa.name}: {format_type(pa.type)}{_q(pa.label)}{default}{members}"


def _table_row(r: ast.TableRow) -> str:
    k = _code_token(r.key) + (f" & {_code_token(r.second)}" if r.second else "")
    return f"{k} : " + ", ".join(_code_token(v) for v in r.values)


def _group(g: ast.Group) -> str:
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
    return f"{g.code} {quote(g.name)}{opts}"


def _payment_lines(d: ast.Payment) -> list[_Entry]:
    out: list[_Entry] = []
    if d.unit_price is not None:
        out.append((1, f"unit_price {d.unit_price}{_prov(d.unit_price_provenance)}", None))
    if d.price_attr is not None:
        out.append((1, f"unit_price by {d.price_attr} {{", None))
        out.extend((2, f"{s.member} {s.value}{_prov(s.provenance)}", s.span.line) for s in d.prices)
        out.append((1, "}", None))
    if d.share_attr is not None:
        out.append((1, f"share by {d.share_attr} {{", None))
        out.extend((2, f"{s.member} {s.value}{_prov(s.provenance)}", s.span.line) for s in d.shares)
        out.append((1, "}", None))
    if d.stay_attr is not None:
        out.append((1, f"stay {d.stay_attr}", None))
    return out


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
        language = f" language {d.language}" if d.language else ""
        return f"version {d.system} {d.year} {quote(d.label)}{valid}{language}"
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
        return "episode {" + "".join(f"\n  {_attr(a)}" for a in d.attrs) + "\n}"
    if isinstance(d, ast.Pathway):
        return f"pathway{_q(d.title)} {{" + "".join(f"\n  {_pathway_attr(a)}" for a in d.attrs) + "\n}"
    if isinstance(d, ast.CodeList):
        entries = "".join(f"\n  {e.text}{_q(e.description)}" for e in d.entries)
        return f"codelist {d.name} of {d.system}{_q(d.title)} {{{entries}\n}}"
    if isinstance(d, ast.Table):
        key = d.key_system or "text"
        head = f"table {d.name} of {key} -> {format_type(d.value_type)}{_q(d.title)}"
        if d.source is not None:
            return f"{head} from {quote(d.source)}"
        return head + " {" + "".join(f"\n  {_table_row(r)}" for r in d.rows) + "\n}"
    if isinstance(d, ast.Derive):
        return f"derive {d.name}: {format_type(d.type)}{_q(d.title)} = {format_expr(d.expr)}"
    if isinstance(d, ast.Catalogue):
        return f"catalogue {d.name}{_q(d.title)} {{" + "".join(f"\n  {_group(g)}" for g in d.groups) + "\n}"
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
    return f"payment{_q(d.title)} {{" + "".join("\n" + "  " * n + t for n, t, _ in _payment_lines(d)) + "\n}"
