"""Emit: the IR as a Python grouper package, a user guide (HTML/Markdown), Excel and change pages."""
