"""Emit: the guide's offline search index — plain scripts a page loads from ``file://`` as well as from a
server (no fetch, no module): ``search/index.js`` with the groups, lists, tables, fields and features, the
code lists' ranges and prefixes, the code systems and the messages the search shows; and the codes, one
script per code system and first character (``search/ICD10-H.js``, split by a further character while a
script would pass SHARD_BYTES), which the page loads only when a query needs them.

A code item is ``[as written, normalized, description, page, groups it can lead to]``; the script
``site.js`` matches a query normalized by its code system's rules (``H35.3`` and ``H353`` alike, by prefix),
and words by their letters with Norwegian letters and diacritics folded (``makula`` finds ``makulaødem``).
"""

from __future__ import annotations

import json

from isfdsl.analysis import reverse
from isfdsl.emit.messages import Messages

#: Bytes of one script of codes at most before it is split by a further character.
SHARD_BYTES = 400_000
#: The messages site.js shows.
SHOWN = ("search.none", "search.count", "search.within", "search.leads", "search.no_group", "kind.table", "kind.page",
         "kind.group", "kind.list", "kind.codetable", "kind.field", "kind.feature", "kind.code", "kind.within",
         "entry.prefix", "entry.range")


def _js(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class Index:
    """The search index of one guide, filled while its pages are built."""

    def __init__(self, m: Messages) -> None:
        self.m = m
        self.items: list[list[str]] = []
        self.ranges: list[list[str | None]] = []
        self.systems: dict[str, dict[str, object]] = {}
        self.codes: dict[str, list[list[object]]] = {}

    def item(self, kind: str, key: str, label: str, target: str) -> None:
        """A group, list, table, field, feature or page."""
        self.items.append([kind, key, label, target])

    def code(self, system: str, u: reverse.CodeUse, target: str) -> None:
        self.codes.setdefault(system, []).append([u.shown, u.code, "; ".join(u.titles), target, u.groups])

    def range(self, system: str, lo: str, hi: str, kind: str, shown: str, target: str | None) -> None:
        self.ranges.append([system, lo, hi, kind, shown, target])

    def system(self, system: str, ignore: str, upper: bool) -> None:
        self.systems[system] = {"ignore": ignore, "upper": upper}

    def files(self) -> dict[str, str]:
        """``search/index.js`` and the scripts of codes."""
        out: dict[str, str] = {}
        for system, codes in sorted(self.codes.items()):
            shards = _shards(codes, 1)
            self.systems.setdefault(system, {"ignore": "", "upper": True})["shards"] = sorted(shards)
            for key, part in sorted(shards.items()):
                out[f"search/{system}-{key}.js"] = f"window.ISF_SEARCH_SHARD({_js(system + '-' + key)},{_js(part)});\n"
        index = {"items": self.items, "ranges": self.ranges, "systems": self.systems,
                 "messages": {k: self.m(k) for k in SHOWN}}
        out["search/index.js"] = f"window.ISF_SEARCH = {_js(index)};\n"
        return out


def _shards(codes: list[list[object]], width: int) -> dict[str, list[list[object]]]:
    """Codes keyed by the first ``width`` characters of their normalized form, a key split by one more
    character while its script would pass SHARD_BYTES."""
    by: dict[str, list[list[object]]] = {}
    for c in codes:
        norm = str(c[1])
        by.setdefault(norm[:width], []).append(c)
    out: dict[str, list[list[object]]] = {}
    for key, part in by.items():
        if len(key) == width and len(_js(part).encode()) > SHARD_BYTES and any(len(str(c[1])) > width for c in part):
            for sub, more in _shards(part, width + 1).items():
                out.setdefault(sub, []).extend(more)
        else:
            out[key] = part
    return out
