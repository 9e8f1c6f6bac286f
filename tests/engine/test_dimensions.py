"""Dimensions: every filterable name, coded once per point, values in drawing order."""

import numpy as np
import pytest

from app.engine import InputError
from app.engine.dimensions import Dimensions, coded, normalise_value, value_order
from app.engine.layout import N_OUT

from .conftest import EVALS


def test_value_order_numbers_then_strings_then_missing():
    assert value_order([3, "b", None, 1.5, "a", 3, True]) == [1.5, 3, True, "a", "b", None]


def test_normalise_value_compares_numbers_by_value_and_nested_values_as_json():
    assert normalise_value(8.0) == 8 and isinstance(normalise_value(8.0), int)
    assert normalise_value(2.5) == 2.5
    assert normalise_value({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    assert normalise_value(None) is None


def test_coded_recodes_entries_to_the_value_order():
    dim = coded("params.x", ["b", 2, None, 1], np.array([0, 1, 2, 3, 3], np.int32))
    assert dim.values == [1, 2, "b", None]
    assert [dim.values[c] for c in dim.codes] == ["b", 2, None, 1, 1]


@pytest.fixture()
def dims(ds):
    return Dimensions(ds._layout, ds.meta, ds.name)


def test_names_cover_eval_point_outcome_and_group_levels(dims):
    assert dims.names == ["eval_id", "model", "template", "sampler", "base_task", "outcome", "params.x", "params.y",
                          "manifold.id", "manifold.target_tokens", "groups.arch", "groups.size"]


def test_each_point_gets_its_value(ds, dims):
    lay = ds._layout
    model = dims["model"]
    assert model.values == sorted(e["model"] for e in EVALS)
    by_id = {e.eval_id: e.model for e in ds.meta.evals}
    assert [model.values[c] for c in model.codes] == [by_id[lay.eval_ids[e]] for e in lay.point_eval]
    x = dims["params.x"]
    assert x.values == [1, 2, 3]
    assert [x.values[c] for c in x.codes] == [lay.params[p]["x"] for p in lay.point_pr]
    assert dims["groups.size"].values == ["large", "small"]
    assert dims["base_task"].values == ["arith", "choice"]
    outcome = dims["outcome"]
    assert len(outcome.codes) == N_OUT and outcome.values == ["correct", "incorrect", "invalid", "truncated"]


def test_codings_are_built_once_and_unknown_names_list_the_valid_ones(dims):
    assert dims["params.y"] is dims["params.y"]
    with pytest.raises(InputError, match=r"unknown dimension 'params\.z' for dataset 'test'; valid: eval_id, model"):
        dims["params.z"]
