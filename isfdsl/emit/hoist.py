"""Emit: hoisting — the part of a derivation that reads fewer attributes than the whole of it, and
costs something (a table look-up, a code-list test, a loop), becomes a hidden derivation of its own,
so that the Python emitter computes it in the *stage* of those fewer attributes and remembers it per
their value (:func:`isfdsl.emit.python.stages`).

Why: a year of activity almost never repeats an episode's combination of diagnoses and procedures,
but it repeats each list of procedures, each principal diagnosis, each list of secondary diagnoses
far more often. ``union(lookup(t, procedures), lookup(u, pdx), lookup(u, sdx))`` reads all three; its
three look-ups each read one, and are found in that one's memory on most cases seen for the first
time. Equal parts of several derivations become one hidden derivation (they are computed once), and
a part equal to a feature declared before reads that feature.

The pass is general: it knows nothing of particular tables or names. It changes no meaning (a hidden
derivation is the subexpression it replaces, computed before its first use), and hidden derivations
stay out of what ``evaluate`` returns.
"""

from __future__ import annotations

from dataclasses import replace

from isfdsl.ir import model as ir

#: The prefix of a hidden derivation's name (a number follows; names the definitions use are skipped).
PREFIX = "hoisted_"


def hoist(program: ir.Program) -> tuple[ir.Program, frozenset[str]]:
    """``program`` with the hoistable parts of its derivations as hidden derivations, and the names
    of those. Returns the program unchanged (and no names) when nothing is hoisted."""
    support = ir.supports(program)
    taken = {a.name for a in program.attributes} | {d.name for d in program.derivations}
    hidden: dict[ir.Expr, ir.Derivation] = {}
    out: list[ir.Derivation] = []

    def name() -> str:
        k = len(hidden) + 1
        while f"{PREFIX}{k}" in taken:
            k += 1
        taken.add(f"{PREFIX}{k}")
        return f"{PREFIX}{k}"

    def visit(e: ir.Expr, whole: frozenset[str], bound: frozenset[str], new: list[ir.Derivation]) -> ir.Expr:
        if isinstance(e, (ir.Const, ir.Ref)):
            return e
        mine = _support(e, support)
        if mine and mine < whole and _costly(e) and not (_free_locals(e) & bound):
            if e in defined:  # a feature declared earlier is this very expression: read it
                return ir.Ref(e.type, "feature", defined[e])
            d = hidden.get(e)
            if d is None:
                d = hidden[e] = ir.Derivation(name(), e.type, None, e)
                new.append(d)
                support[d.name] = mine
            return ir.Ref(e.type, "feature", d.name)
        if isinstance(e, ir.Loop):
            inner = bound | {e.var}
            return replace(e, source=visit(e.source, whole, bound, new),
                           cond=None if e.cond is None else visit(e.cond, whole, inner, new),
                           body=None if e.body is None else visit(e.body, whole, inner, new))
        # Parts evaluated only on a condition (the branches of `if`, what `and`, `or` and `coalesce`
        # read after their first argument) stay where they are: hoisted, they would always be computed.
        lazy = 1 if e.op in ("if", "and", "or", "coalesce") else len(e.args)
        return replace(e, args=tuple(visit(a, whole, bound, new) if k < lazy else a for k, a in enumerate(e.args)))

    defined: dict[ir.Expr, str] = {}  # the expression of each derivation so far -> its name
    for d in program.derivations:
        new: list[ir.Derivation] = []
        expr = visit(d.expr, support[d.name], frozenset(), new)
        out += new
        out.append(d if expr is d.expr else replace(d, expr=expr))
        defined.setdefault(d.expr, d.name)
    if not hidden:
        return program, frozenset()
    return replace(program, derivations=tuple(out)), frozenset(d.name for d in hidden.values())


def _support(e: ir.Expr, support: dict[str, frozenset[str]]) -> frozenset[str]:
    """The attributes ``e`` reads, directly or through features."""
    found: set[str] = set()
    for r in ir.refs(e):
        if r.scope in ("attr", "feature"):
            found |= support[r.name]
    return frozenset(found)


def _free_locals(e: ir.Expr) -> frozenset[str]:
    """The loop variables ``e`` reads that no loop inside ``e`` binds."""
    if isinstance(e, ir.Ref):
        return frozenset((e.name,)) if e.scope == "local" else frozenset()
    if isinstance(e, ir.Loop):
        inner = frozenset().union(*(_free_locals(x) for x in (e.cond, e.body) if x is not None))
        return _free_locals(e.source) | (inner - {e.var})
    if isinstance(e, ir.Apply):
        return frozenset().union(*(_free_locals(a) for a in e.args))
    return frozenset()


def _costly(e: ir.Expr) -> bool:
    """Whether ``e`` looks up a table, tests a code list or loops: worth remembering."""
    if isinstance(e, ir.Loop):
        return True
    if isinstance(e, ir.Ref):
        return e.scope == "codelist"
    if isinstance(e, ir.Apply):
        return e.op in ("lookup", "combo") or any(_costly(a) for a in e.args)
    return False
