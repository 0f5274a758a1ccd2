"""The driver: runs the stages in order (load and parse, check, lower, analyse) for the CLI and tests."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from isfdsl.analysis.analyse import Report
from isfdsl.check.checker import Model, check
from isfdsl.diagnostics import Collector
from isfdsl.syntax.loader import Memo, Program, discover, load_program

if TYPE_CHECKING:
    from isfdsl.ir import model as ir


@dataclass(slots=True)
class Checked:
    """The outcome of the front end over some paths: one model per program and all diagnostics."""

    models: list[Model] = field(default_factory=list)
    diags: Collector = field(default_factory=Collector)
    sources: dict[str, str] = field(default_factory=dict)
    reports: list[Report] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.diags.errors


def check_paths(paths: list[str], analyse: bool = False, episodes: bool = True,
                overlay: Mapping[Path, str] | None = None, memo: Memo | None = None) -> Checked:
    """Load, parse and check every program under ``paths``; with ``analyse``, also run the analyses of
    the decision tables (:mod:`isfdsl.analysis.analyse`) on each program without errors, ``episodes`` asking
    for concrete witness episodes. A program with syntax errors is not checked further, so its
    diagnostics are the syntax errors only. ``overlay`` and ``memo`` are :func:`load_program`'s (unsaved
    editor buffers; parsed files remembered across calls)."""
    out = Checked()
    for root, files in discover(paths):
        before = len(out.diags.errors)
        program: Program = load_program(root, files, out.diags, overlay, memo)
        out.sources.update(program.sources)
        if len(out.diags.errors) > before:
            continue
        model = check(program, out.diags)
        out.models.append(model)
        if analyse and len(out.diags.errors) == before:
            from isfdsl.analysis.analyse import analyse as run_analyses
            from isfdsl.ir.model import lower

            out.reports.append(run_analyses(lower(model), episodes=episodes))
            out.reports[-1].report_into(out.diags)
    return out


@dataclass(slots=True)
class Built:
    """The outcome of ``build``: the diagnostics, and the package folder when it was written."""

    checked: Checked
    package: Path | None = None
    files: list[Path] = field(default_factory=list)
    #: the lowered definitions the package was built from
    program: ir.Program | None = None


def build(defs: str, out: Path, package: str | None = None, analyse: bool = True) -> Built:
    """Check (and with ``analyse``, analyse) the one program in ``defs`` and write its Python grouper
    package into ``out`` (a folder named like the package, e.g. ``generated/isf2025``). Nothing is
    written when there are errors: overlapping rows of a `unique` table or a gap are errors too."""
    from isfdsl.emit.python import render, sources_for, write_package
    from isfdsl.ir.model import lower

    checked = check_paths([defs], analyse=analyse, episodes=False)
    if not checked.ok:
        return Built(checked)
    if len(checked.models) != 1:
        raise ValueError(f"{defs}: holds {len(checked.models)} programs; build one folder at a time")
    program = lower(checked.models[0])
    files = render(program, sources_for(defs, checked.sources), package or out.name)
    return Built(checked, out, write_package(files, out), program)


def build_versions(defs: list[str], out: Path, analyse: bool = True) -> Built:
    """Check each version folder in ``defs`` and write one package into ``out`` whose ``group`` picks
    the version by the episode's date (:mod:`isfdsl.emit.versions`); ``ValueError`` when the versions
    cannot share a package. ``analyse`` as for :func:`build`."""
    from isfdsl.emit.python import sources_for
    from isfdsl.emit.versions import render_versions, write_versions
    from isfdsl.ir.model import lower

    checked = Checked()
    versions = []
    for folder in defs:
        one = check_paths([folder], analyse=analyse, episodes=False)
        checked.models += one.models
        checked.diags.items += one.diags.items
        checked.sources.update(one.sources)
        if one.ok and len(one.models) == 1:
            versions.append((lower(one.models[0]), sources_for(folder, one.sources)))
        elif one.ok:
            raise ValueError(f"{folder}: holds {len(one.models)} programs; name one version folder each")
    if not checked.ok:
        return Built(checked)
    files = render_versions(versions, out.name)
    return Built(checked, out, write_versions(files, out))


def load_package(folder: Path, name: str | None = None) -> ModuleType:
    """Import a generated package from its folder (under a private module name unless ``name``)."""
    name = name or f"_isf_{hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]}"
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py", submodule_search_locations=[str(folder)])
    if spec is None or spec.loader is None:
        raise ImportError(f"{folder}: not a Python package")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
