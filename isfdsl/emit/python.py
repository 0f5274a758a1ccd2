"""Emit: the IR as a standalone Python package (standard library only) through Jinja2 templates.

Layout of a generated package: ``__init__.py`` (the API and metadata), ``_model.py`` (enumerations,
code lists, catalogues, the case evaluation compiled to straight-line Python, the decision tables as
rows of conditions), ``_model.data`` (the code tables and the rows of decision tables of more than
``INLINE_ROWS`` rows, as text: :mod:`isfdsl.emit.data`; absent when there are none), ``_runtime.py``
(the modules of :mod:`isfdsl.runtime` bundled into one file: :mod:`isfdsl.emit.bundle`), ``__main__.py`` (CSV),
``integrations.py`` (Spark, DuckDB and polars in one call, each imported when used) and ``py.typed``.

How it is fast: input values are converted once per distinct text (``R.memo``), and ``evaluate`` finds
a text seen before in one dictionary look-up (``V_*``) without calling anything; derived features are
computed in *stages* (:func:`stages`), one per set of attributes they depend on, and a stage that tests
code lists or tables or loops is remembered per distinct value of those attributes (``S_*`` functions,
``K_*`` dictionaries) — a year of activity repeats its diagnoses and procedure lists far more than its
episodes; a remembered stage of one list attribute whose features are all look-ups of the list (or
unions of them) is computed item by item (``I_*``, each item's answers remembered in ``KI_*``, the
items' answers united by ``R.combine``: :func:`itemwise`), so a list not seen before costs a look-up
per item seen before; the costly parts of a feature that read fewer attributes than the feature are first hoisted
into the stages of those attributes (:mod:`isfdsl.emit.hoist`), so that a case never seen as a whole
finds most of its look-ups in the memories of its parts; when one such stage reads every attribute any
feature reads, all the features are remembered together under its key (:meth:`_Context.whole`:
``derive``, ``DERIVED``, a combination kept there the second time it comes: ``R.remember_again``), and
the stages of several attributes inside it are not remembered (a combination not seen as a whole
seldom repeats a part of it: their look-ups cost more than they saved). Code tables are dictionaries
built at import from the data file (split and zipped at C speed: a year of NordDRG tables as Python
literals took seconds and hundreds of MiB to compile where bytecode could not be written); each decision table dispatches through one bit-set index per feature
(``R.DecisionTable``; features that read the same attributes probed as one), its masks remembered per
value; with the features remembered together, the mask of rows they allow is kept in a cell at the end
of DERIVED's tuple (one slot per table), so a case whose features were seen before probes only the
attributes no feature reads. Every memory is bounded (``R.CACHE_LIMIT`` entries per code or value; ``R.COMBINATION_LIMIT``
per combination; and in bytes, ``R.MEMORY_BYTES``, no entry over ``R.ENTRY_BYTES``; emptied when full),
holds only pure functions of its key, and none is keyed by a whole episode.

Why ``evaluate`` keeps one small ``try`` block per attribute (the look-up inline, the conversion of a
value not seen before in the ``except``) rather than a loop over a table of attributes: folds were
measured against it (isf2025, paired and alternating in one process, CPU time, chunks of 250
episodes). One ``try`` around every look-up, with a table (``CONVERSIONS``) converted by a runtime
loop when one misses, was 2–5 % faster on episodes seen before but 13–19 % slower on new ones: more
than half of new episodes bring a list of codes not seen before, and the loop over every attribute
costs as much as the whole inline attribute phase (about 3.0 µs against 2.6 µs here). A helper call
per attribute was 15–20 % slower throughout. The blocks therefore stay, written as tersely as that
allows.

Every literal goes through :func:`isfdsl.emit.expr`, which sorts sets, so the output is
byte-identical under any hash seed. Text from the definitions (and the names of folders) reaches the
code only as literals (:func:`isfdsl.emit.expr.py`) or as prose in comments and docstrings
(:func:`isfdsl.emit.expr.prose`); the package name must be a Python identifier (:func:`package_name`).
"""

from __future__ import annotations

import hashlib
import keyword
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from isfdsl import __version__
from isfdsl.emit.bundle import runtime_text
from isfdsl.emit.data import data_text, has_data, in_data
from isfdsl.emit.expr import ExprWriter, Names, bare, prose, py, py_lines, pytype, wrap
from isfdsl.emit.hoist import hoist
from isfdsl.files import replace_file
from isfdsl.ir import model as ir
from isfdsl.resources import template_text
from isfdsl.runtime.contract import Constraint, GroupRecord
from isfdsl.types import Type

FILES = ("__init__.py", "__main__.py", "_model.py", "_runtime.py", "integrations.py", "py.typed")
HEADER = "# Code generated by isfdsl {version} from {root}. DO NOT EDIT."

# ---------------------------------------------------------------------- the package


@dataclass(frozen=True, slots=True)
class Sources:
    """Where a program came from: its folder (``root``) and its files' texts by path as read. Output
    names every file relative to the folder's parent (``isf2025/drg.isf``), wherever it was built."""

    root: str
    files: dict[str, str]

    @property
    def name(self) -> str:
        return Path(os.path.abspath(self.root)).name

    def rel(self, path: str) -> str:
        base = os.path.dirname(os.path.abspath(self.root))
        return Path(os.path.relpath(os.path.abspath(path), base)).as_posix()

    def relative(self, location: str) -> str:
        """A source location (``file:line``) relative to the program folder's parent."""
        path, _, line = location.rpartition(":")
        return f"{self.rel(path)}:{line}"

    @property
    def hash(self) -> str:
        """SHA-256 over (relative path, text) of every file, in path order."""
        h = hashlib.sha256()
        for path, text in sorted((self.rel(p), t) for p, t in self.files.items()):
            h.update(path.encode("utf-8", "surrogateescape") + b"\0" + text.encode("utf-8") + b"\0")
        return f"sha256:{h.hexdigest()}"


def sources_for(root: str, texts: dict[str, str]) -> Sources:
    """The sources of the program in ``root`` (a folder or one file) among ``texts`` (path -> text):
    the files inside the folder, and files outside it that it imports."""
    return Sources(root if os.path.isdir(root) else os.path.dirname(root) or ".", dict(texts))


def _items(value: object) -> list[dict[str, Any]]:
    """A list of template items from a page context (whose values are typed ``object``)."""
    assert isinstance(value, list)
    return value


def package_name(name: str) -> str:
    """``name`` when it can name a Python package (identifiers in normal form, not keywords, as
    ``import NAME`` and ``python -m NAME`` need; dotted for a subpackage, such as one version of a
    package of several); otherwise ValueError saying so."""
    if not all(part.isidentifier() and not keyword.iskeyword(part) for part in name.split(".")) \
            or unicodedata.normalize("NFKC", name) != name:
        raise ValueError(f"{name!r} cannot name a Python package: the output folder's name must be a Python "
                         "identifier (letters, digits and `_`, not starting with a digit), e.g. generated/isf2025")
    return name


def render(program: ir.Program, sources: Sources, package: str) -> dict[str, str]:
    """The files of the generated package, by name (``package`` is checked by :func:`package_name`)."""
    package = package_name(package)
    env = jinja2.Environment(autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["py"] = py
    env.filters["py_lines"] = py_lines
    header = HEADER.format(version=__version__, root=prose(sources.name))
    context = _Context(program, sources, package, header).build()
    context["imports"] = ""
    context["data_file"] = "_model.data"
    view = program.pathway_program()
    context["pathway"] = None if view is None or program.pathway is None else {
        "gather": program.pathway.gather, "tables": tuple(t.name for t in view.decisions), "entry": view.entry.name,
        "attributes": {a.name: a.label or a.name for a in view.attributes}}
    names = ["ATTRIBUTES", "CATALOGUES", "COMPILER", "DEFAULT_TABLE", "GROUP_SYSTEMS", "SOURCE_FILES", "SOURCE_HASH", "SYSTEM", "TABLES", "VALID_FROM",
             "VALID_TO", "VERSION_LABEL", "YEAR", "Problem", "Result", "arrow_schema", "group", "group_arrow", "group_many",
             "with_payment"]
    if context["pathway"]:
        names += ["PATHWAY_ATTRIBUTES", "PATHWAY_DEFAULT_TABLE", "PATHWAY_GATHER", "PATHWAY_TABLES", "PathwayResult", "group_pathway"]
    names.sort(key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    context["all_lines"] = [", ".join(py(n) for n in names[k:k + 8]) + "," for k in range(0, len(names), 8)]
    out = {name: env.from_string(template_text(f"python/{name}.j2")).render(**context)
           for name in ("__init__.py", "__main__.py", "_model.py", "integrations.py")}
    if has_data(program):
        out["_model.data"] = data_text(program, header, sources.relative)
    if view is not None:
        # The pathway tables compile like any program whose "episode" is the pathway record; the
        # enumerations, code lists and catalogues it shares with the model are imported from there.
        pathway = _Context(view, sources, package, header).build()
        pathway["data_file"] = "_pathway.data"
        shared = []
        for kind in ("enums", "codesets", "catalogues"):
            mine = {item["var"]: item for item in _items(context[kind])}
            for item in _items(pathway[kind]):
                item["shared"] = mine.get(item["var"]) == item
                if item["shared"]:
                    shared.append(item["var"])
        line = "from ._model import " + ", ".join(sorted(shared))  # as isort writes it: one line, or one name per line
        pathway["imports"] = (line if len(line) <= 88 else
                              "from ._model import (\n" + "".join(f"    {n},\n" for n in sorted(shared)) + ")") if shared else ""
        out["_pathway.py"] = env.from_string(template_text("python/_model.py.j2")).render(**pathway)
        if has_data(view):
            out["_pathway.data"] = data_text(view, header, sources.relative)
    out["_runtime.py"] = f"{header}\n{runtime_text()}"
    out["py.typed"] = ""
    return out


def write_package(files: dict[str, str], out: Path) -> list[Path]:
    """Write the package into ``out``, removing files an earlier build generated there that are no
    longer produced. Returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("*.py"), *out.glob("*.data")]:
        if old.name not in files and old.read_text(encoding="utf-8", errors="replace").startswith("# Code generated by isfdsl"):
            old.unlink()
    written = []
    for name, text in sorted(files.items()):
        path = out / name
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            replace_file(path, data)  # whole or not at all: an interrupted build leaves no half-written module
        written.append(path)
    return written


def _costly(d: ir.Derivation) -> bool:
    """Whether a derivation is worth remembering: it tests code lists or tables, or loops over a list."""
    return any(r.scope in ("codelist", "table") for r in ir.refs(d.expr)) or _has_loop(d.expr)


def _has_loop(e: ir.Expr | None) -> bool:
    if isinstance(e, ir.Loop):
        return True
    return isinstance(e, ir.Apply) and any(_has_loop(x) for x in e.args)


#: The name of the local that stands for one item of a list attribute in a per-item stage (``I_*``).
ITEM = "item"


def itemwise(e: ir.Expr, attribute: str) -> ir.Expr | None:
    """``e`` for one item of the list attribute ``attribute`` (read as the local ``item``), when ``e``
    is the union over the list's items of what that gives: a look-up of the list (``lookup(t, sdx)``),
    of its codes (``lookup(t, codes(sdx))``), or a union of such. Each gives every value once, so the
    union of the items' answers in order is the list's answer (:func:`isfdsl.runtime.codes.combine`),
    and one item's answer is a one-item list's. None when ``e`` is of another shape."""
    def item(x: ir.Expr) -> ir.Expr | None:
        if isinstance(x, ir.Ref) and x.scope == "attr" and x.name == attribute and x.type.elem is not None:
            return ir.Ref(x.type.elem, "local", ITEM)
        if isinstance(x, ir.Apply) and x.op == "codes" and len(x.args) == 1:
            inner = item(x.args[0])
            return None if inner is None else ir.Apply(x.type, "codes", (inner,))
        return None

    if isinstance(e, ir.Apply) and e.op == "lookup" and len(e.args) == 2 and e.type.kind == "list":
        key = item(e.args[1])
        return None if key is None else ir.Apply(e.type, "lookup", (e.args[0], key))
    if isinstance(e, ir.Apply) and e.op == "union" and e.args:
        parts = [itemwise(a, attribute) for a in e.args]
        return None if any(p is None for p in parts) else ir.Apply(e.type, "union", tuple(p for p in parts if p is not None))
    return None


def stages(program: ir.Program) -> list[tuple[tuple[str, ...], list[ir.Derivation]]]:
    """The derived features grouped by their *support* — the attributes they read, directly or through
    other features — in an order that computes every feature after those it reads (a feature's support
    contains the support of each feature it reads, so smaller supports come first)."""
    order = {a.name: k for k, a in enumerate(program.attributes)}
    support = ir.supports(program)
    groups: dict[frozenset[str], list[ir.Derivation]] = {}
    for d in program.derivations:
        groups.setdefault(support[d.name], []).append(d)
    first = {key: program.derivations.index(ds[0]) for key, ds in groups.items()}
    ranked = sorted(groups, key=lambda key: (len(key), first[key]))
    return [(tuple(sorted(key, key=order.__getitem__)), groups[key]) for key in ranked]


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _ident(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _syntax_var(system: str) -> str:
    """The name of the compiled ``syntax`` of a code system in a generated model."""
    return f"SYNTAX_{_ident(system)}"


class _Context:
    """The values the templates need."""

    def __init__(self, program: ir.Program, sources: Sources, package: str, header: str) -> None:
        #: the derivations as written, by name: whether a stage is worth remembering is judged on them
        self.written = {d.name: d for d in program.derivations}
        #: the program with its derivations' costly parts of smaller support hoisted (hidden derivations)
        self.p, self.hidden = hoist(program)
        program = self.p
        self.sources = sources
        self.package = package
        self.header = header
        self.names = Names(
            attrs={a.name: f"v_{a.name}" for a in program.attributes},
            features={d.name: f"f_{d.name}" for d in program.derivations},
            codesets={n: f"CL_{n}" for n in program.codesets},
            tables={n: f"TB_{n}" for n in program.tables},
        )
        self.writer = ExprWriter(program, self.names)
        self.support = ir.supports(program)
        self.whole_support: frozenset[str] = frozenset()  # set by `whole` when features are remembered together

    def build(self) -> dict[str, object]:
        p = self.p
        case = [a.name for a in p.attributes] + [d.name for d in p.derivations if d.name not in self.hidden]
        self.positions = {name: k for k, name in enumerate(case)}
        self.types = {a.name: a.type for a in p.attributes} | {d.name: d.type for d in p.derivations}
        return {
            "header": self.header, "package": self.package, "root": prose(self.sources.name), "role": p.role,
            "system": p.system, "year": p.year, "label": p.label, "valid_from": p.valid_from, "valid_to": p.valid_to,
            "source_hash": self.sources.hash, "source_files": tuple(sorted(self.sources.rel(f) for f in self.sources.files)),
            "compiler": f"isfdsl {__version__}",
            "tables": tuple(t.name for t in p.decisions),
            "entry": p.entry.name,
            "group_systems": {t.name: t.catalogue for t in p.decisions},
            "attributes": {a.name: a.label or "" for a in p.attributes},
            "enums": self.enums(),
            "codesets": [self.codeset(c) for c in p.codesets.values()],
            "code_tables": [self.table(t) for t in p.tables.values()],
            "catalogues": [self.catalogue(name, groups) for name, groups in p.catalogues.items()],
            **self.evaluation(),
            "positions": wrap([f"{k} {name}" for name, k in self.positions.items()], 4, 96),
            "decisions": [self.decision(t) for t in p.decisions],
            "inline_rows": any(not in_data(t) and (t.rows or t.post) for t in p.decisions),
            "has_data": has_data(p),
            "payment": self.payment(),
        }

    def enums(self) -> list[dict[str, object]]:
        seen: dict[str, dict[str, object]] = {}
        for a in self.p.attributes:
            t = a.type.elem if a.type.kind == "list" and a.type.elem else a.type
            if t.kind == "enum" and t.ref not in seen:
                seen[t.ref or ""] = {"var": f"ENUM_{t.ref}", "members": a.members,
                                     "comment": prose(f"{t.ref}: input value or member name -> member name")}
        return list(seen.values())

    def codeset(self, c: ir.CodeSet) -> dict[str, object]:
        codes = sorted(c.codes)
        literal = "frozenset()" if not codes else "frozenset({\n        " + wrap([py(x) for x in codes], 8) + "\n    })"
        return {"var": self.names.codesets[c.name], "name": c.name, "codes": literal, "prefixes": c.prefixes,
                "ranges": c.ranges, "comment": prose(f"{c.name} ({c.system}): {c.title or ''}".rstrip(": "))}

    def table(self, t: ir.CodeTable) -> dict[str, object]:
        rows = sum(len(rs) for rs in t.rows.values())
        return {"var": self.names.tables[t.name], "name": t.name, "value_type": pytype(t.value_type, True),
                "comment": prose(f"{t.name}: {t.key_system or 'text'} -> {t.value_type} ({_count(len(t.rows), 'key')}, "
                                 f"{_count(rows, 'row')})")}

    def catalogue(self, name: str, groups: dict[str, GroupRecord]) -> dict[str, object]:
        rows = []
        for code, g in groups.items():
            fields = (("code", code), ("name", g.name), ("points", g.points), ("trim", g.trim), ("perday", g.perday),
                      ("parent", g.parent), ("flags", g.flags or None))
            rows.append((code, "GroupRecord(" + ", ".join(f"{k}={py(v)}" for k, v in fields if v is not None) + ")"))
        return {"var": f"CAT_{_ident(name)}", "name": name, "groups": rows, "comment": prose(f"group catalogue {name}")}

    def evaluation(self) -> dict[str, object]:
        attrs = []
        for a in self.p.attributes:
            is_list = a.type.kind == "list"
            memo, known = f"M_{a.name}", f"V_{a.name}"
            several = is_list or a.type.kind == "pair"  # given as a list or tuple: looked up as a tuple
            limit = "COMBINATION_LIMIT" if several else "CACHE_LIMIT"
            if is_list:
                assert a.type.elem is not None
                item = pytype(a.type.elem, True)
                # the items' memory: VI_/MI_, which no attribute's V_/M_ name can equal
                item_known, item_memo = f"VI_{a.name}", f"MI_{a.name}"
                memos = [(item_known, item, f"R.memo(lambda x: {self.convert(a, a.type.elem, 'x')}, {item_known}, R.CACHE_LIMIT)", item_memo),
                         (known, pytype(a.type, True), f"R.memo_list({item_memo}, {item_known}, {known}, R.{limit})", memo)]
            else:
                memos = [(known, pytype(a.type, True), f"R.memo(lambda x: {self.convert(a, a.type, 'x')}, {known}, R.{limit})", memo)]
            attrs.append({
                "name": a.name, "var": self.names.attrs[a.name], "memo": memo, "known": known,
                "value_annotation": pytype(a.type, True),
                "key": "tuple(raw) if raw.__class__ is list else raw" if several else "raw",
                "annotation": pytype(a.type),
                "or_empty": " or ()" if is_list else "",
                # a list seldom repeats on a year's first pass: looked up with a default (a raised
                # KeyError per new list costs more than the method call)
                "is_list": is_list,
                "memos": memos,
                "default": None if a.default is None or is_list else py(a.default),
                "comment": prose(f"{a.name}: {a.type}" + (f" — {a.label}" if a.label else "")),
            })
        syntaxes: dict[str, str] = {}
        for a in self.p.attributes:
            t = a.type.elem if a.type.kind == "list" and a.type.elem else a.type
            if a.syntax is not None and t.kind in ("code", "pair"):
                syntaxes.setdefault(_syntax_var(t.ref or ""), a.syntax)
        annotations = {a.name: pytype(a.type) for a in self.p.attributes}
        groups = []
        idents: set[str] = set()
        for support, members in stages(self.p):
            derivs = []
            for d in members:
                code = self.writer.write(d.expr)
                if self.writer.nonnull(d.expr):
                    self.writer.nonnull_features.add(d.name)
                if self.writer.distinct(d.expr):
                    self.writer.distinct_features.add(d.name)
                annotation = pytype(d.type, d.name in self.writer.nonnull_features, self.p.tables)
                annotations[d.name] = annotation
                derivs.append({"var": self.names.features[d.name], "code": bare(code), "annotation": annotation,
                               "comment": prose(f"{d.name}: {d.type}" + (f" — {d.title}" if d.title else ""))})
            own = {d.name for d in members}
            read = dict.fromkeys(r.name for d in members for r in ir.refs(d.expr)
                                 if r.scope in ("attr", "feature") and r.name not in own)
            remembered = bool(support) and any(_costly(self.written.get(d.name, d)) for d in members)
            # A remembered stage of one list attribute whose features are each a union of what the
            # items give is computed item by item (I_*), each item's answers remembered (KI_*): a list
            # not seen before is most often of items seen before.
            items = None
            if remembered and len(support) == 1 and self.types[support[0]].kind == "list":
                per_item = [itemwise(d.expr, support[0]) for d in members]
                if all(x is not None for x in per_item):
                    elem = self.types[support[0]].elem
                    assert elem is not None
                    items = {"parts": [{"comment": d["comment"], "code": bare(self.writer.write(x))}
                                       for d, x in zip(derivs, per_item) if x is not None],
                             "annotation": pytype(elem, True)}
            ident = base = "_".join(_ident(a) for a in support)  # a_b + c and a + b_c: numbered apart
            while ident in idents:
                ident = f"{base}_{len(idents)}"
            idents.add(ident)
            groups.append({
                "derivations": derivs, "memo": remembered, "ident": ident, "per_item": items,
                "params": ", ".join(f"{self.names.attrs.get(n) or self.names.features[n]}: {annotations[n]}" for n in read),
                "args": ", ".join(self.names.attrs.get(n) or self.names.features[n] for n in read),
                "key": (self.names.attrs[support[0]] if len(support) == 1
                        else "(" + ", ".join(self.names.attrs[a] for a in support) + ")"),
                "key_annotation": (annotations[support[0]] if len(support) == 1
                                   else "tuple[" + ", ".join(annotations[a] for a in support) + "]"),
                "result": "tuple[" + ", ".join(d["annotation"] for d in derivs) + "]",
                "vars": ", ".join(d["var"] for d in derivs) + ("," if len(derivs) == 1 else ""),
                "support": ", ".join(support), "support_names": support,
                # one code or value per key: as many as the code system has; else combinations
                "limit": ("CACHE_LIMIT" if len(support) == 1 and self.types[support[0]].kind not in ("list", "pair")
                          else "COMBINATION_LIMIT"),
            })
        case = [self.names.attrs[a.name] for a in self.p.attributes] + [self.names.features[d.name] for d in self.p.derivations
                                                                        if d.name not in self.hidden]
        names = [py(a.name) for a in self.p.attributes]
        return {"attrs": attrs, "syntaxes": sorted(syntaxes.items()), "stages": groups,
                "attribute_names": wrap(names, 8, 96) + ("," if len(names) == 1 else ""), "whole": self.whole(groups, annotations),
                "case": wrap(case, 8), "attrs_case": wrap([self.names.attrs[a.name] for a in self.p.attributes], 8).rstrip(",") + ","}

    def whole(self, groups: list[dict[str, Any]], annotations: dict[str, str]) -> dict[str, str] | None:
        """When the remembered stage with the largest support reads every attribute any feature reads,
        all the features are a function of those attributes: they are remembered together, under the
        key that stage had (no more entries), and a case seen before pays one look-up instead of one
        per stage. The stages of one attribute stay inside, each with its own memory, for combinations
        not seen yet. Returns None (features computed stage by stage) otherwise."""
        if not groups or not groups[-1]["memo"]:
            return None
        union = {a for g in groups for a in g["support_names"]}
        top = groups[-1]
        if set(top["support_names"]) != union:
            return None
        top["memo"] = False  # its memory would hold what the whole memory holds
        for g in groups:
            # A combination of attributes seen again is found in the whole memory; one not seen yet
            # seldom repeats a combination of some of them (measured on a year's distinct cases: the
            # look-up and the keeping cost more than they save). Stages of one attribute stay remembered.
            if len(g["support_names"]) > 1:
                g["memo"] = False
        names = top["support_names"]
        self.whole_support = frozenset(names)
        features = [d.name for d in self.p.derivations if d.name not in self.hidden]
        return {
            "params": ", ".join(f"{self.names.attrs[a]}: {annotations[a]}" for a in names),
            "args": ", ".join(self.names.attrs[a] for a in names),
            "key": top["key"], "key_annotation": top["key_annotation"], "limit": top["limit"],
            "support": top["support"],
            "result": "tuple[" + ", ".join([*(annotations[f] for f in features), "list[int | None]"]) + "]",
            "vars": wrap([self.names.features[f] for f in features], 8).rstrip(",") + ",",
            # one slot per decision table of the module: the mask of its rows that the features
            # remembered here allow, filled on first use (DecisionTable ``cell``)
            "cell": "[" + ", ".join(["None"] * len(self.p.decisions)) + "]",
        }

    def convert(self, a: ir.Attribute, t: Type, item: str) -> str:
        kind = t.kind
        if kind == "int":
            return f"R.to_int({item}, lo={py(t.lo)}, hi={py(t.hi)}, bounds={py(str(t))})"
        if kind == "decimal":
            return f"R.to_decimal({item})"
        if kind == "bool":
            return f"R.to_bool({item})"
        if kind == "date":
            return f"R.to_date({item})"
        if kind == "enum":
            return f"R.to_enum({item}, ENUM_{t.ref}, enum={py(t.ref)})"
        case = "" if a.upper else ", upper=False"
        if a.syntax is not None and kind in ("code", "pair"):  # the code system's syntax, checked
            case += f", syntax={_syntax_var(t.ref or '')}, system={py(t.ref)}"
        if kind == "code":
            return f"R.to_code({item}, ignore={py(a.ignore)}{case})"
        if kind == "pair":
            return f"R.to_pair({item}, ignore={py(a.ignore)}{case})"
        return f"R.to_text({item})"

    def decision(self, t: ir.Table) -> dict[str, object]:
        features: dict[str, tuple[int, bool]] = {}
        for row in (*t.rows, *t.post):
            for c in row.constraints:
                if c.feature in self.positions:
                    features.setdefault(c.feature, (self.positions[c.feature], self.types[c.feature].kind == "list"))
        # Features that read the same attributes are probed as one: as many combinations as those attributes.
        tested = dict.fromkeys(c.feature for row in t.rows for c in row.constraints if c.feature in self.positions)
        # With the features remembered together (see `whole`), all that read only their attributes are
        # one probe: as many combinations as DERIVED holds.
        by_support: dict[frozenset[str], list[str]] = {}
        for feature in sorted(tested, key=self.positions.__getitem__):
            support = self.support[feature]
            key = self.whole_support if self.whole_support.issuperset(support) else support
            by_support.setdefault(key, []).append(feature)
        together = tuple(tuple(names) for names in by_support.values() if len(names) > 1)
        # With the features remembered together, the mask of the rows those features (and the
        # attributes they read) allow is a function of DERIVED's key too: it is kept in the cell at the
        # end of the case, which DERIVED keeps with the features — a case seen before pays no probe for them.
        cell = None
        fixed = tuple(f for f in tested if self.whole_support and self.whole_support.issuperset(self.support[f]))
        if fixed:
            cell = (len(self.positions), self.p.decisions.index(t), fixed)
        return {"var": f"TABLE_{_ident(t.name)}", "name": t.name, "catalogue": t.catalogue, "policy": t.policy,
                "together": together, "in_data": in_data(t), "cell": cell,
                "fallback": t.fallback, "fallback_rc": t.fallback_rc, "otherwise": t.otherwise,
                "rows": [x for r in t.rows for x in self.row(r)], "post": [x for r in t.post for x in self.row(r)],
                "features": [(name, position, is_list)
                             for name, (position, is_list) in sorted(features.items(), key=lambda kv: kv[1][0])],
                "comment": prose(f"decision table {t.name} for {t.catalogue}, policy {t.policy}"
                                   + (f" — {t.title}" if t.title else ""))}

    def row(self, r: ir.Row) -> list[dict[str, str]]:
        """A rule as ``Row(...)`` with keyword arguments, one condition per line: one runtime row per
        alternative of a rule with ``or``, each carrying the rule's id (the first that holds decides, and
        all give the same result)."""
        source = self.sources.relative(r.source)
        title = f", title={py(r.title)}" if r.title else ""
        result = " ".join(x for x in (r.group or "", f"rc {r.rc}" if r.rc else "") if x)
        out = []
        for k, alternative in enumerate(r.alternatives, 1):
            conds = "".join(f"        {self.condition(c)},\n" for c in alternative)
            code = (f"Row(\n    id={py(r.id)}, group={py(r.group)}, rc={py(r.rc)}, source={py(source)}{title},\n"
                    + (f"    conditions=(\n{conds}    ),\n" if conds else "    conditions=(),\n") + ")")
            text = " and ".join(c.text for c in alternative) or "always"
            which = f", alternative {k} of {len(r.alternatives)}" if len(r.alternatives) > 1 else ""
            out.append({"code": code, "comment": prose(f"{r.id} ({source}{which}): when {text} -> {result}"),
                        "source": source})
        return out

    def condition(self, c: Constraint) -> str:
        parts = [py(c.feature), py(c.kind)]
        for name in ("negated", "values", "ref", "lo", "hi", "lo_open", "hi_open"):
            value = getattr(c, name)
            if not (value is None or value is False or value == ()):  # not `in`: Decimal(0) == False
                parts.append(f"{name}={py(value)}")
        parts.append(f"text={py(c.text)}")
        return f"C({', '.join(parts)})"

    def payment(self) -> str:
        pay = self.p.payment
        if pay is None:
            return "None"
        lines = [f"unit_price={py(pay.unit_price)},"]
        for what, attr, values in (("share", pay.share_attr, pay.shares), ("stay", pay.stay_attr, None),
                                   ("price", pay.price_attr, pay.prices)):
            position = self.positions.get(attr or "")
            lines.append(f"{what}_position={py(position)}," + (f"  # {attr}" if position is not None else ""))
            if values is not None:
                lines.append(f"{what}s={{" + "".join(f"\n    {py(k)}: {py(v)}," for k, v in values.items()) + "\n},"
                             if values else f"{what}s={{}},")
        return "Payment(\n" + "".join("    " + line.replace("\n", "\n    ") + "\n" for line in lines) + ")"
