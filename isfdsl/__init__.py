"""isfdsl: a declarative rules language and compiler for Norway's ISF hospital grouping logic."""

__version__ = "0.1.0"
