"""Compare: what one file of episodes does under two versions — the migration of episodes between the
old and the new groups, as aggregates that grow with the number of distinct group pairs and column
values, never with the number of episodes (shared by the ``isf compare`` driver and its emitter).

Money follows the one rule of every output (docs/grouping.md, "Money in outputs, one rule"): points are
exact; each episode's refund counts as paid — rounded to whole øre, a half øre up (``ROUND_HALF_UP``,
:func:`~isfdsl.runtime.contract.round_refund`), the value ``isf group`` writes — so every total and
every change is an exact sum of øre that adds up to the per-episode file's column. Sums are
:class:`~decimal.Decimal`, never rounded; what is derived from the budget-neutral factor (points × f,
refund at f) and the factor itself are rounded once, half up (:func:`rounded`), when shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import MAX_PREC, ROUND_DOWN, ROUND_HALF_UP, Context, Decimal
from pathlib import Path
from typing import Protocol, TypeVar

from isfdsl.runtime.contract import round_refund

#: The places shown: points to a thousandth, money to the øre, the budget-neutral factor to at least
#: :data:`FACTOR_PLACES` decimals (more for larger totals: see :func:`budget_neutral`).
POINTS = Decimal("0.001")
CENT = Decimal("0.01")
FACTOR_PLACES = 10
FACTOR = Decimal(1).scaleb(-FACTOR_PLACES)
ZERO = Decimal(0)
#: Rounding in this context never fails for want of digits, and a half rounds up (the one rule).
_HALF_UP = Context(prec=MAX_PREC, rounding=ROUND_HALF_UP)


def rounded(value: Decimal, places: Decimal = CENT) -> Decimal:
    """``value`` rounded to ``places``, a half up (away from zero), whatever the decimal context says:
    the one rounding rule of a comparison, the rule of :func:`~isfdsl.runtime.contract.round_refund`."""
    return value.quantize(places, context=_HALF_UP)


def paid(refund: Decimal | None) -> Decimal:
    """An episode's refund as paid and written (:func:`round_refund`); 0 when it has none."""
    return ZERO if refund is None else round_refund(refund)

#: A group of one group system: (system, group), e.g. ("DRG", "802U").
Key = tuple[str, str]
K = TypeVar("K", Key, str)


class Outcome(Protocol):
    """What a comparison reads of a grouper's result (``runtime.Result`` has these fields)."""

    @property
    def system(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def points(self) -> Decimal: ...
    @property
    def refund(self) -> Decimal | None: ...


def label(key: Key) -> str:
    """``DRG 802U``: a group with its group system."""
    return f"{key[0]} {key[1]}".strip() or "(none)"


@dataclass(slots=True)
class Sums:
    """Episodes, points and refund of one side."""

    count: int = 0
    points: Decimal = ZERO
    refund: Decimal = ZERO

    def add(self, count: int, points: Decimal, refund: Decimal) -> None:
        self.count += count
        self.points += points
        self.refund += refund


@dataclass(slots=True)
class Flow:
    """The episodes of one cell of the migration matrix (or of one value of a ``--by`` column): how
    many, their points and refund under the old and the new version, and the first of them (its row
    number) as an example."""

    count: int = 0
    old_points: Decimal = ZERO
    new_points: Decimal = ZERO
    old_refund: Decimal = ZERO
    new_refund: Decimal = ZERO
    example: int = 0

    def add(self, row: int, old_points: Decimal, new_points: Decimal, old_refund: Decimal, new_refund: Decimal) -> None:
        """Count one episode (its refunds as paid: :func:`paid`)."""
        if not self.count or row < self.example:
            self.example = row
        self.count += 1
        self.old_points += old_points
        self.new_points += new_points
        self.old_refund += old_refund
        self.new_refund += new_refund

    def merge(self, other: Flow) -> None:
        if other.count and (not self.count or other.example < self.example):
            self.example = other.example
        self.count += other.count
        self.old_points += other.old_points
        self.new_points += other.new_points
        self.old_refund += other.old_refund
        self.new_refund += other.new_refund

    @property
    def old(self) -> Sums:
        return Sums(self.count, self.old_points, self.old_refund)

    @property
    def new(self) -> Sums:
        return Sums(self.count, self.new_points, self.new_refund)


@dataclass(slots=True)
class Tally:
    """The aggregates of a comparison. ``cells`` is the migration matrix, sparse: (old group, new
    group) -> the episodes that moved so (a group that stays is a cell on the diagonal). ``by``: column
    -> value -> the episodes with that value. ``names``: the group names each side reported."""

    columns: tuple[str, ...] = ()
    cells: dict[tuple[Key, Key], Flow] = field(default_factory=dict)
    by: dict[str, dict[str, Flow]] = field(default_factory=dict)
    old_names: dict[Key, str] = field(default_factory=dict)
    new_names: dict[Key, str] = field(default_factory=dict)
    #: whether any result of each side had no refund (no payment parameters for its sector)
    old_unpaid: int = 0
    new_unpaid: int = 0

    def add(self, row: int, old: Outcome, new: Outcome, values: Mapping[str, str] | None = None) -> None:
        """Count one episode: its result under each version and its values of the ``--by`` columns."""
        cell_key = ((old.system, old.group), (new.system, new.group))
        cell = self.cells.get(cell_key)
        if cell is None:
            cell = self.cells[cell_key] = Flow()
            self.old_names.setdefault(cell_key[0], old.name)
            self.new_names.setdefault(cell_key[1], new.name)
        numbers = (old.points, new.points, paid(old.refund), paid(new.refund))
        cell.add(row, *numbers)
        self.old_unpaid += old.refund is None
        self.new_unpaid += new.refund is None
        if values:
            for column in self.columns:
                per = self.by.setdefault(column, {})
                value = values.get(column, "")
                flow = per.get(value)
                if flow is None:
                    flow = per[value] = Flow()
                flow.add(row, *numbers)

    def merge(self, other: Tally) -> None:
        """Add another tally's counts (of other rows) to this one."""
        for cell_key, flow in other.cells.items():
            self.cells.setdefault(cell_key, Flow()).merge(flow)
        for column, per in other.by.items():
            mine = self.by.setdefault(column, {})
            for value, flow in per.items():
                mine.setdefault(value, Flow()).merge(flow)
        for key, name in other.old_names.items():
            self.old_names.setdefault(key, name)
        for key, name in other.new_names.items():
            self.new_names.setdefault(key, name)
        self.old_unpaid += other.old_unpaid
        self.new_unpaid += other.new_unpaid

    # -- what the aggregates add up to

    @property
    def rows(self) -> int:
        return sum(f.count for f in self.cells.values())

    def total(self) -> Flow:
        out = Flow()
        for flow in self.cells.values():
            out.merge(flow)
        return out

    def moved(self) -> Flow:
        """The episodes whose group (or group system) differs between the versions."""
        out = Flow()
        for (old, new), flow in self.cells.items():
            if old != new:
                out.merge(flow)
        return out

    def flows(self) -> list[tuple[Key, Key, Flow]]:
        """The cells, moves first (most episodes, then the largest change in refund), then the groups
        that stay (most episodes first); ties by the group labels."""
        def order(item: tuple[tuple[Key, Key], Flow]) -> tuple[bool, int, Decimal, str, str]:
            (old, new), f = item
            return old == new, -f.count, -abs(f.new_refund - f.old_refund), label(old), label(new)
        return [(old, new, f) for (old, new), f in sorted(self.cells.items(), key=order)]

    def per_group(self) -> dict[Key, tuple[Sums, Sums]]:
        """Group -> (its episodes under the old version, under the new), sorted by group."""
        return _regroup(((old, new, f) for (old, new), f in self.cells.items()), lambda k: k)

    def per_system(self) -> dict[str, tuple[Sums, Sums]]:
        return _regroup(((old, new, f) for (old, new), f in self.cells.items()), lambda k: k[0])

    def per_parent(self, old_parents: Mapping[Key, str | None], new_parents: Mapping[Key, str | None]) -> dict[str, tuple[Sums, Sums]]:
        """MDC (the group's parent in its catalogue; ``""`` for a group without one) -> (old, new)."""
        out: dict[str, tuple[Sums, Sums]] = {}
        for (old, new), f in self.cells.items():
            out.setdefault(old_parents.get(old) or "", (Sums(), Sums()))[0].add(f.count, f.old_points, f.old_refund)
            out.setdefault(new_parents.get(new) or "", (Sums(), Sums()))[1].add(f.count, f.new_points, f.new_refund)
        return {k: out[k] for k in sorted(out)}

    def factor(self) -> Decimal | None:
        """The budget-neutral factor (see :func:`budget_neutral`) on these episodes."""
        total = self.total()
        return budget_neutral(total.old_points, total.new_points)


def budget_neutral(old_points: Decimal, new_points: Decimal) -> Decimal | None:
    """The scale ``f`` on the new version's points that makes the new total equal the old total on
    the same episodes: ``f = Σ old points / Σ new points``, rounded half up to :func:`factor_places`
    decimals — enough that ``Σ new points × f``, rounded to the thousandth points are written with,
    is ``Σ old points`` exactly. None when the new total is zero (no scale can balance it)."""
    if not new_points:
        return None
    places = factor_places(new_points)
    # the quotient cut (not rounded) a few digits past the factor's last place, then rounded half up
    # once: the same as rounding the exact quotient
    digits = Context(prec=places + len(str(abs(int(old_points / new_points)))) + 5, rounding=ROUND_DOWN)
    return rounded(digits.divide(old_points, new_points), Decimal(1).scaleb(-places))


def factor_places(new_points: Decimal) -> int:
    """The decimals of the budget-neutral factor for a new total of ``new_points``: at least
    :data:`FACTOR_PLACES`, and 4 more than the total has digits before the point, so that the factor's
    rounding (at most half a unit of its last place) moves ``Σ new points × f`` by less than 0.00005."""
    return max(FACTOR_PLACES, len(str(abs(int(new_points)))) + 4)


def _regroup(cells: Iterable[tuple[Key, Key, Flow]], by: Callable[[Key], K]) -> dict[K, tuple[Sums, Sums]]:
    out: dict[K, tuple[Sums, Sums]] = {}
    for old, new, f in cells:
        out.setdefault(by(old), (Sums(), Sums()))[0].add(f.count, f.old_points, f.old_refund)
        out.setdefault(by(new), (Sums(), Sums()))[1].add(f.count, f.new_points, f.new_refund)
    return {k: out[k] for k in sorted(out)}


@dataclass(slots=True)
class Side:
    """One version of a comparison: where it came from, its name (``title``: system and year, e.g.
    ``ISF 2025``, or years for a package of several versions, ``ISF 2024–2025``; ``label``: the version
    label, or the title for a package of several versions, whose labels are ``versions``) and validity,
    and each group's parent (its MDC) from the package's catalogues."""

    source: str
    title: str
    label: str
    valid_from: str | None
    valid_to: str | None
    package: Path
    attributes: tuple[str, ...]
    parents: dict[Key, str | None] = field(default_factory=dict)
    prices: dict[str, Decimal] = field(default_factory=dict)
    shares: dict[str, Decimal] = field(default_factory=dict)
    versions: tuple[str, ...] = ()

    @property
    def validity(self) -> str:
        return f"valid {self.valid_from or '…'} to {self.valid_to or '…'}"

    @property
    def overridden(self) -> str:
        """The payment overrides in words (empty when none)."""
        parts = [f"unit price {'every sector' if k == '*' else k} = {v}" for k, v in self.prices.items()]
        parts += [f"ISF share {k} = {v}" for k, v in self.shares.items()]
        return ", ".join(parts)


@dataclass(slots=True)
class Comparison:
    """The outcome of a comparison: both versions, the aggregates, and what was written."""

    old: Side
    new: Side
    tally: Tally
    input: str
    episodes: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)


def shown(value: Decimal, places: Decimal = CENT) -> str:
    """A number as shown: rounded once to ``places`` (:func:`rounded`, a half up), no exponent."""
    return f"{rounded(value, places):f}"
