"""The runtime's modules bundled into a generated package's one ``_runtime.py`` (isfdsl.emit.bundle):
the bundle follows its rule exactly, keeps every statement of every module unchanged, and refuses
modules that one file cannot hold. (That the bundle runs with nothing of isfdsl installed is
tests/test_compile.py's stdlib-only venv test.)"""

from __future__ import annotations

import ast
import textwrap

import pytest

from isfdsl import runtime
from isfdsl.emit.bundle import BundleError, bundle, runtime_text
from isfdsl.resources import runtime_source


def _module(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


A = _module('''
    """The first module: a constant
    over two lines."""

    from __future__ import annotations

    import sys
    from typing import Any

    #: The largest size.
    BIG: Any = sys.maxsize
''')

B = _module('''
    """The second module."""

    from __future__ import annotations

    from collections.abc import Mapping
    from dataclasses import field as _dc_field
    from typing import IO, Any, TypeVar

    from isfdsl.runtime.a import BIG


    def f(m: Mapping[str, IO[str]]) -> Any:
        import argparse  # inside a function: stays where it is

        return BIG, argparse, _dc_field
''')


def test_a_bundle_is_the_docstring_one_import_block_and_the_modules_in_order() -> None:
    assert bundle("What it is.", [("a", A), ("b", B)]) == _module('''
        """What it is.
        """

        from __future__ import annotations

        import sys
        from collections.abc import Mapping
        from dataclasses import field as _dc_field
        from typing import IO, Any, TypeVar

        # ---------------------------------------------------------------------- isfdsl.runtime.a
        # The first module: a constant
        # over two lines.

        #: The largest size.
        BIG: Any = sys.maxsize


        # ---------------------------------------------------------------------- isfdsl.runtime.b
        # The second module.

        def f(m: Mapping[str, IO[str]]) -> Any:
            import argparse  # inside a function: stays where it is

            return BIG, argparse, _dc_field
    ''')


def test_a_name_imported_plainly_and_under_another_name_is_imported_both_ways() -> None:
    """`from dataclasses import field` in one module and `field as _dc_field` in another: the bundler
    sorted (name, None) against (name, alias) and raised TypeError."""
    c = "from dataclasses import dataclass, field\n\nX = field\n"
    text = bundle("Both.", [("a", A), ("b", B), ("c", c)])
    assert "from dataclasses import dataclass, field\nfrom dataclasses import field as _dc_field\n" in text


@pytest.mark.parametrize(("modules", "message"), [
    ([("a", A + "import jinja2\n")], "an import below the top"),
    ([("a", "import jinja2\n")], "jinja2, which is not of the standard library"),
    ([("a", "from . import b\n")], "not of the standard library"),
    ([("b", B), ("a", A)], "imports isfdsl.runtime.a, which does not come before it"),
    ([("a", A), ("c", "BIG = 1\n")], "BIG is defined in a as well"),
    ([("a", A), ("c", "def sys() -> None: ...\n")], "sys: defined by a module and bound by an import"),
    ([("a", "def f() -> None:\n    import lark\n")], "lark, which is not of the standard library"),
])
def test_what_one_file_cannot_hold_is_refused(modules: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(BundleError, match=message):
        bundle("", modules)


def _statements(tree: ast.Module) -> list[str]:
    """Every top-level statement but the docstring and the imports, as an AST dump."""
    return [ast.dump(node) for node in tree.body[1:] if not isinstance(node, (ast.Import, ast.ImportFrom))]


def _imports(tree: ast.Module) -> set[tuple[str, str, str | None]]:
    """(module, name, alias) of every top-level import of the standard library."""
    out = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            out.update((a.name, "", a.asname) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith(("isfdsl", "__future__")):
            out.update((node.module, a.name, a.asname) for a in node.names)
    return out


def test_the_runtime_bundle_holds_every_module_unchanged() -> None:
    text = runtime_text()
    tree = ast.parse(text)
    modules = [ast.parse(runtime_source(name)) for name in runtime.MODULES]
    # Every statement of every module, in order, and nothing else; the docstring is the package's.
    assert _statements(tree) == [s for m in modules for s in _statements(m)]
    assert ast.get_docstring(tree) == ast.get_docstring(ast.parse(runtime_source("__init__")))
    # One import block: the modules' standard-library imports, merged; nothing of isfdsl.
    assert _imports(tree) == set().union(*map(_imports, modules))
    assert text.count("from __future__ import annotations") == 1 and "import isfdsl" not in text
    assert not any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("isfdsl") for n in ast.walk(tree))
    # Each module's text after its imports appears verbatim, in the order of MODULES.
    at = 0
    for name, module in zip(runtime.MODULES, modules):
        last = max(n.end_lineno or 0 for n in module.body if isinstance(n, (ast.Import, ast.ImportFrom)))
        body = "\n".join(runtime_source(name).splitlines()[last:]).strip("\n")
        found = text.find(body, at)
        assert found > at, name
        at = found + len(body)


def test_the_runtime_modules_are_standard_library_only_and_import_only_earlier_modules() -> None:
    """What the bundler checks holds of the runtime itself (runtime_text would raise otherwise), and
    the package's ``__init__`` holds nothing the bundle would lose."""
    runtime_text()
    init = ast.parse(runtime_source("__init__"))
    assert [type(n).__name__ for n in init.body] == ["Expr", "ImportFrom", "Assign"]
