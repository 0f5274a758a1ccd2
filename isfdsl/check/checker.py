"""Check: resolve every name across the files of a program, infer and check types, validate codes,
ranges and references; report into a collector and return the checked model for the IR.

One piece (about 990 lines): ``_Checker``'s passes — declarations, derivations with expression typing,
decision tables and their conditions, payment, unused names — read and fill one ``Model`` and report
into one collector, in an order that matters (types before derivations, derivations before rows), and
each reads what the ones before it found: a row's condition is judged against the types of the
attributes and derived features resolved before it, a code written in an expression or a row by the
syntax of its code system (compiled once by the declaration pass, kept in ``patterns``), and every pass
marks the names it uses for the last. Split into modules, each pass would take the whole checker as an
argument; instead the class keeps one section per pass, in ``run``'s order, and the type rules of the
built-in functions (one small function each, in the table ``_CALL_RULES``, kept complete against
:data:`isfdsl.check.builtins.BUILTINS`) close the module.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from isfdsl import limits
from isfdsl.check.builtins import BUILTINS
from isfdsl.diagnostics import Collector, Span, did_you_mean
from isfdsl.runtime.codesyntax import CodePattern, PatternError
from isfdsl.syntax import ast
from isfdsl.syntax.loader import Program
from isfdsl.types import ABSENT, BOOL, DECIMAL, INT, LANGUAGES, NUMERIC, TEXT, Type, compatible, list_of, unify


@dataclass(slots=True)
class Model:
    """A checked program: declarations by name, the type of every attribute, derivation and
    expression, and the derivations in dependency order."""

    program: Program
    version: ast.Version | None = None
    codesystems: dict[str, ast.CodeSystem] = field(default_factory=dict)
    enums: dict[str, ast.EnumDecl] = field(default_factory=dict)
    attrs: dict[str, ast.Attr] = field(default_factory=dict)
    codelists: dict[str, ast.CodeList] = field(default_factory=dict)
    tables: dict[str, ast.Table] = field(default_factory=dict)
    derives: dict[str, ast.Derive] = field(default_factory=dict)
    catalogues: dict[str, ast.Catalogue] = field(default_factory=dict)
    decisions: dict[str, ast.Decision] = field(default_factory=dict)
    payment: ast.Payment | None = None
    pathway: ast.Pathway | None = None
    attr_types: dict[str, Type] = field(default_factory=dict)
    pathway_types: dict[str, Type] = field(default_factory=dict)
    derive_types: dict[str, Type] = field(default_factory=dict)
    table_types: dict[str, Type] = field(default_factory=dict)
    #: The type of every expression node (nodes are frozen values whose span makes each one distinct).
    expr_types: dict[ast.Expr, Type] = field(default_factory=dict)
    derive_order: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    def feature_type(self, name: str, over: str = "episode") -> Type | None:
        """The type of what a row of a table ``over`` an episode or a pathway can test by ``name``."""
        if over == "pathway":
            return self.pathway_types.get(name)
        return self.attr_types.get(name) or self.derive_types.get(name)


def normalize_code(system: ast.CodeSystem | None, code: str) -> str:
    """A code as the grouper compares it: ignored characters removed, letters upper-cased (unless the
    code system is case sensitive)."""
    if system is not None:
        for ch in system.ignore:
            code = code.replace(ch, "")
        if system.case_sensitive:
            return code.strip()
    return code.strip().upper()


def check(program: Program, diags: Collector) -> Model:
    """Check ``program``; every problem goes to ``diags``. The model is complete when no error was found."""
    return _Checker(program, diags).run()


POST_FEATURES = {"group": TEXT, "return_code": TEXT}


class _Checker:
    def __init__(self, program: Program, diags: Collector) -> None:
        self.m = Model(program)
        self.d = diags
        self.patterns: dict[str, CodePattern | None] = {}
        #: What the rows of the decision table being checked test: ``episode`` or ``pathway``.
        self.over = "episode"

    # ------------------------------------------------------------------ driver
    def run(self) -> Model:
        self._collect()
        for cs in self.m.codesystems.values():
            self._check_codesystem(cs)
        for en in self.m.enums.values():
            self._check_enum(en)
        for attr in self.m.attrs.values():
            self.m.attr_types[attr.name] = self._attr(attr)
        for cl in self.m.codelists.values():
            self._check_codelist(cl)
        for table in self.m.tables.values():
            self._check_table(table)
        if self.m.pathway is not None:
            self._check_pathway(self.m.pathway)
        for dv in self.m.derives.values():
            self.m.derive_types[dv.name] = self.resolve_type(dv.type)
        self._check_derives()
        for cat in self.m.catalogues.values():
            self._check_catalogue(cat)
        for dec in self.m.decisions.values():
            self._check_decision(dec)
        if self.m.payment is not None:
            self._check_payment(self.m.payment)
        self._unused()
        return self.m

    def _decls(self) -> Iterator[ast.Decl]:
        for module in self.m.program.modules:
            yield from module.items

    def _collect(self) -> None:
        values: dict[str, Span] = {}
        first_version: ast.Version | None = None

        def claim(space: dict[str, Span], name: str, span: Span, what: str) -> bool:
            if name in space:
                self.d.report("ISF202", span, f"duplicate name `{name}`: {what} already declared at {space[name]}")
                return False
            space[name] = span
            return True

        types: dict[str, Span] = {}
        catalogues: dict[str, Span] = {}
        for item in self._decls():
            if isinstance(item, ast.Version):
                if first_version is None:
                    first_version = item
                else:
                    self.d.report("ISF210", item.span, f"a second version header; the first is at {first_version.span}")
            elif isinstance(item, ast.CodeSystem) and claim(types, item.name, item.span, "a type"):
                self.m.codesystems[item.name] = item
            elif isinstance(item, ast.EnumDecl) and claim(types, item.name, item.span, "a type"):
                self.m.enums[item.name] = item
            elif isinstance(item, ast.Pathway):
                if self.m.pathway is not None:
                    self.d.report("ISF202", item.span, f"a second pathway schema; the first is at {self.m.pathway.span}")
                else:
                    self.m.pathway = item
            elif isinstance(item, ast.Episode):
                for attr in item.attrs:
                    if claim(values, attr.name, attr.span, "a name"):
                        self.m.attrs[attr.name] = attr
            elif isinstance(item, ast.CodeList) and claim(values, item.name, item.span, "a name"):
                self.m.codelists[item.name] = item
            elif isinstance(item, ast.Table) and claim(values, item.name, item.span, "a name"):
                self.m.tables[item.name] = item
            elif isinstance(item, ast.Derive) and claim(values, item.name, item.span, "a name"):
                self.m.derives[item.name] = item
            elif isinstance(item, ast.Catalogue) and claim(catalogues, item.name, item.span, "a catalogue"):
                self.m.catalogues[item.name] = item
            elif isinstance(item, ast.Decision) and claim(values, item.name, item.span, "a name"):
                self.m.decisions[item.name] = item
            elif isinstance(item, ast.Payment):
                if self.m.payment is not None:
                    self.d.report("ISF202", item.span, f"a second payment block; the first is at {self.m.payment.span}")
                else:
                    self.m.payment = item
        self.m.version = first_version
        if first_version is None:
            modules = self.m.program.modules
            where = Span(modules[0].path if modules else self.m.program.root, 1, 1)
            self.d.report("ISF210", where, f"program `{self.m.program.root}` has no version header",
                          'add e.g. `version ISF 2025 "2025 PR1a" valid 2025-01-01 .. 2025-12-31`')
        else:
            self._check_version(first_version)

    # ------------------------------------------------------------------ declarations
    def _check_version(self, v: ast.Version) -> None:
        dates = []
        for text in (v.valid_from, v.valid_to):
            if text is None:
                continue
            try:
                dates.append(dt.date.fromisoformat(text))
            except ValueError:
                self.d.report("ISF211", v.span, f"`{text}` is not a calendar date")
        if len(dates) == 2 and dates[1] < dates[0]:
            self.d.report("ISF211", v.span, f"validity ends ({dates[1]}) before it starts ({dates[0]})")
        if v.dated_by is not None:
            attr = self.m.attrs.get(v.dated_by)
            if attr is None:
                self.d.report("ISF201", v.span, f"unknown episode attribute `{v.dated_by}` after `by`",
                              "name the episode attribute (of type date) whose value picks this version")
            elif not (isinstance(attr.type, ast.ScalarType) and attr.type.name == "date"):
                self.d.report("ISF203", v.span, f"`{v.dated_by}` picks the version by date, so it must be of type date",
                              f"declare it as `{v.dated_by}: date`")
        if v.language is not None and v.language not in LANGUAGES:
            self.d.report("ISF201", v.span, f"unknown language `{v.language}` of the user guide",
                          f"the guide is written in {' or '.join(f'`{x}`' for x in LANGUAGES)} (Norwegian bokmål or English)")

    def _check_codesystem(self, cs: ast.CodeSystem) -> None:
        if cs.syntax is None:
            self.patterns[cs.name] = None
            return
        try:
            self.patterns[cs.name] = _compiled(cs.syntax)
        except PatternError as exc:
            self.patterns[cs.name] = None
            self.d.report("ISF209", cs.span, f"syntax pattern of `{cs.name}` is not accepted: {exc}",
                          "a code syntax is a regular expression of literals, sets, `.`, groups, `|` and "
                          "quantifiers (see docs/language.md)")

    def _check_enum(self, en: ast.EnumDecl) -> None:
        names: dict[str, Span] = {}
        values: dict[str, Span] = {}
        for mem in en.members:
            if mem.name in names:
                self.d.report("ISF202", mem.span, f"duplicate member `{mem.name}` in `{en.name}`")
            if mem.value in values:
                self.d.report("ISF202", mem.span, f"duplicate input value {mem.value!r} in `{en.name}`")
            names[mem.name] = mem.span
            values[mem.value] = mem.span

    def resolve_type(self, t: ast.TypeExpr) -> Type:
        """The checked type of a type expression (unknown names are reported and give ``absent``)."""
        if isinstance(t, ast.IntType):
            if t.lo is not None and t.hi is not None and t.hi < t.lo:
                self.d.report("ISF204", t.span, f"integer range {t.lo}..{t.hi} is empty (upper bound below lower)")
            return Type("int", lo=t.lo, hi=t.hi)
        if isinstance(t, ast.ScalarType):
            return Type(t.name)
        if isinstance(t, ast.CodeType):
            if t.system not in self.m.codesystems:
                self._unknown(t.span, t.system, "code system", self.m.codesystems)
                return ABSENT
            return Type("pair" if t.pair else "code", t.system)
        if isinstance(t, ast.ListType):
            return list_of(self.resolve_type(t.element))
        if t.name in self.m.enums:
            return Type("enum", t.name)
        self._unknown(t.span, t.name, "type", {**self.m.enums, **self.m.codesystems})
        return ABSENT

    def _attr(self, attr: ast.Attr) -> Type:
        t = self.resolve_type(attr.type)
        if attr.default is not None:
            self._literal_fits(attr.default, t)
        return t

    def _check_pathway(self, pw: ast.Pathway) -> None:
        seen: dict[str, Span] = {}
        for pa in pw.attrs:
            if pa.name in seen:
                self.d.report("ISF202", pa.span, f"duplicate pathway attribute `{pa.name}` (first at {seen[pa.name]})")
                continue
            seen[pa.name] = pa.span
            t = self._attr(ast.Attr(pa.span, pa.name, pa.type, pa.label, pa.default))
            self.m.pathway_types[pa.name] = t
            if pa.members is None or t.kind == "absent":
                continue
            if pa.members == "count":
                want = INT  # a count fits any integer type
                fits = t.kind == "int"
            elif pa.members == "group":
                want = list_of(TEXT)
                fits = t == want
            elif pa.members in self.m.attr_types:
                source = self.m.attr_types[pa.members]
                self.m.used.add(pa.members)
                want = source if source.kind == "list" else list_of(source)
                fits = t == want
            else:
                self._unknown(pa.span, pa.members, "episode attribute (or `group`, `count`)", [*self.m.attrs, "group", "count"])
                continue
            if not fits:
                self.d.report("ISF203", pa.span, f"`{pa.name}` gathers `members {pa.members}`, which is {want}, "
                              f"but is declared {t}")

    def _literal_fits(self, lit: ast.Literal, t: Type) -> None:
        ok = {
            "int": lit.kind == "number" and re.fullmatch(r"-?\d+", lit.value) is not None,
            "decimal": lit.kind == "number",
            "bool": lit.kind == "bool",
            "text": lit.kind == "string",
            "date": lit.kind == "string" and _is_date(lit.value),
        }.get(t.kind)
        if t.kind == "enum":
            members = {m.name for m in self.m.enums[t.ref or ""].members}
            if lit.kind != "name" or lit.value not in members:
                self.d.report("ISF214", lit.span, f"`{lit.value}` is not a member of `{t.ref}`",
                              did_you_mean(lit.value, members))
            return
        if t.kind == "code":
            if lit.kind != "string":
                self.d.report("ISF215", lit.span, f"a default for {t} must be a quoted code")
            else:
                self.code_syntax(t.ref or "", lit.value, lit.span)
            return
        if ok is False:
            self.d.report("ISF215", lit.span, f"`{lit.value}` is not a valid {t}")
        elif t.kind == "int" and ok:
            n = int(lit.value)
            if (t.lo is not None and n < t.lo) or (t.hi is not None and n > t.hi):
                self.d.report("ISF215", lit.span, f"{n} lies outside {t}")
        elif ok is None and t.kind != "absent":
            self.d.report("ISF215", lit.span, f"an attribute of type {t} cannot have a default")

    def _is_code(self, system: str, text: str) -> bool:
        """Whether ``text`` is a code of ``system`` by its syntax (any text, where it declares none)."""
        pattern = self.patterns.get(system)
        return pattern is None or pattern.fullmatch(normalize_code(self.m.codesystems.get(system), text)) is not None

    def code_syntax(self, system: str, code: str, span: Span) -> bool:
        """Report ISF205 when ``code`` does not match its system's syntax; return whether it does."""
        pattern = self.patterns.get(system)
        norm = normalize_code(self.m.codesystems.get(system), code)
        if pattern is not None and not pattern.fullmatch(norm):
            self.d.report("ISF205", span, f"`{code}` is not a valid {system} code (syntax `{pattern.pattern}`)")
            return False
        return True

    def _check_codelist(self, cl: ast.CodeList) -> None:
        if cl.system not in self.m.codesystems:
            self._unknown(cl.span, cl.system, "code system", self.m.codesystems)
            return
        cs = self.m.codesystems[cl.system]
        pattern = self.patterns.get(cl.system)
        for e in cl.entries:
            if e.kind == "code":
                self.code_syntax(cl.system, e.lo, e.span)
            elif e.kind == "prefix":
                lo = normalize_code(cs, e.lo)
                if not lo:
                    self.d.report("ISF105", e.span, "a prefix pattern needs at least one character before `*`")
            else:
                lo, hi = normalize_code(cs, e.lo), normalize_code(cs, e.hi or "")
                if not lo or not hi:
                    self.d.report("ISF105", e.span, f"malformed code range `{e.text}`")
                    continue
                for bound in (e.lo, e.hi or ""):
                    if pattern is not None and not pattern.prefix_match(normalize_code(cs, bound)):
                        self.d.report("ISF205", e.span, f"range bound `{bound}` is not a valid {cl.system} code")
                if hi < lo[: len(hi)] or (len(hi) >= len(lo) and hi[: len(lo)] < lo):
                    self.d.report("ISF204", e.span, f"code range `{e.text}` is inverted: `{e.hi}` sorts before `{e.lo}`")

    def _check_table(self, table: ast.Table) -> None:
        vtype = self.m.table_types[table.name] = self.resolve_type(table.value_type)
        if table.key_system is not None and table.key_system not in self.m.codesystems:
            self._unknown(table.span, table.key_system, "code system", self.m.codesystems)
            return
        for row in table.rows:
            for key in (row.key, row.second):
                if key is None:
                    continue
                if key.endswith("*") or ("-" in key and table.key_system is not None):
                    self.d.report("ISF105", row.span, f"table keys are single codes, not patterns or ranges: `{key}`")
                elif table.key_system is not None:
                    self.code_syntax(table.key_system, key, row.span)
            for value in row.values:
                self._value_fits(value, vtype, row.span)

    def _value_fits(self, value: str, t: Type, span: Span) -> None:
        if t.kind == "code":
            self.code_syntax(t.ref or "", value, span)
        elif t.kind == "int" and not re.fullmatch(r"-?\d+", value):
            self.d.report("ISF215", span, f"`{value}` is not an integer")
        elif t.kind == "decimal" and not re.fullmatch(r"-?\d+(\.\d+)?", value):
            self.d.report("ISF215", span, f"`{value}` is not a number")
        elif t.kind in ("int", "decimal") and sum(ch.isdigit() for ch in value) > limits.DIGITS:
            self.d.report("ISF107", span, f"a number of {sum(ch.isdigit() for ch in value)} digits; "
                          f"at most {limits.DIGITS} are allowed")
        elif t.kind == "enum" and value not in {m.name for m in self.m.enums[t.ref or ""].members}:
            self.d.report("ISF214", span, f"`{value}` is not a member of `{t.ref}`")
        elif t.kind in ("list", "pair", "bool", "date"):
            self.d.report("ISF203", span, f"table values cannot be of type {t}")

    # ------------------------------------------------------------------ derivations
    def _check_derives(self) -> None:
        deps: dict[str, set[str]] = {}
        for dv in self.m.derives.values():
            refs: set[str] = set()
            inferred = self.expr(dv.expr, {}, refs)
            deps[dv.name] = refs & self.m.derives.keys()
            declared = self.m.derive_types[dv.name]
            if not compatible(inferred, declared) or (inferred.kind == "decimal" and declared.kind == "int"):
                self.d.report("ISF203", dv.expr.span, f"`{dv.name}` is declared {declared} but its expression is {inferred}")
        # Depth-first topological order; a back edge is a cycle.
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = path[path.index(name):] + [name]
                self.d.report("ISF212", self.m.derives[name].span, "cyclic derivation: " + " -> ".join(cycle))
                return
            state[name] = 1
            for dep in sorted(deps.get(name, ())):
                visit(dep, path + [name])
            state[name] = 2
            self.m.derive_order.append(name)

        for name in self.m.derives:
            visit(name, [])

    def expr(self, e: ast.Expr, scope: dict[str, Type], refs: set[str], expect: Type | None = None) -> Type:
        """Infer (and record) the type of ``e``; report type errors. ``expect`` resolves enum members."""
        t = self._expr(e, scope, refs, expect)
        self.m.expr_types[e] = t
        return t

    def _expr(self, e: ast.Expr, scope: dict[str, Type], refs: set[str], expect: Type | None) -> Type:
        if isinstance(e, ast.Literal):
            if e.kind == "string":
                return expect if expect is not None and expect.kind == "code" and self.code_syntax(expect.ref or "", e.value, e.span) else TEXT
            if e.kind == "code":
                return self._bare_code(e, expect)
            if e.kind == "number":
                return INT if re.fullmatch(r"-?\d+", e.value) else DECIMAL
            return BOOL if e.kind == "bool" else ABSENT
        if isinstance(e, ast.Name):
            return self._name(e, scope, refs, expect)
        if isinstance(e, ast.Field):
            base = self.expr(e.operand, scope, refs)
            if base.kind == "pair" and e.name in ("first", "second"):
                return Type("code", base.ref)
            if base.kind == "row" and e.name in ("key", "value"):
                table = self.m.tables[base.ref or ""]
                if e.name == "key":
                    return Type("code", table.key_system) if table.key_system else TEXT
                return self.m.table_types.get(table.name, ABSENT)
            if base.kind != "absent":
                fields = {"pair": "`first`, `second`", "row": "`key`, `value`"}.get(base.kind, "no fields")
                self.d.report("ISF203", e.span, f"{base} has no field `{e.name}` ({fields})")
            return ABSENT
        if isinstance(e, ast.Unary):
            inner = self.expr(e.operand, scope, refs)
            if e.op == "not" and inner.kind not in ("bool", "absent"):
                self.d.report("ISF203", e.operand.span, f"`not` needs a bool, not {inner}")
            return BOOL
        if isinstance(e, ast.If):
            self._want_bool(e.cond, scope, refs)
            a = self.expr(e.then, scope, refs, expect)
            b = self.expr(e.other, scope, refs, expect if a.kind == "absent" else a)
            if not compatible(a, b):
                self.d.report("ISF203", e.span, f"the branches of `if` differ in type: {a} and {b}")
                return ABSENT
            return unify(a, b)
        if isinstance(e, ast.Classify):
            return self._classify(e, scope, refs, expect)
        if isinstance(e, ast.Binary):
            return self._binary(e, scope, refs)
        if isinstance(e, ast.ListExpr):
            elem: Type = expect.elem if expect is not None and expect.kind == "list" and expect.elem else ABSENT
            for item in e.items:
                t = self.expr(item, scope, refs, elem if elem.kind != "absent" else None)
                if not compatible(elem, t):
                    self.d.report("ISF203", item.span, f"list elements differ in type: {elem} and {t}")
                else:
                    elem = unify(elem, t)
            return list_of(elem)
        if isinstance(e, (ast.Quant, ast.Comprehension)):
            src = self.expr(e.source, scope, refs)
            if src.kind != "list" and src.kind != "absent":
                self.d.report("ISF203", e.source.span, f"can only iterate over a list, not {src}")
            if src.kind == "codelist" or src.kind == "table":
                src = ABSENT
            local = {**scope, e.var: src.elem if src.kind == "list" and src.elem else ABSENT}
            if e.cond is not None:
                self._want_bool(e.cond, local, refs)
            if isinstance(e, ast.Comprehension):
                return list_of(self.expr(e.expr, local, refs))
            return local[e.var] if e.kind == "find" else BOOL
        assert isinstance(e, ast.Call)
        return self._call(e, scope, refs)

    def _bare_code(self, e: ast.Literal, expect: Type | None) -> Type:
        """A code written bare in an expression (``O80.1``, ``802U``): a code where a code is expected."""
        if _is_pattern(e.value):
            self.d.report("ISF105", e.span, f"`{e.value}` is a code-list pattern; here a single code is needed",
                          "put the pattern in a code list and test `in LIST`")
            return ABSENT
        if expect is not None and expect.kind == "code":
            return expect if self.code_syntax(expect.ref or "", e.value, e.span) else ABSENT
        if expect is not None and expect.kind == "text":
            return TEXT
        self.d.report("ISF203", e.span, f"`{e.value}` is a code written bare, but nothing here is a code to compare it with",
                      f'compare a code with it (`pdx == {e.value}`), or quote it as text: "{e.value}"')
        return ABSENT

    def _classify(self, e: ast.Classify, scope: dict[str, Type], refs: set[str], expect: Type | None) -> Type:
        """``classify CODE by { LIST -> value … } else value``: one type for every value."""
        subject = self.expr(e.subject, scope, refs)
        if subject.kind not in ("code", "absent"):
            self.d.report("ISF203", e.subject.span, f"`classify` sorts a code by code lists; this is {subject}")
        out = ABSENT
        seen: dict[str, Span] = {}
        for arm in e.arms:
            cl = self.m.codelists.get(arm.codelist)
            self.m.used.add(arm.codelist)
            if cl is None:
                self._unknown(arm.span, arm.codelist, "code list", self.m.codelists)
            elif subject.kind == "code" and cl.system != subject.ref:
                self.d.report("ISF207", arm.span, f"code list `{arm.codelist}` holds {cl.system} codes; "
                              f"the code classified is {subject}")
            if arm.codelist in seen:
                self.d.report("ISF202", arm.span, f"`{arm.codelist}` already has an arm (at {seen[arm.codelist]}); "
                              "this one can never be chosen")
            seen.setdefault(arm.codelist, arm.span)
            out = self._same_type(out, self.expr(arm.value, scope, refs, expect if out.kind == "absent" else out), arm.value)
        return self._same_type(out, self.expr(e.other, scope, refs, expect if out.kind == "absent" else out), e.other)

    def _same_type(self, a: Type, b: Type, at: ast.Expr) -> Type:
        if not compatible(a, b):
            self.d.report("ISF203", at.span, f"the values of `classify` differ in type: {a} and {b}")
            return a
        return unify(a, b)

    def _want_bool(self, e: ast.Expr, scope: dict[str, Type], refs: set[str]) -> None:
        t = self.expr(e, scope, refs)
        if t.kind not in ("bool", "absent"):
            self.d.report("ISF203", e.span, f"a condition must be a bool, not {t}")

    def _name(self, e: ast.Name, scope: dict[str, Type], refs: set[str], expect: Type | None) -> Type:
        if e.name in scope:
            return scope[e.name]
        refs.add(e.name)
        self.m.used.add(e.name)
        if e.name in self.m.attrs:
            return self.m.attr_types.get(e.name, ABSENT)
        if e.name in self.m.derives:
            return self.m.derive_types.get(e.name, ABSENT)
        if e.name in self.m.codelists:
            return Type("codelist", self.m.codelists[e.name].system)
        if e.name in self.m.tables:
            return Type("table", e.name)
        if expect is not None and expect.kind == "code" and self._is_code(expect.ref or "", e.name):
            return expect  # a code written bare, such as `I10`
        if expect is not None and expect.kind == "enum":
            if e.name in {m.name for m in self.m.enums[expect.ref or ""].members}:
                return expect
            members = [m.name for m in self.m.enums[expect.ref or ""].members]
            self.d.report("ISF214", e.span, f"`{e.name}` is not a member of `{expect.ref}`", did_you_mean(e.name, members))
            return ABSENT
        self._unknown(e.span, e.name, "name", [*scope, *self.m.attrs, *self.m.derives, *self.m.codelists, *self.m.tables])
        return ABSENT

    def _binary(self, e: ast.Binary, scope: dict[str, Type], refs: set[str]) -> Type:
        if e.op in ("and", "or"):
            self._want_bool(e.left, scope, refs)
            self._want_bool(e.right, scope, refs)
            return BOOL
        left = self.expr(e.left, scope, refs)
        if e.op in ("in", "not in"):
            if isinstance(e.right, ast.ListExpr) and not e.right.braces:
                self.d.report("ISF253", e.right.span, "a set is written with braces, `{a, b}`; `[a, b]` after "
                              f"`{e.op}` is the deprecated spelling", "`isf fmt` rewrites it")
            right = self.expr(e.right, scope, refs, list_of(left) if left.kind in ("enum", "code") else None)
            if right.kind == "codelist":
                if left.kind not in ("code", "absent") or (left.kind == "code" and left.ref != right.ref):
                    self.d.report("ISF203", e.span, f"{left} cannot be tested against a code list of {right.ref}")
            elif right.kind == "list":
                if not compatible(left, right.elem or ABSENT) and not (left.kind == "code" and right.elem == TEXT):
                    self.d.report("ISF203", e.span, f"{left} cannot be an element of {right}")
            elif right.kind != "absent":
                self.d.report("ISF203", e.right.span, f"`{e.op}` needs a list or a code list on the right, not {right}")
            return BOOL
        right = self.expr(e.right, scope, refs, left if left.kind in ("enum", "code") and e.op != "+" else None)
        if e.op == "+":
            if left.kind in NUMERIC and right.kind in NUMERIC:
                return unify(left, right)
            if left.kind in ("text", "code", "absent") and right.kind in ("text", "code", "absent"):
                return TEXT
            self.d.report("ISF203", e.span, f"`+` adds numbers or joins text, not {left} and {right}")
            return ABSENT
        if e.op in ("<", "<=", ">", ">="):
            if not (left.kind in (*NUMERIC, "date", "absent") and right.kind in (*NUMERIC, "date", "absent") and compatible(left, right)):
                self.d.report("ISF203", e.span, f"cannot order {left} and {right} with `{e.op}`")
            return BOOL
        text_like = {left.kind, right.kind} <= {"text", "code"}
        if not compatible(left, right) and not text_like:
            self.d.report("ISF203", e.span, f"cannot compare {left} with {right}")
        return BOOL

    def _call(self, e: ast.Call, scope: dict[str, Type], refs: set[str]) -> Type:
        spec = BUILTINS.get(e.func)
        if spec is None:
            self._unknown(e.span, e.func, "function", BUILTINS)
            for a in e.args:
                self.expr(a, scope, refs)
            return ABSENT
        n = len(e.args)
        if n < spec.min_args or (spec.max_args is not None and n > spec.max_args):
            self.d.report("ISF213", e.span, f"`{e.func}` takes {_arity(spec.min_args, spec.max_args)}, not {n}",
                          f"signature: {spec.signature}")
            for a in e.args:
                self.expr(a, scope, refs)
            return ABSENT
        args = [self.expr(a, scope, refs) for a in e.args]
        return _CALL_RULES[e.func](self, e, args)

    def fail(self, e: ast.Expr, message: str) -> Type:
        self.d.report("ISF203", e.span, message)
        return ABSENT

    # ------------------------------------------------------------------ catalogues and decisions
    def _check_catalogue(self, cat: ast.Catalogue) -> None:
        seen: dict[str, Span] = {}
        for g in cat.groups:
            if g.code in seen:
                self.d.report("ISF202", g.span, f"duplicate group `{g.code}` in `{cat.name}` (first at {seen[g.code]})")
            seen[g.code] = g.span

    def _check_decision(self, dec: ast.Decision) -> None:
        self.over = dec.over
        if dec.over == "pathway" and self.m.pathway is None:
            self.d.report("ISF201", dec.span, f"`{dec.name}` is a table over pathways, but no `pathway {{ … }}` schema is declared")
        target = self.m.decisions.get(dec.otherwise or "")
        if target is not None and target.over != dec.over:
            self.d.report("ISF203", dec.span, f"`{dec.name}` is over {dec.over}s; its `otherwise` table `{target.name}` "
                          f"is over {target.over}s")
        cat = self.m.catalogues.get(dec.catalogue)
        if cat is None:
            self._unknown(dec.span, dec.catalogue, "catalogue", self.m.catalogues)
        codes = {g.code for g in cat.groups} if cat else set()
        if dec.fallback is not None:
            self._group_ref(dec.fallback, codes, cat, dec.span)
        if dec.otherwise is not None:
            seen: set[str] = {dec.name}
            next_name: str | None = dec.otherwise
            while next_name is not None:
                name = next_name
                target = self.m.decisions.get(name)
                if target is None:
                    self._unknown(dec.span, name, "decision table", self.m.decisions)
                    break
                if name in seen:
                    self.d.report("ISF212", dec.span, f"`otherwise` goes round in a circle: {' -> '.join([*seen, name])}")
                    break
                seen.add(name)
                next_name = target.otherwise
        ids: dict[str, Span] = {}
        for rule in (*dec.rules, *dec.post):
            if rule.id in ids:
                self.d.report("ISF208", rule.span, f"duplicate rule id `{rule.id}` (first at {ids[rule.id]})")
            ids[rule.id] = rule.span
            if rule.group is not None:
                self._group_ref(rule.group, codes, cat, rule.out_span or rule.span)
            post = rule in dec.post
            for cond in rule.conds:
                self._cond(cond, post)
            n = alternatives(rule.when)
            if n > MAX_ALTERNATIVES:
                self.d.report("ISF217", rule.span, f"the condition of rule {rule.id} multiplies out to {n} alternatives "
                              f"(`and` over `or`); at most {MAX_ALTERNATIVES}",
                              "split the rule, or name a repeated part as a derived feature")

    def _group_ref(self, code: str, codes: set[str], cat: ast.Catalogue | None, span: Span) -> None:
        self.m.used.add(f"group:{code}")
        if cat is not None and code not in codes:
            self.d.report("ISF206", span, f"group `{code}` is not in catalogue `{cat.name}`", did_you_mean(code, codes))

    def _cond(self, c: ast.Cond, post: bool) -> None:
        over = self.over
        if over == "episode":
            self.m.used.add(c.feature)
        t = self.m.feature_type(c.feature, over) or (POST_FEATURES.get(c.feature) if post else None)
        if t is None and c.feature in POST_FEATURES:
            self.d.report("ISF216", c.span, f"`{c.feature}` is a result of the table and can only be tested in its post-rules")
            return
        if t is None:
            names = [*self.m.pathway_types] if over == "pathway" else [*self.m.attrs, *self.m.derives]
            self._unknown(c.span, c.feature, "pathway attribute" if over == "pathway" else "feature",
                          [*names, *(POST_FEATURES if post else ())])
            return
        op = c.op
        if op in ("present", "absent"):
            return
        if op in ("true", "false"):
            if t.kind != "bool":
                self.d.report("ISF203", c.span, f"`{c.feature}` is {t}, not bool; compare it with a value")
            return
        if op in ("has", "lacks"):
            if t.kind != "list" or t.elem is None:
                self.d.report("ISF203", c.span, f"`{op}` needs a list feature; `{c.feature}` is {t}")
                return
            assert c.value is not None
            self._cond_value(c.value, t.elem, allow_codelist=True)
            return
        if op in ("in", "not in"):
            assert c.values is not None
            vs = c.values
            if vs.name is not None:
                self.m.used.add(vs.name)
                if vs.name in self.m.codelists:
                    system = self.m.codelists[vs.name].system
                    if t.kind != "code" or t.ref != system:
                        self.d.report("ISF203", vs.span, f"`{c.feature}` is {t}; code list `{vs.name}` holds {system} codes")
                else:
                    self._unknown(vs.span, vs.name, "code list", self.m.codelists)
            elif vs.lo is not None:
                self._interval(c, t, vs)
            else:
                for v in vs.values:
                    self._cond_value(v, t, allow_codelist=False)
            return
        assert c.value is not None
        if op in ("<", "<=", ">", ">=") and t.kind not in NUMERIC:
            self.d.report("ISF203", c.span, f"`{op}` needs a number; `{c.feature}` is {t}")
            return
        self._cond_value(c.value, t, allow_codelist=False)

    def _interval(self, c: ast.Cond, t: Type, vs: ast.ValueSet) -> None:
        if t.kind not in NUMERIC:
            self.d.report("ISF203", vs.span, f"an interval needs a number feature; `{c.feature}` is {t}")
            return
        if float(vs.hi or 0) < float(vs.lo or 0):
            self.d.report("ISF204", vs.span, f"interval {vs.lo}..{vs.hi} is empty (upper bound below lower)")

    def _cond_value(self, v: ast.Value, t: Type, allow_codelist: bool) -> None:
        if v.kind == "code" and _is_pattern(v.text):
            self.d.report("ISF105", v.span, f"`{v.text}` is a code-list pattern; a condition compares single codes",
                          "put the pattern in a code list and test `in LIST` (or `has LIST`)")
            return
        if v.kind in ("name", "code", "number") and t.kind in ("code", "text"):
            # A bare value of a code or text feature is the code or text itself: `pdx == O80.1`.
            if v.kind == "name" and v.text in self.m.codelists:
                self.m.used.add(v.text)
                if allow_codelist:
                    system = self.m.codelists[v.text].system
                    if t.kind != "code" or t.ref != system:
                        self.d.report("ISF203", v.span, f"elements are {t}; code list `{v.text}` holds {system} codes")
                else:
                    self.d.report("ISF203", v.span, f"`{v.text}` is a code list, not one code",
                                  f"test membership with `in {v.text}`")
                return
            if t.kind == "code":
                self.code_syntax(t.ref or "", v.text, v.span)
            return
        if v.kind == "code":
            self.d.report("ISF203", v.span, f"`{v.text}` is a code, but the feature is {t}")
            return
        if v.kind == "name":
            if allow_codelist and v.text in self.m.codelists:
                self.m.used.add(v.text)
                system = self.m.codelists[v.text].system
                if t.kind != "code" or t.ref != system:
                    self.d.report("ISF203", v.span, f"elements are {t}; code list `{v.text}` holds {system} codes")
                return
            if t.kind == "enum":
                members = [m.name for m in self.m.enums[t.ref or ""].members]
                if v.text not in members:
                    self.d.report("ISF214", v.span, f"`{v.text}` is not a member of `{t.ref}`", did_you_mean(v.text, members))
                return
            if t.kind == "bool" and v.text in ("true", "false"):
                return
            self._unknown(v.span, v.text, "value", [*self.m.codelists] if allow_codelist else [])
            return
        if v.kind == "number":
            if t.kind not in NUMERIC:
                self.d.report("ISF203", v.span, f"cannot compare {t} with the number {v.text}")
            elif t.kind == "int" and (t.lo is not None or t.hi is not None):
                n = float(v.text)
                if (t.lo is not None and n < t.lo - 1) or (t.hi is not None and n > t.hi + 1):
                    self.d.report("ISF215", v.span, f"{v.text} lies outside {t}; the condition can never hold")
            return
        if t.kind == "code":
            self.code_syntax(t.ref or "", v.text, v.span)
        elif t.kind not in ("text", "absent"):
            self.d.report("ISF203", v.span, f"cannot compare {t} with the text {v.text!r}")

    def _check_payment(self, p: ast.Payment) -> None:
        for attr, items, what in ((p.share_attr, p.shares, "shares"), (p.price_attr, p.prices, "unit prices")):
            if attr is None:
                continue
            self.m.used.add(attr)
            t = self.m.feature_type(attr)
            if t is None:
                self._unknown(p.span, attr, "attribute", [*self.m.attrs, *self.m.derives])
            elif t.kind != "enum":
                self.d.report("ISF203", p.span, f"{what} are given per member of an enumeration; `{attr}` is {t}")
            else:
                members = [m.name for m in self.m.enums[t.ref or ""].members]
                for s in items:
                    if s.member not in members:
                        self.d.report("ISF214", s.span, f"`{s.member}` is not a member of `{t.ref}`", did_you_mean(s.member, members))
        if p.stay_attr is not None:
            self.m.used.add(p.stay_attr)
            t = self.m.feature_type(p.stay_attr)
            if t is None:
                self._unknown(p.span, p.stay_attr, "attribute", [*self.m.attrs, *self.m.derives])
            elif t.kind != "int":
                self.d.report("ISF203", p.span, f"the length of stay must be an int; `{p.stay_attr}` is {t}")

    # ------------------------------------------------------------------ helpers
    def _unknown(self, span: Span, name: str, what: str, candidates: Iterable[str]) -> None:
        names = list(candidates)  # a dictionary's names are its keys
        self.d.report("ISF201", span, f"unknown {what} `{name}`", did_you_mean(name, names))

    def _unused(self) -> None:
        for cl in self.m.codelists.values():
            if cl.name not in self.m.used:
                self.d.report("ISF250", cl.span, f"code list `{cl.name}` is never used")
        for cat in self.m.catalogues.values():
            for g in cat.groups:
                if f"group:{g.code}" not in self.m.used:
                    self.d.report("ISF251", g.span, f"group `{g.code}` of `{cat.name}` is produced by no rule")
        declared: list[tuple[str, ast.Table | ast.Derive]] = [*self.m.tables.items(), *self.m.derives.items()]
        for name, decl in declared:
            if name not in self.m.used:
                self.d.report("ISF252", decl.span, f"`{name}` is never used")


#: The most alternatives a rule's condition may multiply out to (each becomes a row of the IR's
#: disjunctive normal form and of the generated table).
MAX_ALTERNATIVES = 64


def alternatives(c: ast.Condition | None) -> int:
    """How many conjunctions a condition multiplies out to (``and`` distributed over ``or``)."""
    if c is None or isinstance(c, ast.Cond):
        return 1
    counts = [alternatives(x) for x in c.items]
    if isinstance(c, ast.AnyOf):
        return sum(counts)
    product = 1
    for n in counts:
        product = min(product * n, 1 << 20)  # enough to say it is too many
    return product


def _is_pattern(text: str) -> bool:
    """Whether a bare code is a code-list pattern (a prefix ``H35*`` or a range ``C81-C88``)."""
    return text.endswith("*") or "-" in text


def _arity(lo: int, hi: int | None) -> str:
    if hi == lo:
        return f"{lo} argument{'s' if lo != 1 else ''}"
    return f"at least {lo} arguments" if hi is None else f"{lo} to {hi} arguments"


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------- type rules of the built-ins
def _key_type(c: _Checker, table: Type) -> Type:
    t = c.m.tables[table.ref or ""]
    return Type("code", t.key_system) if t.key_system else TEXT


def _value_type(c: _Checker, table: Type) -> Type:
    return c.m.table_types.get(table.ref or "", ABSENT)


def _t_lookup(c: _Checker, e: ast.Call, a: list[Type]) -> Type:
    table, x = a
    if table.kind != "table":
        return c.fail(e.args[0], f"the first argument of `{e.func}` must be a table, not {table}")
    key = _key_type(c, table)
    item = x.elem if x.kind == "list" and x.elem else x
    if e.func == "combo" and item.kind != "pair":
        return c.fail(e.args[1], f"`combo` looks up a pair, not {x}")
    if key.kind == "code":
        if item.kind in ("code", "pair") and item.ref != key.ref:
            c.d.report("ISF207", e.args[1].span, f"table `{table.ref}` is keyed by {key.ref} codes, not {item.ref}")
            return ABSENT
        if item.kind not in ("code", "pair", "text", "absent"):
            return c.fail(e.args[1], f"table `{table.ref}` is keyed by {key}, not {x}")
    elif item.kind not in ("text", "code", "enum", "absent"):
        return c.fail(e.args[1], f"table `{table.ref}` is keyed by text, not {x}")
    return list_of(_value_type(c, table))


def _t_first(c: _Checker, e: ast.Call, a: list[Type]) -> Type:
    if a[0].kind != "list":
        return c.fail(e.args[0], f"`first` needs a list, not {a[0]}")
    return a[0].elem or ABSENT


def _t_coalesce(c: _Checker, e: ast.Call, a: list[Type]) -> Type:
    out = ABSENT
    for arg, t in zip(e.args, a):
        if not compatible(out, t):
            return c.fail(arg, f"`coalesce` arguments differ in type: {out} and {t}")
        out = unify(out, t)
    return out


def _textish(c: _Checker, e: ast.Call, a: list[Type], ints: tuple[int, ...], strs: tuple[int, ...], result: Type) -> Type:
    for i in strs:
        if a[i].kind not in ("text", "code", "enum", "absent"):
            c.fail(e.args[i], f"argument {i + 1} of `{e.func}` must be text, not {a[i]}")
    for i in ints:
        if i < len(a) and a[i].kind not in ("int", "absent"):
            c.fail(e.args[i], f"argument {i + 1} of `{e.func}` must be an int, not {a[i]}")
    return result


def _t_text(c: _Checker, e: ast.Call, a: list[Type]) -> Type:
    if a[0].kind in ("list", "pair", "table", "codelist", "row"):
        return c.fail(e.args[0], f"`text` converts a scalar, not {a[0]}")
    return TEXT


def _t_count(c: _Checker, e: ast.Call, a: list[Type]) -> Type:
    if a[0].kind not in ("list", "absent"):
        return c.fail(e.args[0], f"`count` needs a list, not {a[0]}")
    return INT


def _t_extreme(c: _Checker, e: ast.Call, a: list[Type]) -> Type:
    xs, default = a
    if xs.kind != "list" or xs.elem is None or xs.elem.kind not in (*NUMERIC, "absent"):
        return c.fail(e.args[0], f"`{e.func}` needs a list of numbers, not {xs}")
    if default.kind not in (*NUMERIC, "absent"):
        return c.fail(e.args[1], f"the default of `{e.func}` must be a number, not {default}")
    return unify(xs.elem, default)


def _t_setop(c: _Checker, e: ast.Call, a: list[Type]) -> Type:
    out = list_of(ABSENT)
    for arg, t in zip(e.args, a):
        if t.kind not in ("list", "absent") or not compatible(out, t):
            return c.fail(arg, f"`{e.func}` needs lists of one element type; got {t}")
        out = unify(out, t)
    return out


def _t_codes(c: _Checker, e: ast.Call, a: list[Type]) -> Type:
    item = a[0].elem if a[0].kind == "list" and a[0].elem else a[0]
    if item.kind != "pair":
        return c.fail(e.args[0], f"`codes` takes a pair or a list of pairs, not {a[0]}")
    return list_of(Type("code", item.ref))


def _t_entries(c: _Checker, e: ast.Call, a: list[Type]) -> Type:
    if a[0].kind != "table":
        return c.fail(e.args[0], f"`entries` needs a table, not {a[0]}")
    return list_of(Type("row", a[0].ref))


_CALL_RULES = {
    "lookup": _t_lookup,
    "combo": _t_lookup,
    "first": _t_first,
    "coalesce": _t_coalesce,
    "text": _t_text,
    "prefix": lambda c, e, a: _textish(c, e, a, (1,), (0,), TEXT),
    "substr": lambda c, e, a: _textish(c, e, a, (1, 2), (0,), TEXT),
    "char": lambda c, e, a: _textish(c, e, a, (1,), (0,), TEXT),
    "starts_with": lambda c, e, a: _textish(c, e, a, (), (0, 1), BOOL),
    "replace_prefix": lambda c, e, a: _textish(c, e, a, (), (0, 1, 2), TEXT),
    "count": _t_count,
    "max": _t_extreme,
    "min": _t_extreme,
    "union": _t_setop,
    "intersect": _t_setop,
    "minus": _t_setop,
    "codes": _t_codes,
    "entries": _t_entries,
}
assert _CALL_RULES.keys() == BUILTINS.keys()


class _RememberingPattern(CodePattern):
    """A code syntax that remembers what it matched: checks share one per syntax (:func:`_compiled`), so a
    table of 20,000 codes checked again after each edit in the language server costs dict look-ups."""

    def __init__(self, pattern: str) -> None:
        super().__init__(pattern)
        self._matched: dict[str, bool] = {}

    def fullmatch(self, text: str) -> bool:
        hit = self._matched.get(text)
        if hit is None:
            hit = super().fullmatch(text)
            if len(self._matched) >= 1 << 18:
                self._matched.clear()
            self._matched[text] = hit
        return hit


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> CodePattern:
    """The compiled code syntax ``pattern``, one per process; raises :class:`PatternError` as
    :class:`CodePattern` does."""
    return _RememberingPattern(pattern)
