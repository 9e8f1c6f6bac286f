"""Benchmark of spec §9: the engine beside DuckDB and a one-pass numpy limit, in one run."""
