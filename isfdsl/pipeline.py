"""The driver: runs the stages in order (load and parse, check, lower, analyse) for the CLI and tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from .check import Model, check
from .diagnostics import Collector
from .loader import Program, discover, load_program


@dataclass(slots=True)
class Checked:
    """The outcome of the front end over some paths: one model per program and all diagnostics."""

    models: list[Model] = field(default_factory=list)
    diags: Collector = field(default_factory=Collector)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.diags.errors


def check_paths(paths: list[str]) -> Checked:
    """Load, parse and check every program under ``paths``. A program with syntax errors is not
    checked further, so its diagnostics are the syntax errors only."""
    out = Checked()
    for root, files in discover(paths):
        before = len(out.diags.errors)
        program: Program = load_program(root, files, out.diags)
        out.sources.update(program.sources)
        if len(out.diags.errors) > before:
            continue
        out.models.append(check(program, out.diags))
    return out
