"""Test data: Hypothesis strategies for episodes, derived from a program's own declarations.

Attribute domains (integer bounds, enumeration members, and the bounds the decision rows test, each
with its neighbours), codes from the code lists and code tables of each code system (exact codes,
codes under a prefix, range bounds, written with and without the ignored characters), valid codes no
rule mentions (drawn from the code system's syntax), plus invalid, empty and missing values, so that
generated episodes reach deep rows and the error groups alike. Hypothesis is imported here, so this
module is for tests and tools, not for the compiler.

Use it in your own tests::

    from hypothesis import given
    from isfdsl.testing import episodes, load

    program = load("definitions/isf2025")

    @given(episodes(program))
    def test_every_episode_has_a_group(episode):
        assert my_grouper.group(episode).group
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Iterable, Mapping, Sequence

from hypothesis import strategies as st

from isfdsl.ir import model as ir
from isfdsl.runtime.contract import Constraint
from isfdsl.types import Type

#: Values no attribute accepts as anything but text.
JUNK = st.sampled_from(["", " ", "?", "abc", "-1", "1e9", "NaN", "∞", "null", "\x00", "'; DROP TABLE x", "9" * 30])


def codes_of(program: ir.Program, system: str) -> list[str]:
    """The codes a program mentions for a code system, sorted: code lists' codes, prefixes and range
    bounds, and code table keys."""
    found: set[str] = set()
    for cs in program.codesets.values():
        if cs.system == system:
            found |= cs.codes
            found.update(cs.prefixes)
            found.update(x for r in cs.ranges for x in r)
    for t in program.tables.values():
        if t.key_system == system:
            found.update(t.rows)
            found.update(s for rows in t.rows.values() for s, _ in rows if s is not None)
    return sorted(found)


def load(defs: str) -> ir.Program:
    """Check and lower the one version in ``defs`` (raises ValueError listing the errors)."""
    from isfdsl.check.checker import check
    from isfdsl.diagnostics import Collector
    from isfdsl.ir.model import lower
    from isfdsl.syntax.loader import discover, load_program

    diags = Collector()
    models = []
    for root, files in discover([defs]):
        program = load_program(root, files, diags)
        if not diags.errors:  # a program with syntax errors is not checked (as `isf check` does)
            models.append(check(program, diags))
    if diags.errors or len(models) != 1:
        raise ValueError(f"{defs}: " + "; ".join(f"{d.span}: {d.message}" for d in diags.errors[:5]))
    return lower(models[0])


def boundaries(program: ir.Program) -> dict[str, list[int]]:
    """Per integer feature, the bounds the decision rows test with their neighbours (b - 1, b, b + 1)."""
    out: dict[str, set[int]] = {}
    for table in program.decisions:
        for row in (*table.rows, *table.post):
            for c in row.constraints:
                for b in (c.lo, c.hi):
                    if b is not None and b == b.to_integral_value():
                        out.setdefault(c.feature, set()).update({int(b) - 1, int(b), int(b) + 1})
    return {k: sorted(v) for k, v in out.items()}


def code_values(program: ir.Program, system: str, ignore: str = "") -> st.SearchStrategy[str]:
    """Codes of ``system`` as a user might write them: known codes, known prefixes extended, the same
    with an ignored character inside or in lower case, valid codes no rule mentions (from the system's
    syntax) and arbitrary code-like text."""
    known = codes_of(program, system)
    pieces: list[st.SearchStrategy[str]] = [st.from_regex(r"[A-Z][0-9A-Z]{1,6}", fullmatch=True)]
    if system in program.syntaxes:
        pieces.append(st.from_regex(f"(?:{program.syntaxes[system]})", fullmatch=True).filter(lambda c: len(c) < 16))
    if known:
        base = st.sampled_from(known)
        pieces.append(base)
        pieces.append(st.builds(lambda c, tail: c + tail, base, st.sampled_from(["0", "1", "9", "X", "00"])))
        if ignore:
            pieces.append(base.map(lambda c: c[:3] + ignore[0] + c[3:] if len(c) > 3 else c))
        pieces.append(base.map(str.lower))
    return st.one_of(*pieces)


def attribute_values(program: ir.Program, attr: ir.Attribute, t: Type | None = None,
                     valid: bool = False) -> st.SearchStrategy[object]:
    """Values of an attribute (as text or native values): with ``valid``, values of its domain (codes
    the rules mention, mostly); otherwise also boundary values just outside it and invalid ones."""
    t = t or attr.type
    kind = t.kind
    if kind == "list":
        assert t.elem is not None
        elem = attribute_values(program, attr, t.elem, valid)
        if valid:
            return st.lists(elem, max_size=5)
        return st.one_of(st.lists(elem, max_size=6), st.lists(elem.map(str), max_size=4).map(" ".join))
    if kind == "int":
        lo = t.lo if t.lo is not None else -1000
        hi = t.hi if t.hi is not None else 100000
        n = st.integers(lo, hi)
        edges = sorted({lo, hi, lo - 1, hi + 1, *boundaries(program).get(attr.name, [])})
        if valid:
            inside = [e for e in edges if lo <= e <= hi]
            return st.one_of(n, st.sampled_from(inside)) if inside else n
        return st.one_of(n, n.map(str), st.sampled_from(edges), st.integers(hi + 1, hi + 1000), JUNK, st.booleans())
    if kind == "decimal":
        d = st.decimals(-1000, 1000, allow_nan=False, places=3)
        return d if valid else st.one_of(d, d.map(str), JUNK)
    if kind == "bool":
        return st.booleans() if valid else st.one_of(st.booleans(), st.sampled_from(["1", "0", "ja", "nei", "true", "false"]), JUNK)
    if kind == "enum":
        members = sorted(attr.members)
        if valid:
            return st.sampled_from(members) if members else st.none()
        return st.one_of(st.sampled_from(members), JUNK) if members else JUNK
    if kind in ("code", "pair"):
        known = codes_of(program, t.ref or "")
        code = st.sampled_from(known) if valid and known else code_values(program, t.ref or "", attr.ignore)
        if kind == "code":
            return code if valid else st.one_of(code, code, JUNK)
        if valid:
            return st.tuples(code, st.one_of(st.none(), code))
        return st.one_of(code, st.tuples(code, st.one_of(st.none(), code)),
                         st.builds(lambda a, b: f"{a}|{b}", code, code), st.builds(lambda a, b: f"|{b}", code, code))
    return st.text(max_size=12) if valid else st.one_of(st.text(max_size=12), JUNK)


def episodes(program: ir.Program) -> st.SearchStrategy[Mapping[str, object]]:
    """Episodes over the program's attributes: half of them valid throughout (every attribute from its
    domain, codes the rules use — these reach the deep rows), half messy (each attribute valid,
    invalid, out of range or missing — these reach the error groups)."""
    valid = st.fixed_dictionaries({a.name: attribute_values(program, a, valid=True) for a in program.attributes})
    messy = st.fixed_dictionaries(
        {},
        optional={a.name: st.one_of(st.none(), attribute_values(program, a)) for a in program.attributes},
    )
    aimed = targeted(program)
    return st.one_of(valid, messy, aimed) if aimed is not None else st.one_of(valid, messy)


def pathways(program: ir.Program, max_members: int = 4) -> st.SearchStrategy[tuple[Mapping[str, object], list[Mapping[str, object]]]]:
    """Pathways: the attributes given with a pathway (valid or messy, as for episodes) and 0 to
    ``max_members`` member episodes from :func:`episodes`. The member episodes of one pathway often
    share a principal diagnosis, and the codes the pathway rows ask for are drawn too."""
    view = program.pathway_program()
    if view is None or program.pathway is None:
        raise ValueError("these definitions declare no pathway tables")
    given = [a for a in view.attributes if a.name not in program.pathway.gather]
    record = st.one_of(
        st.fixed_dictionaries({a.name: attribute_values(view, a, valid=True) for a in given}),
        st.fixed_dictionaries({}, optional={a.name: st.one_of(st.none(), attribute_values(view, a)) for a in given}))
    aimed = targeted(view)
    # Codes a pathway row asks for (e.g. a procedure), put into a member episode's list attribute.
    wanted: list[tuple[str, str]] = []
    for t in view.decisions:
        for r in t.rows:
            for c in r.constraints:
                source = program.pathway.gather.get(c.feature)
                if source in {a.name for a in program.attributes} and c.ref in program.codesets:
                    cs = program.codesets[c.ref]
                    wanted += [(source, code) for code in sorted(cs.codes)[:3]]
    member = episodes(program)
    if wanted:
        def add(pair: tuple[Mapping[str, object], tuple[str, str]]) -> Mapping[str, object]:
            episode, (attr, code) = pair
            have = episode.get(attr)
            return {**episode, attr: [*(have if isinstance(have, list) else []), code]}
        member = st.one_of(member, st.tuples(member, st.sampled_from(wanted)).map(add))
    given_record = st.one_of(record, aimed) if aimed is not None else record
    return st.tuples(given_record, st.lists(member, max_size=max_members))


def targeted(program: ir.Program) -> st.SearchStrategy[Mapping[str, object]] | None:
    """Episodes aimed at one decision row each: attributes the row tests directly get values that
    satisfy it, and code attributes get codes whose code-table values or code lists are the ones the
    row asks for (a diagnosis whose category the row names, a procedure with the property it needs).
    None when the program has no rows."""
    reverse: dict[str, dict[object, list[str]]] = {}
    for t in program.tables.values():
        if t.key_system is None:
            continue
        index = reverse.setdefault(t.key_system, {})
        for key, rows in t.rows.items():
            for _, value in rows:
                index.setdefault(value, []).append(key)
    attrs = {a.name: a for a in program.attributes}
    systems = {a.name: (a.type.elem or a.type).ref for a in program.attributes if (a.type.elem or a.type).kind in ("code", "pair")}
    aims: list[tuple[dict[str, object], dict[str, list[str]]]] = []
    for table in program.decisions:
        for alternative in (alt for row in table.rows for alt in row.alternatives):
            direct: dict[str, object] = {}
            pools: dict[str, set[str]] = {}
            for c in alternative:
                wanted = [v for v in c.values if v is not None] if not c.negated else []
                if c.ref is not None and not c.negated:
                    cs = program.codesets[c.ref]
                    pools.setdefault(cs.system, set()).update(sorted(cs.codes)[:20] + list(cs.prefixes[:20]))
                for system, index in reverse.items():
                    for v in wanted:
                        pools.setdefault(system, set()).update(index.get(v, [])[:20])
                if c.feature in attrs and not c.negated:
                    value = _satisfying(c)
                    if value is not None:
                        direct[c.feature] = value
            aims.append((direct, {k: sorted(v) for k, v in pools.items() if v}))
    if not aims:
        return None

    def build(aim: tuple[dict[str, object], dict[str, list[str]]]) -> st.SearchStrategy[Mapping[str, object]]:
        direct, pools = aim
        fields: dict[str, st.SearchStrategy[object]] = {}
        for a in program.attributes:
            if a.name in direct:
                fields[a.name] = st.just(direct[a.name])
                continue
            pool = pools.get(systems.get(a.name) or "")
            if pool:
                code = st.sampled_from(pool)
                fields[a.name] = st.lists(code, min_size=0, max_size=4) if a.type.kind == "list" else code
            else:
                fields[a.name] = attribute_values(program, a, valid=True)
        return st.fixed_dictionaries(fields)

    return st.sampled_from(aims).flatmap(build)


def _satisfying(c: Constraint) -> object:
    if c.kind == "set" and c.values:
        return c.values[0]
    if c.kind == "bool":
        return c.values[0]
    if c.kind == "interval":
        if c.lo is not None:
            return int(c.lo) + (1 if c.lo_open else 0)
        if c.hi is not None:
            return int(c.hi) - (1 if c.hi_open else 0)
    if c.kind == "has" and c.values:
        return [c.values[0]]
    return None


def rows_hit(program: ir.Program, table: str, episodes: Iterable[Mapping[str, object]]) -> set[str]:
    """The rule ids of ``table`` (and ``fallback``) that the reference interpreter chooses for the
    episodes: what share of the rows a body of generated test data reaches."""
    from isfdsl.interpret import group

    return {group(program, dict(e), table).rule for e in episodes}


def random_episodes(program: ir.Program, n: int, seed: int) -> list[dict[str, object]]:
    """``n`` valid episodes drawn with a seeded :mod:`random` (not Hypothesis: for benchmarks and large
    samples): each attribute from its domain, codes from those the definitions mention."""
    rng = random.Random(seed)
    codes = {a.name: codes_of(program, (a.type.elem or a.type).ref or "") for a in program.attributes}
    out = []
    for _ in range(n):
        e: dict[str, object] = {}
        for a in program.attributes:
            t = a.type.elem or a.type
            if t.kind == "int":
                e[a.name] = rng.randint(t.lo if t.lo is not None else 0, min(t.hi if t.hi is not None else 100, 120))
            elif t.kind == "enum":
                e[a.name] = rng.choice(sorted(a.members)) if a.members else None
            elif t.kind in ("code", "pair") and codes[a.name]:
                picks = [rng.choice(codes[a.name]) for _ in range(rng.randint(0, 3) if a.type.kind == "list" else 1)]
                e[a.name] = picks if a.type.kind == "list" else picks[0]
            elif t.kind == "bool":
                e[a.name] = rng.random() < 0.2
        out.append(e)
    return out


def around(program: ir.Program, start: Sequence[Mapping[str, object]]) -> st.SearchStrategy[Mapping[str, object]]:
    """Episodes near the ``start`` episodes (for example the rows' witnesses of
    :func:`isfdsl.analysis.witnesses.row_witnesses`, one per row that can match): one of them as it is
    or with up to three changes — an element of a list dropped, an integer moved a little or to a bound
    a row tests, a code swapped for another of a code list that holds it (else one with the same
    code-table value, else a neighbour in code order). It shrinks towards the episode unchanged, so a
    failure is shown at the row it was aimed at."""
    if not start:
        raise ValueError("no episodes to start from")
    near = _Neighbours(program)
    attrs = {a.name: a for a in program.attributes}
    bounds = boundaries(program)

    def changes(episode: Mapping[str, object]) -> st.SearchStrategy[Mapping[str, object]]:
        ops: list[st.SearchStrategy[tuple[str, str, int, object]]] = []
        for name, value in episode.items():
            a = attrs.get(name)
            if a is None:
                continue
            t = a.type.elem or a.type
            if isinstance(value, list) and value:
                ops.append(st.tuples(st.just("drop"), st.just(name), st.integers(0, len(value) - 1), st.none()))
            if t.kind == "int" and isinstance(value, int) and not isinstance(value, bool):
                moved = st.integers(value - 3, value + 3)
                ops.append(st.tuples(st.just("set"), st.just(name), st.just(0),
                                     st.one_of(moved, st.sampled_from(bounds[name])) if bounds.get(name) else moved))
            if t.kind in ("code", "pair") and t.ref:
                for i, code in enumerate(value if isinstance(value, list) else [value]):
                    first = code[0] if isinstance(code, tuple) else code
                    others = near.of(t.ref, str(first))
                    if others:
                        ops.append(st.tuples(st.just("swap"), st.just(name), st.just(i), st.sampled_from(others)))
        if not ops:
            return st.just(episode)
        return st.lists(st.one_of(*ops), max_size=3).map(lambda done: _changed(episode, done))

    return st.sampled_from(list(start)).flatmap(changes)


def _changed(episode: Mapping[str, object], done: list[tuple[str, str, int, object]]) -> Mapping[str, object]:
    out = {k: list(v) if isinstance(v, list) else v for k, v in episode.items()}
    for op, name, i, value in done:
        have = out.get(name)
        if op == "set":
            out[name] = value
        elif isinstance(have, list) and have:
            if op == "drop":
                del have[i % len(have)]
            else:
                have[i % len(have)] = value
        elif op == "swap":
            out[name] = value
    return out


class _Neighbours:
    """Codes to swap a code for: the other codes of the code lists that hold it, else the codes with one
    of its code-table values, else its neighbours in the sorted codes of its system."""

    def __init__(self, program: ir.Program) -> None:
        from isfdsl.interpret import in_codeset

        self.p = program
        self.in_codeset = in_codeset
        self.codes: dict[str, list[str]] = {}
        self.by_value: dict[str, dict[object, list[str]]] = {}
        self.values: dict[str, dict[str, object]] = {}
        for t in program.tables.values():
            if t.key_system is None:
                continue
            index = self.by_value.setdefault(t.key_system, {})
            first = self.values.setdefault(t.key_system, {})
            for key, rows in t.rows.items():
                for second, value in rows:
                    if second is None:
                        index.setdefault(value, []).append(key)
                        first.setdefault(key, value)

    def of(self, system: str, code: str) -> list[str]:
        for cs in self.p.codesets.values():
            if cs.system == system and self.in_codeset(cs, code):
                others = [c for c in sorted(cs.codes) if c != code][:50]
                if others:
                    return others
        value = self.values.get(system, {}).get(code)
        if value is not None:
            others = [c for c in self.by_value[system][value] if c != code][:50]
            if others:
                return others
        if system not in self.codes:
            self.codes[system] = codes_of(self.p, system)
        known = self.codes[system]
        if not known:
            return []
        at = bisect.bisect_left(known, code)
        return [c for c in known[max(0, at - 3):at + 4] if c != code]


#: Text that no attribute should take at face value: NUL and other control characters, full-width and
#: other non-ASCII digits, white space of every kind, separators, quotes, markup, very long text.
HOSTILE_TEXTS = ("\x00", "\x00\x00", "\u3000", "\u2028", "\x85", "\ufeff", "\u200b", "１２３", "٣", "²", "Ⅻ",
                 ";;;", ",", "|", "&", "'", '"', "\\", "<b>", "${x}", "%s", "NaN", "-inf", "1e999", "0x1F", "1_000",
                 "𝟙𝟚", "é", "ß", "İ", "A" * 5000)


#: id(program) -> (program, attribute -> the codes it mentions for the attribute's code system).
_CODES: dict[int, tuple[ir.Program, dict[str, list[str]]]] = {}


def hostile_episode(program: ir.Program, rng: random.Random) -> dict[object, object]:
    """One episode whose values are drawn to break a grouper: each attribute missing, valid, or a
    hostile value — NUL and full-width digits inside codes, huge integers, floats (NaN, infinities),
    nested lists, mappings, bytes, sets, booleans, unknown keys (misspelt attributes, other
    schemas' columns, keys that are not text). For long campaigns (``bench/hostile_campaign.py``)
    and the hostile-episode property (``tests/test_properties.py``)."""
    known = _CODES.get(id(program))
    if known is None or known[0] is not program:
        if len(_CODES) >= 8:  # a campaign alternates a few programs: they fit
            _CODES.clear()
        known = _CODES[id(program)] = (program, {a.name: codes_of(program, (a.type.elem or a.type).ref or "")
                                                 for a in program.attributes})
    codes = known[1]

    def code(a: ir.Attribute) -> object:
        pool = codes[a.name]
        c = rng.choice(pool) if pool else "A00"
        roll = rng.random()
        if roll < 0.4:
            return c
        if roll < 0.8:  # a code with something hostile inside, before or after it
            k = rng.randrange(len(c) + 1)
            return c[:k] + rng.choice(HOSTILE_TEXTS)[:8] + c[k:]
        return c.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})  # full-width digits

    def scalar(a: ir.Attribute) -> object:
        t = a.type.elem or a.type
        roll = rng.random()
        if roll < 0.35:
            if t.kind in ("code", "pair"):
                return code(a)
            if t.kind == "int":
                return rng.choice([rng.randint(-5, 200), str(rng.randint(0, 120))])
            if t.kind == "enum" and a.members:
                return rng.choice(sorted(a.members))
            return rng.choice(["1", "0", "ja", "x"])
        makers: list[Callable[[], object]] = [
            lambda: 10 ** rng.choice([28, 29, 40, 4301, 5000]) * rng.choice([1, -1]),
            lambda: "9" * rng.choice([29, 4301]),
            lambda: rng.choice([float("nan"), float("inf"), -float("inf"), 1e308, -0.0, 70.5, 1e-300]),
            lambda: rng.choice(HOSTILE_TEXTS),
            lambda: rng.choice([True, False, None, "", " ", b"H35.3", bytearray(b"\x00"), frozenset({"A00"}), object]),
            lambda: {"first": code(a), "second": rng.choice([None, code(a), [code(a)]])},
            lambda: [[code(a)], [[code(a)]], ()][rng.randrange(3)],
            lambda: (code(a), code(a)),
        ]
        return rng.choice(makers)()

    episode: dict[object, object] = {}
    for a in program.attributes:
        roll = rng.random()
        if roll < 0.15:
            continue
        if a.type.kind == "list" and roll < 0.75:
            items = [scalar(a) for _ in range(rng.choice([0, 1, 2, 3, 5, 40]))]
            episode[a.name] = rng.choice([items, tuple(items), " ; ".join(map(_text_of, items))])
        else:
            episode[a.name] = scalar(a)
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        name = rng.choice([a.name for a in program.attributes] or ["x"])
        key = rng.choice([name + "z", name.upper(), name[:-1], "hdiag", "alder", "id", "", 7, 10 ** 5000, None, ("pdx",)])
        episode[key] = scalar(rng.choice(program.attributes)) if program.attributes else None
    return episode


def _text_of(x: object) -> str:
    try:
        return str(x)
    except ValueError:  # an integer too long to be written
        return "9" * 50
