"""Package data (the grammar and the templates), loaded through importlib.resources."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def grammar_text() -> str:
    """The text of ``grammar/isf.lark`` as shipped inside the package."""
    return files("isfdsl").joinpath("grammar", "isf.lark").read_text(encoding="utf-8")


def template_text(name: str) -> str:
    """The text of the template ``name`` under ``isfdsl/templates``."""
    return files("isfdsl").joinpath("templates", name).read_text(encoding="utf-8")


@cache
def runtime_text() -> str:
    """The source of :mod:`isfdsl.runtime`, copied into every generated package."""
    return files("isfdsl").joinpath("runtime.py").read_text(encoding="utf-8")
