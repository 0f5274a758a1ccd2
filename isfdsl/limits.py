"""Limits: the explicit bounds the compiler puts on what it reads, in one place. Input beyond one of them
is a diagnostic with a position (ISF106, ISF107, ISF209), never a crash, a hang or unbounded memory.
docs/language.md states each one to rule authors (under ISF107 and "Code systems")."""

from __future__ import annotations

from isfdsl.runtime.codesyntax import NESTING as PATTERN_NESTING
from isfdsl.runtime.codesyntax import PATTERN_REPEAT, PATTERN_STATES
from isfdsl.runtime.convert import MAX_DIGITS, SHOWN_CHARS

__all__ = ["DIGITS", "FILE_BYTES", "NESTING", "PATTERN_REPEAT", "PATTERN_STATES", "SHOWN"]

#: The largest file (a source file or a table's data file) the compiler reads, in bytes.
FILE_BYTES = 64 * 1024 * 1024

#: The most digits a number in the source (or a table's data file) may have: exact decimal arithmetic
#: keeps this many, and the generated grouper treats a longer integer in its input as invalid. The
#: runtime holds the definition, so the compiler and every generated package agree.
DIGITS = MAX_DIGITS

#: The most characters of an input value a problem shows (a longer one is cut there, its length given):
#: the generated groupers and the reference interpreter write the same problems.
SHOWN = SHOWN_CHARS

#: How deeply constructs may nest: each operand of `and`, `or`, `+`, each `if`, call, list and
#: parenthesis counts one level. Every stage walks expressions recursively, and the generated Python
#: must stay within what CPython's parser accepts (200 nested parentheses).
NESTING = PATTERN_NESTING

# PATTERN_REPEAT and PATTERN_STATES (imported above): the largest repetition count (`{m,n}`) in a code
# system's `syntax`, and the most states its matcher may have: patterns are matched in time linear in the
# code's length, and their size is bounded too. The runtime holds both: every generated package matches
# an episode's codes with the same matcher (isfdsl.runtime.codesyntax).
