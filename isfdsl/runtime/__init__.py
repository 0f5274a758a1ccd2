"""Runtime of the generated groupers: input conversion, code lists and code tables, the operations of
the derivation language, the bit-set index that dispatches decision tables, pathways, results and
payment, Arrow batches, and the CSV command line. Standard library only.

In the compiler it is the package ``isfdsl.runtime``, one module per concern. Every generated package
carries those modules concatenated into one file, ``_runtime.py`` (by ``isfdsl.emit.bundle``: one
import block, then each module in the order of ``MODULES``, opened by its docstring as a comment).
It is the lowest layer of the compiler as well: its contract types (``isfdsl.runtime.contract``) are
the one definition the IR and the reference interpreter use; the interpreter shares no converter and
no decision logic with it (it re-implements both plainly, as the oracle).
"""

from __future__ import annotations

#: The runtime's modules, each after those it imports: the order they are concatenated in.
MODULES = ("contract", "codesyntax", "convert", "codes", "data", "operations", "index", "pathway", "arrow", "grouper", "io")
