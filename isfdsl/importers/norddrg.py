"""Import the official Norwegian NordDRG definition data as .isf source. The tables are read by
``tables.py`` (JSON) and ``sheets.py`` (a workbook, a folder of CSV files); a group list and payment
parameters by ``groups.py``; this module writes. (The official positional grouping string, the input the
imported definitions group, is read by :mod:`isfdsl.inputs.grouping_string`.)

The import is a translation into general language constructs — code tables with combination rows,
``lookup``/``combo``/``coalesce`` for the slot match and the category fallback, comprehensions for the
complication pipeline, a first-match decision table and a post-rule — written so that a person can
read it. Nothing here reaches the compiler or the generated code: they know nothing of NordDRG.
The semantics follow ``SEMANTICS.md`` (shipped beside the data); section numbers below refer to it.

The tables belong to the Norwegian Directorate of Health: import them into a working folder, never
into this repository.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from isfdsl.files import FolderReplacement, ForeignFolder
from isfdsl.importers.groups import GroupList, PaymentParameters, report
from isfdsl.importers.sheets import read
from isfdsl.importers.tables import Definition, ImportError_
from isfdsl.syntax.parse import quote

__all__ = ["ImportError_", "Imported", "load", "write"]


def load(path: Path) -> tuple[dict[str, list[dict[str, str]]], str]:
    """The six tables of the definition data at ``path`` (any format :func:`sheets.read` reads) as
    rows of trimmed text cells keyed by column name, and the name the data goes by."""
    defn = read(path)
    return {name: t.rows for name, t in defn.tables.items()}, defn.source


@dataclass(frozen=True, slots=True)
class Imported:
    """What ``write`` produced: the folder, its files, counts for the summary, the year and release,
    notes (columns and rows not read), and with a group list the groups missing on either side."""

    folder: Path
    files: list[Path]
    rows: int
    groups: int
    codes: int
    year: int = 0
    release: str | None = None
    notes: tuple[str, ...] = ()
    listed_not_produced: tuple[str, ...] = ()  # codes of the group list the logic never produces
    produced_not_listed: tuple[str, ...] = ()  # groups the logic produces that the group list lacks


def year_of(name: str) -> int:
    m = re.search(r"(20\d\d)", name)
    if not m:
        raise ImportError_(f"{name}: cannot tell the year from a cover sheet or the file name; pass --year")
    return int(m.group(1))


def _owned_names() -> set[str]:
    """Every file an import may write: an existing output folder holding anything else is not replaced."""
    tsv = [n for n, _ in _DG_TABLES.values()] + [n for n, _, _ in _PROC_TABLES.values()]
    return {*(f"{n}.tsv" for n in (*tsv, "complexcl", "complexcl_pair", "complcat")),
            "schema.isf", "tables.isf", "derive.isf", "catalogue.isf", "logic.isf", "payment.isf"}


def write(path: Path, out: Path, year: int | None = None, recode_properties: bool | None = None,
          groups: GroupList | None = None, payment: PaymentParameters | None = None) -> Imported:
    """Import the definition data at ``path`` (a workbook, a folder of CSV files, a .zip or .json)
    into the folder ``out`` as .isf files and TSV data files. ``recode_properties`` is the
    per-version switch of §3.2-8 (default: on from 2016); ``groups`` gives names, points, trim points
    and flags, ``payment`` the unit price and ISF shares.

    The files are written into a new folder beside ``out`` and renamed into place only when all are
    written: a failed import leaves ``out`` as it was (or absent). An existing ``out`` is replaced
    only when it holds nothing but files an import writes."""
    defn = read(path)
    year = year or defn.year or year_of(defn.source)
    shown = out
    if recode_properties is None:
        recode_properties = year >= 2016
    owned = _owned_names()
    try:
        folder = FolderReplacement(out, lambda entry: entry.name in owned and entry.is_file())
    except NotADirectoryError:
        raise ImportError_(f"{shown}: exists and is not a folder") from None
    except ForeignFolder as exc:
        raise ImportError_(f"{shown}: holds files an import does not write ({', '.join(exc.names[:5])}"
                           f"{', …' if len(exc.names) > 5 else ''}); import into a new or empty folder") from None
    except OSError as exc:
        raise ImportError_(f"{shown}: cannot create the folder: {exc.strerror or exc}") from None
    try:
        with folder:
            assert folder.temporary is not None
            w = _Writer(defn, folder.temporary, year, recode_properties, groups, payment)
            files = w.run()
    except ForeignFolder as exc:
        raise ImportError_(f"{shown}: files an import does not write appeared while it ran ({', '.join(exc.names[:5])}); "
                           "nothing was changed") from None
    except OSError as exc:
        raise ImportError_(f"{shown}: cannot write the imported files: {exc.strerror or exc}; nothing was changed") from None
    listed, produced = report(groups.groups, w.produced) if groups is not None else ((), ())
    return Imported(shown, [shown / f.name for f in files], w.rows, len(w.groups),
                    len({r["code"] for r in defn.tables["dg"].rows}), year, defn.release,
                    tuple(defn.notes + w.notes), listed, produced)


# ---------------------------------------------------------------------- the writer


_DG_TABLES = {  # vartype -> (table, title)
    "DGCAT": ("dg_dgcat", "Diagnosis category (DGCAT) of a diagnosis code"),
    "PDGPRO": ("dg_pdgpro", "Principal-diagnosis properties (PDGPRO)"),
    "DGPROP": ("dg_dgprop", "Diagnosis properties (DGPROP) of a diagnosis code"),
    "COMPL": ("dg_compl", "Complication values (COMPL): 3rd character C/G active level 1/2, I/J inactive level 1/2"),
    "OR": ("dg_or", "OR properties of diagnosis codes (plain rows only are used)"),
    "PROCPR": ("dg_procpr", "Procedure properties given by diagnosis codes"),
}
_PROC_TABLES = {
    "PROCPR": ("procpr", "text", "Procedure properties (PROCPR)"),
    "OR": ("proc_or", "text", "OR properties: 1 = major OR procedure, 2 = other significant procedure"),
    "DGPROP": ("proc_dgprop", "text", "Diagnosis properties given by a procedure code (e.g. 00X99, a valid procedure)"),
    "CC": ("proc_cc", "int", "CC level given by a procedure code"),
}
_GROUP = re.compile(r"[0-9A-Z][0-9A-Za-z]*")
_HEADER = ("# NordDRG {year}, imported by `isf import norddrg` from {source}.\n"
           "# The tables belong to the Norwegian Directorate of Health: a working copy for testing, not to be\n"
           "# committed or redistributed. Section numbers (§) refer to norddrg/SEMANTICS.md.\n")


class _Writer:
    def __init__(self, defn: Definition, out: Path, year: int, recode: bool, groups: GroupList | None,
                 payment: PaymentParameters | None) -> None:
        self.defn = defn
        self.t = {name: t.rows for name, t in defn.tables.items()}
        self.out = out
        self.source = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", "?", defn.source)
        self.year = year
        self.recode = recode
        self.listed = groups
        self.payment = payment
        self.files: list[Path] = []
        self.rows = 0
        self.groups: dict[str, str] = {}
        self.produced: set[str] = set()
        self.notes: list[str] = []
        self.uses_never = False
        self.uses_mdc_text = False

    def file(self, name: str, text: str) -> None:
        path = self.out / name
        path.write_text(text, encoding="utf-8", newline="\n")
        self.files.append(path)

    def header(self) -> str:
        return _HEADER.format(year=self.year, source=self.source)

    def run(self) -> list[Path]:
        self.file("schema.isf", self.schema())
        self.file("tables.isf", self.code_tables())
        logic = self.logic()  # before derive.isf: it tells whether `never` is used
        self.file("derive.isf", self.derivations())
        self.file("catalogue.isf", self.catalogue())
        self.file("logic.isf", logic)
        if self.payment is not None:
            self.file("payment.isf", self.payment_block(self.payment))
        return self.files

    # -- schema
    def schema(self) -> str:
        label = f"NordDRG Norway {self.year}" + (f" {self.defn.release}" if self.defn.release else "")
        sector = ("" if self.payment is None else
                  '\n# Not part of the grouping string: the sector whose ISF share the refund uses (payment.isf).\n'
                  'enum Sector "Sector" {\n  somatic = "S" "Somatic care"\n  phv = "P" "Mental health care (PHV)"\n'
                  '  tsb = "T" "Substance-abuse treatment (TSB)"\n}\n')
        attribute = ("" if self.payment is None else
                     '\n  sector: Sector "Sector (not in the grouping string; gives the ISF share)" default somatic')
        return self.header() + sector + f"""
version NordDRG {self.year} {quote(label)} valid {self.year}-01-01 .. {self.year}-12-31

# Codes are compared exactly as the tables write them (some ICD-10 codes end in a lower-case letter).
codesystem ICD10 "ICD-10 diagnosis codes as written in the NordDRG tables" syntax "[0-9A-Za-z]+" case sensitive
codesystem NCSP "NCSP procedure codes as written in the NordDRG tables" syntax "[0-9A-Za-z]+" case sensitive

# §3.1: `1` male, `2` female, anything else (empty included) unknown.
enum Sex "Sex (field 0)" {{
  male = "1" "Male"
  female = "2" "Female"
  unknown = "9" "Unknown: any other value"
}}

# §3.1, §4.11: E, N and H are kept; every other value, R and empty included, is one class `other`.
enum Discharge "Discharge mode (field 2)" {{
  home = "H" "Home"
  died = "E" "Died"
  not_died = "N" "Not died"
  other = "R" "Any other value (R: transferred; empty)"
}}

# §1: the grouping string's fields; a value that does not parse counts as its default.
episode {{
  sex: Sex "Sex (field 0)" default unknown
  age: int "Age in days (field 1)" default 0
  disch: Discharge "Discharge mode (field 2)" default other
  los: int "Length of stay in days (field 3)" default 0
  pdx: pair ICD10 "Principal diagnosis: slot 1 (fields 5, 6) as (dagger or main code, asterisk code)"
  sdx: list pair ICD10 "Secondary diagnoses: slots 2-30 whose first field is filled"
  procedures: list code NCSP "Procedure codes (fields 65-163, empty fields skipped)"{attribute}
}}
"""

    # -- code tables
    def code_tables(self) -> str:
        parts = [self.header(), "\n# Code tables, one per (table, vartype) of the definition data, in file order.",
                 "# dg rows: a plain row is `code<TAB><TAB>value`; a combination row `d_code<TAB>code<TAB>value`",
                 "# (the slot's first field, then its second: §2's naming trap).\n"]
        by_type: dict[str, list[dict[str, str]]] = {}
        for r in self.t["dg"]:
            by_type.setdefault(r["vartype"], []).append(r)
        skipped = Counter(r["vartype"] for r in self.t["dg"] if r["vartype"] not in _DG_TABLES)
        for vartype, (name, title) in _DG_TABLES.items():
            rows = [(r["d_code"], r["code"], r["varval"]) if r["d_code"] else (r["code"], "", r["varval"])
                    for r in by_type.get(vartype, []) if r["code"] and r["varval"]]
            parts.append(self.table(name, "ICD10", "text", title, rows, three=True))
        for vartype, n in sorted(skipped.items()):
            parts.append(f"# {n} dg rows of vartype {vartype} are not read (the MDC rows repeat the category's first two characters).")
        proc: dict[str, list[tuple[str, str]]] = {}
        for r in self.t["proc"]:
            proc.setdefault(r["vartype"], []).append((r["code"], r["varval"]))
        for vartype, (name, value_type, title) in _PROC_TABLES.items():
            parts.append(self.table(name, "NCSP", value_type, title, [(c, "", v) for c, v in proc.get(vartype, []) if c and v]))
        plain = [(r["compl"], "", r["code"]) for r in self.t["complexcl"] if not r["d_code"] and r["compl"] and r["code"]]
        pairs = [(r["compl"], "", f"{r['d_code']}|{r['code']}") for r in self.t["complexcl"] if r["d_code"]]
        parts.append(self.table("complexcl", None, "code ICD10",
                                "CC exclusions: complication value -> a PDX code that cancels it (§3.3-3.1)", plain))
        parts.append(self.table("complexcl_pair", None, "text",
                                "CC exclusions with a d_code, as `d_code|code` (the official grouper never applies them)", pairs))
        incl = [(r["compl"], "", r["inclprop"]) for r in self.t["complcat"] if r["inclprop"]]
        parts.append(self.table("complcat", None, "text",
                                "Complication categories with an inclusion property, in table order (§3.3-3.2)", incl))
        return "\n".join(parts) + "\n"

    def table(self, name: str, system: str | None, value_type: str, title: str, rows: list[tuple[str, str, str]],
              three: bool = False) -> str:
        key = system or "text"
        head = f"table {name} of {key} -> {value_type} {quote(title)}"
        self.rows += len(rows)
        if not rows:
            return f"{head} {{ }}"
        tsv = f"{name}.tsv"
        lines = ["key\tsecond\tvalue" if three else "key\tvalue"]
        lines += [f"{k}\t{s}\t{v}" if three else f"{k}\t{v}" for k, s, v in rows]
        self.file(tsv, "\n".join(lines) + "\n")
        return f"{head} from {quote(tsv)}  # {len(rows):,} rows"

    # -- derivations
    def derivations(self) -> str:
        never = ('\nderive never: bool "Always false: a logic cell the official grouper can never satisfy" = false\n'
                 if self.uses_never else "")
        if self.uses_mdc_text:
            never += '\nderive mdc_text: text "The MDC, or empty text when there is none" = coalesce(mdc, "")\n'

        recode = "true" if self.recode else "false"
        return self.header() + f"""
# ---- §3.2-1 diagnosis category of the PDX slot: the combination row, else the second (asterisk)
# code's first row, else the first code's first row.
derive dgcat_raw: text "Diagnosis category before the recode by sex" =
  coalesce(first(combo(dg_dgcat, pdx)), first(lookup(dg_dgcat, pdx.second)), first(lookup(dg_dgcat, pdx.first)))

# ---- §3.2-2 a category starting 98 becomes 12 for men and 13 for women (always on).
derive dgcat: text "Diagnosis category (DGCAT)" =
  if sex == male then replace_prefix(dgcat_raw, "98", "12")
  else if sex == female then replace_prefix(dgcat_raw, "98", "13")
  else dgcat_raw

# ---- §3.3-1, §3.3-2
derive mdc: text "Major diagnostic category: the category's first two characters" = prefix(dgcat, 2)
derive valid_pdx: bool "A category was found for the PDX" = dgcat is present

# ---- §3.2-3 to §3.2-6, §3.2-9: properties by scope (a pair looks up both codes and its combination rows)
derive pdgprops: list text "Principal-diagnosis properties (PDX slot only)" = lookup(dg_pdgpro, pdx)
derive procprops: list text "Procedure properties: of the procedures, and of any diagnosis slot" =
  union(lookup(procpr, procedures), lookup(dg_procpr, pdx), lookup(dg_procpr, sdx))
derive orprops: list text "OR properties of the procedures and (plain rows) of every diagnosis code" =
  union(lookup(proc_or, procedures), lookup(dg_or, codes(pdx)), lookup(dg_or, codes(sdx)))
derive major_or: bool "An OR property 1 (major OR procedure)" = "1" in orprops
derive any_or: bool "An OR property 1 or 2" = "1" in orprops or "2" in orprops
derive proc_cc_levels: list int "CC levels given by the procedures" = lookup(proc_cc, procedures)

# ---- §3.2-7 diagnosis properties: from the procedures first, then every slot, PDX included.
derive dgprops_raw: list text "Diagnosis properties before the recode by sex" =
  union(lookup(proc_dgprop, procedures), lookup(dg_dgprop, pdx), lookup(dg_dgprop, sdx))

# ---- §3.2-8 the 98-recode of diagnosis properties by sex: a per-version switch.
derive recode_dgprops_by_sex: bool "Per-version switch: recode 98 properties by sex (off in 2015, on from 2016)" = {recode}
derive dgprops: list text "Diagnosis properties (DGPROP)" =
  if recode_dgprops_by_sex and sex == male then [replace_prefix(p, "98", "12") for p in dgprops_raw]
  else if recode_dgprops_by_sex and sex == female then [replace_prefix(p, "98", "13") for p in dgprops_raw]
  else dgprops_raw
derive pdx_first_dgprops: list text "Diagnosis properties whose first source is the PDX slot" =
  minus(lookup(dg_dgprop, pdx), lookup(proc_dgprop, procedures))

# ---- §3.2-10 complication values of slots 2-30 (the PDX is not a source), typed by the 3rd character.
derive compl_pdx: list text "Complication values the PDX slot itself would yield" = lookup(dg_compl, pdx)
derive compl_sec: list text "Complication values of the secondary slots" = lookup(dg_compl, sdx)
derive compl_kept: list text "Same-family removal: a typed value equal to a PDX value apart from the 3rd character goes" =
  [c for c in compl_sec where not (char(c, 2) in {{"C", "G", "I", "J"}}
     and any(p in compl_pdx where prefix(p, 2) == prefix(c, 2) and substr(p, 3) == substr(c, 3)))]

# ---- §3.3-3 CC level: exclusion, inclusion (first complcat row only), then the maximum level.
derive pdx_codes: list code ICD10 "The codes of the PDX slot" = codes(pdx)
derive pdx_pair_text: text "The PDX slot as `first|second` (absent unless a pair)" = pdx.first + "|" + pdx.second
derive complexcl_pair_rows_fire: bool "complexcl rows with a d_code: never applied by the official grouper" = false
derive inclusion_compl: text "The first complcat row (I/J, among the complications, its property among the diagnosis properties)" =
  first([r.key for r in entries(complcat) where char(r.key, 2) in {{"I", "J"}} and r.key in compl_kept and r.value in dgprops])
derive inclusion_prop: text "That row's inclusion property" =
  first([r.value for r in entries(complcat) where char(r.key, 2) in {{"I", "J"}} and r.key in compl_kept and r.value in dgprops])
derive included: text "The complication the inclusion activates (not when its property comes first from the PDX)" =
  if inclusion_prop in pdx_first_dgprops then absent else inclusion_compl
derive cc_levels: list int "Levels of the active complications (C/I level 1, G/J level 2)" =
  [if char(c, 2) in {{"G", "J"}} then 2 else 1 for c in compl_kept
     where (char(c, 2) in {{"C", "G"}}
            and none(x in lookup(complexcl, c) where x in pdx_codes)
            and not (complexcl_pair_rows_fire and pdx_pair_text in lookup(complexcl_pair, c)))
        or c == included]
derive cc_level: int "CC level: the highest procedure CC value or active complication level, else 0" =
  max(union(proc_cc_levels, cc_levels), 0)
{never}"""

    # -- catalogue
    def catalogue(self) -> str:
        bad = []
        for r in self.t["drgnames"]:
            if r["drg"] and not _GROUP.fullmatch(r["drg"]):
                bad.append(r["drg"])
            elif r["drg"] and r["drg"] not in self.groups:
                self.groups[r["drg"]] = r["mdc"]  # the first occurrence wins (§2)
        for r in self.t["drglogic"]:
            if r["drg"] not in self.groups:
                self.groups[r["drg"]] = ""
        if bad:
            self.notes.append(f"drgnames: rows whose drg is no group code are not read: {', '.join(map(repr, bad))}")
        listed = self.listed.groups if self.listed is not None else {}
        source = f" source {quote(self.listed.source)}" if self.listed is not None else ""
        lines = [self.header(),
                 "# DRG -> MDC from `drgnames`" + (f"; names, points, trim points and flags from {self.listed.source}."
                                                   if self.listed is not None else
                                                   " (the tables give no names and no weights)."),
                 f'catalogue DRG "NordDRG {self.year} diagnosis related groups" {{']
        for code, mdc in self.groups.items():
            g = listed.get(code)
            parent = f" parent {mdc}" if _GROUP.fullmatch(mdc) else ""
            if g is None:
                lines.append(f"  {code} {quote('DRG ' + code)}{parent}")
                continue
            numbers = "".join(f" {word} {value}" for word, value in (("points", g.points), ("trim", g.trim),
                                                                     ("perday", g.perday)) if value is not None)
            flags = f" flags {', '.join(g.flags)}" if g.flags else ""
            lines.append(f"  {code} {quote(g.name or 'DRG ' + code)}{numbers}{parent}{flags}{source}")
        lines.append("}")
        return "\n".join(lines) + "\n"

    # -- payment
    def payment_block(self, p: PaymentParameters) -> str:
        def origin(key: str) -> str:
            return f" source {quote(p.sources[key])}" if key in p.sources else " illustrative"

        lines = [self.header(), "# Refund = points × unit price × the ISF share of the episode's sector.",
                 f'payment "NordDRG {self.year} payment" {{']
        if p.unit_price is not None:
            lines.append(f"  unit_price {p.unit_price}{origin('unit_price')}")
        if p.prices:
            lines += ["  unit_price by sector {", *(f"    {s} {v}{origin('price:' + s)}" for s, v in p.prices.items()), "  }"]
        lines += ["  share by sector {", *(f"    {s} {v}{origin('share:' + s)}" for s, v in p.shares.items()), "  }",
                  "  stay los", "}"]
        return "\n".join(lines) + "\n"

    # -- decision table
    def logic(self) -> str:
        table = self.defn.tables["drglogic"]
        ids = "id" in table.headers
        info = [k for k in table.informative if k not in ("id", "loc_drg")]
        lines = [self.header(), "# §4, §5: rows tried in ascending `ord`; the first whose conditions all hold gives the DRG,",
                 "# the rule and the return code" + (" (rules are named by the rows' stable `id`; `ord` gives their place)."
                                                     if ids else " (rules are named by `ord`)."),
                 "# Sections: the first digit of `ord` is the part (0 pre-MDC and errors, 1 day and outpatient",
                 "# groups, 4 inpatient logic, 9 the catch-all), the next two usually the MDC.", "",
                 f'decision drg "NordDRG {self.year} logic (drglogic)" for DRG policy first {{']
        section = None
        for i in sorted(range(len(table.rows)), key=lambda i: table.rows[i]["ord"]):
            r = table.rows[i]
            if r["ord"][:3] != section:
                section = r["ord"][:3]
                lines.append(f"\n  # ---- {section}…: part {section[0]}, MDC {section[1:]}")
            conds, notes = self.conditions(r, i)
            notes += [f"{table.headers[k]}: {r[k]}" for k in info if r.get(k)]
            for note in notes:
                lines.append(f"  # {r['ord']}: {note}")
            when = f" when {' and '.join(conds)}" if conds else ""
            rc = f" rc {r['rtc']}" if r["rtc"] and r["rtc"] != "0" else ""
            name = f"{r['id']} {quote('ord ' + r['ord'])}" if ids and r["id"] else r["ord"]
            lines.append(f"  rule {name}{when} -> {r['drg']}{rc}")
            self.produced.add(r["drg"])
        lines += ["", "  post {",
                  "    # §6: the reference corpus reports 9 where the row says 1 whenever the PDX field is filled.",
                  '    rule rtc_missing_vs_invalid "Return code 1 means a missing PDX; 9 an invalid or unacceptable one"',
                  '      when return_code == "1" and pdx is present -> rc 9',
                  "  }", "}"]
        return "\n".join(lines) + "\n"

    def conditions(self, r: dict[str, str], index: int) -> tuple[list[str], list[str]]:
        conds: list[str] = []
        notes: list[str] = []
        icd = r["icd"]
        if icd == "+":
            conds.append("valid_pdx")
        elif icd == "-":
            conds.append("not valid_pdx")
        op, v = _cell(r["mdc"])
        if v and op == "-":  # §4.4: true when there is no MDC, too
            self.uses_mdc_text = True
            conds.append(f"mdc_text != {quote(v)}")
        elif v:
            conds.append(f"mdc == {quote(v)}")
        op, v = _cell(r["pdgprop"])
        if v:
            conds.append(f"pdgprops {'lacks' if op == '-' else 'has'} {quote(v)}")
        conds += self.or_cell(r["or"])
        for col in ("procpro1", "secproc1"):
            op, v = _cell(r[col])
            if v:
                conds.append(f"procprops {'lacks' if op == '-' else 'has'} {quote(v)}")
            elif r[col] == "-":
                notes.append(f"{col} `-` (no other major OR procedure) is ignored, as by the official grouper (§4.1)")
        op, v = _cell(r["dgcat1"])
        if v:
            conds.append(f"dgcat {'!=' if op == '-' else '=='} {quote(v)}")
        conds += _compare("age", r["agelim"])
        op, v = _cell(r["compl"])
        if v:
            if not re.fullmatch(r"\d+", v):
                raise self.defn.tables["drglogic"].error(f"{r['compl']!r} is not an integer (the official grouper refuses "
                                                         "it too)", index, "compl")
            cmp = {"": ">=", "+": ">=", "=": ">=", ">": ">", "<": "<", "-": "!="}[op]
            conds.append(f"cc_level {cmp} {int(v)}")
        conds += _sex(r["sex"])
        for col in ("dgprop1", "dgprop2", "dgprop3", "dgprop4"):
            op, v = _cell(r[col])
            if v:
                conds.append(f"dgprops {'lacks' if op == '-' else 'has'} {quote(v)}")
        conds += _disch(r["disch"])
        conds += _compare("los", r["dur"])
        return conds, notes

    def or_cell(self, cell: str) -> list[str]:
        """§4.7: S, P, N, Z; a bare + or -; - with a letter never holds. (An unknown letter, which the
        official grouper reads as always true, is refused by ``tables.check_cells``.)"""
        if cell == "+":
            return ["orprops is present"]
        if cell == "-":
            return ["orprops is absent"]
        op, v = _cell(cell)
        if not v:
            return []
        if op == "-":
            self.uses_never = True
            return ["never"]
        return {"S": ["major_or"], "P": ["any_or"], "N": ["not major_or"], "Z": ["not any_or"]}.get(v, [])


def _cell(cell: str) -> tuple[str, str]:
    """A logic cell as (operator, value): an optional one-character operator from `< > + - =`."""
    if cell and cell[0] in "<>+-=":
        return cell[0], cell[1:].strip()
    return "", cell.strip()


def _compare(feature: str, cell: str) -> list[str]:
    """§4.5, §4.9: `<n` or `>n`. (The official grouper reads any other operator as always true and a
    number that does not parse as 0; ``tables.check_cells`` refuses such cells before they get here.)"""
    if not cell:
        return []
    if not re.fullmatch(r"[<>]\d+", cell):
        raise ValueError(f"not a comparison: {cell!r}")  # unreachable: check_cells refused it
    return [f"{feature} {cell[0]} {int(cell[1:])}"]


def _sex(cell: str) -> list[str]:
    return {"M": ["sex == male"], "F": ["sex == female"], "-": ["sex == unknown"]}.get(cell.strip(), [])


_DISCH = {"E": "died", "N": "not_died", "H": "home"}


def _disch(cell: str) -> list[str]:
    """§4.11: a bare value or =V: for N, not died; else the same class. -V: a different class."""
    op, v = _cell(cell)
    if not v:
        return []
    member = _DISCH.get(v, "other")
    if op == "-":
        return [f"disch != {member}"]
    if v == "N":
        return ["disch != died"]
    return [f"disch == {member}"]
