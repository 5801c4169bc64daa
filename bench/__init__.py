"""Benchmarks: `python -m bench` (see BENCHMARKS.md). Never run by the test suite."""
