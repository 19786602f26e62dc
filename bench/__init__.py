"""Benchmarks: each result is a ratio against a reference measured in the same run."""
