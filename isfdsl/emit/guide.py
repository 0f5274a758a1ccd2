"""Emit: the pages of one version's user guide, built from the IR into the page model of
:mod:`isfdsl.emit.docs` — the index, the reading guide, fields and features, payment, the group table, a
page per decision table (with its decision diagrams), group, code list and code table, and the code
index split into pages of bounded size.

Every word of the guide's own comes from the message catalogue (:mod:`isfdsl.emit.messages`) in the
site's language; the definitions' text (names, titles, descriptions) is shown as written. The builder
also collects what the search (:mod:`isfdsl.emit.search`) and the decision diagrams need.

One piece (about 670 lines) because the pages link to each other through the one builder's plan (which
page holds which code, group and row); the site, the search index and the page model are modules of
their own.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass

from isfdsl.analysis import reverse
from isfdsl.emit import changes as diffs
from isfdsl.emit import describe, docs, search
from isfdsl.emit.describe import Phrase, Tok, anchor
from isfdsl.emit.docs import Box, Figure, Page, Pre, Site, code, link, phrase, static_files, validity
from isfdsl.emit.messages import Messages, messages
from isfdsl.ir import model as ir
from isfdsl.runtime.contract import GroupRecord

#: Codes per page of the code index at most; a system with more is split by the codes' first
#: characters (one more character where a part is still too large).
CODES_PER_PAGE = 1500
#: Estimated bytes of one page of the code index (or of a code list) before it is split further: the
#: HTML of a page stays below about 1 MB.
PAGE_BYTES = 600_000
#: Rows per decision diagram before a table's diagrams are split by the groups' parent (MDC); a part
#: (an MDC) with more rows than this is not drawn — its rows are in the table under it.
ROWS_PER_DIAGRAM = 80
#: Entries of a code list, and rows of a code table, per page.
ENTRIES_PER_PAGE = 2000
#: Rows of a decision table on one page; a larger table gets a page per MDC.
ROWS_PER_PAGE = 400
#: The part of a large table that holds the rows whose group has no MDC (its pages' and diagrams' name; shown
#: to a reader in the guide's language, never as this word).
NO_MDC = "other"


class Builder:
    """The pages of one version's guide (call :meth:`pages` once)."""

    def __init__(self, program: ir.Program, index: reverse.ReverseIndex, site: Site, m: Messages,
                 drawn: bool = True, history: History | None = None) -> None:
        self.p = program
        self.history = history
        self.m = m
        #: Whether the diagrams are drawn as SVG (else only their .dot sources are written).
        self.drawn = drawn
        self.index = index
        self.site = site
        self.search = search.Index(m)
        self.dots: dict[str, str] = {}
        #: (table, row id) -> the page that shows the row.
        self.row_pages: dict[tuple[str, str], str] = {}
        self.code_pages: dict[str, dict[str, str]] = {}
        self.uses = reverse.uses(program)
        self.catalogue_of = catalogue_of = {t.name: t.catalogue for t in program.decisions}
        #: (catalogue, group) -> the codes that can lead to it.
        self.codes_of: dict[tuple[str, str], list[reverse.CodeUse]] = {}
        for u in index:
            for key in dict.fromkeys((catalogue_of[lead.table], lead.group) for lead in u.leads if lead.group):
                self.codes_of.setdefault(key, []).append(u)
        #: The pathway tables' own program (its "episode" is the pathway record), if any.
        self.view = program.pathway_program()
        self.catalogue_of.update({t.name: t.catalogue for t in (self.view.decisions if self.view else ())})
        #: (catalogue, group) -> rows that lead to it (program, table, row).
        self.leads_to: dict[tuple[str, str], list[tuple[ir.Program, ir.Table, ir.Row]]] = {}
        for prog in (program, self.view):
            for t in prog.decisions if prog else ():
                for r in (*t.rows, *t.post):
                    if r.group:
                        self.leads_to.setdefault((t.catalogue, r.group), []).append((prog, t, r))  # type: ignore[arg-type]

    def all_tables(self) -> tuple[ir.Table, ...]:
        return (*self.p.decisions, *(self.view.decisions if self.view else ()))

    def over(self, t: ir.Table) -> str:
        return self.m("over.pathway" if t.over == "pathway" else "over.episode")

    def pages(self) -> list[Page]:
        self.plan_codes()
        self.plan_tables()
        pages = [self.home(), self.guide(), self.features(), self.payment(), self.group_table()]
        pages += [x for t in self.p.decisions for x in self.table(t)]
        if self.view is not None:
            pages += [self.pathway_page()] + [x for t in self.view.decisions for x in self.table(t, self.view)]
        for cat, groups in self.p.catalogues.items():
            pages += [self.group(cat, g) for g in groups.values()]
        for cs in self.p.codesets.values():
            pages += self.codelist(cs)
        for ct in self.p.tables.values():
            pages += self.codetable(ct)
        pages += self.codes()
        return pages

    # -- index

    def home(self) -> Page:
        p, m = self.p, self.m
        page = Page("index", p.label)
        page.p(m("home.intro", system=p.system, year=p.year, validity=self.site.validity))
        page.h(2, m("home.systems"))
        rows = []
        for t in self.all_tables():
            how = {"first": m("home.first"), "unique": m("home.unique")}.get(t.policy, t.policy)
            after = [link(t.otherwise, f"tables/{t.otherwise}", "code"), m("home.when_none")] if t.otherwise else \
                [code(t.fallback or "")] if t.fallback else ["—"]
            rows.append([link(t.name, f"tables/{t.name}", "code"), t.title or "",
                         m("home.catalogue", catalogue=t.catalogue, over=self.over(t)),
                         p.catalogue_titles.get(t.catalogue, ""), str(len(t.rows)), how, phrase(after)])
            self.search.item("table", t.name, t.title or t.name, f"tables/{t.name}")
        page.grid([m("col.table"), m("col.title"), m("col.catalogue"), m("col.system"), m("col.rows"), m("col.picks"),
                   m("col.otherwise")], rows)
        for cat, groups in p.catalogues.items():
            page.h(2, f"{cat}: {p.catalogue_titles.get(cat, cat)}", anchor(cat))
            parents = sorted({g.parent or "" for g in groups.values()})
            for parent in parents:
                if len(parents) > 1:
                    page.h(3, m("home.mdc", mdc=parent) if parent else m("home.no_mdc"))
                page.grid([m("col.group"), m("col.name"), m("col.points"), m("col.flags")],
                          [[link(g.code, describe.group_path(cat, g.code), "code"), g.name, m.amount(g.points), code(", ".join(g.flags)) if g.flags else ""]
                           for g in groups.values() if (g.parent or "") == parent])
        page.h(2, m("home.lists"))
        page.grid([m("col.name"), m("col.title"), m("col.code_system"), m("col.entries")],
                  [[link(cs.name, f"lists/{cs.name}", "code"), cs.title or "", cs.system, str(len(cs.entries))]
                   for cs in p.codesets.values()]
                  + [[link(t.name, f"properties/{t.name}", "code"), t.title or "", t.key_system or m("home.text"), str(len(t.rows))]
                     for t in p.tables.values()])
        return page

    def group_table(self) -> Page:
        """Every group with its numbers, in one sortable table (for reading, sorting and printing)."""
        p, m = self.p, self.m
        page = Page("all-groups", m("groups.title"))
        page.p(m("groups.intro", version=p.label))
        rows = [[cat, link(g.code, describe.group_path(cat, g.code), "code"), g.name, g.parent or "", m.amount(g.points),
                 "" if g.trim is None else str(g.trim), m.amount(g.perday), code(", ".join(g.flags)) if g.flags else ""]
                for cat, groups in p.catalogues.items() for g in groups.values()]
        page.grid([m("col.system"), m("col.group"), m("col.name"), m("col.mdc"), m("col.points"), m("col.trim"),
                   m("col.perday"), m("col.flags")], rows, sortable=True)
        self.search.item("page", m("nav.groups"), m("groups.title"), "all-groups")
        return page

    # -- reading guide

    def guide(self) -> Page:
        p, m = self.p, self.m
        page = Page("guide", m("guide.title", label=p.label))
        page.p(m("guide.intro"))
        page.h(2, m("guide.h_what"))
        page.p(m("guide.fields_1", n=len(p.attributes)), link(m("guide.fields_link"), "features"), m("guide.fields_2"))
        page.p(m("guide.derived", n=len(p.derivations)))
        page.h(2, m("guide.h_tables"))
        for t in p.decisions:
            words: list[Tok | str] = [link(t.name, f"tables/{t.name}", "code"), m("guide.assigns", catalogue=t.catalogue)]
            words.append(m("guide.first") if t.policy == "first" else m("guide.unique"))
            if t.otherwise:
                words += [m("guide.otherwise"), link(t.otherwise, f"tables/{t.otherwise}", "code"), m("guide.otherwise_end")]
            elif t.fallback:
                words += [m("guide.fallback"), describe.group(p, t.catalogue, t.fallback, m)[0],
                          m("guide.fallback_rc", rc=t.fallback_rc or "0")]
            if t.post:
                words.append(m("guide.post", n=len(t.post)))
            if p.entry.name == t.name:
                words.append(m("guide.entry"))
            page.p(*words)
        page.h(2, m("guide.h_row"))
        example = next((r for t in p.decisions for r in t.rows if len(r.constraints) >= 2), None)
        if example is not None:
            table = next(t for t in p.decisions if example in t.rows)
            page.p(m("guide.row_1"), code(example.id), m("guide.row_2", table=table.name))
            page.blocks.append(Pre(example.text + f" -> {example.group or ''}", "isf"))
            page.p(m("guide.plain"), describe.row(p, example, m), " → ", describe.group(p, table.catalogue, example.group, m))
        page.p(m("guide.lists_hold"))
        if any(len(r.alternatives) > 1 for t in self.all_tables() for r in t.rows):
            page.p(m("guide.or_1"), code("or"), m("guide.or_2"))
        page.h(2, m("guide.h_lists"))
        systems = sorted({cs.system for cs in p.codesets.values()})
        page.p(m("guide.lists_1"), code("H35.3"), m("guide.lists_2"), code("H25*"), m("guide.lists_3"), code("C81-C88"),
               m("guide.lists_4"))
        attrs = {a.type.elem.ref if a.type.kind == "list" and a.type.elem else a.type.ref: a for a in p.attributes}
        items = []
        for s in systems:
            notes = [m("guide.ignored", chars=repr(attrs[s].ignore))] if s in attrs and attrs[s].ignore else []
            notes += [m("guide.upper")] if s in attrs and attrs[s].upper else []
            items.append([code(s), f" {p.system_titles.get(s, '')}", ": " + "; ".join(notes) if notes else ""])
        page.bullets(items)
        page.h(2, m("guide.h_payment"))
        page.p(m("guide.payment_1"), link(m("guide.payment_link"), "payment"), m("guide.payment_2"))
        page.h(2, m("guide.h_find"))
        page.p(m("guide.find_1"), link(m("guide.find_link"), "codes"), m("guide.find_2"), code("H35.3"), ", ",
               code("H353"), m("guide.find_3"))
        page.h(2, m("guide.h_diagrams"))
        page.p(m("guide.diagrams", limit=ROWS_PER_DIAGRAM))
        page.h(2, m("guide.h_print"))
        page.p(m("guide.print"), link(m("guide.print_link"), "all-groups"), m("guide.print_2"))
        return page

    # -- features

    def features(self) -> Page:
        p, m = self.p, self.m
        page = Page("features", m("features.title"))
        page.h(2, m("features.fields"))
        page.grid([m("col.field"), m("col.label"), m("col.type"), m("col.default")],
                  [[code(a.name), a.label or "", code(str(a.type)), "" if a.default is None else str(a.default)]
                   for a in p.attributes], [anchor(a.name) for a in p.attributes])
        for a in p.attributes:
            if a.labels:
                page.h(3, m("features.values", name=a.name))
                inverse: dict[str, list[str]] = {}
                for raw, member in a.members.items():
                    if raw != member:
                        inverse.setdefault(member, []).append(raw)
                page.grid([m("col.value"), m("col.input"), m("col.label")],
                          [[code(v), ", ".join(inverse.get(v, [])), label] for v, label in a.labels.items()])
            self.search.item("field", a.name, a.label or a.name, f"features#{anchor(a.name)}")
        page.h(2, m("features.derived"))
        page.grid([m("col.feature"), m("col.meaning"), m("col.type"), m("col.definition")],
                  [[code(d.name), d.title or "", code(str(d.type)), code(d.text)] for d in p.derivations],
                  [anchor(d.name) for d in p.derivations])
        for d in p.derivations:
            self.search.item("feature", d.name, d.title or d.name, f"features#{anchor(d.name)}")
        return page

    # -- payment

    def payment(self) -> Page:
        p, m = self.p, self.m
        page = Page("payment", m("payment.title"))
        pay = p.payment
        if pay is None:
            page.p(m("payment.none"))
            return page
        page.p(m("payment.intro_1"), Tok("illustrative", None, "code"), m("payment.intro_2"),
               code("isf group --unit-price/--share"), m("payment.intro_3"))
        # the attribute by its title and a member by its label, as the rows say them ("etter Sektor", "Somatikk
        # (somatic)"), not by their names; an unsourced number's mark as the code it is in the definitions
        attrs = {"price": pay.price_attr, "share": pay.share_attr}
        labels = {"unit_price": m("payment.unit_price"),
                  "price": m("payment.price", attr=describe.feature_label(p, pay.price_attr, m) if pay.price_attr else ""),
                  "share": m("payment.share", attr=describe.feature_label(p, pay.share_attr, m) if pay.share_attr else "")}
        page.grid([m("col.parameter"), m("col.for"), m("col.value"), m("col.source")],
                  [[labels[kind], describe.value(p, attrs[kind] or "", member, m) if member else "",
                    m("percent", value=m.number(v * 100)) if kind == "share" else m("kr", value=m.amount(v)),
                    code(origin) if origin == "illustrative" else origin or m("payment.not_stated")]
                   for kind, member, v, origin in pay.parameters()])
        long_stay = [(cat, g) for cat, gs in p.catalogues.items() for g in gs.values() if g.trim is not None]
        page.h(2, m("payment.long"))
        if pay.stay_attr:
            page.p(m("payment.stay_1"), link(describe.feature_label(p, pay.stay_attr, m), f"features#{anchor(pay.stay_attr)}", "em"),
                   m("payment.stay_2"))
        page.grid([m("col.group"), m("col.name"), m("col.points"), m("col.trim"), m("col.perday")],
                  [[link(g.code, describe.group_path(cat, g.code), "code"), g.name, m.amount(g.points), str(g.trim), m.amount(g.perday)]
                   for cat, g in long_stay], sortable=True)
        return page

    # -- decision tables

    def pathway_page(self) -> Page:
        assert self.view is not None and self.p.pathway is not None
        pw, m = self.p.pathway, self.m
        page = Page("pathway", m("pathway.title", title=pw.title or m("pathway.default_title")))
        page.p(m("pathway.intro"))
        gathered = {"group": m("pathway.groups"), "count": m("pathway.count")}
        page.grid([m("col.attribute"), m("col.label"), m("col.type"), m("col.where_from")],
                  [[code(a.name), a.label or "", code(str(a.type)), gathered.get(pw.gather.get(a.name, ""), "")
                    or ([Tok(m("pathway.every")), describe.feature(self.p, pw.gather[a.name], m)] if a.name in pw.gather
                        else m("pathway.given"))] for a in self.view.attributes],
                  [anchor(a.name) for a in self.view.attributes])
        page.p(m("pathway.tables"), *[x for t in self.view.decisions for x in (link(t.name, f"tables/{t.name}", "code"), " ")])
        self.search.item("page", "pathway", m("pathway.search"), "pathway")
        return page

    def parts(self, t: ir.Table) -> dict[str, list[ir.Row]]:
        """A table's rows by the parent (MDC) of the group each leads to ("" for all rows of a table of at most
        ROWS_PER_DIAGRAM rows), parts in order, rows in the table's order."""
        if len(t.rows) <= ROWS_PER_DIAGRAM:
            return {"": list(t.rows)}
        groups = self.p.catalogues.get(t.catalogue, {})
        parts: dict[str, list[ir.Row]] = {}
        for r in t.rows:
            rec = groups.get(r.group or "")
            parts.setdefault(rec.parent or NO_MDC if rec else NO_MDC, []).append(r)
        return dict(sorted(parts.items()))

    def plan_tables(self) -> None:
        """Which page shows each row: the table's page, or for a table of more than ROWS_PER_PAGE rows, the
        page of its MDC (``tables/drg-02``)."""
        for t in self.all_tables():
            split = len(t.rows) > ROWS_PER_PAGE
            for part, rows in self.parts(t).items():
                for r in rows:
                    self.row_pages[(t.name, r.id)] = f"tables/{t.name}-{part}" if split else f"tables/{t.name}"

    def row_href(self, t: ir.Table, r: ir.Row) -> str:
        return f"{self.row_pages.get((t.name, r.id), f'tables/{t.name}')}#{anchor(r.id)}"

    def table(self, t: ir.Table, program: ir.Program | None = None) -> list[Page]:
        """A decision table's page (its diagrams, rows, fallback and post-rules); a table of more than
        ROWS_PER_PAGE rows gets a page per MDC besides, the table's page linking them."""
        p, m = program or self.p, self.m
        page = Page(f"tables/{t.name}", m("table.title", name=t.name, title=t.title or t.catalogue))
        page.p(m("table.intro_1", catalogue=t.catalogue, over=self.over(t)), code(t.policy), m("table.intro_2", n=len(t.rows)))
        header = [m("col.number"), m("col.row"), m("col.conditions"), m("col.group"), m("col.rc"), m("col.source")]
        order = {r.id: n for n, r in enumerate(t.rows, 1)}
        pages = [page]
        parts = self.parts(t)

        def rows_of(shown: Page, part_rows: dict[str, list[ir.Row]]) -> None:
            for path, title, n in self.diagrams(t, part_rows):
                big = n > ROWS_PER_DIAGRAM
                shown.blocks.append(Figure(path, title, self.drawn and not big, n, big))
            rows = [r for part in part_rows.values() for r in part]
            rows.sort(key=lambda r: order[r.id])
            shown.h(2, m("table.rows"))
            shown.grid(header, [[str(order[r.id]), code(r.id), describe.row(p, r, m), describe.group(p, t.catalogue, r.group, m),
                                 r.rc or "0", r.where] for r in rows], [anchor(r.id) for r in rows])

        if len(t.rows) <= ROWS_PER_PAGE:
            rows_of(page, parts)
        else:
            page.h(2, m("table.parts"))
            page.grid([m("col.mdc"), m("col.rows"), m("col.groups")],
                      [[link(m("home.no_mdc") if part == NO_MDC else part, f"tables/{t.name}-{part}", "code"), str(len(rows)),
                        ", ".join(dict.fromkeys(r.group or "" for r in rows))] for part, rows in parts.items()])
            for part, rows in parts.items():
                shown = Page(f"tables/{t.name}-{part}", m("table.part_title_none", name=t.name) if part == NO_MDC
                             else m("table.part_title", name=t.name, mdc=part))
                shown.p(m("table.part_intro"), link(t.name, f"tables/{t.name}", "code"), ".")
                rows_of(shown, {part: rows})
                pages.append(shown)
        if t.otherwise:
            page.p(m("table.otherwise"), link(t.otherwise, f"tables/{t.otherwise}", "code"), m("table.otherwise_end"))
        elif t.fallback:
            page.p(m("table.fallback"), describe.group(p, t.catalogue, t.fallback, m), m("table.fallback_rc", rc=t.fallback_rc or "0"))
        if t.post:
            page.h(2, m("table.post"))
            page.grid([m("col.row"), m("col.conditions"), m("col.group"), m("col.rc")],
                      [[code(r.id), describe.row(p, r, m), describe.group(p, t.catalogue, r.group, m), r.rc or ""] for r in t.post],
                      [anchor(r.id) for r in t.post])
        return pages

    def diagrams(self, t: ir.Table, parts: dict[str, list[ir.Row]] | None = None) -> list[tuple[str, str, int]]:
        """(path, title, rows) of each diagram of a table (or of the given parts of it): one for the whole table
        up to ROWS_PER_DIAGRAM rows, else one per MDC; a part over ROWS_PER_DIAGRAM rows gets no .dot (it is not
        drawn)."""
        m = self.m
        out = []
        last = t.rows[-1] if t.rows else None
        for part, rows in (parts if parts is not None else self.parts(t)).items():
            path = f"diagrams/{t.name}" + (f"-{part}" if part else "")
            if len(rows) <= ROWS_PER_DIAGRAM:
                self.dots[path] = dot(t, rows, last is not None and last in rows, m)
            mdc = m("diagram.no_mdc") if part == NO_MDC else m("diagram.mdc", mdc=part) if part else ""
            out.append((path, m("diagram.title", name=t.name) + mdc, len(rows)))
        return out

    # -- groups

    def group(self, cat: str, g: GroupRecord) -> Page:
        m = self.m
        path = describe.group_path(cat, g.code)
        self.search.item("group", g.code, g.name, path)
        page = Page(path, m("group.title", catalogue=cat, code=g.code, name=g.name))
        facts: list[list[object]] = [[m("group.system"), cat], [m("group.points"), m.amount(g.points)]]
        if g.trim is not None:
            facts.append([m("group.trim"), str(g.trim)])
        if g.perday is not None:
            facts.append([m("group.perday"), m.amount(g.perday)])
        if g.parent:
            facts.append([m("group.parent"), g.parent])
        if g.flags:
            facts.append([m("group.flags"), code(", ".join(g.flags))])
        page.grid([m("col.property"), m("col.value")], facts)
        if self.history is not None:
            page.blocks.append(self.box(diffs.for_group(self.history.changes, cat, g.code, m)))
        if "illustrative" in g.flags:
            page.p(m("group.illustrative"))
        page.h(2, m("group.rows"))
        rows = self.leads_to.get((cat, g.code), [])
        if rows:
            page.grid([m("col.table"), m("col.row"), m("col.conditions"), m("col.source")],
                      [[link(t.name, f"tables/{t.name}", "code"), link(r.id, self.row_href(t, r), "code"),
                        describe.row(prog, r, m), r.where] for prog, t, r in rows])
        fallbacks = [t for t in self.all_tables() if t.fallback == g.code and t.catalogue == cat]
        for t in fallbacks:
            page.p(m("group.fallback_1"), link(t.name, f"tables/{t.name}", "code"), m("group.fallback_2"))
        if not rows and not fallbacks:
            page.p(m("group.no_rows"))
        codes = self.codes_of.get((cat, g.code), [])
        page.h(2, m("group.codes"))
        if codes:
            shown = codes[:200]
            page.p(m("group.n_codes", n=len(codes)) + (m("group.first_shown", n=len(shown)) if len(codes) > len(shown) else "") + ":")
            page.grid([m("col.code"), m("col.code_system"), m("col.as"), m("col.description")],
                      [[code(u.shown, self.code_href(u)), u.system, self.fields({lead.attribute for lead in u.leads if lead.group == g.code}),
                        "; ".join(u.titles)] for u in shown])
        else:
            page.p(m("group.no_codes"))
        return page

    def fields(self, names: set[str]) -> Phrase:
        """Fields by their titles, as the rows' conditions name them (``Hovedtilstand``, not ``pdx``), linked."""
        out: Phrase = []
        for k, name in enumerate(sorted(names)):
            out += [Tok(", "), describe.feature(self.p, name, self.m)] if k else [describe.feature(self.p, name, self.m)]
        return out

    def box(self, items: list[Phrase]) -> Box:
        """The "changes" box of a page: what changed for it from the previous version, and a link to all changes."""
        assert self.history is not None
        old = self.history.changes.old.label
        full: Phrase = [Tok(self.m("box.full")), link(self.m("changes.title", old=old, new=self.p.label), self.history.page)]
        return Box(self.m("box.title", old=old), (items or [[Tok(self.m("box.none", old=old))]]) + [full])

    def _leads(self, u: reverse.CodeUse) -> Phrase:
        """Per field the code can sit in: each group it can lead to (linked) with the rows (as text)."""
        by_attr: dict[str, dict[tuple[str, str], list[str]]] = {}
        for lead in u.leads:
            key = (self.catalogue_of[lead.table], lead.group or "")
            by_attr.setdefault(lead.attribute, {}).setdefault(key, []).append(lead.row)
        out: Phrase = []
        for attr, groups in by_attr.items():
            if out:
                out.append(Tok("; "))
            out.append(Tok(self.m("leads.as", attr=attr)))
            for k, ((cat, g), rows) in enumerate(groups.items()):
                out += [Tok(", " if k else ""), Tok(g or self.m("leads.keeps"), describe.group_path(cat, g) if g else None, "code"),
                        Tok(f" ({' '.join(rows)})")]
        return out

    # -- code lists and tables

    def codelist(self, cs: ir.CodeSet) -> list[Page]:
        """A code list's page; a long list is split over pages of ENTRIES_PER_PAGE entries (``lists/NAME``,
        ``lists/NAME-2``, …), the first page saying where the list is used and linking the others."""
        m = self.m
        title = m("list.title", name=cs.name, title=cs.title) if cs.title else m("list.title_bare", name=cs.name)
        self.search.item("list", cs.name, cs.title or cs.name, f"lists/{cs.name}")
        chunks = [cs.entries[k:k + ENTRIES_PER_PAGE] for k in range(0, len(cs.entries), ENTRIES_PER_PAGE)] or [()]
        paths = [f"lists/{cs.name}" + (f"-{n}" if n > 1 else "") for n in range(1, len(chunks) + 1)]
        pages = []
        for n, (path, chunk) in enumerate(zip(paths, chunks, strict=True)):
            page = Page(path, title if n == 0 else m("list.part_title", name=cs.name, first=chunk[0].shown))
            page.p(m("list.intro", system=cs.system, n=len(cs.entries)))
            if len(chunks) > 1:
                page.p(m("list.pages"), *[x for k, other in enumerate(paths) for x in (
                    link(chunks[k][0].shown, other, "code") if other != path else code(chunks[k][0].shown), " ")])
            page.grid([m("col.entry"), m("col.kind"), m("col.description"), m("col.source")],
                      [[code(e.shown, self.code_href_for(cs.system, e)), m.kind(e.kind), e.description or "", e.where]
                       for e in chunk])
            pages.append(page)
        first = pages[0]
        used = [(t, r) for t in self.all_tables() for r in t.rows if any(c.ref == cs.name for c in r.constraints)]
        derived = [d for d in self.p.derivations if cs.name in self.uses.get(d.name, ())] if not used else []
        first.h(2, m("list.used"))
        if used:
            first.bullets([[link(f"{t.name} {r.id}", self.row_href(t, r), "code"), " → ",
                            describe.group(self.p, t.catalogue, r.group, m)] for t, r in used])
        elif derived:
            first.bullets([[link(d.name, f"features#{anchor(d.name)}", "code"), f" {d.title or ''}"] for d in derived])
        else:
            first.p(m("list.unused"))
        return pages

    def codetable(self, t: ir.CodeTable) -> list[Page]:
        """A code table's page; a long table is split over pages of ENTRIES_PER_PAGE rows (``properties/NAME``,
        ``properties/NAME-2``, …), each linking the others."""
        m = self.m
        title = m("codetable.title", name=t.name, title=t.title) if t.title else m("codetable.title_bare", name=t.name)
        self.search.item("codetable", t.name, t.title or t.name, f"properties/{t.name}")
        rows: list[tuple[Tok, str, str]] = []
        for key, values in t.rows.items():
            for second, v in values:
                rows.append((code(key, self.code_href_for(t.key_system, None, key) if t.key_system else None), second or "", str(v)))
        chunks = [rows[k:k + ENTRIES_PER_PAGE] for k in range(0, len(rows), ENTRIES_PER_PAGE)] or [[]]
        paths = [f"properties/{t.name}" + (f"-{n}" if n > 1 else "") for n in range(1, len(chunks) + 1)]
        pages = []
        for n, (path, chunk) in enumerate(zip(paths, chunks, strict=True)):
            first = chunk[0][0].text if chunk else ""
            page = Page(path, title if n == 0 else m("codetable.part_title", name=t.name, first=first))
            page.p(m("codetable.intro", key=t.key_system or m("home.text"), type=t.value_type, n=len(t.rows)))
            if len(chunks) > 1:
                page.p(m("list.pages"), *[x for k, other in enumerate(paths) for x in (
                    link(chunks[k][0][0].text, other, "code") if other != path else code(chunks[k][0][0].text), " ")])
            page.grid([m("col.code"), m("col.together"), m("col.value")], chunk)
            pages.append(page)
        return pages

    # -- the code index

    def code_href(self, u: reverse.CodeUse) -> str:
        return f"{self.code_pages[u.system][u.code]}#{anchor(u.code)}"

    def code_href_for(self, system: str | None, e: ir.Entry | None, key: str | None = None) -> str | None:
        if system is None or system not in self.code_pages:
            return None
        k = key if key is not None else (e.lo if e and e.kind == "code" else e.shown if e else "")
        page = self.code_pages[system].get(k)
        return f"{page}#{anchor(k)}" if page else None

    def plan_codes(self) -> None:
        """Which page of the code index each code goes to: one page per system while it is small, else split
        by the codes' first characters, one character more wherever a part is still too large."""
        for system, codes in self.index.systems.items():
            self.code_pages[system] = pages = {}
            for prefix, part in split_codes(list(codes.values()), weight).items():
                for u in part:
                    pages[u.code] = f"codes/{system}-{prefix}" if prefix else f"codes/{system}"

    def codes(self) -> list[Page]:
        p, m = self.p, self.m
        top = Page("codes", m("codes.title"))
        top.p(m("codes.intro_1"), code("isf verify"), m("codes.intro_2"))
        out = [top]
        systems = p.system_titles
        for system, codes in self.index.systems.items():
            unused = [u for u in codes.values() if not u.leads]
            title = systems.get(system, "")
            top.h(2, m("codes.system", system=system, title=title) if title else system)
            pages = sorted(set(self.code_pages[system].values()))
            top.p(m("codes.counts", n=len(codes), unused=len(unused)),
                  *[x for path in pages for x in (link(path.split("/")[-1], path, "code"), " ")])
            if unused:
                top.h(3, m("codes.unused", system=system), anchor(f"unused-{system}"))
                top.p(*[x for u in unused[:500] for x in (code(u.shown, self.code_href(u)), " ")],
                      m("codes.more", n=len(unused) - 500) if len(unused) > 500 else "")
            for path in pages:
                mine = [u for u in codes.values() if self.code_pages[system][u.code] == path]
                prefix = path.removeprefix(f"codes/{system}").removeprefix("-")
                page = Page(path, m("codes.page_from", system=system, prefix=prefix) if prefix else m("codes.page", system=system))
                if self.history is not None:
                    page.blocks.append(self.box(diffs.for_codes(self.history.changes, system, [u.code for u in mine], m)))
                rows, ids = [], []
                for u in mine:
                    leads = self._leads(u)
                    where = [link(n, f"lists/{n}", "code") for n in u.lists] + \
                            [link(n, f"properties/{n}", "code") for n in u.tables]
                    rows.append([code(u.shown), "; ".join(u.titles), phrase([x for w in where for x in (w, " ")]),
                                 leads or [Tok(m("codes.never"))]])
                    ids.append(anchor(u.code))
                    self.search.code(system, u, f"{path}#{anchor(u.code)}")
                page.grid([m("col.code"), m("col.description"), m("col.listed"), m("col.leads")], rows, ids)
                out.append(page)
        for system in self.index.systems:
            attr = next((a for a in p.attributes if (a.type.elem or a.type).ref == system), None)
            self.search.system(system, attr.ignore if attr else "", attr.upper if attr else True)
            for cs in p.codesets.values():
                if cs.system != system:
                    continue
                for e in cs.entries:
                    if e.kind != "code":
                        self.search.range(system, e.lo, e.hi if e.kind == "range" else e.lo, e.kind, e.shown,
                                          self.code_href_for(system, e))
        return out


def weight(u: reverse.CodeUse) -> int:
    """About how many bytes a code's row adds to a page of the code index (HTML)."""
    return 200 + sum(len(t) for t in u.titles) + 40 * (len(u.lists) + len(u.tables)) + 60 * len(u.leads)


def split_codes(codes: list[reverse.CodeUse], size: Callable[[reverse.CodeUse], int],
                prefix: str = "") -> dict[str, list[reverse.CodeUse]]:
    """Codes (sorted) split into parts keyed by a prefix of the code: the whole list under ``prefix`` while it
    holds at most CODES_PER_PAGE codes of at most PAGE_BYTES, else one part per next character, each split
    again the same way (a code as long as the prefix stays with it)."""
    if len(codes) <= CODES_PER_PAGE and sum(size(u) for u in codes) <= PAGE_BYTES or \
            all(len(u.code) <= len(prefix) for u in codes):
        return {prefix: codes}
    by: dict[str, list[reverse.CodeUse]] = {}
    for u in codes:
        by.setdefault(u.code[: len(prefix) + 1], []).append(u)
    out: dict[str, list[reverse.CodeUse]] = {}
    for key, part in by.items():
        if key == prefix:  # codes no longer than the prefix: a page of their own
            out[key] = part
        else:
            out.update(split_codes(part, size, key))
    return out


def _dot_text(s: str, limit: int = 60) -> str:
    s = s if len(s) <= limit else s[: limit - 1] + "…"
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def dot(t: ir.Table, rows: list[ir.Row], ends: bool, m: Messages) -> str:
    """A diagram of some rows of a table, drawn top to bottom: the rows in order (a chain of "no" under
    `first`), each with a "yes" edge to its group; ``ends``: the part holds the last row, so it shows what no
    row takes."""
    lines = [f'digraph "{_dot_text(t.name)}" {{', "  rankdir=TB;", "  nodesep=0.3; ranksep=0.25;",
             '  node [fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=9];',
             f'  start [shape=circle, label="{_dot_text(m("dot.start"))}"];']
    groups: list[str] = []
    prev = "start"
    yes, no = _dot_text(m("dot.yes")), _dot_text(m("dot.no"))
    for n, r in enumerate(rows):
        node = f"r{n}"
        label = f"{r.id}\\n" + _dot_text(r.text or m("dot.always"))
        lines.append(f'  {node} [shape=box, label="{label}"];')
        if prev == "start":
            lines.append(f"  start -> {node};")
        elif t.policy == "first":
            lines.append(f'  {prev} -> {node} [label="{no}", weight=10];')
        else:  # rows of a `unique` table are not tried in order: kept in a column, without an edge drawn
            lines.append(f"  {prev} -> {node} [style=invis, weight=10];")
        prev = node
        g = r.group or m("dot.keep")
        if g not in groups:  # a group sits beside the first row that leads to it
            groups.append(g)
            lines.append(f'  g{groups.index(g)} [shape=ellipse, style=filled, fillcolor="#e8f0fe", label="{_dot_text(g)}"];')
            lines.append(f"  {{ rank=same; {node}; g{groups.index(g)}; }}")
            lines.append(f'  {node} -> g{groups.index(g)} [label="{yes}"];')
        else:
            lines.append(f'  {node} -> g{groups.index(g)} [label="{yes}", constraint=false];')
    end = t.otherwise and m("dot.table", name=t.otherwise) or (t.fallback and m("dot.fallback", group=t.fallback)) \
        or m("dot.no_group")
    if ends:
        lines.append(f'  end [shape=ellipse, style=dashed, label="{_dot_text(end)}"];')
        lines.append(f'  {prev} -> end [label="{_dot_text(m("dot.none"))}"' + ("];" if t.policy == "first" else ", style=dashed];"))
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- one version's guide


@dataclass(slots=True)
class History:
    """What changed from the previous version of a site of several versions: the changes and the path of the
    change documentation (from this guide's root)."""

    changes: diffs.Changes
    page: str


@dataclass(slots=True)
class Guide:
    """One version's guide, its pages built but not yet rendered (a site of several versions first learns
    every version's pages, for the version switcher)."""

    site: Site
    pages: list[Page]
    builder: Builder

    def files(self, diagrams: bool = True) -> dict[str, str | bytes]:
        """Every file of the guide: relative path -> text (or bytes)."""
        files: dict[str, str | bytes] = dict(docs.render_many(self.pages, self.site))
        files.update(static_files())
        files.update(self.builder.search.files())
        dots = sorted(self.builder.dots.items())
        for path, text in dots:
            files[path + ".dot"] = text
        if diagrams:
            # Graphviz runs in its own processes: two at a time.
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                for (path, _), svg in zip(dots, pool.map(lambda d: docs.render_svg(d[1]), dots), strict=True):
                    files[path + ".svg"] = svg
        return files


def guide(program: ir.Program, name: str, source: str, m: Messages, diagrams: bool = True,
          progress: Callable[[int], None] | None = None, history: History | None = None,
          index: reverse.ReverseIndex | None = None) -> Guide:
    """The guide of ``program`` in the language of ``m`` (``history``: the changes from the previous
    version, for the changes boxes; ``index``: its reverse index, when already built)."""
    index = index if index is not None else reverse.build(program, progress)
    site = Site(name, program.label, validity(program, m), source,
                [(m("nav.index"), "index"), (m("nav.guide"), "guide"), (m("nav.features"), "features"),
                 (m("nav.groups"), "all-groups"), (m("nav.codes"), "codes"), (m("nav.payment"), "payment")], m.lang)
    if program.pathway_program() is not None:
        site.nav.insert(4, (m("nav.pathways"), "pathway"))
    builder = Builder(program, index, site, m, drawn=diagrams, history=history)
    return Guide(site, builder.pages(), builder)


def build_docs(program: ir.Program, name: str, source: str, diagrams: bool = True,
               progress: Callable[[int], None] | None = None, lang: str | None = None) -> dict[str, str | bytes]:
    """Every file of the guide of one version: relative path -> text (or bytes)."""
    return guide(program, name, source, messages(lang), diagrams, progress).files(diagrams)
