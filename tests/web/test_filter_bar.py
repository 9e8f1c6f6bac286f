"""The filter bar's fields → one --filters object, and its plain-words reading of the groups grammar."""

from __future__ import annotations

import pytest

from app.engine.errors import InputError
from app.web.filter_bar import bar_filters, groups_reading


def test_bar_filters_compose_one_filter_object():
    assert bar_filters(["a1"], [], '["arch:moe", ["size:large", "arch:dense"]]', '{"params.a": 1}') == {
        "eval_id": ["a1"], "groups": ["arch:moe", ["size:large", "arch:dense"]], "params.a": 1}
    assert bar_filters(None, None, "", "") == {}
    with pytest.raises(InputError, match="Groups is not valid JSON"):
        bar_filters([], [], '["arch:moe"', "")
    with pytest.raises(InputError, match="Evals, Tasks and Groups"):
        bar_filters([], [], "", '{"eval_id": "x"}')
    with pytest.raises(InputError, match="JSON object"):
        bar_filters([], [], "", "[1]")


def test_groups_reading_uses_the_engine_grammar():
    assert groups_reading("") == ("any group", True)
    assert groups_reading('[["arch:dense", "size:large"], "arch:moe"]') == \
        ("= (arch:dense AND size:large) OR arch:moe", True)
    words, ok = groups_reading('["arch:moe"')
    assert not ok and "not JSON yet" in words
    words, ok = groups_reading('["no-colon"]')
    assert not ok and words


@pytest.mark.parametrize("fields, message", [
    ((True, None, None, None), "Evals must be a list of names"),
    ((["a", 1], None, None, None), "Evals must be a list of names"),
    ((None, {"x": 1}, None, None), "Tasks must be a list of names"),
    ((None, None, ["arch:moe"], None), "Groups must be text"),
    ((None, None, None, 7), "Other filters must be text"),
    ((None, None, "[" * 2000 + "]" * 2000, None), "Groups nests 2,000 levels deep"),
    ((None, None, None, '{"params.a": "\\ud800"}'), "not valid Unicode"),
])
def test_fields_of_the_wrong_type_or_beyond_the_bounds_are_an_input_error(fields, message):
    with pytest.raises(InputError, match=message):
        bar_filters(*fields)


def test_the_groups_reading_survives_anything_typed():
    words, ok = groups_reading("[" * 5000 + "]" * 5000)
    assert not ok and "at most 4,096" in words
    assert groups_reading(["not", "text"]) == ("any group", True)
