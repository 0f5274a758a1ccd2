"""Analyse: exact checks of the decision tables and the reverse index of codes."""
