"""Inputs: the official NordDRG positional grouping string (165 comma-separated fields) read as an
episode of the schema ``isf import norddrg`` writes. Used by ``isf group --input-format
norddrg-string``, the NordDRG tests and benchmarks; it knows nothing of the compiler.

Section numbers refer to ``SEMANTICS.md`` (shipped beside the official data).
"""

from __future__ import annotations

from itertools import compress

#: Positions in the grouping string (§1).
FIELDS = 165
SLOTS = range(5, 65, 2)
PROCEDURES = slice(65, 164)  # the official grouper reads up to index 163 (an off-by-one it has)
_SLOT_END, _PROCEDURE_COUNT = SLOTS.stop, PROCEDURES.stop - PROCEDURES.start
_SECONDARY = SLOTS.start + 2  # the first field of slot 2
#: The fields of slots 2-30 all empty, each closed by its comma: no secondary diagnosis.
_NO_SECONDARY = "," * (_SLOT_END - _SECONDARY)


def parse_grouping_string(text: str) -> dict[str, object]:
    """One grouping string (165 comma-separated fields, §1) as an episode of the imported schema:
    ``*`` deleted, slot 1 the principal diagnosis pair, slots 2–30 secondary pairs, fields 65–163
    procedures (lists as tuples). Missing trailing fields count as empty.

    Read for speed (a year of activity is millions of strings): the fields up to the principal
    diagnosis are split one by one; slots 2-30, when all empty (58 commas in a row: one test at C
    speed), are skipped without being split, else split and paired and filtered at C speed; the
    procedure fields stay one text, split only up to its first empty field when nothing but empty
    fields follow (the usual case: most of the 99 are empty). ``tests/test_norddrg.py`` pins this
    against a plain reading."""
    if "*" in text:
        text = text.replace("*", "")
    fields = text.rstrip("\r\n").split(",", _SECONDARY)
    if len(fields) <= _SECONDARY:
        fields += [""] * (_SECONDARY + 1 - len(fields))
    rest = fields[_SECONDARY]
    sdx: tuple[tuple[str, str], ...] = ()
    if rest.startswith(_NO_SECONDARY):
        rest = rest[len(_NO_SECONDARY):]
    else:
        slots = rest.split(",", _SLOT_END - _SECONDARY)
        if len(slots) <= _SLOT_END - _SECONDARY:
            slots += [""] * (_SLOT_END - _SECONDARY + 1 - len(slots))
        firsts = slots[0:_SLOT_END - _SECONDARY:2]
        if any(firsts):
            sdx = tuple(compress(zip(firsts, slots[1:_SLOT_END - _SECONDARY:2]), firsts))
        rest = slots[_SLOT_END - _SECONDARY]
    filled, _, tail = rest.partition(",,")
    procedures = (filled if tail.count(",") == len(tail) else rest).split(",", _PROCEDURE_COUNT)[:_PROCEDURE_COUNT]
    return {
        "sex": fields[0], "age": fields[1], "disch": fields[2], "los": fields[3],
        "pdx": (fields[SLOTS.start], fields[SLOTS.start + 1]),
        "sdx": sdx,
        "procedures": tuple(filter(None, procedures)),
    }
