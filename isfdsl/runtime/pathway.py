"""Pathways: the pathway record gathered from its member episodes, and the settlement (the pathway
group's points replace the members' when it is financed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from isfdsl.runtime.contract import GroupRecord, PathwayResult, Result
from isfdsl.runtime.convert import to_list


class _Grouped(Protocol):
    @property
    def group(self) -> str: ...


def gather(pathway: object, episodes: object, members: Sequence[_Grouped], rules: Mapping[str, str]) -> dict[str, object]:
    """The pathway record: the values given with the pathway, and those gathered from the member
    episodes (``rules``: attribute -> an episode attribute, ``group`` or ``count``)."""
    record: dict[str, object] = dict(pathway) if isinstance(pathway, Mapping) else {}
    eps = [e if isinstance(e, Mapping) else {} for e in episodes] if isinstance(episodes, (list, tuple)) else []
    for name, source in rules.items():
        if source == "count":
            record[name] = len(eps)
        elif source == "group":
            record[name] = [r.group for r in members if r.group]
        else:
            values: list[object] = []
            for e in eps:
                values.extend(to_list(e.get(source), lambda x: x))
            record[name] = values
    return record


def financed(points: Decimal, flags: Sequence[str]) -> bool:
    """Whether a pathway group is financed at pathway level: points above zero, not flagged ``unfinanced``."""
    return points > 0 and "unfinanced" not in flags


def settle(result: Result, members: Sequence[Result], record: GroupRecord | None) -> PathwayResult:
    """Pathway points replace the members' points when the pathway group is financed."""
    if record is not None and financed(record.points, record.flags):
        return PathwayResult(result, tuple(members), True, result.points, result.refund)
    points = sum((r.points for r in members), Decimal(0))
    refunds = [r.refund for r in members if r.refund is not None]
    return PathwayResult(result, tuple(members), False, points, sum(refunds, Decimal(0)) if refunds else None)
