"""Change documentation between two versions of the definitions: groups added, removed, renamed and
re-weighted; rows added, removed and changed (matched by their stable rule id); code-list entries;
codes whose reachable groups changed (from the reverse index of each version); payment parameters;
fields, enumeration values and derived features.

:func:`compare` computes a :class:`Changes` from two IR programs; :func:`page` lays it out as one
documentation page (rendered to HTML and Markdown by :mod:`isfdsl.emit.docs`, to XLSX by
:mod:`isfdsl.emit.excel`, one sheet per section).
"""

from __future__ import annotations

import bisect
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from isfdsl import interpret
from isfdsl.analysis import reverse
from isfdsl.analysis.analyse import find_episode, first_match
from isfdsl.analysis.cubes import codeset_examples
from isfdsl.emit.describe import Phrase, Tok
from isfdsl.emit.docs import Page, code
from isfdsl.emit.messages import Messages, messages
from isfdsl.ir import model as ir


@dataclass(frozen=True, slots=True)
class RowChange:
    table: str
    row: str
    kind: str  # added, removed, changed
    old: str = ""
    new: str = ""
    #: What changed: "conditions", "group", "return code", "title", "position".
    what: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CodeMove:
    system: str
    code: str
    shown: str
    old: tuple[str, ...]
    new: tuple[str, ...]
    old_rows: tuple[str, ...]
    new_rows: tuple[str, ...]
    #: An episode with the code that the two versions group differently, and its groups before and after.
    example: dict[str, object] | None = None
    example_groups: tuple[str, str] = ("", "")


@dataclass(slots=True)
class Changes:
    old: ir.Program
    new: ir.Program
    #: The language the changes' texts are written in (group and list descriptions, numbers).
    m: Messages = field(default_factory=messages)
    #: (catalogue, code, kind, old, new): kind is added, removed, renamed, points, trim, perday, parent, flags.
    groups: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    rows: list[RowChange] = field(default_factory=list)
    #: (list, kind, entry, description): kind is "list added", "list removed", "added", "removed".
    lists: list[tuple[str, str, str, str]] = field(default_factory=list)
    codes: list[CodeMove] = field(default_factory=list)
    #: ((kind, member), old, new, source of the new value): kind as in ``ir.Payment.parameters``.
    payment: list[tuple[tuple[str, str], str, str, str]] = field(default_factory=list)
    #: (name, kind, old, new): fields, enumeration values and derived features.
    features: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: (table, keys added, keys removed, keys whose values changed)
    code_tables: list[tuple[str, int, int, int]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.groups or self.rows or self.lists or self.codes or self.payment or self.features
                    or any(a or r or c for _, a, r, c in self.code_tables))

    def counts(self) -> dict[str, int]:
        """How many changes of each kind, keyed by the kind's message (``count.groups``, …)."""
        return {"count.groups": len(self.groups), "count.rows": len(self.rows), "count.lists": len(self.lists),
                "count.codes": len(self.codes), "count.payment": len(self.payment), "count.features": len(self.features),
                "count.code_tables": sum(a + r + c for _, a, r, c in self.code_tables)}

    def counted(self, m: Messages) -> str:
        return ", ".join(m(k, n=v) for k, v in self.counts().items())



def compare(old: ir.Program, new: ir.Program, progress: Callable[[int], None] | None = None,
            m: Messages | None = None) -> Changes:
    """The changes from ``old`` to ``new``, their texts in the language of ``m`` (default: the catalogue's
    default); ``progress`` counts the codes of both reverse indexes."""
    ch = Changes(old, new, m or messages())
    _groups(ch)
    _rows(ch)
    _lists(ch)
    # Both indexes over the codes of both versions, so a code one version does not mention is still placed.
    codes = reverse.known(old, new)
    old_index, new_index = reverse.build(old, progress, codes), reverse.build(new, progress, codes)
    _codes(ch, old_index, new_index)
    _examples(ch, old_index, new_index)
    _payment(ch)
    _features(ch)
    _code_tables(ch)
    return ch


def _groups(ch: Changes) -> None:
    for cat in sorted(set(ch.old.catalogues) | set(ch.new.catalogues)):
        a, b = ch.old.catalogues.get(cat, {}), ch.new.catalogues.get(cat, {})
        for g in sorted(set(a) | set(b)):
            if g not in a:
                ch.groups.append((cat, g, "added", "", ch.m("change.with_points", name=b[g].name, points=ch.m.amount(b[g].points))))
            elif g not in b:
                ch.groups.append((cat, g, "removed", ch.m("change.with_points", name=a[g].name, points=ch.m.amount(a[g].points)), ""))
            else:
                x, y = a[g], b[g]
                num = ch.m.amount
                for kind, u, v in (("renamed", x.name, y.name), ("points", num(x.points), num(y.points)),
                                   ("trim", str(x.trim or ""), str(y.trim or "")), ("perday", num(x.perday), num(y.perday)),
                                   ("parent", x.parent or "", y.parent or ""), ("flags", ", ".join(x.flags), ", ".join(y.flags))):
                    if u != v:
                        ch.groups.append((cat, g, kind, u, v))


def _row_text(r: ir.Row) -> str:
    return (f"{r.title!r}: " if r.title else "") + r.text + f" -> {r.group or ''}" + (f" rc {r.rc}" if r.rc else "")


def _rows(ch: Changes) -> None:
    old_tables = {t.name: t for t in (*ch.old.decisions, *(ch.old.pathway.decisions if ch.old.pathway else ()))}
    new_tables = {t.name: t for t in (*ch.new.decisions, *(ch.new.pathway.decisions if ch.new.pathway else ()))}
    for name in [*old_tables, *(n for n in new_tables if n not in old_tables)]:
        a = {r.id: r for r in old_tables[name].rows} if name in old_tables else {}
        b = {r.id: r for r in new_tables[name].rows} if name in new_tables else {}
        common_a = [i for i in a if i in b]
        common_b = [i for i in b if i in a]
        moved = _moved(common_a, common_b) if name in old_tables and old_tables[name].policy == "first" else set()
        for rid in [*a, *(i for i in b if i not in a)]:
            if rid not in b:
                ch.rows.append(RowChange(name, rid, "removed", _row_text(a[rid])))
            elif rid not in a:
                ch.rows.append(RowChange(name, rid, "added", "", _row_text(b[rid])))
            else:
                x, y = a[rid], b[rid]
                what = [w for w, u, v in (("conditions", x.text, y.text),
                                          ("group", x.group, y.group), ("return code", x.rc, y.rc), ("title", x.title, y.title))
                        if u != v]
                if rid in moved:
                    what.append("position")
                if what:
                    ch.rows.append(RowChange(name, rid, "changed", _row_text(x), _row_text(y), tuple(what)))


def _moved(a: list[str], b: list[str]) -> set[str]:
    """Rows whose order relative to the others changed: those outside a longest common order."""
    pos = {x: k for k, x in enumerate(b)}
    seq = [pos[x] for x in a]
    # Longest increasing subsequence (patience sorting) of the new positions in old order.
    tails: list[int] = []
    tail_idx: list[int] = []
    prev = [-1] * len(seq)
    for i, v in enumerate(seq):
        k = bisect.bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tail_idx.append(i)
        else:
            tails[k] = v
            tail_idx[k] = i
        prev[i] = tail_idx[k - 1] if k else -1
    keep: set[int] = set()
    i = tail_idx[-1] if tail_idx else -1
    while i >= 0:
        keep.add(i)
        i = prev[i]
    return {a[i] for i in range(len(a)) if i not in keep}


def _entries(cs: ir.CodeSet) -> dict[str, str]:
    return {e.shown: e.description or "" for e in cs.entries}


def _lists(ch: Changes) -> None:
    a, b = ch.old.codesets, ch.new.codesets
    for name in sorted(set(a) | set(b)):
        if name not in a:
            ch.lists.append((name, "list added", ch.m("change.entries", n=len(b[name].entries)), b[name].title or ""))
            continue
        if name not in b:
            ch.lists.append((name, "list removed", ch.m("change.entries", n=len(a[name].entries)), a[name].title or ""))
            continue
        x, y = _entries(a[name]), _entries(b[name])
        for e in sorted(set(x) | set(y)):
            if e not in x:
                ch.lists.append((name, "added", e, y[e]))
            elif e not in y:
                ch.lists.append((name, "removed", e, x[e]))


def _codes(ch: Changes, old: reverse.ReverseIndex, new: reverse.ReverseIndex) -> None:
    for system in sorted(set(old.systems) | set(new.systems)):
        a, b = old.systems.get(system, {}), new.systems.get(system, {})
        for c in sorted(set(a) | set(b)):
            x, y = a.get(c), b.get(c)
            gx = tuple(x.groups) if x else ()
            gy = tuple(y.groups) if y else ()
            if gx != gy:
                use = y or x
                assert use is not None
                ch.codes.append(CodeMove(system, c, use.shown, gx, gy,
                                         tuple(sorted({lead.row for lead in x.leads})) if x else (),
                                         tuple(sorted({lead.row for lead in y.leads})) if y else ()))


#: Codes that moved for which an example episode is searched, and the attempts all searches share
#: (bounded and seeded, so the output is the same on every run).
EXAMPLES = 30
ATTEMPTS = 3000


def _examples(ch: Changes, old: reverse.ReverseIndex, new: reverse.ReverseIndex) -> None:
    """For the first moved codes, an episode holding the code that the versions group differently: one
    that the new rows take first (or, for a code that lost rows, the old rows), found by the analysis'
    witness search and confirmed with the interpreter on both versions."""
    budget = ATTEMPTS
    for k, move in enumerate(ch.codes[:EXAMPLES]):
        for program, index, other_rows in ((ch.new, new, move.old_rows), (ch.old, old, move.new_rows)):
            use = index.get(move.system, move.code)
            leads = [lead for lead in use.leads if lead.row not in other_rows] if use else []
            found = None
            for lead in leads[:2]:
                assert use is not None
                table = next(t for t in program.decisions if t.name == lead.table)
                row = next(r for r in table.rows if r.id == lead.row)
                attr = next(x for x in program.attributes if x.name == lead.attribute)
                probe = reverse.probe(use)
                # Try each value of the first enumeration the row leaves open (e.g. the care level), and
                # keep the sharpest contrast: the example whose result before came from the most specific row.
                best: tuple[int, tuple[dict[str, object], tuple[str, str]]] | None = None
                for variant in _variants(program, row):
                    if budget <= 0:
                        break
                    budget -= 50
                    start = {**_seed(program, row), **variant}
                    if attr.type.kind == "list":
                        have = start.get(attr.name)
                        start[attr.name] = [probe, *(x for x in (have if isinstance(have, list) else []) if x != probe)]
                    else:
                        start[attr.name] = probe
                    episode = find_episode(program, lead.table, start, first_match(lead.row), attempts=50)
                    got = _differs(ch, episode) if episode is not None else None
                    if got is not None:
                        score = _specificity(ch.old, got[1][0])
                        if best is None or score > best[0]:
                            best = (score, got)
                if best is not None:
                    found = (_shrink(ch, best[1][0], best[1][1], (attr.name, probe)), best[1][1])
                    break
            if found is not None:
                ch.codes[k] = dataclasses.replace(move, example=found[0], example_groups=found[1])
                break


def _variants(program: ir.Program, row: ir.Row) -> list[dict[str, object]]:
    """Starting points: one per member of the first enumeration without a default that the row does not
    test (at most 6), else just one."""
    tested = {c.feature for c in row.constraints}
    for a in program.attributes:
        if a.default is None and a.type.kind == "enum" and a.name not in tested and 1 < len(a.labels) <= 6:
            return [{a.name: m} for m in a.labels]
    return [{}]


def _specificity(program: ir.Program, shown: str) -> int:
    """How many conditions the row named in ``shown`` ("GROUP (ROW)") has; 0 for a fallback."""
    rule = shown.rsplit("(", 1)[-1].rstrip(")")
    for t in program.decisions:
        for r in t.rows:
            if r.id == rule:
                return len(r.constraints)
    return 0


def _seed(program: ir.Program, row: ir.Row) -> dict[str, object]:
    """Attribute values that satisfy a row's own conditions on attributes (not on derived features)."""
    attrs = {a.name: a for a in program.attributes}
    out: dict[str, object] = {}
    # Fields every episode has (no default): a middle value or the first enumeration member.
    for f in program.attributes:
        if f.default is None and f.type.kind == "int" and f.type.lo is not None and f.type.hi is not None:
            out[f.name] = (f.type.lo + f.type.hi) // 2
        elif f.default is None and f.type.kind == "enum" and f.labels:
            out[f.name] = next(iter(f.labels))
    for c in row.alternatives[0]:  # the first alternative of a rule with `or`
        a = attrs.get(c.feature)
        if a is None or c.negated:
            continue
        value: object = None
        if c.kind in ("codelist", "has") and c.ref is not None:
            examples = codeset_examples(program.codesets[c.ref])
            value = examples[0] if examples else None
        elif c.kind in ("set", "has", "bool") and c.values:
            value = c.values[0]
        elif c.kind == "interval":
            bound = c.lo if c.lo is not None else c.hi
            value = int(bound) if bound is not None else None
        if value is None:
            continue
        have = out.get(c.feature)
        out[c.feature] = [*(have if isinstance(have, list) else []), value] if a.type.kind == "list" else value
    return out



def _differs(ch: Changes, episode: dict[str, object]) -> tuple[dict[str, object], tuple[str, str]] | None:
    before, after = interpret.group(ch.old, episode), interpret.group(ch.new, episode)
    if (before.system, before.group) == (after.system, after.group):
        return None
    return episode, (f"{before.group} ({before.rule})", f"{after.group} ({after.rule})")


def _shrink(ch: Changes, episode: dict[str, object], groups: tuple[str, str], keep: tuple[str, str]) -> dict[str, object]:
    """The episode with every field (and list element) removed that the difference does not need, except
    the moved code (``keep``: attribute and code)."""
    ep = dict(episode)
    for key in sorted(ep):
        if key == keep[0] and not isinstance(ep[key], list):
            continue
        trial = {k: v for k, v in ep.items() if k != key}
        got = _differs(ch, trial)
        if got is not None and got[1] == groups:
            ep = trial
            continue
        value = ep[key]
        if isinstance(value, list):
            for item in list(value):
                if key == keep[0] and item == keep[1]:
                    continue
                kept = [x for x in ep[key] if x != item]  # type: ignore[attr-defined]
                got = _differs(ch, {**ep, key: kept})
                if kept and got is not None and got[1] == groups:
                    ep[key] = kept
    return ep


def _payment(ch: Changes) -> None:
    a, b = ch.old.payment, ch.new.payment
    if a is None and b is None:
        return

    m = ch.m

    def params(p: ir.Payment | None) -> dict[tuple[str, str], tuple[str, str]]:
        return {(kind, member): (m("percent", value=m.number(v * 100)) if kind == "share" else m.amount(v), origin or "")
                for kind, member, v, origin in (p.parameters() if p else ())}

    x, y = params(a), params(b)
    for k in [*x, *(k for k in y if k not in x)]:
        u, v = x.get(k, ("", "")), y.get(k, ("", ""))
        if u[0] != v[0] or u[1] != v[1]:
            ch.payment.append((k, u[0], v[0], v[1] if k in y else ""))


def _features(ch: Changes) -> None:
    a = {x.name: x for x in ch.old.attributes}
    b = {x.name: x for x in ch.new.attributes}
    pa = {f"pathway.{x.name}": x for x in (ch.old.pathway.attributes if ch.old.pathway else ())}
    pb = {f"pathway.{x.name}": x for x in (ch.new.pathway.attributes if ch.new.pathway else ())}
    a.update(pa)
    b.update(pb)
    for n in [*a, *(n for n in b if n not in a)]:
        if n not in b:
            ch.features.append((n, "field removed", f"{a[n].label or ''} ({a[n].type})", ""))
        elif n not in a:
            ch.features.append((n, "field added", "", f"{b[n].label or ''} ({b[n].type})"))
        else:
            if str(a[n].type) != str(b[n].type):
                ch.features.append((n, "type", str(a[n].type), str(b[n].type)))
            for m in [*a[n].labels, *(m for m in b[n].labels if m not in a[n].labels)]:
                raw = {v: k for k, v in b[n].members.items() if k != v} | {v: k for k, v in a[n].members.items() if k != v}
                if m not in b[n].labels:
                    ch.features.append((n, "value removed", f"{m} = {raw.get(m, m)} {a[n].labels[m]}", ""))
                elif m not in a[n].labels:
                    ch.features.append((n, "value added", "", f"{m} = {raw.get(m, m)} {b[n].labels[m]}"))
    da = {d.name: d for d in ch.old.derivations}
    db = {d.name: d for d in ch.new.derivations}
    for n in [*da, *(n for n in db if n not in da)]:
        if n not in db:
            ch.features.append((n, "feature removed", da[n].text, ""))
        elif n not in da:
            ch.features.append((n, "feature added", "", db[n].text))
        elif da[n].text != db[n].text:
            ch.features.append((n, "feature changed", da[n].text, db[n].text))


def _code_tables(ch: Changes) -> None:
    for name in sorted(set(ch.old.tables) | set(ch.new.tables)):
        a = ch.old.tables[name].rows if name in ch.old.tables else {}
        b = ch.new.tables[name].rows if name in ch.new.tables else {}
        added = sum(1 for k in b if k not in a)
        removed = sum(1 for k in a if k not in b)
        changed = sum(1 for k in a if k in b and a[k] != b[k])
        ch.code_tables.append((name, added, removed, changed))


# ---------------------------------------------------------------------- layout


def page(ch: Changes, path: str = "index") -> Page:
    """The change documentation as one page (sections become XLSX sheets), in the language of ``ch.m``."""
    o, n, m = ch.old, ch.new, ch.m
    pg = Page(path, m("changes.title", old=o.label, new=n.label))
    pg.p(m("changes.intro", old=f"{o.system} {o.year}", new=f"{n.system} {n.year}", counts=ch.counted(m)))
    if ch.empty:
        pg.p(m("changes.empty"))
    none = m("changes.none")
    pg.h(2, m("changes.groups"), "groups")
    pg.grid([m("col.catalogue"), m("col.group"), m("col.change"), m("col.before"), m("col.after")],
            [[cat, code(g), m.kind(kind), u, v] for cat, g, kind, u, v in ch.groups])
    pg.h(2, m("changes.rows"), "rows")
    pg.grid([m("col.table"), m("col.row"), m("col.change"), m("col.what"), m("col.before"), m("col.after")],
            [[r.table, code(r.row), m.kind(r.kind), ", ".join(m.kind(w) for w in r.what), code(r.old) if r.old else "",
              code(r.new) if r.new else ""] for r in ch.rows])
    pg.h(2, m("changes.codes"), "codes")
    pg.p(m("changes.codes_intro"))
    pg.grid([m("col.code_system"), m("col.code"), m("col.groups_before"), m("col.groups_after"), m("col.rows_before"),
             m("col.rows_after")],
            [[mv.system, code(mv.shown), ", ".join(mv.old) or none, ", ".join(mv.new) or none,
              ", ".join(mv.old_rows), ", ".join(mv.new_rows)] for mv in ch.codes])
    examples = [mv for mv in ch.codes if mv.example]
    if examples:
        pg.h(3, m("changes.examples"), "examples")
        pg.p(m("changes.examples_intro"))
        pg.grid([m("col.code"), m("col.episode"), m("col.before"), m("col.after")],
                [[code(mv.shown), code(json.dumps(mv.example, ensure_ascii=False, sort_keys=True)), mv.example_groups[0],
                  mv.example_groups[1]] for mv in examples])
    pg.h(2, m("changes.lists"), "lists")
    pg.grid([m("col.list"), m("col.change"), m("col.entry"), m("col.description")],
            [[code(l_), m.kind(kind), code(e), d] for l_, kind, e, d in ch.lists])
    pg.h(2, m("changes.payment"), "payment")
    pg.grid([m("col.parameter"), m("col.before"), m("col.after"), m("col.source")],
            [[parameter(k, m), u, v, s] for k, u, v, s in ch.payment])
    pg.h(2, m("changes.features"), "features")
    pg.grid([m("col.name"), m("col.change"), m("col.before"), m("col.after")],
            [[code(k), m.kind(kind), code(u) if u else "", code(v) if v else ""] for k, kind, u, v in ch.features])
    pg.h(2, m("changes.code_tables"), "code-tables")
    pg.grid([m("col.table"), m("col.keys_added"), m("col.keys_removed"), m("col.keys_changed")],
            [[code(t), str(a), str(r), str(c)] for t, a, r, c in ch.code_tables])
    return pg


def parameter(key: tuple[str, str], m: Messages) -> str:
    """A payment parameter's name: ``unit price``, ``ISF share somatic``."""
    kind, member = key
    return m("change.unit_price") if kind == "unit_price" else m(f"change.{kind}", member=member)


def for_group(ch: Changes, catalogue: str, group: str, m: Messages) -> list[Phrase]:
    """What changed for one group: its own record, the rows that lead to it (before or after) and the codes
    that can now or could before lead to it (at most 10 named)."""
    out: list[Phrase] = []
    for cat, g, kind, u, v in ch.groups:
        if (cat, g) == (catalogue, group):
            out.append([Tok(m("box.group", what=m.kind(kind) + (f": {u} → {v}" if u and v else f": {u or v}")))])
    leads = _row_groups(ch)
    for r in ch.rows:
        if (catalogue, group) in leads.get((r.table, r.row), ()):
            out.append([Tok(m("box.row")), code(r.row), Tok(f" ({r.table}): {m.kind(r.kind)}"
                                                             + (f" ({', '.join(m.kind(w) for w in r.what)})" if r.what else ""))])
    moved = [mv for mv in ch.codes if group in mv.old or group in mv.new]
    for mv in moved[:10]:
        out.append(_moved_code(mv, m))
    if len(moved) > 10:
        out.append([Tok(m("codes.more", n=len(moved) - 10))])
    return out


def for_codes(ch: Changes, system: str, codes: list[str], m: Messages) -> list[Phrase]:
    """What changed for the codes of one page of the code index: the groups each can lead to."""
    mine = set(codes)
    return [_moved_code(mv, m) for mv in ch.codes if mv.system == system and mv.code in mine]


def _moved_code(mv: CodeMove, m: Messages) -> Phrase:
    none = m("changes.none")
    return [Tok(m("box.code")), code(mv.shown), Tok(m("box.moved", old=", ".join(mv.old) or none, new=", ".join(mv.new) or none))]


def _row_groups(ch: Changes) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(table, row) -> the (catalogue, group) pairs it leads to in either version."""
    out: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for program in (ch.old, ch.new):
        tables = (*program.decisions, *(program.pathway.decisions if program.pathway else ()))
        for t in tables:
            for r in (*t.rows, *t.post):
                if r.group:
                    out.setdefault((t.name, r.id), set()).add((t.catalogue, r.group))
    return out


def summary_lines(ch: Changes, limit: int = 12) -> list[str]:
    """A few lines for the console (in the language of ``ch.m``)."""
    m = ch.m
    lines = [f"{ch.old.label} -> {ch.new.label}: " + ch.counted(m)]
    for cat, g, kind, u, v in ch.groups[:limit]:
        lines.append(f"  {m('col.group')} {cat} {g}: {m.kind(kind)}" + (f" {u} -> {v}" if kind not in ("added", "removed") else f" {u or v}"))
    none = m("changes.none")
    for mv in ch.codes[:limit]:
        lines.append(f"  {m('col.code')} {mv.system} {mv.shown}: {', '.join(mv.old) or none} -> {', '.join(mv.new) or none}"
                     + (f"; {json.dumps(mv.example, ensure_ascii=False)}: {mv.example_groups[0]} -> {mv.example_groups[1]}"
                        if mv.example else ""))
    for k, u, v, _ in ch.payment[:limit]:
        lines.append(f"  {parameter(k, m)}: {u or '-'} -> {v or '-'}")
    return lines
