"""The contract types, defined once: used by the IR, the reference interpreter and the generated
packages alike — a condition of a row (:class:`Constraint`), a row and a feature of a decision table,
a group of a catalogue, the result of an episode and of a pathway, and their text forms (points exact,
refunds to whole øre)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import MAX_PREC, ROUND_HALF_UP, Context, Decimal
from typing import Literal, NamedTuple

#: (attribute, value as given, reason) for one input value that could not be used.
Problem = tuple[str, str, str]


#: What a :class:`Constraint` tests (see there).
ConstraintKind = Literal["interval", "set", "codelist", "has", "present", "bool"]


class Constraint(NamedTuple):
    """One condition (atom) of a row over one feature — the one definition, used by the IR, the
    reference interpreter and the generated tables alike. ``kind``: ``interval`` (``lo``/``hi``, None
    unbounded, exclusive where ``lo_open``/``hi_open``), ``set`` (``values``), ``codelist`` (``ref``),
    ``has`` (``values`` or ``ref``), ``present``, ``bool`` (``values`` = (True,) or (False,)).
    ``negated`` inverts it. ``text`` is the source form."""

    feature: str
    kind: ConstraintKind
    negated: bool = False
    values: tuple[object, ...] = ()
    ref: str | None = None
    lo: Decimal | None = None
    hi: Decimal | None = None
    lo_open: bool = False
    hi_open: bool = False
    text: str = ""


#: The short name the generated decision tables use for :class:`Constraint`.
C = Constraint


class Row(NamedTuple):
    """A row of a decision table: its stable id, result (group, return code), conditions and source."""

    id: str
    group: str | None
    rc: str | None
    conditions: tuple[C, ...]
    source: str
    title: str | None = None


class Feature(NamedTuple):
    """Where a decision table finds a feature in the case ``evaluate`` returns: its position, and
    whether its value is a list."""

    position: int
    is_list: bool = False


class GroupRecord(NamedTuple):
    """A group of a catalogue — the one definition, used by the IR, the reference interpreter and
    the generated catalogues alike: its code and name, its points (cost weight), the trim point (days)
    past which a stay adds ``perday`` points per day, its parent (e.g. the MDC) and its flags."""

    code: str
    name: str
    points: Decimal
    trim: int | None = None
    perday: Decimal | None = None
    parent: str | None = None
    flags: tuple[str, ...] = ()


class Result(NamedTuple):
    """The outcome for one episode: the group of one group system, the row that chose it, the return
    code, points and refund, the input problems met, and (when asked) the winning row's conditions
    each with the codes that satisfied it. Immutable (a named tuple: a third of the cost of a frozen
    dataclass, and a year of activity makes millions of them)."""

    system: str
    table: str
    group: str
    name: str
    rule: str
    return_code: str
    points: Decimal
    refund: Decimal | None
    problems: tuple[Problem, ...] = ()
    explanation: tuple[tuple[str, tuple[str, ...]], ...] | None = None

    def as_dict(self) -> dict[str, object]:
        """The result as plain values: points exact with at least three decimals (:func:`points_text`),
        the refund in kroner with two decimals, rounded half up to whole øre (:func:`round_refund`),
        problems as ``attribute=value: reason`` joined by ``; ``."""
        return {"system": self.system, "group": self.group, "name": self.name, "rule": self.rule,
                "return_code": self.return_code, "points": points_text(self.points),
                "refund": refund_text(self.refund), "problems": describe(self.problems)}


_CENT = Decimal("0.01")
RESULT_FIELDS = ("system", "group", "name", "rule", "return_code", "points", "refund", "problems")
#: Points are written with this many decimals (more only where the definitions give more: never rounded).
POINTS_PLACES = 3


def points_text(points: Decimal) -> str:
    """Points as written in every output: exact, with :data:`POINTS_PLACES` decimals or, where the
    value has more, all of its own (``0.6`` -> ``"0.600"``)."""
    exponent = points.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -POINTS_PLACES:
        points = points.quantize(_POINTS_QUANTUM, context=_WIDE)
    return str(points)


_POINTS_QUANTUM = Decimal(1).scaleb(-POINTS_PLACES)
#: Quantizing in this context never fails for want of digits, and a half rounds up.
_WIDE = Context(prec=MAX_PREC, rounding=ROUND_HALF_UP)


def round_refund(refund: Decimal) -> Decimal:
    """A refund as paid and written in every output: in kroner to whole øre (two decimals), a half
    øre rounded up (away from zero: ``ROUND_HALF_UP``), whatever the decimal context says."""
    return refund.quantize(_CENT, context=_WIDE)


def refund_text(refund: Decimal | None) -> str:
    """A refund as written in text outputs: :func:`round_refund`, two decimals; empty when there is none."""
    return "" if refund is None else str(round_refund(refund))


def describe(problems: Iterable[Problem]) -> str:
    return "; ".join(f"{attr}={raw!r}: {reason}" if attr else reason for attr, raw, reason in problems)


@dataclass(frozen=True, slots=True)
class PathwayResult:
    """The outcome for one pathway: its group (e.g. a TFG) and the results of its member episodes. When
    the pathway group is financed (points above zero and not flagged ``unfinanced``), its points replace
    the members' points; otherwise the members keep theirs. ``points`` and ``refund`` are what is paid."""

    result: Result
    members: tuple[Result, ...]
    financed: bool
    points: Decimal
    refund: Decimal | None

    def as_dict(self) -> dict[str, object]:
        """The pathway's result as plain values (see :meth:`Result.as_dict`); ``problems`` also holds
        the member episodes' problems, each after ``episode K:`` (K counting members from 1)."""
        out = self.result.as_dict()
        members = [f"episode {k}: {describe(r.problems)}" for k, r in enumerate(self.members, 1) if r.problems]
        if members:
            out["problems"] = "; ".join(p for p in (str(out["problems"]), *members) if p)
        out.update({"financed": "yes" if self.financed else "no", "members": len(self.members),
                    "member_groups": " ".join(r.group for r in self.members),
                    "member_points": points_text(sum((r.points for r in self.members), Decimal(0))),
                    "paid_points": points_text(self.points), "paid_refund": refund_text(self.refund)})
        return out


PATHWAY_FIELDS = (*RESULT_FIELDS, "financed", "members", "member_groups", "member_points", "paid_points", "paid_refund")
