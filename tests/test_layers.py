"""The imports of `isfdsl` run one way: every module's imports (those inside functions included) point
to its own stage or an earlier one, in the stage order written down in docs/architecture.md, and no
modules import each other in a cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "isfdsl"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def stages(text: str) -> list[list[str]]:
    """The stage order: the numbered list under ``## Stage order``, each item's backticked names."""
    section = text.split("## Stage order", 1)[1].split("\n## ", 1)[0]
    return [re.findall(r"`([\w.]+)`", line.split(" — ", 1)[0])
            for line in section.splitlines() if re.match(r"\d+\. ", line)]


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of the package that module ``name`` imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            # `from isfdsl.analysis import reverse` imports the module isfdsl.analysis.reverse
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names)
    return {m for m in found if m in known}


def stage_of(name: str, order: list[list[str]]) -> int:
    """The position of the stage a module belongs to (the longest matching prefix)."""
    best = (-1, -1)
    for k, names in enumerate(order):
        for prefix in names:
            if name == prefix or (prefix != "isfdsl" and name.startswith(prefix + ".")):
                best = max(best, (len(prefix), k))
    return best[1]


def test_the_stage_order_is_written_down() -> None:
    order = stages(ARCHITECTURE.read_text(encoding="utf-8"))
    assert len(order) >= 10 and all(order)
    unplaced = [m for m in modules() if stage_of(m, order) < 0]
    assert not unplaced, f"modules in no stage of docs/architecture.md: {unplaced}"


def test_the_readme_says_the_stage_order() -> None:
    """The README's layout table names as "shared by every stage" only modules of the first stage (it listed
    limits.py, which imports the runtime), and names each top-level module in the row of a stage it belongs to."""
    order = stages(ARCHITECTURE.read_text(encoding="utf-8"))
    rows = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("| `isfdsl/")]
    shared = next(r for r in rows if "shared by every stage" in r)
    named = [p.removesuffix(".py").replace("/", ".") for p in re.findall(r"`(isfdsl/\w+\.py)`", shared.split(" | ")[0])]
    assert named and all(stage_of(n, order) == 0 for n in named), named
    top = {p for r in rows for p in re.findall(r"`(isfdsl/\w+\.py)`", r.split(" | ")[0])}
    assert "isfdsl/limits.py" in top and all(stage_of(p.removesuffix(".py").replace("/", "."), order) >= 0 for p in top)


def test_no_module_imports_a_later_stage() -> None:
    order = stages(ARCHITECTURE.read_text(encoding="utf-8"))
    known = modules()
    back = [f"{m} (stage {stage_of(m, order) + 1}) imports {t} (stage {stage_of(t, order) + 1})"
            for m, path in known.items() for t in sorted(imports(m, path, known))
            if stage_of(t, order) > stage_of(m, order)]
    assert not back, "\n".join(back)


def test_no_import_cycle() -> None:
    known = modules()
    graph = {m: imports(m, path, known) - {m} for m, path in known.items()}
    # A package imports its own modules (`isfdsl.analysis` -> `isfdsl.analysis.cubes` is not a cycle
    # through `isfdsl.analysis` unless a module imports the package's __init__ back), so every edge counts.
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append([*path[path.index(t):], t] if t in path else [m, t])
            elif t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_walk_sees_imports_inside_functions() -> None:
    """The walker itself: a back edge inside a function body counts (pipeline.build imports emit lazily)."""
    known = modules()
    assert "isfdsl.emit.python" in imports("isfdsl.commands.pipeline", known["isfdsl.commands.pipeline"], known)
    assert "isfdsl.analysis.reverse" in imports("isfdsl.emit.changes", known["isfdsl.emit.changes"], known)
    order = stages(ARCHITECTURE.read_text(encoding="utf-8"))
    assert stage_of("isfdsl.runtime", order) < stage_of("isfdsl.syntax.parse", order) < stage_of("isfdsl.commands.cli", order)
    assert stage_of("isfdsl", order) == 0 and stage_of("isfdsl.testing", order) < stage_of("isfdsl.commands", order)
    # the analysis cache is part of the analysis: the drivers and the language server use it, never the reverse
    assert stage_of("isfdsl.analysis.cache", order) == stage_of("isfdsl.analysis.analyse", order) \
        < stage_of("isfdsl.commands.pipeline", order) < stage_of("isfdsl.lsp.server", order)


def _section(path: Path, title: str) -> str:
    return path.read_text(encoding="utf-8").split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _rows(section: str) -> dict[str, str]:
    """A Markdown table's rows by their first cell."""
    return {cells[1].strip(): line for line in section.splitlines()
            if line.startswith("| ") and len(cells := line.split("|")) > 2}


def _unnamed(section: str, folder_cell: str) -> list[str]:
    """The modules of ``isfdsl`` the table in ``section`` does not name: a subpackage's module in the row
    of its folder (first cell ``folder_cell`` with the folder put in), a top-level one anywhere."""
    rows = _rows(section)
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.name == "__init__.py":
            continue
        if len(rel.parts) == 1:
            if f"`{rel.name}`" not in section and f"`isfdsl/{rel.name}`" not in section:
                missing.append(str(rel))
        elif f"`{rel.name}`" not in rows.get(folder_cell.format(folder=rel.parts[0]), ""):
            missing.append(str(rel))
    return missing


def test_the_layout_tables_name_every_module() -> None:
    """The README's layout table and the folders of docs/architecture.md name every module, each in
    the row of its folder: a module added without a word in either fails here."""
    assert _unnamed(_section(ROOT / "README.md", "Layout"), "`isfdsl/{folder}/`") == []
    assert _unnamed(_section(ARCHITECTURE, "Folders"), "`{folder}/`") == []


def test_a_module_over_600_lines_says_why_it_is_one_piece() -> None:
    """STYLE.md: modules under ~600 lines; one that is longer says in its docstring why it is one piece
    (``One piece (about N lines): …``), with N within a fifth of its length."""
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines <= 600:
            continue
        said = re.search(r"One piece \(about (\d[\d,]*) lines\)", ast.get_docstring(ast.parse(text)) or "")
        if said is None or abs(int(said[1].replace(",", "")) - lines) > lines // 5:
            unexplained.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    assert not unexplained, unexplained
