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
