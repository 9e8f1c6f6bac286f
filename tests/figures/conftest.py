"""Figure builders are tested on engine tables from the planted synthetic dataset."""

from tests.projections.conftest import demo, ids, syn, syn_path, truth  # noqa: F401  (shared fixtures)
