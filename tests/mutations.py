"""Mutations of definition folders for fuzzing the checker (tests/test_fuzz.py draws them with
Hypothesis, bench/fuzz_campaign.py with a seeded random generator): delete, duplicate and swap tokens
and lines, and insert hostile text — quotes, control and separator characters, huge numbers, deep
nesting, paths out of the folder, backtracking patterns. A mutation is plain data, so a failing case
can be printed and replayed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: What ``insert`` puts into a file.
HOSTILE = (
    '"""', "'''", '"', "\\", "\x00", "\x0c", "\x85", "\u2028", "\r", "\t", "{{ x }}", "{% if %}", "æøå ☃",
    "1" * 5000, "0." + "1" * 60, "-" + "9" * 40, "(" * 300, ")" * 300, "[" * 200, " or a" * 300, " + 1" * 250,
    "not " * 400, 'import "../../secret.txt"\n', 'import "/dev/zero"\n', 'import "/etc/passwd"\n',
    'table t9 of text -> text from "../../x.tsv"\n', 'codesystem Z9 syntax "(A|AA)+B"\n',
    'codesystem Z8 syntax "a{99999999999}"\n', 'codesystem Z7 syntax "((((((((a*)*)*)*)*)*)*)*"\n',
    "\n}\n", "{", "->", "..", "#", " and ", "version X 1 \"x\"\n", 'x""";import os;os.system("touch PWNED");"""',
)

KINDS = ("delete_token", "duplicate_token", "swap_tokens", "delete_line", "duplicate_line", "swap_lines", "insert")
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z0-9_.*\-]+|\S')


@dataclass(frozen=True, slots=True)
class Mutation:
    """One change to one file: ``kind`` (see :data:`KINDS`), the file (an index into the folder's files
    in name order), two positions as fractions of the file's tokens or lines, and for ``insert`` an
    index into :data:`HOSTILE`."""

    kind: str
    file: int
    at: float
    other: float = 0.0
    payload: int = 0


def mutate(text: str, m: Mutation) -> str:
    """``text`` with the mutation ``m`` applied (its file index is the caller's business)."""
    if m.kind.endswith("line") or m.kind.endswith("lines"):
        lines = text.split("\n")
        i, j = int(m.at * len(lines)) % len(lines), int(m.other * len(lines)) % len(lines)
        if m.kind == "delete_line":
            del lines[i]
        elif m.kind == "duplicate_line":
            lines.insert(i, lines[i])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines)
    if m.kind == "insert":
        k = int(m.at * (len(text) + 1)) % (len(text) + 1)
        return text[:k] + HOSTILE[m.payload % len(HOSTILE)] + text[k:]
    spans = [t.span() for t in _TOKEN.finditer(text)]
    if not spans:
        return text
    a, b = spans[int(m.at * len(spans)) % len(spans)], spans[int(m.other * len(spans)) % len(spans)]
    if m.kind == "delete_token":
        return text[:a[0]] + text[a[1]:]
    if m.kind == "duplicate_token":
        return text[:a[1]] + " " + text[a[0]:a[1]] + text[a[1]:]
    first, second = sorted((a, b))
    if first == second or first[1] > second[0]:
        return text
    return (text[:first[0]] + text[second[0]:second[1]] + text[first[1]:second[0]] + text[first[0]:first[1]]
            + text[second[1]:])


def write_mutant(source: Path, target: Path, mutations: list[Mutation]) -> None:
    """Copy the ``.isf`` and ``.tsv`` files of the folder ``source`` into ``target`` with ``mutations``
    applied."""
    files = sorted(p for p in source.iterdir() if p.suffix in (".isf", ".tsv"))
    texts = {p.name: p.read_text(encoding="utf-8") for p in files}
    names = sorted(texts)
    for m in mutations:
        name = names[m.file % len(names)]
        texts[name] = mutate(texts[name], m)
    target.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (target / name).write_text(text, encoding="utf-8", errors="surrogatepass")
