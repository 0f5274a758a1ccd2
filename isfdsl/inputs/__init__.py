"""Inputs: readers of episode formats other than attribute-named columns (CSV, JSON Lines, Parquet)."""
