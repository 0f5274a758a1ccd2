"""The fast paths of the analysis and the reverse index answer as their plain definitions do: the greedy
point search of the cube index never claims a point that is covered, the lazily tried trace is the
eager one, and the reverse index's bit sets give the rows the definition in :mod:`isfdsl.analysis.reverse`
names, code by code."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from isfdsl import interpret
from isfdsl.analysis import reverse
from isfdsl.analysis.analyse import _Trace, find_episode, first_match
from isfdsl.analysis.cubes import Cube, CubeIndex, uncovered
from isfdsl.commands.cli import main
from isfdsl.commands.publish import load
from isfdsl.ir import model as ir

from .conftest import DEFINITIONS

#: Three variables with 4, 2 and 3 representatives.
FULL = [0b1111, 0b11, 0b111]


@st.composite
def _cubes(draw: st.DrawFn) -> Cube:
    return {k: draw(st.integers(1, FULL[k])) for k in draw(st.sets(st.integers(0, len(FULL) - 1)))}


@given(_cubes(), st.lists(_cubes(), max_size=12))
def test_greedy_escape_is_sound_and_agrees_with_the_exact_search(cube: Cube, others: list[Cube]) -> None:
    index = CubeIndex(len(FULL))
    for n, other in enumerate(others):
        index.add(other, n)
    exact = uncovered(cube, others, FULL)
    if index.escapes(cube, FULL):
        assert exact is not None  # a point the greedy search found is a point no other cube covers
    if exact is None:
        assert not index.escapes(cube, FULL)
    if not others:
        assert index.escapes(cube, FULL)


def test_a_lazy_trace_is_the_eager_trace() -> None:
    program = load(str(DEFINITIONS / "isf2025"))
    table = program.decisions[0]
    episode = {"sex": "2", "age": 78, "care_level": "3", "pdx": "H35.3", "procedures": ["CKD05"], "drugs": ["S01LA05"]}
    values, _ = interpret.normalize(program, episode)
    ev = interpret.Evaluator(program, values)
    eager = [interpret.try_row(program, row, ev.feature) for row in table.rows]
    lazy = _Trace(program, table.rows, ev.feature)
    assert next(s for s in lazy if s.matched) == next(s for s in eager if s.matched)
    assert len(lazy.steps) < len(eager)  # stopped at the first match
    assert list(lazy) == eager and lazy[3] == eager[3] and list(lazy[2:5]) == eager[2:5] and len(lazy) == len(eager)
    rule = next(s.rule for s in eager if s.matched)
    found = find_episode(program, table.name, episode, first_match(rule), attempts=5)
    assert found is not None and found["pdx"] == "H35.3"


#: The evaluation of the empty episode, by program (the same for every code).
_EMPTY: dict[int, interpret.Evaluator] = {}


def plain_leads(program: ir.Program, attr: ir.Attribute, code: str) -> set[tuple[str, str]]:
    """The definition, read as slowly as it is written: the rows (table, row) for which, with the code
    alone in the attribute, some positive condition on a feature that depends on the attribute turns
    from false to true and none of the row's conditions on such features is false."""
    deps = ir.supports(program)
    empty, _ = interpret.normalize(program, {})
    before = _EMPTY.get(id(program))
    if before is None or before.p is not program:
        before = _EMPTY[id(program)] = interpret.Evaluator(program, dict(empty))
    values = dict(empty)
    values[attr.name] = interpret.convert(attr, attr.type, [code] if attr.type.kind == "list" else code, checked=False)
    after = interpret.Evaluator(program, values)
    out = set()
    for table in program.decisions:
        for row in table.rows:
            mine = [c for c in row.constraints if attr.name in deps.get(c.feature, frozenset())]
            if not mine or not all(interpret.holds(program, c, after.feature(c.feature))[0] for c in mine):
                continue
            if any(not c.negated and not interpret.holds(program, c, before.feature(c.feature))[0] for c in mine):
                out.add((table.name, row.id))
    return out


def test_reverse_index_is_its_definition_code_by_code() -> None:
    for version in ("isf2024", "isf2025"):
        program = load(str(DEFINITIONS / version))
        index = reverse.build(program)
        attrs = {a.name: a for a in program.attributes}
        checked = 0
        for use in index:
            for attr in attrs.values():
                t = attr.type.elem if attr.type.kind == "list" and attr.type.elem else attr.type
                if t.kind not in ("code", "pair") or t.ref != use.system:
                    continue
                try:
                    want = plain_leads(program, attr, reverse.probe(use))
                except ValueError:
                    continue
                got = {(lead.table, lead.row) for lead in use.leads if lead.attribute == attr.name}
                assert got == want, (version, use.code, attr.name)
                checked += 1
        assert checked > 100, (version, checked)


def test_reverse_index_places_a_code_the_program_does_not_mention() -> None:
    program = load(str(DEFINITIONS / "isf2025"))
    index = reverse.build(program, also={"ICD10": {"Z9999": "Z99.99", "Q9999": "Q99.99"}})
    pdx = next(a for a in program.attributes if a.name == "pdx")
    for code in ("Z9999", "Q9999"):
        use = index.get("ICD10", code)
        assert use is not None and not use.lists
        assert {(lead.table, lead.row) for lead in use.leads if lead.attribute == "pdx"} == plain_leads(program, pdx, code)


def test_build_no_analyse_skips_the_analysis(tmp_path: Path) -> None:
    """`isf build --no-analyse` writes the package without the table analysis (whose errors, e.g. a gap,
    otherwise stop the build); the checks of names and types still run."""
    from .test_analyse import GAP, NO_MDC_ROW, _seed

    folder = _seed(tmp_path, *GAP, "drg.isf", NO_MDC_ROW)
    runner = CliRunner()
    stopped = runner.invoke(main, ["build", str(folder), "-o", str(tmp_path / "a" / "gapped")])
    assert stopped.exit_code == 1 and "ISF402" in stopped.output and not (tmp_path / "a").exists()
    built = runner.invoke(main, ["build", str(folder), "-o", str(tmp_path / "b" / "gapped"), "--no-analyse"])
    assert built.exit_code == 0, built.output
    assert "ISF402" not in built.output and (tmp_path / "b" / "gapped" / "__init__.py").is_file()
    broken = _seed(tmp_path / "c", "-> 802U", "-> NOSUCHGROUP")
    refused = runner.invoke(main, ["build", str(broken), "-o", str(tmp_path / "c" / "out"), "--no-analyse"])
    assert refused.exit_code == 1 and "error" in refused.output


def test_a_code_syntax_is_compiled_once_and_answers_again_as_python_does() -> None:
    """The checker shares one compiled code syntax per pattern, which remembers what it matched (a table of
    20,000 codes is checked again after each edit in the language server): the answers stay re's."""
    import re

    from isfdsl.check.checker import _compiled

    cases = {r"[A-Z][0-9]{2}(\.[0-9]{1,2})?": ["H35", "H35.3", "H3", "h35", "H35.", "H35.31", "H35.312", ""],
             r"(A|AA)+B": ["AAB", "AB", "B", "AAAC", "A" * 12 + "B"]}
    for pattern, codes in cases.items():
        for _ in range(2):
            assert _compiled(pattern) is _compiled(pattern)
            for code in codes:
                assert _compiled(pattern).fullmatch(code) == (re.fullmatch(pattern, code) is not None), (pattern, code)
