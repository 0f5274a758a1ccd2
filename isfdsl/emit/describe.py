"""Describe: the IR in plain words for people — the rows of a decision table as sentences over the
features' labels, linked to the code lists and features they use. Shared by the documentation, the
change documentation and the Excel export, so that all three say the same thing.

Every word comes from the message catalogue (:mod:`isfdsl.emit.messages`) in the language of the
:class:`~isfdsl.emit.messages.Messages` passed in. A phrase is a list of :class:`Tok`: text with, where it names something, the site path it links to
(``features#age``, ``lists/cataract``, ``groups/802U``); the renderers add the file extension.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from isfdsl.emit.messages import Messages
from isfdsl.emit.messages import plain_number as number
from isfdsl.ir import model as ir
from isfdsl.runtime.contract import Constraint

__all__ = ["Phrase", "Tok", "anchor", "codelist", "condition", "feature", "feature_label", "group", "group_path",
           "number", "plain", "row", "value"]


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


def feature_label(program: ir.Program, name: str, m: Messages) -> str:
    for a in program.attributes:
        if a.name == name:
            return a.label or name
    for d in program.derivations:
        if d.name == name:
            return d.title or name
    return {"group": m("row.the_group"), "return_code": m("row.the_rc")}.get(name, name)


def feature(program: ir.Program, name: str, m: Messages) -> Tok:
    """A feature's label, linked to where it is declared (a table's own results, tested by its
    post-rules, are not declared anywhere and stay unlinked)."""
    page = "pathway" if program.role == "pathway" else "features"
    declared = any(a.name == name for a in program.attributes) or any(d.name == name for d in program.derivations)
    return Tok(feature_label(program, name, m), f"{page}#{anchor(name)}" if declared else None, "em")


def codelist(program: ir.Program, name: str) -> Tok:
    cs = program.codesets.get(name)
    return Tok(cs.title or name if cs else name, f"lists/{name}", "em")


def _members(program: ir.Program, name: str) -> dict[str, str]:
    for a in program.attributes:
        if a.name == name:
            return a.labels
    return {}


def value(program: ir.Program, feature_name: str, v: object, m: Messages) -> Tok:
    labels = _members(program, feature_name)
    if isinstance(v, bool):
        return Tok(m("row.yes") if v else m("row.no"), None, "code")
    if isinstance(v, str) and v in labels and labels[v] != v:
        return Tok(f"{labels[v]} ({v})", None, "code")
    return Tok(m.number(v) if isinstance(v, Decimal) else str(v), None, "code")


def _join(program: ir.Program, feature_name: str, values: tuple[object, ...], m: Messages) -> Phrase:
    out: Phrase = []
    for k, v in enumerate(values):
        if k:
            out.append(Tok(", " if k < len(values) - 1 else f" {m('row.or')} "))
        out.append(value(program, feature_name, v, m))
    return out


def condition(program: ir.Program, c: Constraint, m: Messages) -> Phrase:
    """One condition of a row in plain words."""
    f = feature(program, c.feature, m)
    neg = c.negated
    if c.kind == "codelist":
        return [f, Tok(m("row.not_in" if neg else "row.in")), codelist(program, c.ref or "")]
    if c.kind == "has":
        if c.ref is not None:
            return [f, Tok(m("row.has_no_list" if neg else "row.has_list")), codelist(program, c.ref)]
        return [f, Tok(m("row.has_none" if neg else "row.has"))] + _join(program, c.feature, c.values, m)
    if c.kind == "set":
        if len(c.values) == 1:
            return [f, Tok(m("row.is_not" if neg else "row.is")), value(program, c.feature, c.values[0], m)]
        return [f, Tok(m("row.none_of" if neg else "row.one_of"))] + _join(program, c.feature, c.values, m)
    if c.kind == "present":
        return [f, Tok(m("row.missing" if neg else "row.given"))]
    if c.kind == "bool":
        return [f, Tok(": "), value(program, c.feature, c.values[0], m)]
    lo = None if c.lo is None else m.number(c.lo)
    hi = None if c.hi is None else m.number(c.hi)
    if lo is not None and hi is not None:
        if lo == hi and not c.lo_open and not c.hi_open:
            words = [Tok(m("row.is_not" if neg else "row.is")), Tok(lo, None, "code")]
        else:
            words = [Tok(m("row.is_not" if neg else "row.is")), Tok(m("row.between")), Tok(lo, None, "code"),
                     Tok(m("row.and")), Tok(hi, None, "code")]
        return [f, *words]
    if lo is not None:
        return [f, Tok(m("row.above" if c.lo_open else "row.at_least")), Tok(lo, None, "code")]
    return [f, Tok(m("row.below" if c.hi_open else "row.at_most")), Tok(hi or "", None, "code")]


def row(program: ir.Program, r: ir.Row, m: Messages) -> Phrase:
    """A row's conditions in plain words, joined by "and" (an empty row: "always"); a rule with ``or``
    reads "either … ; or …", one alternative after the other."""
    if not r.constraints:
        return [Tok(m("row.always"))]
    if len(r.alternatives) == 1:
        return conjunction(program, r.alternatives[0], m)
    out: Phrase = [Tok(m("row.either"))]
    for k, alternative in enumerate(r.alternatives):
        if k:
            out.append(Tok(m("row.or_next")))
        out.extend(conjunction(program, alternative, m) if alternative else [Tok(m("row.always_short"))])
    return out


def conjunction(program: ir.Program, constraints: tuple[Constraint, ...], m: Messages) -> Phrase:
    """Conditions in plain words, joined by "and"."""
    out: Phrase = []
    for k, c in enumerate(constraints):
        if k:
            out.append(Tok(m("row.and")))
        out.extend(condition(program, c, m))
    return out


def plain(phrase: Phrase) -> str:
    """A phrase as plain text (for Excel and the console)."""
    return "".join(t.text for t in phrase)


def group(program: ir.Program, catalogue: str, code: str | None, m: Messages) -> Phrase:
    if not code:
        return [Tok(m("row.keeps"))]
    record = program.catalogues.get(catalogue, {}).get(code)
    return [Tok(code, group_path(catalogue, code), "code"), Tok(f" {record.name}" if record else "")]


def group_path(catalogue: str, code: str) -> str:
    return f"groups/{catalogue}-{code}"
