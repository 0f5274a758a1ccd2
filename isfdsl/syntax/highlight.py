"""Highlighting: a Pygments lexer for .isf source, registered as the ``isf`` lexer (entry point
``pygments.lexers``) and used by the generated guide for .isf snippets. The token classes follow the
TextMate grammar in ``editors/vscode/syntaxes/isf.tmLanguage.json``, so editors and the guide agree."""

from __future__ import annotations

from typing import Any, ClassVar

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

__all__ = ["IsfLexer"]


class IsfLexer(RegexLexer):
    """The .isf rules language of isfdsl (ISF hospital-financing grouping logic)."""

    name = "ISF rules"
    aliases: ClassVar[list[str]] = ["isf"]
    filenames: ClassVar[list[str]] = ["*.isf"]
    mimetypes: ClassVar[list[str]] = ["text/x-isf"]
    url = "https://github.com/isfdsl"

    tokens: ClassVar[dict[str, list[Any]]] = {
        "root": [
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r'"', String.Double, "string"),
            (r"\b(codesystem|enum|codelist|table|derive|catalogue|decision)(\s+)([A-Za-z_]\w*)",
             bygroups(Keyword.Declaration, Whitespace, Name.Class)),  # type: ignore[no-untyped-call]
            (r"\b(rule)(\s+)([0-9A-Za-z][0-9A-Za-z._\-]*)", bygroups(Keyword, Whitespace, Name.Function)),  # type: ignore[no-untyped-call]
            (words(("version", "valid", "language", "import", "episode", "pathway", "payment", "post"), suffix=r"\b"),
             Keyword.Declaration),
            (words(("when", "policy", "first", "unique", "fallback", "otherwise", "rc", "for", "over", "by",
                    "members", "of", "from", "default"), suffix=r"\b"), Keyword),
            (words(("and", "or", "not", "in", "has", "lacks", "is", "present", "absent", "if", "then", "else",
                    "classify", "any", "all", "none", "where"), suffix=r"\b"), Operator.Word),
            (words(("points", "trim", "perday", "parent", "flags", "source", "illustrative", "unit_price",
                    "share", "stay", "syntax", "ignore", "case", "sensitive"), suffix=r"\b"), Keyword.Reserved),
            (words(("int", "text", "bool", "decimal", "date", "code", "pair", "list"), suffix=r"\b"), Keyword.Type),
            (words(("true", "false"), suffix=r"\b"), Keyword.Constant),
            (r"\b\d{4}-\d{2}-\d{2}\b", Number.Other),
            (r"\b[A-Z][0-9A-Z]*[0-9][0-9A-Za-z.]*(\*|-[0-9A-Z][0-9A-Za-z.]*)?|\b[0-9][0-9A-Z]*[A-Z][0-9A-Za-z]*\b",
             Name.Constant),
            (r"-?\b\d+(\.\d+)?\b", Number),
            (r"->|==|!=|<=|>=|<|>|\.\.|=|\+|&|\*|-", Operator),
            (r"[{}()\[\],:.]", Punctuation),
            (r"[A-Za-z_]\w*", Name.Variable),
            (r".", Text),
        ],
        "string": [
            (r'\\.', String.Escape),
            (r'"', String.Double, "#pop"),
            (r'[^"\\\n]+', String.Double),
            (r"\n", String.Double, "#pop"),
        ],
    }
