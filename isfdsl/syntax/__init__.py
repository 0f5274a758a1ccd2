"""Syntax: source text to the AST and back (grammar, parser, formatter, file loader)."""
