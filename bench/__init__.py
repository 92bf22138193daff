"""Benchmarks: each prints its figures (and ratios measured within one run) to stdout."""
