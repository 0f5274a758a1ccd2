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


def runtime_source(module: str) -> str:
    """The source of the runtime module ``module`` (``isfdsl/runtime/MODULE.py``; ``__init__`` for the
    package itself), as shipped inside the package."""
    return files("isfdsl").joinpath("runtime", f"{module}.py").read_text(encoding="utf-8")
