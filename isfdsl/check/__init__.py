"""Check: names, types and codes of a parsed program, resolved across its files."""
