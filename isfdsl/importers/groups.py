"""Read what the definition tables lack: the list of groups of a year's ISF rules (*regelverk*) —
code, name, points (cost weight), trim point, per-day points, flags — and the payment parameters
(unit price, ISF shares), from CSV or XLSX, for ``isf import norddrg --groups/--payment``. Columns are
found by their header, Norwegian or English (:data:`ROLES`), or as ``--column ROLE=HEADER`` says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from isfdsl.importers.tables import ImportError_, cell_text, csv_records, located, norm

#: Role -> the headers that name it, as compared (:func:`norm`: case, accents, spaces and
#: punctuation aside; a trailing ``(…)`` note dropped). The first of each is the default layout.
ROLES: dict[str, tuple[str, ...]] = {
    "code": ("drg", "kode", "code", "drgkode", "drgcode", "gruppe", "group", "gruppekode", "groupcode"),
    "name": ("navn", "name", "drgnavn", "drgname", "gruppenavn", "groupname", "beskrivelse", "description", "tekst",
             "text"),
    "points": ("poeng", "kostnadsvekt", "weight", "costweight", "vekt", "drgpoeng", "drgvekt", "points",
               "relativeweight", "drgweight"),
    "trim": ("trimpunkt", "trim", "trimpoint", "trimpunktdager", "trimpointdays"),
    "perday": ("poengperdag", "poengprdag", "perdag", "poengperliggedag", "poengprliggedag", "poengperdagovertrimpunkt",
               "poengprdagovertrimpunkt", "dagvekt", "perday", "perdaypoints", "pointsperday", "dayweight"),
    "flags": ("flagg", "flags", "flag"),
}
#: Roles of the payment file: one parameter a row.
PAYMENT_ROLES: dict[str, tuple[str, ...]] = {
    "parameter": ("parameter", "navn", "name", "key", "nokkel"),
    "value": ("verdi", "value", "sats", "belop", "amount"),
    "source": ("kilde", "source"),
}
#: Sectors of the imported schema (the `Sector` enumeration) and the words that name them.
SECTORS: dict[str, tuple[str, ...]] = {
    "somatic": ("somatic", "somatikk", "s"),
    "phv": ("phv", "psykiskhelsevern", "p"),
    "tsb": ("tsb", "rus", "t"),
}
_GROUP = re.compile(r"[0-9A-Z][0-9A-Za-z]*")
_FLAG = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """One group of the list; ``None`` where the list leaves it empty."""

    code: str
    name: str | None
    points: Decimal | None
    trim: int | None
    perday: Decimal | None
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GroupList:
    """A group list: its groups by code, the header found for each role, the headers not read."""

    source: str
    groups: dict[str, GroupInfo]
    columns: dict[str, str]
    ignored: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # roles the list gives no column for, with the headers that might


@dataclass(slots=True)
class PaymentParameters:
    """Unit price (for every sector, and per sector) and ISF shares per sector, each with where it
    comes from."""

    unit_price: Decimal | None = None
    prices: dict[str, Decimal] = field(default_factory=dict)
    shares: dict[str, Decimal] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # "unit_price", "price:SECTOR", "share:SECTOR" -> source


def records(path: Path) -> Iterator[tuple[int, Sequence[object]]]:
    """The rows of a CSV/TSV file or of the first sheet of an .xlsx workbook, with their numbers."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from isfdsl.importers.sheets import first_sheet_records

        yield from first_sheet_records(path)
    else:
        yield from csv_records(path)


def _layout(path: Path, rows: Iterator[tuple[int, Sequence[object]]], roles: dict[str, tuple[str, ...]],
            mapping: dict[str, str], required: tuple[str, ...]) -> tuple[int, dict[str, int], list[str]]:
    """The header row (the first of the first 20 rows that names every required role and every role
    ``mapping`` names), the column of each role found in it, and its headers as written. A header
    ``mapping`` gives a role is that role's, even when it is one of another role's usual names."""
    for role in mapping:
        if role not in roles:
            raise ImportError_(f"--column {role}=…: no such role; the roles are {', '.join(roles)}")
    explicit = {norm(header): role for role, header in mapping.items()}
    usual = {role: names for role, names in roles.items() if role not in mapping}
    needed = (*required, *(r for r in mapping if r not in required))
    for n, values in rows:
        headers = [cell_text(v) or "" for v in values]
        found: dict[str, int] = {}
        for i, h in enumerate(headers):
            key = norm(h)
            match = explicit.get(key) or next((r for r, names in usual.items() if key in names), None) if h else None
            if match is not None:
                if match in found:
                    raise located(path, f"the columns {headers[found[match]]!r} and {h!r} both give the {match}", row=n)
                found[match] = i
        if all(r in found for r in needed):
            return n, found, headers
        if n >= 20:
            break
    expect = "; ".join(f"{r}: {mapping[r]!r} (--column)" if r in mapping else f"{r}: {' / '.join(map(repr, roles[r][:4]))}"
                       for r in needed)
    raise ImportError_(f"{path}: no header row naming the columns {expect} in the first 20 rows "
                       "(name others with --column ROLE=HEADER)")


def read_groups(path: Path, mapping: dict[str, str] | None = None) -> GroupList:
    """The group list in ``path`` (CSV, TSV or XLSX). ``mapping`` names the header of a role
    (``{"points": "Vekt 2025"}``). Raises :class:`ImportError_` naming row and column."""
    rows = records(path)
    n, columns, headers = _layout(path, rows, ROLES, mapping or {}, ("code",))
    if "name" not in columns and "points" not in columns:
        raise located(path, f"neither a name nor a points column (found {', '.join(map(repr, filter(None, headers)))}; "
                      "name them with --column name=HEADER / points=HEADER)", row=n)
    groups: dict[str, GroupInfo] = {}
    first: dict[str, int] = {}
    for n, values in rows:
        if not any(cell_text(v) for v in values):
            continue
        g = _group(path, n, values, columns, headers)
        if g.code in groups:
            raise located(path, f"group {g.code} is listed twice (also row {first[g.code]})", row=n,
                          column=headers[columns["code"]])
        groups[g.code], first[g.code] = g, n
    used = set(columns.values())
    ignored = tuple(h for i, h in enumerate(headers) if h and i not in used)
    return GroupList(path.name, groups, {r: headers[i] for r, i in columns.items()}, ignored,
                     _missing(path.name, columns, ignored))


#: Roles whose absence leaves the imported grouper without what a group list is for.
_WANTED = {"name": "no group names", "points": "no points and no refunds"}


def _missing(source: str, columns: dict[str, int], ignored: tuple[str, ...]) -> tuple[str, ...]:
    """A warning for each of the roles name and points no header gives, naming the headers not read
    and suggesting the likeliest (one that contains a usual name of the role, like `Vekt 2015`)."""
    out = []
    for role, consequence in _WANTED.items():
        if role in columns:
            continue
        usual = ", ".join(repr(h) for h in ROLES[role][:5])
        likely = [h for h in ignored if any(name in norm(h) for name in ROLES[role])]
        hint = (f"; if {likely[0]!r} gives the {role}, name it: --column {role}={_shell(likely[0])}" if likely else
                f"; name the column that gives them with --column {role}=HEADER" if ignored else "")
        unread = f"headers not read: {', '.join(map(repr, ignored))}" if ignored else "no other headers"
        out.append(f"{source}: no {role} column ({consequence}): none of the usual headers ({usual}, …); "
                   f"{unread}{hint}")
    return tuple(out)


def _shell(header: str) -> str:
    """A header as one shell word: in double quotes unless it is letters, digits and `_.-` only."""
    return header if re.fullmatch(r"[\w.-]+", header) else '"' + re.sub(r'(["$`\\])', r"\\\1", header) + '"'


def _group(path: Path, n: int, values: Sequence[object], columns: dict[str, int], headers: list[str]) -> GroupInfo:
    """One row of the group list."""
    def col(role: str) -> str:
        return headers[columns[role]] if role in columns else role

    def cell(role: str) -> str:
        i = columns.get(role)
        text = cell_text(values[i]) if i is not None and i < len(values) else ""
        if text is None:
            raise located(path, f"expected text or a number, found {values[i]!r}", row=n, column=col(role))  # type: ignore[index]
        return text

    code = cell("code")
    if not _GROUP.fullmatch(code):
        raise located(path, f"{code[:40]!r} is not a group code (digits and letters, the first a digit or capital)",
                      row=n, column=col("code"))
    name = cell("name")
    if name and re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", name):
        raise located(path, "a control character in the name", row=n, column=col("name"))
    trim = cell("trim")
    if trim and not re.fullmatch(r"\d{1,6}", trim):
        raise located(path, f"{trim[:40]!r} is not a number of days", row=n, column=col("trim"))
    flags = tuple(f for f in re.split(r"[,;\s]+", cell("flags")) if f)
    bad = next((f for f in flags if not _FLAG.fullmatch(f)), None)
    if bad is not None:
        raise located(path, f"{bad[:40]!r} is not a flag name (letters, digits, `_`)", row=n, column=col("flags"))
    return GroupInfo(code, name or None, _number(path, cell("points"), n, col("points")), int(trim) if trim else None,
                     _number(path, cell("perday"), n, col("perday")), flags)


def _number(path: Path, text: str, row: int, column: str, most: Decimal | None = None) -> Decimal | None:
    """A non-negative decimal written with a point or a decimal comma (``0,523``), or None when empty."""
    if not text:
        return None
    t = re.sub(r"[\s\u00a0\u202f]", "", text)
    if "," in t and "." not in t:
        t = t.replace(",", ".")
    try:
        value = Decimal(t)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0 or abs(value.adjusted()) > 9 or (most is not None and value > most):
        limit = f" between 0 and {most}" if most is not None else ", not negative"
        raise located(path, f"{text[:40]!r} is not a number{limit}", row=row, column=column)
    return Decimal(format(value.normalize(), "f"))  # 50000, not 5E+4; 0.5, not 0.50


def read_payment(path: Path) -> PaymentParameters:
    """Payment parameters from a file of rows `parameter, value[, source]`: `unit price` (or
    `enhetspris`), optionally followed by a sector, for the unit price; `share` (`ISF-andel`,
    `andel`) followed by a sector (default: somatic) for an ISF share."""
    rows = records(path)
    _, columns, headers = _layout(path, rows, PAYMENT_ROLES, {}, ("parameter", "value"))
    out = PaymentParameters()
    for n, values in rows:
        cells = [cell_text(v) or "" for v in values]
        if not any(cells):
            continue
        get = {r: cells[i] if i < len(cells) else "" for r, i in columns.items()}
        kind, sector = _parameter(get["parameter"])
        if kind is None:
            raise located(path, f"{get['parameter'][:40]!r}: expected `unit price [SECTOR]` or `share [SECTOR]` "
                          f"(sectors: {', '.join(SECTORS)})", row=n, column=headers[columns["parameter"]])
        value = _number(path, get["value"], n, headers[columns["value"]], Decimal(1) if kind == "share" else None)
        if value is None:
            raise located(path, "empty", row=n, column=headers[columns["value"]])
        add(out, kind, sector, value, get.get("source") or f"{path.name}, row {n}")
    return out


def add(params: PaymentParameters, kind: str, sector: str | None, value: Decimal, source: str) -> None:
    """Record one parameter: ``kind`` ``unit_price`` (for every sector, or ``sector``'s) or ``share``."""
    if kind == "share":
        params.shares[sector or "somatic"] = value
        params.sources[f"share:{sector or 'somatic'}"] = source
    elif sector is None:
        params.unit_price = value
        params.sources["unit_price"] = source
    else:
        params.prices[sector] = value
        params.sources[f"price:{sector}"] = source


_KINDS = {"unitprice": "unit_price", "enhetspris": "unit_price", "share": "share", "isfshare": "share",
          "isfandel": "share", "andel": "share"}


def _parameter(text: str) -> tuple[str | None, str | None]:
    words = [norm(w) for w in re.split(r"[\s:=/]+", text.replace("_", " ")) if norm(w)]
    for size in (2, 1):
        kind = _KINDS.get("".join(words[:size]))
        if kind is not None:
            rest = "".join(words[size:])
            if not rest:
                return kind, None
            sector = sector_of(rest)
            return (kind, sector) if sector else (None, None)
    return None, None


def sector_of(word: str) -> str | None:
    """The sector a word names (``somatikk`` -> ``somatic``), or None."""
    n = norm(word)
    return next((s for s, names in SECTORS.items() if n in names), None)


def report(listed: Iterable[str], produced: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(codes of the list the logic never produces, groups the logic produces that the list lacks),
    each sorted."""
    a, b = set(listed), set(produced)
    return tuple(sorted(a - b)), tuple(sorted(b - a))
