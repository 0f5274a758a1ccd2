"""The language server (`isf lsp`): diagnostics, hover, definitions, references, completion, outline, formatting and rename for .isf files."""
