"""Importers: official definition tables turned into .isf source."""
