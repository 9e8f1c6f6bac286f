"""Difficulty coordinates read from a rebuilt entry's metadata, and the rule for each kind of knob."""

from __future__ import annotations

import numpy as np
import pytest

from app.bounds import MAX_NAME_CHARS
from app.importers.reasoning_gym_rebuild import Rebuilder, coordinates, digest


def test_a_realised_value_wins_over_the_range():
    meta = {"num_terms": 7, "num_digits": 5, "difficulty": {"num_terms": (5, 10), "num_digits": (2, 5)}}
    assert coordinates(meta) == ({"num_terms": 7, "num_digits": 5}, {})


def test_a_fixed_knob_is_its_own_value():
    meta = {"difficulty": {"n_people": 2, "depth_constraint": 2, "terms": (3, 3)}}
    assert coordinates(meta) == ({"n_people": 2, "depth_constraint": 2, "terms": 3}, {})


def test_knobs_without_one_value_are_left_out_with_why():
    meta = {"n": (4455, 7876), "start": 4455, "difficulty": {"n": (1, 10000), "words": (5, 15), "level": 1}}
    coords, unused = coordinates(meta)
    assert coords == {}
    assert unused == {"n": "the realised value (4455, 7876) is not one scalar",
                      "words": "no realised value in the metadata, and the difficulty (5, 15) is a range",
                      "level": "its name clashes with the run's own 'level' param"}
    assert coordinates({"question": "?"}) == ({}, {"difficulty": "the generator's metadata has no 'difficulty' "
                                                                 "object"})


def test_a_value_longer_than_a_param_may_be_is_left_out():
    coords, unused = coordinates({"puzzle": "x" * (MAX_NAME_CHARS + 1), "difficulty": {"puzzle": ("a", "b")}})
    assert coords == {} and unused == {"puzzle": f"its value is {MAX_NAME_CHARS + 1} characters long; a param "
                                                 f"value may have {MAX_NAME_CHARS}"}


def test_numpy_values_become_plain_json_scalars():
    coords, _ = coordinates({"size": np.int64(9), "name": np.str_("x"), "p": np.float64("nan"),
                             "difficulty": {"size": (4, 9), "name": ("a", "z"), "p": (0, 1)}})
    assert coords == {"size": 9, "name": "x"} and type(coords["size"]) is int and type(coords["name"]) is str


def test_rebuild_of_a_real_task():
    reasoning_gym = pytest.importorskip("reasoning_gym", reason="reasoning-gym is an optional test dependency")
    built = Rebuilder(reasoning_gym, cache_dir=None).rebuild("gcd", {"size": 3, "seed": 45}, 3)
    oracle = reasoning_gym.create_dataset("gcd", size=3, seed=45)
    assert built.questions == tuple(digest(oracle[i]["question"]) for i in range(3))
    assert built.coordinates == tuple({"num_terms": oracle[i]["metadata"]["num_terms"]} for i in range(3))
    assert dict(built.unused) == {"value": "no realised value in the metadata, and the difficulty (1, 1000) is a range"}
    short = Rebuilder(reasoning_gym, cache_dir=None).rebuild("gcd", {"size": 2, "seed": 9}, 5)
    assert short.error == "the config makes 2 entries, the file has 5"
