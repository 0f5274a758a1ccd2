"""The guide's own words come from one catalogue (isfdsl/emit/messages.py): every message in both languages
with the same fields, every key the code names exists, and no template or page builder holds an English
sentence of its own."""

from __future__ import annotations

import ast
import re

import pytest

from isfdsl.emit import guide, search
from isfdsl.emit.messages import LANGS, MESSAGES, fields, messages

from .conftest import ROOT

TEMPLATES = ROOT / "isfdsl" / "templates" / "docs"
#: The modules that build the guide's pages, the change pages, the rows in words and the Excel headers.
BUILDERS = [ROOT / "isfdsl" / "emit" / n for n in ("guide.py", "describe.py", "changes.py", "site.py", "search.py", "excel.py", "docs.py")]
#: Two words of letters in a row: a sentence or a phrase, not a code, a key or a bit of syntax.
WORDS = re.compile(r"[A-Za-zÆØÅæøå]{2,}[ ,;:]+[A-Za-zÆØÅæøå]{2,}")


def test_every_message_in_both_languages_with_the_same_fields() -> None:
    for key, texts in MESSAGES.items():
        assert len(texts) == len(LANGS), key
        assert all(t or key == "guide.find_1" for t in texts), key  # only the nb lead-in of "The code index" is empty
        assert fields(texts[0]) == fields(texts[1]), key
    assert messages("nb")("valid", start="a", end="b") == "gyldig a til b"
    assert messages("en")("valid", start="a", end="b") == "valid a to b"
    with pytest.raises(ValueError):
        messages("de")


def test_numbers_in_each_language() -> None:
    from decimal import Decimal

    assert messages("nb").number(Decimal("0.150")) == "0,15" and messages("en").number(Decimal("0.150")) == "0.15"
    assert messages("nb").number(Decimal("2.00")) == "2" and messages("nb").number(None) == ""
    # money and points: thousands grouped, in the guide and isf compare alike (the guide wrote "56155 kr")
    nb, en = messages("nb"), messages("en")
    assert nb.amount(Decimal(56155)) == "56\u00a0155" and en.amount(Decimal(56155)) == "56,155"
    assert nb.amount(Decimal("1068759.860")) == "1\u00a0068\u00a0759,86" and en.amount(Decimal("1068759.86")) == "1,068,759.86"
    assert nb.amount(Decimal("0.840")) == "0,84" and nb.amount(Decimal("-1234.5")) == "-1\u00a0234,5" and nb.amount(None) == ""
    assert nb.grouped("1,068,759.86") == nb.amount(Decimal("1068759.86"))


def _keys_named(tree: ast.AST) -> set[str]:
    """String literals passed as the first argument of a call of ``m(…)`` (or ``self.m(…)``, ``ch.m(…)``)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == "m") or (isinstance(f, ast.Attribute) and f.attr == "m"):
                out.add(node.args[0].value)
    return out


def test_every_key_the_code_and_templates_name_exists() -> None:
    named: set[str] = set()
    for path in BUILDERS:
        named |= _keys_named(ast.parse(path.read_text(encoding="utf-8")))
    for path in TEMPLATES.glob("*.j2"):
        named |= set(re.findall(r"""m\(["']([\w.]+)["']""", path.read_text(encoding="utf-8")))
    named |= set(search.SHOWN)
    assert len(named) > 150
    missing = sorted(k for k in named if k not in MESSAGES)
    assert not missing, missing


def _text_of_template(text: str) -> list[str]:
    """What a template writes of its own: the text outside Jinja expressions and statements, outside HTML
    tags, and the human-readable attributes (alt, title, placeholder, aria-label) of its tags."""
    own = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", text, flags=re.DOTALL)
    attrs = re.findall(r"""(?:alt|title|placeholder|aria-label)="([^"]*)\"""", own)
    body = re.sub(r"<[^>]*>", " ", own)
    return [body, *attrs]


#: A word a template could show: two letters or more, not a file's extension (``{{ b.path }}.svg``).
WORD = re.compile(r"(?<![.\w])[A-Za-zÆØÅæøå]{2,}")


def _words_of_template(text: str) -> list[str]:
    return [w for chunk in _text_of_template(text) for w in WORD.findall(chunk)]


def test_no_template_holds_an_english_sentence() -> None:
    """Every word a template shows comes from the catalogue (``m("key")``); a sentence, or a single word such
    as a label ("Version:", "Search"), written into a template fails here."""
    for path in sorted(TEMPLATES.glob("*.j2")):
        found = _words_of_template(path.read_text(encoding="utf-8"))
        assert not found, (path.name, found)
    # The check itself finds a sentence and a lone word in a text node and in an attribute, not an extension:
    assert _words_of_template("<p>{{ m('x') }} not drawn</p>") == ["not", "drawn"]
    assert _words_of_template("<span>Version:</span>{% for v in versions %}{{ v }}{% endfor %}") == ["Version"]
    assert _words_of_template('<input placeholder="Search">') == ["Search"]
    assert _words_of_template("![{{ b.alt | md }}]({{ root }}{{ b.path }}.svg)") == []


def _js_strings(text: str) -> list[str]:
    """The string literals of a script, comments left out."""
    text = re.sub(r"(?m)^\s*//.*$", "", text)
    return re.findall(r'"((?:[^"\\\n]|\\.)*)"', text)


#: What site.js may hold in its literals that reads as two words: the strict-mode pragma and CSS selectors.
JS_CODE = {"use strict", "thead th", "table.sortable", "#results li"}


def test_the_search_script_holds_no_sentence() -> None:
    """The script's words (nothing found, can lead to, …) come from the catalogue through search/index.js."""
    found = [s for s in _js_strings((TEMPLATES / "site.js").read_text(encoding="utf-8")) if WORDS.search(s) and s not in JS_CODE]
    assert not found, found
    assert _js_strings('// a "comment"\nout.textContent = "nothing found";') == ["nothing found"]


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """The string literals of a module that are shown text: not docstrings, not message keys, not the
    literal .isf or command-line text given to ``code(…)`` or ``Pre(…)``, not dictionary keys."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body \
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            skip.add(id(node.body[0].value))
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name in ("code", "Pre", "m", "kind", "get", "RuntimeError", "ValueError", "DefinitionError", "join",
                        "startswith", "endswith", "replace", "sub", "format", "item", "setdefault", "Tok") and node.args:
                if name == "Tok" and not (len(node.args) >= 3 and isinstance(node.args[2], ast.Constant)
                                          and node.args[2].value == "code"):
                    continue
                for arg in node.args:
                    for sub in ast.walk(arg):
                        skip.add(id(sub))
        if isinstance(node, ast.Dict):
            for k in node.keys:
                if k is not None:
                    skip.add(id(k))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            out.append((node.lineno, node.value))
    return out


#: Shown text in the builders that is not prose: the .isf syntax of rows, Graphviz attributes.
NOT_PROSE = re.compile(r"^\s*(<|digraph|rankdir|nodesep|node \[|edge \[|start \[|end \[|\{ rank=same)|shape=|style=|label=")


def test_no_page_builder_holds_an_english_sentence() -> None:
    for path in BUILDERS:
        found = [(n, s) for n, s in _strings(ast.parse(path.read_text(encoding="utf-8")))
                 if WORDS.search(s) and not NOT_PROSE.search(s) and f"change.{s}" not in MESSAGES]  # a kind shown by m.kind
        assert not found, (path.name, found)


def test_the_guide_builder_is_checked() -> None:
    """The scan above would find an English sentence in a builder (it is not vacuous)."""
    tree = ast.parse('def f(page):\n    page.p("No row leads to this group.")\n    page.p(m("group.no_rows"))\n')
    assert [s for _, s in _strings(tree) if WORDS.search(s)] == ["No row leads to this group."]
    assert guide.Builder.__doc__
