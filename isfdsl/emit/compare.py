"""Emit: a comparison of two versions on one file of episodes (``isf compare``) as a page in HTML and
Markdown (through the document model of :mod:`isfdsl.emit.docs`), charts as static SVG drawn here at
build time (no script, no network), and a workbook with a sheet per table (:mod:`isfdsl.emit.excel`).
Their words come from the message catalogue (:mod:`isfdsl.emit.messages`: Norwegian bokmål by default,
or English) and their numbers are written as that language writes them. Numbers are Decimal throughout
and follow the one money rule of :mod:`isfdsl.analysis.migration`: sums exact, rounded (a half up)
only where derived from the factor, when shown."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from isfdsl.analysis.migration import CENT, POINTS, Comparison, Flow, Key, Side, Sums, Tally, budget_neutral, label, rounded
from isfdsl.emit import docs, excel
from isfdsl.emit.messages import Messages, messages
from isfdsl.runtime.contract import points_text

#: Largest |change| rows drawn in a bar chart (the tables hold them all).
BARS = 30
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def write(c: Comparison, out: Path, top: int = 12, lang: str | None = None) -> list[Path]:
    """Write index.html, index.md, the charts under ``charts/`` and compare.xlsx into ``out``, their
    words in ``lang`` (default: the catalogue's, bokmål)."""
    m = messages(lang)
    page, charts = build(c, top, m)
    old, new = names(c.old, c.new)
    # the short names in the header and the title, the long labels once beside them (they were in both, twice)
    site = docs.Site(out.name or "compare", f"{old} → {new}", f"{c.old.label} → {c.new.label}",
                     f"{c.old.source} {m('cmp.and').strip()} {c.new.source}: {c.input}", lang=m.lang, search=None)
    files: dict[str, str | bytes] = {**docs.render_pages([page], site), **docs.static_files()}
    files.update(charts)
    written = docs.write_docs(files, out)
    excel.write_workbook(out / "compare.xlsx", sheets(c, m), page.title)
    return [*written, out / "compare.xlsx"]


# ---------------------------------------------------------------------- numbers as a language writes them


def number(value: Decimal, m: Messages, places: Decimal | None = CENT, sign: bool = False) -> str:
    """A number with thousands separated: rounded (a half up) to ``places``; with ``places`` None,
    points as written everywhere (exact, at least three decimals: :func:`points_text`)."""
    shown = Decimal(points_text(value)) if places is None else rounded(value, places)
    return m.grouped(f"{shown:{'+' if sign else ''},f}")


def count(n: int, m: Messages) -> str:
    return m.grouped(f"{n:,}")


def percent(n: int, of: int, m: Messages) -> str:
    return m.grouped(f"{100 * n / of:.1f} %") if of else "0 %"


def factor_text(f: Decimal, m: Messages) -> str:
    return m.grouped(f"{f:f}")


def validity(side: Side, m: Messages) -> str:
    return m("valid", start=side.valid_from or "…", end=side.valid_to or "…")


def period(side: Side, m: Messages) -> str:
    """A side's validity where a heading already says it is one ("Gyldighet: 2024-01-01 til 2024-12-31")."""
    return m("cmp.period", start=side.valid_from or "…", end=side.valid_to or "…")


def names(old: Side, new: Side) -> tuple[str, str]:
    """The two sides' short names ("ISF 2024", "ISF 2025"), or their labels where the names are the same (a
    preliminary and a final version of one year)."""
    return (old.title, new.title) if old.title != new.title else (old.label, new.label)


def overridden(side: Side, m: Messages) -> str:
    """A side's payment overrides in words (empty when none)."""
    parts = [f"{m('change.unit_price') if k == '*' else m('change.price', member=k)} = {m.amount(v)}" for k, v in side.prices.items()]
    parts += [f"{m('change.share', member=k)} = {m.number(v)}" for k, v in side.shares.items()]
    return ", ".join(parts)


def _pair_header(m: Messages) -> list[str]:
    return [m(f"cmp.{k}") for k in ("episodes_before", "episodes_after", "points_before", "points_after", "points_change",
                                    "refund_before", "refund_after", "refund_change")]


def _pair_row(a: Sums, b: Sums, m: Messages) -> list[str]:
    return [count(a.count, m), count(b.count, m), number(a.points, m, None), number(b.points, m, None),
            number(b.points - a.points, m, None, True), number(a.refund, m), number(b.refund, m), number(b.refund - a.refund, m, CENT, True)]


# ---------------------------------------------------------------------- the page


def build(c: Comparison, top: int = 12, m: Messages | None = None) -> tuple[docs.Page, dict[str, str | bytes]]:
    """The page and the charts (path -> SVG text)."""
    m = m or messages()
    t, old, new = c.tally, c.old, c.new
    total, moved = t.total(), t.moved()
    factor = t.factor()
    short_old, short_new = names(old, new)
    page = docs.Page("index", m("cmp.title", old=short_old, new=short_new))
    charts: dict[str, str | bytes] = {}
    page.p(m("cmp.intro_1", n=count(total.count, m)), docs.code(c.input), m("cmp.intro_2", version=old.title),
           docs.code(old.source), m("cmp.intro_3", validity=validity(old, m), version=new.title), docs.code(new.source),
           m("cmp.intro_4", validity=validity(new, m), moved=count(moved.count, m), percent=percent(moved.count, total.count, m)))
    for side, key in ((old, "cmp.overridden_old"), (new, "cmp.overridden_new")):
        if side.prices or side.shares:
            page.p(m(key, version=side.label, what=overridden(side, m)))
    if c.episodes:
        page.p(m("cmp.episodes_file"), docs.code(c.episodes), m("cmp.episodes_file_2"))
    page.p(m("cmp.money_rule"))
    page.h(2, m("cmp.h_totals"), "totals")
    rows = [[m("cmp.episodes"), count(total.count, m), count(total.count, m), ""],
            [m("cmp.points"), number(total.old_points, m, None), number(total.new_points, m, None),
             number(total.new_points - total.old_points, m, None, True)],
            [m("cmp.refund"), number(total.old_refund, m), number(total.new_refund, m),
             number(total.new_refund - total.old_refund, m, CENT, True)]]
    if factor is not None:
        scaled_points, scaled_refund = total.new_points * factor, rounded(total.new_refund * factor)
        rows += [[m("cmp.points_f"), number(total.old_points, m, None), number(scaled_points, m, POINTS),
                  number(rounded(scaled_points, POINTS) - total.old_points, m, POINTS, True)],
                 [m("cmp.refund_f"), number(total.old_refund, m), number(scaled_refund, m),
                  number(scaled_refund - total.old_refund, m, CENT, True)]]
    page.grid(["", m("cmp.before_version", version=short_old), m("cmp.after_version", version=short_new), m("cmp.change")], rows)
    for n, side in ((t.old_unpaid, old), (t.new_unpaid, new)):
        if n:
            page.p(m("cmp.unpaid", n=count(n, m), version=side.label))
    page.h(2, m("cmp.h_factor"), "factor")
    page.p(m("cmp.factor_intro"))
    page.blocks.append(docs.Pre(formula(total, factor, m)))
    page.p(m("cmp.factor_after"))
    page.h(2, m("cmp.h_systems"), "systems")
    page.grid([m("col.system"), *_pair_header(m)], [[s, *_pair_row(a, b, m)] for s, (a, b) in t.per_system().items()])
    page.h(2, m("cmp.h_flows"), "flows")
    shown = min(top, sum(1 for a, b, _ in t.flows() if a != b))  # the moves the chart draws: "the 12 largest" of 8 said 12
    page.p(m("cmp.flows_intro", top=shown))
    charts["charts/flows.svg"] = flow_chart(t, top, m)
    page.blocks.append(docs.Figure("charts/flows", m("cmp.flows_alt", top=shown)))
    page.grid([m("cmp.before"), m("cmp.after"), m("cmp.episodes"), *_pair_header(m)[2:], m("cmp.example")],
              [[label(a), label(b), count(f.count, m), *_pair_row(f.old, f.new, m)[2:], str(f.example)] for a, b, f in t.flows()],
              nowrap=(0, 1))
    page.h(2, m("cmp.h_groups"), "groups")
    page.grid([m("col.group"), m("col.name"), *_pair_header(m)],
              [[label(k), t.new_names.get(k) or t.old_names.get(k) or "", *_pair_row(a, b, m)] for k, (a, b) in t.per_group().items()],
              nowrap=(0,))
    page.h(2, m("cmp.h_mdc"), "mdc")
    if not old.parents or not new.parents:
        page.p(m("cmp.no_parents", versions=m("cmp.and").join(s.label for s in (old, new) if not s.parents)))
    mdcs = t.per_parent(old.parents, new.parents)
    charts["charts/mdc.svg"] = change_chart([(m("cmp.mdc", mdc=k) if k else m("cmp.no_mdc"), a, b) for k, (a, b) in mdcs.items()], m)
    page.blocks.append(docs.Figure("charts/mdc", m("cmp.mdc_alt")))
    page.grid([m("col.mdc"), *_pair_header(m)], [[k or m("cmp.no_mdc"), *_pair_row(a, b, m)] for k, (a, b) in mdcs.items()])
    for n, column in enumerate(t.columns, 1):
        per = t.by.get(column, {})
        page.h(2, m("cmp.h_by", column=column), f"by-{n}")
        if set(per) <= {""}:
            page.p(m("cmp.by_missing", column=column))
        path = f"charts/by-{n}.svg"
        charts[path] = change_chart([(v or m("cmp.blank"), f.old, f.new) for v, f in sorted(per.items())], m)
        page.blocks.append(docs.Figure(path.removesuffix(".svg"), m("cmp.by_alt", column=column)))
        page.grid([column, *_pair_header(m), m("cmp.by_factor")],
                  [[v or m("cmp.blank"), *_pair_row(f.old, f.new, m), _factor(f, m)] for v, f in sorted(per.items())])
    page.h(2, m("cmp.h_versions"), "versions")
    page.grid(["", m("cmp.before"), m("cmp.after")], _versions(old, new, m))
    return page, charts


def formula(total: Flow, factor: Decimal | None, m: Messages | None = None) -> str:
    """The budget-neutral factor with its formula and numbers."""
    m = m or messages()
    if factor is None:
        return m("cmp.formula_none")
    places = -int(factor.as_tuple().exponent)
    scaled = rounded(total.new_refund * factor)
    return "\n".join([
        m("cmp.formula_1", old=number(total.old_points, m, None), new=number(total.new_points, m, None),
          f=factor_text(factor, m), places=places),
        m("cmp.formula_2", scaled=number(total.new_points * factor, m, POINTS), old=number(total.old_points, m, None)),
        m("cmp.formula_3", f=factor_text(factor, m), new=number(total.new_refund, m), scaled=number(scaled, m),
          old=number(total.old_refund, m), change=number(scaled - total.old_refund, m, CENT, True))])


def _factor(f: Flow, m: Messages) -> str:
    value = budget_neutral(f.old_points, f.new_points)
    return "—" if value is None else factor_text(value, m)


# ---------------------------------------------------------------------- the workbook


def sheets(c: Comparison, m: Messages | None = None) -> list[excel.Sheet]:
    """A sheet per table of the page: totals with the factor, group systems, the migration matrix,
    groups, MDCs, each ``--by`` column (with its factor), and the versions. Numbers are numbers."""
    m = m or messages()
    t, old, new = c.tally, c.old, c.new
    total = t.total()
    factor = t.factor()
    pair = [m(f"cmp.{k}") for k in ("episodes_before", "episodes_after", "points_before", "points_after",
                                    "refund_before", "refund_after")]

    def cells(a: Sums, b: Sums) -> list[excel.Cell]:  # points to the thousandth and kroner to the øre, as the page shows them
        return [a.count, b.count, rounded(a.points, POINTS), rounded(b.points, POINTS), rounded(a.refund), rounded(b.refund)]

    out: list[excel.Sheet] = []
    totals: list[list[excel.Cell]] = [[m("cmp.episodes"), total.count, total.count],
                                      [m("cmp.points"), rounded(total.old_points, POINTS), rounded(total.new_points, POINTS)],
                                      [m("cmp.refund"), rounded(total.old_refund), rounded(total.new_refund)],
                                      [m("cmp.moved"), None, t.moved().count]]
    if factor is not None:
        totals += [[m("cmp.factor_row"), None, factor],
                   [m("cmp.points_f"), rounded(total.old_points, POINTS), rounded(total.new_points * factor, POINTS)],
                   [m("cmp.refund_f"), rounded(total.old_refund), rounded(total.new_refund * factor)]]
    out.append((m("cmp.sheet_totals"), ["", m("cmp.before_version", version=old.label), m("cmp.after_version", version=new.label)],
                totals))
    out.append((m("cmp.sheet_systems"), [m("col.system"), *pair], [[s, *cells(a, b)] for s, (a, b) in t.per_system().items()]))
    out.append((m("cmp.sheet_matrix"), [m("cmp.system_before"), m("cmp.group_before"), m("cmp.system_after"), m("cmp.group_after"),
                                        m("cmp.episodes"), *pair[2:], m("cmp.example")],
                [[a[0], a[1], b[0], b[1], *cells(f.old, f.new)[1:], f.example] for a, b, f in t.flows()]))
    out.append((m("cmp.sheet_groups"), [m("col.system"), m("col.group"), m("col.name"), *pair],
                [[k[0], k[1], t.new_names.get(k) or t.old_names.get(k) or "", *cells(a, b)] for k, (a, b) in t.per_group().items()]))
    out.append((m("cmp.sheet_mdc"), [m("col.mdc"), *pair],
                [[k or m("cmp.no_mdc"), *cells(a, b)] for k, (a, b) in t.per_parent(old.parents, new.parents).items()]))
    for column in t.columns:
        out.append((m("cmp.sheet_by", column=column), [column, *pair, m("cmp.by_factor")],
                    [[v, *cells(f.old, f.new), budget_neutral(f.old_points, f.new_points)]
                     for v, f in sorted(t.by.get(column, {}).items())]))
    out.append((m("cmp.sheet_versions"), ["", m("cmp.before"), m("cmp.after")], list(_versions(old, new, m))))
    return out


def _versions(old: Side, new: Side, m: Messages) -> list[list[excel.Cell]]:
    return [[m("cmp.version"), " | ".join(old.versions) or old.label, " | ".join(new.versions) or new.label],
            [m("cmp.definitions"), old.source, new.source],
            [m("cmp.validity"), period(old, m), period(new, m)],
            [m("cmp.overrides"), overridden(old, m) or m("cmp.no_overrides"), overridden(new, m) or m("cmp.no_overrides")]]


# ---------------------------------------------------------------------- charts (SVG)


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'font-family="system-ui, sans-serif" font-size="12">\n<title>{escape(title)}</title>\n'
            + "\n".join(body) + "\n</svg>\n")


def _f(x: float) -> str:
    return f"{x:.1f}"


def flow_chart(t: Tally, top: int, m: Messages | None = None) -> str:
    """The ``top`` largest moves (old group ≠ new group) as ribbons from the old groups on the left to
    the new groups on the right, each as wide as its episodes."""
    m = m or messages()
    moves = [(a, b, f) for a, b, f in t.flows() if a != b][:top]
    width = 760
    if not moves:
        return _svg(width, 40, m("cmp.h_flows"), [f'<text x="10" y="24">{escape(m("cmp.chart_no_moves"))}</text>'])
    lefts: dict[Key, int] = {}
    rights: dict[Key, int] = {}
    for a, b, f in moves:
        lefts[a] = lefts.get(a, 0) + f.count
        rights[b] = rights.get(b, 0) + f.count
    gap, pad = 8, 24
    height = max(160, 22 * max(len(lefts), len(rights)) + 2 * pad)
    shown_total = sum(f.count for _, _, f in moves)
    scale = (height - 2 * pad - gap * (max(len(lefts), len(rights)) - 1)) / shown_total
    x1, x2, bar = 200.0, 560.0, 10.0

    def place(nodes: dict[Key, int]) -> dict[Key, float]:
        y, out = float(pad), {}
        for key in sorted(nodes, key=lambda k: (-nodes[k], label(k))):
            out[key] = y
            y += max(nodes[key] * scale, 2.0) + gap
        return out

    ly, ry = place(lefts), place(rights)
    colour = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(ly)}
    body = []
    lcur, rcur = dict(ly), dict(ry)
    for a, b, f in moves:
        h = max(f.count * scale, 1.0)
        ya, yb = lcur[a], rcur[b]
        lcur[a] += h
        rcur[b] += h
        xa, xb, mid = x1 + bar, x2, (x1 + bar + x2) / 2
        tip = m("cmp.chart_flow", old=label(a), new=label(b), n=count(f.count, m),
                points=number(f.new_points - f.old_points, m, None, True), refund=number(f.new_refund - f.old_refund, m, CENT, True))
        body.append(f'<path d="M{_f(xa)},{_f(ya)} C{_f(mid)},{_f(ya)} {_f(mid)},{_f(yb)} {_f(xb)},{_f(yb)} '
                    f'L{_f(xb)},{_f(yb + h)} C{_f(mid)},{_f(yb + h)} {_f(mid)},{_f(ya + h)} {_f(xa)},{_f(ya + h)} Z" '
                    f'fill="{colour[a]}" fill-opacity="0.45"><title>{escape(tip)}</title></path>')
    for nodes, ys, x, anchor, dx in ((lefts, ly, x1, "end", -6.0), (rights, ry, x2, "start", bar + 6)):
        for key, y in ys.items():
            h = max(nodes[key] * scale, 2.0)
            fill = colour[key] if nodes is lefts else "#555"
            body.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(bar)}" height="{_f(h)}" fill="{fill}"/>')
            body.append(f'<text x="{_f(x + dx)}" y="{_f(y + h / 2 + 4)}" text-anchor="{anchor}">'
                        f'{escape(label(key))} ({count(nodes[key], m)})</text>')
    body.append(f'<text x="{_f(x1)}" y="14" text-anchor="middle" font-weight="bold">{escape(m("cmp.chart_before"))}</text>')
    body.append(f'<text x="{_f(x2 + bar / 2)}" y="14" text-anchor="middle" font-weight="bold">{escape(m("cmp.chart_after"))}</text>')
    return _svg(width, int(height), m("cmp.chart_flows"), body)


def change_chart(items: Sequence[tuple[str, Sums, Sums]], m: Messages | None = None) -> str:
    """Two panels of horizontal bars from a zero line: the change in points and the change in refund
    for each item (the :data:`BARS` largest changes in refund, in the items' order). Each panel keeps
    room for its value labels on both sides of its bars (refunds to whole kroner there; the tooltip
    gives øre), so that the labels of one panel never run into the other's."""
    m = m or messages()
    rows = [(name, b.points - a.points, b.refund - a.refund) for name, a, b in items]
    if len(rows) > BARS:
        keep = set(sorted(range(len(rows)), key=lambda i: (-abs(rows[i][2]), i))[:BARS])
        rows = [r for i, r in enumerate(rows) if i in keep]
    label_w, panel, gap, row_h, top, room = 170, 360, 20, 20, 30, 95
    width = label_w + 2 * panel + gap + 10
    if not rows:
        return _svg(width, 40, m("cmp.chart_changes"), [f'<text x="10" y="24">{escape(m("cmp.chart_nothing"))}</text>'])
    height = top + row_h * len(rows) + 10
    body = []
    panels = ((m("cmp.chart_points"), None, None), (m("cmp.chart_refund"), CENT, Decimal(1)))
    for p, (title, places, drawn) in enumerate(panels):
        x0 = label_w + p * (panel + gap)
        values = [r[1] if p == 0 else r[2] for r in rows]
        most = max((abs(v) for v in values), default=Decimal(0)) or Decimal(1)
        zero = x0 + panel / 2
        half = panel / 2 - room
        body.append(f'<text x="{_f(zero)}" y="14" text-anchor="middle" font-weight="bold">{escape(title)}</text>')
        body.append(f'<line x1="{_f(zero)}" y1="{top - 6}" x2="{_f(zero)}" y2="{height - 6}" stroke="#888"/>')
        for i, v in enumerate(values):
            y = top + i * row_h
            w = float(abs(v) / most) * half
            x = zero if v >= 0 else zero - w
            fill = "#2b7bb9" if v >= 0 else "#c0392b"
            body.append(f'<rect x="{_f(x)}" y="{y}" width="{_f(w)}" height="{row_h - 6}" fill="{fill}">'
                        f'<title>{escape(rows[i][0])}: {escape(number(v, m, places, True))}</title></rect>')
            tx, anchor = (zero + w + 3, "start") if v >= 0 else (zero - w - 3, "end")
            body.append(f'<text x="{_f(tx)}" y="{y + row_h - 10}" text-anchor="{anchor}" font-size="10">'
                        f'{escape(number(v, m, drawn or places, True))}</text>')
    for i, (name, _, _) in enumerate(rows):
        y = top + i * row_h + row_h - 10
        short = name if len(name) <= 26 else name[:25] + "…"
        body.append(f'<text x="{label_w - 6}" y="{y}" text-anchor="end"><title>{escape(name)}</title>{escape(short)}</text>')
    return _svg(width, height, m("cmp.chart_changes"), body)
