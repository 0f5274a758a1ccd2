"""Coupling: values of derived features that the code tables give only together, as cubes no episode reaches.

The analysis (:mod:`isfdsl.analysis.analyse`) treats derived features as independent. Many list features
are unions of code-table lookups of the episode's codes — element by element, perhaps mapped or chosen
by conditions on other (non-code) attributes: each code then adds its table values on its own, and the
feature's elements are the union of what the codes add. When every code that adds an element of one class
also adds an element of another (NordDRG 2015: diagnosis property 99X04 comes only from procedure ZXA10,
which also gives procedure property 99S13), no episode holds the first without the second. Each such
implication "v ⇒ w" between two list-class variables of a table's space is the cube {v: holds, w: does
not hold}, which no episode reaches; the analysis counts it as covered, so a row that needs v without w
is reported as unreachable (and a gap or region there is not offered).

Only what is certain is derived: a feature whose expression is not such a union (``minus``, a count, a
loop over two codes, ...) gives no implication, and every code table key is taken as a code an episode
may hold. Exact over the interpreter's semantics of `lookup`/`combo` (:func:`isfdsl.interpret.table_values`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from isfdsl import interpret
from isfdsl.analysis.cubes import Cube, CubeIndex, Possible, Space
from isfdsl.ir import model as ir

#: Contexts (combinations of the non-code attributes that choose or map a feature's elements) tried at most.
MAX_CONTEXTS = 64


@dataclass(frozen=True, slots=True)
class Leaf:
    """One source of a list feature's elements: ``how`` (``lookup``, ``combo`` or ``codes``: lookup of the
    codes of a pair) in code table ``table`` of the code attribute ``attr``; the elements then go through
    ``maps`` (innermost first) and are there only when every guard ``(condition, wanted truth)`` holds."""

    feature: str
    table: str
    attr: str
    how: str
    maps: tuple[ir.Loop, ...] = ()
    guards: tuple[tuple[ir.Expr, bool], ...] = ()


@dataclass(frozen=True, slots=True)
class Implication:
    """Every episode whose feature values put variable ``given`` (a list class) at "holds" puts ``then``
    at "holds" too."""

    given: int
    then: int


def implications(program: ir.Program, space: Space) -> list[Implication]:
    """The implications between the list-class variables of ``space`` that the code tables force."""
    code_attrs = {a.name: a for a in program.attributes if (a.type.elem or a.type).kind in ("code", "pair")}
    derived = {d.name: d.expr for d in program.derivations}
    reader = _Reader(code_attrs, derived)
    leaves: list[Leaf] = []
    for name, idx in space.classes.items():
        if name in derived and idx:
            found = reader.leaves(derived[name])
            if found is not None:
                leaves += [Leaf(name, *x) for x in found]
    if not leaves:
        return []
    context = sorted({a for leaf in leaves for a in reader.context_of(leaf)})
    possible = Possible(program)
    domains = [possible.of(a) for a in context]
    sizes = [len(d) if isinstance(d, frozenset) else MAX_CONTEXTS + 1 for d in domains]
    total = 1
    for n in sizes:
        total *= n
    if total > MAX_CONTEXTS:
        return []
    implied: dict[int, set[int]] = {}
    seen: set[tuple[tuple[tuple[str, int], ...], ...]] = set()
    for combo in itertools.product(*(sorted(d, key=repr) for d in domains if isinstance(d, frozenset))):
        ctx = _Context(program, dict(zip(context, combo, strict=True)), space)
        classes = [ctx.classes_of(leaf, program.tables[leaf.table]) for leaf in leaves]
        key = tuple(tuple(sorted((repr(v), c) for v, c in cl.items())) for cl in classes)
        if key in seen:
            continue  # the same classes as an earlier context: the same implications
        seen.add(key)
        for situation in _situations(program, leaves, classes, code_attrs):
            for v in situation:
                have = implied.get(v)
                if have is None:
                    implied[v] = set(situation)
                else:
                    have &= situation
    return [Implication(v, w) for v, ws in sorted(implied.items()) for w in sorted(ws) if w != v]


def impossible_cubes(program: ir.Program, space: Space) -> list[tuple[Cube, Implication]]:
    """The implications of ``space`` as cubes no episode reaches, each with its implication."""
    return [({i.given: 0b10, i.then: 0b01}, i) for i in implications(program, space)]


def describe(space: Space, i: Implication) -> str:
    """An implication in words, for a diagnostic's note."""
    v, w = space.vars[i.given], space.vars[i.then]
    return (f"the code tables give `{v.feature}` an element like {v.element!r} only together with "
            f"`{w.feature}` {w.element!r}")


class _Reader:
    """Reads a list feature's expression as a union of leaves (None when it is not one)."""

    def __init__(self, code_attrs: dict[str, ir.Attribute], derived: dict[str, ir.Expr]) -> None:
        self.code_attrs = code_attrs
        self.derived = derived
        self._free: dict[str, bool] = {}

    def leaves(self, e: ir.Expr, maps: tuple[ir.Loop, ...] = (),
               guards: tuple[tuple[ir.Expr, bool], ...] = ()) -> list[tuple[str, str, str, tuple[ir.Loop, ...],
                                                                     tuple[tuple[ir.Expr, bool], ...]]] | None:
        if isinstance(e, ir.Ref) and e.scope == "feature" and e.name in self.derived:
            return self.leaves(self.derived[e.name], maps, guards)
        if isinstance(e, ir.Loop):
            if e.kind != "map" or not all(self.code_free(x) for x in (e.cond, e.body) if x is not None):
                return None
            return self.leaves(e.source, (e, *maps), guards)
        if not isinstance(e, ir.Apply):
            return None
        if e.op == "union":
            out = []
            for a in e.args:
                found = self.leaves(a, maps, guards)
                if found is None:
                    return None
                out += found
            return out
        if e.op == "if" and self.code_free(e.args[0]):
            then = self.leaves(e.args[1], maps, (*guards, (e.args[0], True)))
            other = self.leaves(e.args[2], maps, (*guards, (e.args[0], False)))
            return None if then is None or other is None else then + other
        if e.op in ("lookup", "combo") and isinstance(e.args[0], ir.Ref) and e.args[0].scope == "table":
            key = e.args[1]
            how: str = e.op
            if isinstance(key, ir.Apply) and key.op == "codes" and e.op == "lookup":
                key, how = key.args[0], "codes"
            if isinstance(key, ir.Ref) and key.scope == "attr" and key.name in self.code_attrs:
                return [(e.args[0].name, key.name, how, maps, guards)]
        return None

    def code_free(self, e: ir.Expr) -> bool:
        """Whether ``e`` reads no code attribute (directly or through features)."""
        for r in ir.refs(e):
            if r.scope == "attr" and r.name in self.code_attrs:
                return False
            if r.scope == "feature" and r.name in self.derived:
                if r.name not in self._free:
                    self._free[r.name] = True  # a cycle cannot happen; this guards the recursion anyway
                    self._free[r.name] = self.code_free(self.derived[r.name])
                if not self._free[r.name]:
                    return False
        return True

    def context_of(self, leaf: Leaf) -> set[str]:
        """The attributes a leaf's maps and guards read (through features too)."""
        exprs: list[ir.Expr] = [g for g, _ in leaf.guards]
        exprs += [x for m in leaf.maps for x in (m.cond, m.body) if x is not None]
        out: set[str] = set()
        todo = list(exprs)
        done: set[str] = set()
        while todo:
            for r in ir.refs(todo.pop()):
                if r.scope == "attr":
                    out.add(r.name)
                elif r.scope == "feature" and r.name in self.derived and r.name not in done:
                    done.add(r.name)
                    todo.append(self.derived[r.name])
        return out


class _Context:
    """One combination of the context attributes: which leaves are on, and the class each table value
    lands in after the leaf's maps."""

    def __init__(self, program: ir.Program, values: dict[str, object], space: Space) -> None:
        self.ev = interpret.Evaluator(program, values)
        self.space = space

    def classes_of(self, leaf: Leaf, table: ir.CodeTable) -> dict[object, int]:
        """Per value of the table, the class variable its element lands in (values landing in no
        variable, or filtered out, are left out; every value when a guard is off)."""
        if any((self.ev.eval(g, {}) is True) != want for g, want in leaf.guards):
            return {}
        of = self.space._classes_of[leaf.feature]
        out: dict[object, int] = {}
        for value in {v for rows in table.rows.values() for _, v in rows}:
            mapped: object = value
            for m in leaf.maps:
                local = {m.var: mapped}
                if m.cond is not None and self.ev.eval(m.cond, local) is not True:
                    mapped = None
                    break
                assert m.body is not None
                mapped = self.ev.eval(m.body, local)
                if mapped is None:
                    break
            if mapped is None:
                continue
            k = of.get(self.space._signature(leaf.feature, mapped, True), -1)
            if k >= 0:
                out[value] = k
        return out


def _situations(program: ir.Program, leaves: list[Leaf], classes: list[dict[object, int]],
                code_attrs: dict[str, ir.Attribute]) -> Iterator[set[int]]:
    """The class variables each smallest way of adding table values puts at "holds": one code of a code
    attribute (or in either field of a pair), or one pair matching a combination row (its two codes'
    own values too). Every element of every leaf's feature comes from one of these."""
    by_attr: dict[str, list[int]] = {}
    for n, leaf in enumerate(leaves):
        if classes[n]:
            by_attr.setdefault(leaf.attr, []).append(n)
    for attr, ns in sorted(by_attr.items()):
        pair = (code_attrs[attr].type.elem or code_attrs[attr].type).kind == "pair"
        single = code_attrs[attr].type.kind != "list"
        plain: dict[str, set[int]] = {}
        combos: dict[tuple[str, str], set[int]] = {}
        for n in ns:
            leaf, cl = leaves[n], classes[n]
            if leaf.how == "codes" and not pair:
                continue  # `codes` of a code gives nothing
            for key, rows in program.tables[leaf.table].rows.items():
                for second, value in rows:
                    k = cl.get(value)
                    if second is None:
                        if leaf.how != "combo":
                            plain.setdefault(key, set())
                            if k is not None:
                                plain[key].add(k)
                    elif pair and (leaf.how == "combo" and single or leaf.how == "lookup"):
                        combos.setdefault((key, second), set())
                        if k is not None:
                            combos[key, second].add(k)
        for found in plain.values():
            if found:
                yield found
        for (key, second), found in combos.items():
            both = found | plain.get(key, set()) | plain.get(second, set())
            if both:
                yield both


class Never:
    """The cubes no episode reaches of one table's space (see :func:`impossible_cubes`), handed to a
    search only where they matter: the implications whose first variable the search's cubes constrain,
    followed through what they imply. An implication whose first variable nothing constrains is met by
    "does not hold", which changes nothing else."""

    def __init__(self, space: Space, cubes: list[tuple[Cube, Implication]]) -> None:
        self.space = space
        self.cubes = cubes
        self.by_given: dict[int, list[int]] = {}
        for n, (_, i) in enumerate(cubes):
            self.by_given.setdefault(i.given, []).append(n)
        self.given = frozenset(self.by_given)
        self._given_in: dict[int, tuple[Cube, list[int]]] = {}

    def __bool__(self) -> bool:
        return bool(self.cubes)

    def among(self, cube: Cube, others: Iterable[Cube] = ()) -> list[Cube]:
        """The cubes no episode reaches that a search for a point of ``cube`` outside ``others`` must avoid."""
        if not self.cubes:
            return []
        full = self.space.fulls
        todo = [k for k, m in cube.items() if m != full[k] and k in self.by_given]
        given, known = self.given, self._given_in
        if len(known) > 100_000:
            known.clear()
        for o in others:
            # The variables of each cube that an implication starts from, found once per cube (the
            # cube is kept with them, so that its id names no other cube while it is remembered).
            found = known.get(id(o))
            if found is None or found[0] is not o:
                found = known[id(o)] = (o, [k for k in o if k in given])
            todo += found[1]
        return self._followed(todo)

    def among_indexed(self, cube: Cube, index: CubeIndex, numbers: int) -> list[Cube]:
        """:meth:`among` with ``others`` the cubes of ``index`` whose numbers are the bits of ``numbers``
        (in the same order), found through the index's record of the cubes that name each variable."""
        if not self.cubes:
            return []
        full = self.space.fulls
        # Each starting variable once, where it last appears (in the last cube that names it, else in
        # ``cube``): the variables are followed from the last, and a variable seen is not followed again.
        at: dict[int, tuple[int, int]] = {k: (-1, n) for n, (k, m) in enumerate(cube.items())
                                          if m != full[k] and k in self.by_given}
        for k in self.by_given:
            holding = index.constrained[k] & numbers
            if holding:
                last = holding.bit_length() - 1
                at[k] = (last, list(index.cubes[last]).index(k))
        return self._followed(sorted(at, key=at.__getitem__))

    def _followed(self, todo: list[int]) -> list[Cube]:
        """The cubes of the implications from the variables of ``todo`` (the last first), and of those
        they imply, each variable followed once."""
        seen: set[int] = set()
        out: list[Cube] = []
        while todo:
            k = todo.pop()
            if k in seen:
                continue
            seen.add(k)
            for n in self.by_given.get(k, ()):
                c, i = self.cubes[n]
                out.append(c)
                todo.append(i.then)
        return out

    def notes(self, cubes: Iterable[Cube], rows: Iterable[Cube]) -> tuple[str, ...]:
        """In words, the implications a row needs (its cubes ``cubes`` want the first variable to hold)
        that the covering rows' cubes ``rows`` reach through the second one (at most three)."""
        wanted = {k for c in cubes for k, m in c.items() if m == 0b10 and k in self.by_given}
        tested = {k for c in rows for k in c}
        said = sorted({describe(self.space, self.cubes[n][1]) for k in wanted for n in self.by_given[k]
                       if self.cubes[n][1].then in tested})
        return tuple(said[:3]) + ((f"and {len(said) - 3} more such couplings",) if len(said) > 3 else ())
