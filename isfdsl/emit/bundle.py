"""Emit stage: the runtime's modules bundled into one file, the ``_runtime.py`` of every generated package.

The rule (:func:`bundle`), simple enough to check by eye:

1. the package's docstring, then ``from __future__ import annotations`` once;
2. one import block: every standard-library import at the top of the modules, merged (``import X``
   lines, then ``from X import …`` lines, sorted as isort sorts them);
3. each module in the order given: a comment line naming it (``# ---… isfdsl.runtime.NAME``), its docstring as comment lines, then its
   text after its imports, unchanged.

A module's imports of other runtime modules (``from isfdsl.runtime.X import …``) are left out: in one
file the names are already defined. The bundler refuses what would make the file wrong: an import that
is not of the standard library (or of an earlier runtime module), an import below the top of a module,
and a name defined by two modules or by a module and an import.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Sequence

from isfdsl import runtime
from isfdsl.resources import runtime_source

#: Where the runtime's own modules live; imports from there are dropped from the bundle.
PACKAGE = "isfdsl.runtime"
#: The rule that opens each module's section, before the module's name.
RULE = "# " + "-" * 70


class BundleError(ValueError):
    """A runtime module that cannot be bundled into one file (see :func:`bundle`)."""


def runtime_text() -> str:
    """The ``_runtime.py`` of a generated package: :data:`isfdsl.runtime.MODULES` bundled."""
    docstring = ast.get_docstring(ast.parse(runtime_source("__init__"))) or ""  # not __doc__: gone under -OO
    return bundle(docstring, [(name, runtime_source(name)) for name in runtime.MODULES])


def bundle(docstring: str, modules: Sequence[tuple[str, str]]) -> str:
    """One module's text from several: ``modules`` as (name, source) pairs in order, each after those
    it imports. Raises :class:`BundleError` where the rule in this module's docstring cannot hold."""
    if '"""' in docstring or "\\" in docstring:
        raise BundleError('the docstring holds """ or a backslash')
    plain: set[str] = set()
    members: dict[str, set[tuple[str, str | None]]] = {}
    defined: dict[str, str] = {}
    sections = []
    done: list[str] = []
    for name, source in modules:
        tree = ast.parse(source)
        body = list(tree.body)
        doc = ast.get_docstring(tree, clean=True) or ""
        if body and ast.get_docstring(tree) is not None:
            body.pop(0)
        end = tree.body[0].end_lineno if doc else 0
        while body and isinstance(node := body[0], (ast.Import, ast.ImportFrom)):
            body.pop(0)
            end = node.end_lineno or end
            if isinstance(node, ast.Import):
                plain.update(_stdlib(name, alias.name) for alias in node.names)
            elif node.module == "__future__":
                continue
            elif node.level == 0 and node.module is not None and node.module.startswith(PACKAGE + "."):
                if node.module[len(PACKAGE) + 1:] not in done:
                    raise BundleError(f"{name}: imports {node.module}, which does not come before it")
            else:
                members.setdefault(_stdlib(name, node.module if node.level == 0 else None), set()).update(
                    (alias.name, alias.asname) for alias in node.names)
        for node in body:
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)) and inner.col_offset == 0:
                    raise BundleError(f"{name}:{inner.lineno}: an import below the top of the module")
                if isinstance(inner, ast.Import):
                    for alias in inner.names:
                        _stdlib(name, alias.name)
                elif isinstance(inner, ast.ImportFrom):
                    _stdlib(name, inner.module if inner.level == 0 else None)
            for bound in _bound(node):
                if bound in defined:
                    raise BundleError(f"{name}: {bound} is defined in {defined[bound]} as well")
                defined[bound] = name
        lines = source.splitlines()[end:]
        text = "\n".join(lines).strip("\n")
        comment = "\n".join(f"# {line}".rstrip() for line in doc.splitlines())
        title = f"{RULE} {PACKAGE}.{name}"
        sections.append(f"{title}\n{comment}\n\n{text}\n" if comment else f"{title}\n\n{text}\n")
        done.append(name)
    imports = [f"import {m}" for m in sorted(plain, key=str.lower)]
    for module in sorted(members, key=str.lower):
        names = sorted((n for n, a in members[module] if a is None), key=_isort_key)
        if names:
            imports.append(_from_line(module, names))
        imports.extend(f"from {module} import {n} as {a}" for n, a in sorted((n, a) for n, a in members[module] if a is not None))
    bound_by_imports = {m.split(".")[0] for m in plain} | {a or n for ms in members.values() for n, a in ms}
    clash = sorted(bound_by_imports & defined.keys())
    if clash:
        raise BundleError(f"{', '.join(clash)}: defined by a module and bound by an import")
    head = f'"""{docstring.strip()}\n"""\n\nfrom __future__ import annotations\n\n' + "\n".join(imports) + "\n"
    return head + "\n" + "\n\n".join(sections)  # one blank line after the imports, as isort has it before a comment


def _stdlib(module: str, name: str | None) -> str:
    """``name`` when it is a module of the standard library; else a :class:`BundleError`."""
    if name is None or name.split(".")[0] not in sys.stdlib_module_names:
        raise BundleError(f"{module}: imports {name or 'a relative module'}, which is not of the standard library")
    return name


def _bound(node: ast.stmt) -> list[str]:
    """The names a top-level statement defines."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _isort_key(name: str) -> tuple[int, str]:
    """isort's order of imported names: constants, then classes, then the rest."""
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name.lower()


def _from_line(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    return line if len(line) <= 88 else f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"
