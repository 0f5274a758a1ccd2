"""Input conversion: raw episode values (texts, numbers, lists) to typed values, and the bounded
memories that make each text be converted once (every cache stops growing, or starts afresh, at a
limit)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from itertools import chain
from marshal import dumps as _marshal
from typing import Any, TypeVar

from isfdsl.runtime.codesyntax import CodePattern
from isfdsl.runtime.contract import Problem

T = TypeVar("T")
V = TypeVar("V")

#: Caches keyed by one code or value stop growing at this size (they stay correct, only slower).
CACHE_LIMIT = 1 << 17
#: Caches keyed by combinations (a list of codes, several attributes) are smaller and start afresh when
#: full: a year of activity holds far more combinations than codes, and memory must stay bounded.
COMBINATION_LIMIT = 1 << 15

#: Memories are bounded in bytes as well as in entries, so that distinct long lists cannot fill them
#: with gigabytes (estimates: twice the :func:`footprint` of the key). An entry of at most SMALL_BYTES is
#: small: a memory holds at most its limit of them. A heavier one counts by its bytes: past
#: MEMORY_BYTES of those, the memory starts afresh; one of more than ENTRY_BYTES is never remembered
#: (a list of some hundreds of codes is converted each time it comes: it seldom comes twice). So a
#: memory that starts afresh holds at most limit × SMALL_BYTES + MEMORY_BYTES (8 + 16 MiB for a
#: combination memory, 32 + 16 MiB for one of single codes or values). The memories that stop growing
#: instead keep small keys only.
MEMORY_BYTES = 1 << 24
ENTRY_BYTES = 1 << 16
SMALL_BYTES = 1 << 8

K = TypeVar("K")

#: id(memory) -> the bytes its entries hold (estimated), for the memories that start afresh.
_HELD: dict[int, int] = {}


def footprint(x: object) -> int:
    """About how many bytes ``x`` takes in memory: a text by its length; a tuple, set or list eight
    times the length of its ``marshal`` record (written at C speed: about an object's header per short
    code, a code's characters eightfold, so long texts weigh more than they take); any other value a
    few dozen bytes (values in memories are codes, numbers, members)."""
    cls = x.__class__
    if cls is str:
        return 56 + len(x)  # type: ignore[arg-type]
    if cls is not tuple and cls is not frozenset and cls is not list:
        return 48
    items: Any = x
    try:
        return 8 * len(_marshal(items, 2))
    except ValueError:  # an item marshal does not write (a decimal, a date): weighed item by item
        return _weigh(x)


def _weigh(x: object) -> int:
    """``footprint`` of a value marshal does not write, item by item."""
    cls = x.__class__
    if cls is str:
        return 56 + len(x)  # type: ignore[arg-type]
    if cls is not tuple and cls is not frozenset and cls is not list:
        return 48
    items: Any = x
    return 64 + 8 * len(items) + sum(map(_weigh, items))


def _room(cache: dict[Any, Any], key: object, value: object, limit: int) -> bool:
    """Whether ``key`` and ``value`` may be stored in ``cache``; when they may, ``cache`` is emptied
    first if it holds ``limit`` entries, or would pass MEMORY_BYTES with them. Entries of at most
    SMALL_BYTES are counted by number alone (``limit`` of them are small), heavier ones by bytes."""
    # the value weighs about what its key weighs (a list of codes and their converted values, a
    # combination of values and the features derived from them): the key alone is weighed, twice
    size = 2 * (56 + len(key) if isinstance(key, str) else footprint(key))
    if size <= SMALL_BYTES:
        if len(cache) >= limit:
            cache.clear()
            _HELD.pop(id(cache), None)
        return True
    if size > ENTRY_BYTES:
        return False
    if len(_HELD) > 1 << 12:  # memories that are gone leave their ids behind: forget them all at times
        _HELD.clear()
    held = _HELD.get(id(cache), 0) + size
    if len(cache) >= limit or held > MEMORY_BYTES:
        cache.clear()
        held = size
    _HELD[id(cache)] = held
    return True


def remember(cache: dict[K, V], key: K, value: V, limit: int = COMBINATION_LIMIT) -> None:
    """Store ``value`` under ``key``, emptying ``cache`` first when it holds ``limit`` entries or
    MEMORY_BYTES; an entry of more than ENTRY_BYTES is not stored."""
    if _room(cache, key, value, limit):
        cache[key] = value


def remember_again(cache: dict[K, V], seen: set[int], key: K, value: V, limit: int = COMBINATION_LIMIT) -> None:
    """``remember``, but only the second time ``key`` is offered (see :func:`again`). For memories of
    combinations (every derived feature per combination of attributes): a year's first pass meets
    most of them once, and keeping each costs more than the few met again save (on NordDRG 2015's
    distinct cases, 8 % of the features' combinations came again)."""
    if again(seen, key, limit) and _room(cache, key, value, limit):
        cache[key] = value


def again(seen: set[int], key: object, limit: int) -> bool:
    """Whether ``key`` was offered before: its hash is in ``seen``; if not, it is noted there (at most
    ``limit`` hashes; then ``seen`` starts afresh). Equal hashes of unequal keys only let a key into
    a memory early."""
    h = hash(key)
    if h in seen:
        return True
    if len(seen) >= limit:
        seen.clear()
    seen.add(h)
    return False


def small(key: object) -> bool:
    """Whether a memory that stops growing (rather than starting afresh) may keep ``key``."""
    return footprint(key) <= SMALL_BYTES


def blank(raw: object) -> bool:
    """Whether an input value counts as missing: None, empty text or an empty list."""
    return raw is None or raw == "" or (isinstance(raw, (list, tuple)) and len(raw) == 0)


#: The most digits an integer may have (exact decimal arithmetic keeps 28): a longer one is an invalid
#: value, named in the problems. (Python cannot even turn an integer of 4,300 digits into text.)
MAX_DIGITS = 28
_TOO_LONG = f"an integer of more than {MAX_DIGITS} digits"
_BOUND = 10 ** MAX_DIGITS


def _text(raw: object) -> str:
    """``raw`` as text for a converter; an integer of more than MAX_DIGITS digits is invalid."""
    if isinstance(raw, int) and not -_BOUND < raw < _BOUND:
        raise ValueError(_TOO_LONG)
    return str(raw)


#: The most characters of an input value a problem shows: a longer one is cut there, its length given.
SHOWN_CHARS = 100


def shown(raw: object) -> str:
    """``raw`` as text in a problem: a value holding an integer too long to be turned into text (which
    raises ValueError) is described instead, and a text of more than SHOWN_CHARS characters is cut."""
    try:
        text = _text(raw)
    except ValueError:
        return f"<{_TOO_LONG}>" if isinstance(raw, int) else f"<a value holding {_TOO_LONG}>"
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}… <{len(text):,} characters>"


#: An integer as text: ASCII digits only (``int()`` would take any Unicode digit, ``７８`` and ``1_000``).
_INTEGER = re.compile(r"[+-]?[0-9]+")


def to_int(raw: object, lo: int | None, hi: int | None, bounds: str) -> int:
    """An integer within [lo, hi]; ``bounds`` names the range in the error."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        n = raw
        if not -_BOUND < n < _BOUND:
            raise ValueError(_TOO_LONG)
    else:
        text = "" if isinstance(raw, bool) else _text(raw).strip()
        if not _INTEGER.fullmatch(text):
            raise ValueError("not an integer")
        if len(text.lstrip("+-").lstrip("0")) > MAX_DIGITS:  # never handed to int(): beyond 4,300 digits it raises
            raise ValueError(_TOO_LONG)
        n = int(text)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise ValueError(f"outside {bounds}")
    return n


def to_decimal(raw: object) -> Decimal:
    text = "" if isinstance(raw, bool) else _text(raw).strip()
    if not text.isascii() or "_" in text:  # Decimal() too takes any Unicode digit, and `1_000`
        raise ValueError("not a number")
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not d.is_finite():
        raise ValueError("not a finite number")
    return d


_TRUE = frozenset({"1", "true", "yes", "j", "ja"})
_FALSE = frozenset({"0", "false", "no", "n", "nei"})


def to_bool(raw: object) -> bool:
    text = _text(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not a boolean")


def to_enum(raw: object, members: Mapping[str, str], enum: str) -> str:
    """The member name for a member's value or name."""
    member = members.get(_text(raw).strip())
    if member is None:
        raise ValueError(f"not a value of {enum}")
    return member


def code_syntax(pattern: str) -> CodePattern:
    """A code system's ``syntax``, compiled once when a package is imported: a code matches it in
    full or is invalid. Matched by :class:`CodePattern`, in time linear in the code's length whatever
    the pattern (Python's ``re`` backtracks: ``(A|AA)+B`` would take minutes over a 41-character code)."""
    return CodePattern(pattern)


def to_code(raw: object, ignore: str, upper: bool = True, syntax: CodePattern | None = None,
            system: str = "") -> str | None:
    """A code with the ignored characters removed, trimmed and (unless ``upper`` is false) in upper
    case; None when empty. ValueError when it does not match ``syntax`` (of code system ``system``)."""
    if raw is None:
        return None
    text = _text(raw)
    for ch in ignore:
        text = text.replace(ch, "")
    text = text.strip()
    if upper:
        text = text.upper()
    if not text:
        return None
    if syntax is not None and not syntax.fullmatch(text):
        raise ValueError(f"not a valid {system} code")
    return text


def to_pair(raw: object, ignore: str, upper: bool = True, syntax: CodePattern | None = None,
            system: str = "") -> tuple[str, str | None] | None:
    """A (first, second) code pair from ``"A|B"``, ``"A&B"``, a sequence or a mapping; None when the
    first code is empty (a pair is only ever looked up through its first code). ValueError when
    either code does not match ``syntax``."""
    first: object
    second: object = None
    if isinstance(raw, str):
        parts = raw.split("|", 1) if "|" in raw else raw.split("&", 1)
        first = parts[0]
        second = parts[1] if len(parts) > 1 else None
    elif isinstance(raw, Mapping):
        first, second = raw.get("first"), raw.get("second")
    elif isinstance(raw, (list, tuple)):
        first = raw[0] if raw else None
        second = raw[1] if len(raw) > 1 else None
    else:
        first = raw
    a = to_code(first, ignore, upper, syntax, system)
    return None if a is None else (a, to_code(second, ignore, upper, syntax, system))


def to_text(raw: object) -> str:
    return _text(raw)


#: A date as text: ISO ``2024-12-31``, or ``31.12.2024`` as Norwegian spreadsheets write it (day and
#: month of one or two digits, the year of four: with dots and a four-digit year the order is certain).
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DOTTED_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
DATE_FORMS = "YYYY-MM-DD or DD.MM.YYYY"


def to_date(raw: object) -> str:
    """A date as ISO text (``YYYY-MM-DD``, which orders as the dates do) from a ``datetime.date`` or
    ``datetime.datetime`` (its day), or from text ``YYYY-MM-DD`` or ``DD.MM.YYYY``; a day the calendar
    does not have (``31.02.2024``) or any other text is invalid."""
    if isinstance(raw, datetime.datetime):
        return raw.date().isoformat()
    if isinstance(raw, datetime.date):
        return raw.isoformat()
    text = "" if isinstance(raw, bool) else _text(raw).strip()
    iso = _ISO_DATE.fullmatch(text)
    if iso is not None:
        year, month, day = iso.groups()
    else:
        dotted = _DOTTED_DATE.fullmatch(text)
        if dotted is None:
            raise ValueError(f"not a date ({DATE_FORMS})")
        day, month, year = dotted.groups()
    try:
        return datetime.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        raise ValueError("not a day of the calendar") from None


def to_list(raw: object, convert: Callable[[object], T | None]) -> list[T]:
    """A list from a sequence, or from text separated by commas, semicolons or white space; empty
    items are skipped and every item is converted (an invalid item raises: see :func:`to_items`)."""
    items: Sequence[object]
    if isinstance(raw, str):
        items = raw.replace(",", " ").replace(";", " ").split()
    elif isinstance(raw, (list, tuple)):
        items = raw
    else:
        items = [raw]
    out: list[T] = []
    for item in items:
        if item is None or item == "":
            continue
        value = convert(item)
        if value is not None:
            out.append(value)
    return out


class PartlyInvalid(ValueError):
    """A list some of whose items are invalid: ``value`` holds the valid items (the invalid ones left
    out), ``problems`` an (item as given, reason) pair for each invalid item."""

    def __init__(self, value: tuple[Any, ...], problems: tuple[tuple[str, str], ...]) -> None:
        super().__init__("; ".join(reason for _, reason in problems))
        self.value = value
        self.problems = problems


def to_items(raw: object, convert: Callable[[object], T | None]) -> tuple[T, ...]:
    """A list as :func:`to_list` reads it, except that an invalid item is left out rather than making
    the whole list invalid: raises :class:`PartlyInvalid` (the valid items, each invalid item's
    problem) when any item is invalid."""
    bad: list[tuple[str, str]] = []

    def item(x: object) -> T | None:
        try:
            return convert(x)
        except ValueError as exc:
            bad.append((shown(x), str(exc)))
            return None

    value = tuple(to_list(raw, item))
    if bad:
        raise PartlyInvalid(value, tuple(bad))
    return value


class _Missing:
    """The sentinel of a memory look-up that found nothing (None is a remembered answer)."""

    __slots__ = ()


#: A converter of one raw input value (see ``memo``).
Converter = Callable[[object], T | None]


def memo(convert: Callable[[object], T | None], known: dict[Any, T | None] | None = None,
         limit: int = CACHE_LIMIT) -> Converter[T]:
    """A converter that remembers its answer (or its error) for every text, and every list of texts,
    it has seen: in a year of activity the same codes and numbers recur, so each is converted once.
    Blank input converts to None. (A closure, not an object with ``__call__``: the call is cheaper.)

    ``known`` maps each valid text (a list as the tuple of its items) to its value: the generated
    ``evaluate`` looks values up there directly and calls the converter only on a miss (see
    ``convert``). It holds at most ``limit`` entries and starts afresh when full. Only texts are
    remembered, so a look-up never meets a key that is equal but converts differently (False == 0)."""
    known = {} if known is None else known
    known[None] = None
    #: Each invalid text seen -> its reason, or (a list with invalid items) its valid items and problems.
    failed: dict[Hashable, str | tuple[tuple[Any, ...], tuple[tuple[str, str], ...]]] = {}

    def converted(raw: object) -> T | None:
        return None if blank(raw) else convert(raw)

    def call(raw: object) -> T | None:
        cls = raw.__class__
        key: Any = raw
        if cls is list or cls is tuple:
            key = tuple(key)
        elif cls is not str:
            return converted(raw)
        try:
            hit = known.get(key, _MISS)
        except TypeError:  # an unhashable element (a list inside)
            return converted(raw)
        if hit is not _MISS:
            return hit  # type: ignore[return-value]
        reason = failed.get(key)
        if reason is not None:
            if reason.__class__ is str:
                raise ValueError(reason)
            raise PartlyInvalid(*reason)  # a new exception each time: a raised one keeps its traceback
        if not _texts(raw):
            return converted(raw)
        try:
            hit = converted(raw)
        except PartlyInvalid as exc:
            remember(failed, key, (exc.value, exc.problems), limit)
            raise
        except ValueError as exc:
            remember(failed, key, str(exc), limit)
            raise
        _keep(known, key, hit, limit)
        return hit

    return call


def _keep(known: dict[Any, Any], key: object, value: object, limit: int) -> None:
    """Store a converted value in a memory of known values, which starts afresh (knowing only that
    None converts to None) when it holds ``limit`` entries or MEMORY_BYTES (see :func:`remember`)."""
    if _room(known, key, value, limit):
        known[None] = None
        known[key] = value


def memo_list(item: Converter[T], item_known: dict[Any, T | None], known: dict[Any, tuple[T, ...] | None],
              limit: int = COMBINATION_LIMIT) -> Converter[tuple[T, ...]]:
    """A converter of lists that remembers like ``memo`` (``known``: each list of texts seen, as a
    tuple). A list not seen before whose items are all known to ``item`` (``item_known``: its
    dictionary) is converted by look-ups alone — no call per item — and kept only when it comes a
    second time (a year's first pass meets most lists once); any other goes through
    ``to_items`` and ``item``. Items that are blank or convert to None are left out, as ``to_list``
    leaves them out; an invalid item is left out too (:class:`PartlyInvalid` names it), and such a
    list is remembered with its problems, never among the known lists (``evaluate`` reports them each
    time)."""
    whole = memo(lambda raw: to_items(raw, item), known, limit)
    lookup = item_known.__getitem__
    seen: set[int] = set()

    def call(raw: object) -> tuple[T, ...] | None:
        cls = raw.__class__
        items: Any = raw
        if (cls is list or cls is tuple) and items:
            try:
                value = tuple([v for v in map(lookup, items) if v is not None])
            except (KeyError, TypeError):  # an item not known (new, invalid, not a text) or unhashable
                return whole(raw)
            key = tuple(items)
            if again(seen, key, limit):
                _keep(known, key, value, limit)
            return value
        return whole(raw)

    return call


def convert(converter: Converter[T], raw: object, attribute: str, problems: list[Problem]) -> T | None:
    """What ``evaluate`` does when a value is not among the known ones (first sight of a text, a value
    that is not a text, an invalid one): convert it, or record the problem and give None."""
    if raw is None:
        return None
    try:
        return converter(raw)
    except PartlyInvalid as exc:  # a list: its valid items, each invalid item named
        problems.extend([(attribute, item, reason) for item, reason in exc.problems])
        return exc.value  # type: ignore[return-value]
    except ValueError as exc:
        problems.append((attribute, shown(raw), str(exc)))
        return None


_MISS = _Missing()


def _texts(raw: object) -> bool:
    """Whether ``raw`` is a text, or a list of texts and tuples of texts: only such inputs are
    remembered, so a look-up never meets a key that is equal but converts differently (False == 0,
    1 == 1.0 — and no other value equals a text). ``join`` checks at C speed."""
    if raw.__class__ is str:
        return True
    try:
        "".join(chain.from_iterable(raw))  # type: ignore[arg-type]
    except TypeError:
        return False
    return True
