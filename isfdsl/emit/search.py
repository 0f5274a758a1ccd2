"""Emit: the guide's offline search index — plain scripts a page loads from ``file://`` as well as from a
server (no fetch, no module): ``search/index.js`` with the groups, lists, tables, fields and features, the
code lists' ranges and prefixes, the code systems and the messages the search shows; and the codes, one
script per code system and first character (``search/ICD10-H.js``, split by a further character while a
script would pass SHARD_BYTES), which the page loads only when a query needs them; and the words of the codes'
descriptions, one script per first letter (``search/words-d.js``, split the same way), each holding the codes
whose descriptions have a word beginning there.

A code item is ``[as written, normalized, description, page, groups it can lead to]``; the script
``site.js`` matches a query normalized by its code system's rules (``H35.3`` and ``H353`` alike, by prefix),
and words by their letters with Norwegian letters and diacritics folded (``makula`` finds ``makulaødem``).
A word script is ``{"items": [[code system, as written, description, page, groups]…], "words": {folded word:
[item…]}}``; a word that many codes share keeps WORD_CODES of them (a query shows no more), so that
``uspesifisert`` in every third ICD-10 description cannot make a script too large.
"""

from __future__ import annotations

import json
import re
import unicodedata

from isfdsl.analysis import reverse
from isfdsl.emit.messages import Messages

#: Bytes of one script of codes at most before it is split by a further character.
SHARD_BYTES = 400_000
#: Codes kept for one word of the descriptions at most: more than the search shows.
WORD_CODES = 100
#: Letters of a word of a description at least for it to be searched (not "av", "og", "i").
WORD_MIN = 3
#: The messages site.js shows.
SHOWN = ("search.none", "search.count", "search.within", "search.leads", "search.no_group", "kind.table", "kind.page",
         "kind.group", "kind.list", "kind.codetable", "kind.field", "kind.feature", "kind.code", "kind.within",
         "entry.prefix", "entry.range")


def fold(text: str) -> str:
    """Lower case, Norwegian letters spelled out and diacritics dropped: site.js's ``fold``."""
    text = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The searched words of a description, folded, each once, in order."""
    return list(dict.fromkeys(w for w in re.split(r"[^a-z0-9]+", fold(text)) if len(w) >= WORD_MIN))


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
        word_shards = _word_shards(self._words(), 1)
        for key, found in sorted(word_shards.items()):
            out[f"search/words-{key}.js"] = f"window.ISF_SEARCH_WORDS({_js(key)},{_js(_word_script(found))});\n"
        index = {"items": self.items, "ranges": self.ranges, "systems": self.systems, "words": sorted(word_shards),
                 "messages": {k: self.m(k) for k in SHOWN}}
        out["search/index.js"] = f"window.ISF_SEARCH = {_js(index)};\n"
        return out

    def _words(self) -> dict[str, list[list[object]]]:
        """Each word of the codes' descriptions and the codes it is in (WORD_CODES at most, in code order)."""
        out: dict[str, list[list[object]]] = {}
        for system, codes in sorted(self.codes.items()):
            for c in codes:
                for w in words(str(c[2])):
                    have = out.setdefault(w, [])
                    if len(have) < WORD_CODES:
                        have.append([system, c[0], c[2], c[3], c[4]])
        return out


def _word_script(part: dict[str, list[list[object]]]) -> dict[str, object]:
    """A word script: its codes once each, and each word with the positions of its codes."""
    items: list[list[object]] = []
    at: dict[str, int] = {}
    refs: dict[str, list[int]] = {}
    for w, codes in sorted(part.items()):
        for c in codes:
            target = str(c[3])
            if target not in at:
                at[target] = len(items)
                items.append(c)
            refs.setdefault(w, []).append(at[target])
    return {"items": items, "words": refs}


def _word_shards(by_word: dict[str, list[list[object]]], width: int) -> dict[str, dict[str, list[list[object]]]]:
    """Words keyed by their first ``width`` letters, a key split by one more letter while its script would pass
    SHARD_BYTES (a word shorter than the longer key stays under its own)."""
    by: dict[str, dict[str, list[list[object]]]] = {}
    for w, codes in by_word.items():
        by.setdefault(w[:width], {})[w] = codes
    out: dict[str, dict[str, list[list[object]]]] = {}
    for key, part in by.items():
        longer = {w: c for w, c in part.items() if len(w) > width}
        if len(_js(_word_script(part)).encode()) > SHARD_BYTES and longer:
            if len(longer) < len(part):
                out[key] = {w: c for w, c in part.items() if len(w) <= width}
            out.update(_word_shards(longer, width + 1))
        else:
            out[key] = part
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
