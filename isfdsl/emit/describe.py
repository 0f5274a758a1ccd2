"""Describe: the IR in plain words for people — the rows of a decision table as sentences over the
features' labels, linked to the code lists and features they use. Shared by the documentation, the
change documentation and the Excel export, so that all three say the same thing.

A phrase is a list of :class:`Tok`: text with, where it names something, the site path it links to
(``features#age``, ``lists/cataract``, ``groups/802U``); the renderers add the file extension.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from isfdsl.ir import model as ir
from isfdsl.runtime.contract import Constraint


@dataclass(frozen=True, slots=True)
class Tok:
    text: str
    href: str | None = None
    #: ``em`` (a named list or feature), ``code`` (a code or value as written), or None.
    style: str | None = None


Phrase = list[Tok]


def anchor(text: str) -> str:
    """An HTML id for any text (codes hold dots and asterisks): letters and digits kept, others escaped."""
    return "c-" + re.sub(r"[^A-Za-z0-9]", lambda m: f"_{ord(m.group()):x}", text)


def feature_label(program: ir.Program, name: str) -> str:
    for a in program.attributes:
        if a.name == name:
            return a.label or name
    for d in program.derivations:
        if d.name == name:
            return d.title or name
    return {"group": "the group", "return_code": "the return code"}.get(name, name)


def feature(program: ir.Program, name: str) -> Tok:
    """A feature's label, linked to where it is declared (a table's own results, tested by its
    post-rules, are not declared anywhere and stay unlinked)."""
    page = "pathway" if program.role == "pathway" else "features"
    declared = any(a.name == name for a in program.attributes) or any(d.name == name for d in program.derivations)
    return Tok(feature_label(program, name), f"{page}#{anchor(name)}" if declared else None, "em")


def codelist(program: ir.Program, name: str) -> Tok:
    cs = program.codesets.get(name)
    return Tok(cs.title or name if cs else name, f"lists/{name}", "em")


def _members(program: ir.Program, name: str) -> dict[str, str]:
    for a in program.attributes:
        if a.name == name:
            return a.labels
    return {}


def value(program: ir.Program, feature_name: str, v: object) -> Tok:
    labels = _members(program, feature_name)
    if isinstance(v, bool):
        return Tok("yes" if v else "no", None, "code")
    if isinstance(v, str) and v in labels and labels[v] != v:
        return Tok(f"{labels[v]} ({v})", None, "code")
    return Tok(number(v) if isinstance(v, Decimal) else str(v), None, "code")


def number(d: Decimal | None) -> str:
    """A decimal as people write it: ``2``, ``0.15`` (no exponent, no trailing zeros); None as empty."""
    if d is None:
        return ""
    return str(int(d)) if d == d.to_integral_value() else str(d.normalize())


def _join(program: ir.Program, feature_name: str, values: tuple[object, ...], last: str) -> Phrase:
    out: Phrase = []
    for k, v in enumerate(values):
        if k:
            out.append(Tok(", " if k < len(values) - 1 else f" {last} "))
        out.append(value(program, feature_name, v))
    return out


def condition(program: ir.Program, c: Constraint) -> Phrase:
    """One condition of a row in plain words."""
    f = feature(program, c.feature)
    neg = c.negated
    if c.kind == "codelist":
        return [f, Tok(" is not in " if neg else " is in "), codelist(program, c.ref or "")]
    if c.kind == "has":
        if c.ref is not None:
            return [f, Tok(" include no code in " if neg else " include a code in "), codelist(program, c.ref)]
        return [f, Tok(" include none of " if neg else " include ")] + _join(program, c.feature, c.values, "or")
    if c.kind == "set":
        if len(c.values) == 1:
            return [f, Tok(" is not " if neg else " is "), value(program, c.feature, c.values[0])]
        return [f, Tok(" is none of " if neg else " is one of ")] + _join(program, c.feature, c.values, "or")
    if c.kind == "present":
        return [f, Tok(" is missing" if neg else " is given")]
    if c.kind == "bool":
        return [f, Tok(": "), value(program, c.feature, c.values[0])]
    lo = None if c.lo is None else number(c.lo)
    hi = None if c.hi is None else number(c.hi)
    if lo is not None and hi is not None:
        if lo == hi and not c.lo_open and not c.hi_open:
            words = [Tok(" is not " if neg else " is "), Tok(lo, None, "code")]
        else:
            words = [Tok(" is not " if neg else " is "), Tok("between "), Tok(lo, None, "code"), Tok(" and "),
                     Tok(hi, None, "code")]
        return [f, *words]
    if lo is not None:
        return [f, Tok(" is above " if c.lo_open else " is at least "), Tok(lo, None, "code")]
    return [f, Tok(" is below " if c.hi_open else " is at most "), Tok(hi or "", None, "code")]


def row(program: ir.Program, r: ir.Row) -> Phrase:
    """A row's conditions in plain words, joined by "and" (an empty row: "always")."""
    if not r.constraints:
        return [Tok("always (no conditions)")]
    out: Phrase = []
    for k, c in enumerate(r.constraints):
        if k:
            out.append(Tok(" and "))
        out.extend(condition(program, c))
    return out


def plain(phrase: Phrase) -> str:
    """A phrase as plain text (for Excel and the console)."""
    return "".join(t.text for t in phrase)


def group(program: ir.Program, catalogue: str, code: str | None) -> Phrase:
    if not code:
        return [Tok("(keeps the group)")]
    record = program.catalogues.get(catalogue, {}).get(code)
    return [Tok(code, group_path(catalogue, code), "code"), Tok(f" {record.name}" if record else "")]


def group_path(catalogue: str, code: str) -> str:
    return f"groups/{catalogue}-{code}"
