"""The grouper: an episode evaluated into a case, each decision table's row, the group's points and
its refund under the payment parameters; many episodes lazily, or Arrow batches."""

from __future__ import annotations

import copy
import difflib
import importlib
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as _dc_field
from decimal import Decimal
from typing import Any

from isfdsl.runtime.arrow import _ARROW_TYPES, _arrow_value, _places
from isfdsl.runtime.contract import POINTS_PLACES, RESULT_FIELDS, GroupRecord, Problem, Result
from isfdsl.runtime.convert import remember, shown
from isfdsl.runtime.index import DecisionTable

#: Unknown keys whose reason (the closest attribute) is remembered: how many, and how long at most.
_UNKNOWN_LIMIT = 1 << 10
_REMEMBERED_KEY = 64


def closest(key: str, attributes: Sequence[str]) -> str | None:
    """The attribute closest to ``key`` when one is close (``drugz``: ``drugs``), as :mod:`difflib`
    finds it; None otherwise."""
    close = difflib.get_close_matches(key, attributes, n=1)
    return close[0] if close else None


def unknown_reason(key: str, attributes: Sequence[str]) -> str:
    """Why an episode's ``key`` is ignored, naming the closest attribute when one is close."""
    close = closest(key, attributes)
    return "not an attribute, ignored" + (f"; did you mean {close}?" if close else "")


def unknown_columns(columns: Sequence[str], attributes: Sequence[str]) -> str:
    """Columns that are no attribute, each with the closest attribute when one is close."""
    return ", ".join(f"{c} (did you mean {close}?)" if (close := closest(c, attributes)) else c for c in columns)


class UnknownColumns(UserWarning):
    """Columns of a batch that are no attribute (nor kept): not grouped, noted once per call."""


#: Builds a Result from a tuple of all its fields: half the cost of the named tuple's keyword ``__new__``.
_new_result = tuple.__new__
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Payment:
    unit_price: Decimal | None
    share_position: int | None
    shares: Mapping[str, Decimal]
    stay_position: int | None
    price_position: int | None = None
    prices: Mapping[str, Decimal] = _dc_field(default_factory=dict)


class Grouper:
    """Groups episodes: ``evaluate`` turns an episode into the case tuple (attributes, then derived
    features) and its problems; each decision table then picks a row."""

    def __init__(self, evaluate: Callable[[Mapping[str, object], list[Problem]], tuple[object, ...]],
                 tables: Sequence[DecisionTable], catalogues: Mapping[str, Mapping[str, GroupRecord]],
                 payment: Payment | None, attributes: Sequence[str] | None = None) -> None:
        self.evaluate = evaluate
        #: The attributes ``evaluate`` reads: an episode's other keys are named in the problems (None:
        #: not checked).
        self.attributes = None if attributes is None else tuple(attributes)
        self._known: frozenset[object] | None = None if attributes is None else frozenset(attributes)
        self._unknown: dict[str, str] = {}  # an unknown key -> the reason given (with the closest attribute)
        self.tables = {t.name: t for t in tables}
        targets = {t.otherwise for t in tables}
        self.default = next((t.name for t in tables if t.name not in targets), tables[0].name)
        self.catalogues = catalogues
        self.payment = payment
        self._catalogue = {t.name: catalogues.get(t.system, {}) for t in tables}
        self._no_refund = payment is None or payment.share_position is None
        #: Decimals of the points column in Arrow output: those of the most precise points or per-day
        #: points of the catalogues, at least POINTS_PLACES (a group's points never have more).
        self.points_places = max([POINTS_PLACES, *(_places(v) for records in catalogues.values()
                                                    for r in records.values() for v in (r.points, r.perday) if v is not None)])

    def group(self, episode: Mapping[str, object], table: str | None = None, explain: bool = False) -> Result:
        t = self.tables.get(table or self.default)
        if t is None:
            raise KeyError(f"no decision table {table!r}; the tables are {', '.join(self.tables)}")
        problems: list[Problem] = []
        try:
            if episode.__class__ is not dict and not isinstance(episode, Mapping):
                problems.append(("", repr(episode)[:80], f"an episode is a mapping of attribute values, not {type(episode).__name__}"))
                episode = {}
            case = self.evaluate(episode, problems)
            known = self._known
            if known is not None and not episode.keys() <= known:
                self._name_unknown(episode, known, problems)
            return self._result(t, case, problems, explain)
        except Exception as exc:  # noqa: BLE001 -- totality: a defect must not lose the episode
            problems.append(("", "", f"internal error: {type(exc).__name__}: {exc}"))
            return Result(t.system, t.name, t.fallback or "", self._name(t, t.fallback), "error", t.fallback_rc,
                          Decimal(0), None, tuple(problems))

    def _name_unknown(self, episode: Mapping[str, object], known: frozenset[object], problems: list[Problem]) -> None:
        """Name each key of ``episode`` that is no attribute, after the attributes' problems: a
        misspelt attribute (``drugz``) would otherwise count as missing without a word."""
        for key, raw in episode.items():
            if key in known:
                continue
            name = shown(key)
            reason = self._unknown.get(name)
            if reason is None:
                reason = unknown_reason(name, self.attributes or ())
                if len(name) <= _REMEMBERED_KEY:
                    remember(self._unknown, name, reason, _UNKNOWN_LIMIT)
            problems.append((name, shown(raw), reason))

    def _name(self, t: DecisionTable, group: str | None) -> str:
        record = self.catalogues[t.system].get(group or "")
        return record.name if record else ""

    def _result(self, t: DecisionTable, case: tuple[object, ...], problems: list[Problem], explain: bool) -> Result:
        k = t.select(case)
        if k >= 0:
            group, rule, rc = t.outcomes[k]
        elif t.otherwise is not None:
            return self._result(self.tables[t.otherwise], case, problems, explain)
        else:
            group, rule, rc = t.fallback, "fallback", t.fallback_rc
        for post, on_group, gate in t.post_gates:
            if gate is not None and (group if on_group else rc) not in gate:
                continue
            if t.passes(post, case, group, rc):
                group = post.group or group
                rc = post.rc or rc
        record = self._catalogue[t.name].get(group or "")
        if record is None:
            name, points = "", _ZERO
        else:
            name, points = record.name, record.points if record.perday is None else self.points(record, case)
        return _new_result(Result, (t.system, t.name, group or "", name, rule, rc, points,
                                    None if self._no_refund else self.refund(points, case),
                                    tuple(problems) if problems else (),
                                    (t.explain(t.rows[k], case)[1] if k >= 0 else ()) if explain else None))

    def points(self, record: GroupRecord | None, case: tuple[object, ...]) -> Decimal:
        if record is None:
            return _ZERO
        points = record.points
        pay = self.payment
        if record.perday is not None and record.trim is not None and pay is not None and pay.stay_position is not None:
            stay = case[pay.stay_position]
            if isinstance(stay, int) and stay > record.trim:
                points += record.perday * (stay - record.trim)
        return points

    def refund(self, points: Decimal, case: tuple[object, ...]) -> Decimal | None:
        pay = self.payment
        if pay is None or pay.share_position is None:
            return None
        price = pay.unit_price
        if pay.price_position is not None:
            price = pay.prices.get(str(case[pay.price_position]), price)
        share = pay.shares.get(str(case[pay.share_position]))
        return None if share is None or price is None else points * price * share

    def with_payment(self, unit_price: Decimal | None = None, prices: Mapping[str, Decimal] | None = None,
                     shares: Mapping[str, Decimal] | None = None) -> Grouper:
        """A grouper like this one with the unit price (for every member, or per member) and ISF
        shares overridden: to compute refunds under other payment parameters."""
        pay = self.payment
        if pay is None:
            raise ValueError("these definitions declare no payment parameters")
        new_prices = dict(pay.prices)
        if unit_price is not None:
            new_prices = dict.fromkeys(new_prices, unit_price)
        new_prices.update(prices or {})
        payment = replace(pay, unit_price=unit_price if unit_price is not None else pay.unit_price,
                               prices=new_prices, shares={**pay.shares, **(shares or {})})
        other = copy.copy(self)
        other.payment = payment
        other._no_refund = payment.share_position is None
        return other

    def ignoring(self, keys: Iterable[str]) -> Grouper:
        """A grouper like this one that ignores ``keys`` without naming them (a package of several
        versions: an attribute of another version is not a mistake)."""
        other = copy.copy(self)
        if self._known is not None:
            other._known = self._known | frozenset(keys)
        return other

    def group_many(self, episodes: Iterable[Mapping[str, object]], table: str | None = None) -> Iterator[Result]:
        """One result per episode, in order, lazily; nothing is dropped."""
        for episode in episodes:
            yield self.group(episode, table)

    def group_arrow(self, batches: Iterable[Any], keep: Sequence[str] = (), table: str | None = None) -> Iterator[Any]:
        """Group Arrow record batches (or tables) into record batches of results, one row per input row.
        ``keep`` names input columns carried over first (for example an episode id). Only the columns
        that are attributes are grouped; any other column that ``keep`` does not name is noted once,
        as a :class:`UnknownColumns` warning. The signature fits Spark ``mapInArrow``, Ray
        ``map_batches`` and ``pyarrow.dataset`` scanners; pyarrow is imported on first use only."""
        pa = importlib.import_module("pyarrow")
        noted = False
        for original in batches:
            batch = original
            names = list(batch.schema.names)
            known = self._known
            used = names if known is None else [n for n in names if n in known]
            if len(used) < len(names):
                other = [n for n in names if n not in used and n not in keep]
                if other and not noted:
                    warnings.warn(UnknownColumns(f"{len(other)} column(s) are no attribute and are not grouped: "
                                                f"{unknown_columns(other, self.attributes or ())}"), stacklevel=2)
                    noted = True
                batch = batch.select(used)
            rows = batch.to_pylist()
            results = [self.group(row, table) for row in rows]
            columns: dict[str, Any] = {name: original.column(name) for name in keep}
            for name in RESULT_FIELDS:
                columns[name] = pa.array([_arrow_value(r, name) for r in results], type=_ARROW_TYPES[name](pa, self.points_places))
            yield pa.RecordBatch.from_pydict(columns)

    def arrow_schema(self, keep_fields: Sequence[Any] = ()) -> Any:
        """The schema of ``group_arrow`` output (with the given kept ``pyarrow.field``s first): money
        as exact decimals, ``points`` as ``decimal128(38, points_places)``, ``refund`` as
        ``decimal128(38, 2)`` (rounded as :func:`round_refund`)."""
        pa = importlib.import_module("pyarrow")
        return pa.schema([*keep_fields, *(pa.field(n, _ARROW_TYPES[n](pa, self.points_places)) for n in RESULT_FIELDS)])
