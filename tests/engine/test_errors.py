"""Messages for people: JSON parse errors read as one phrase, never "starting at at"."""

from __future__ import annotations

import json

import pytest

from app.engine.bounded_json import loads
from app.engine.errors import InputError, json_reason


@pytest.mark.parametrize("text, reason", [
    ('{"a": "x', "Unterminated string starting at column 7"),
    ('{"a": "x\n"}', "Invalid control character at column 9"),
    ('{"a" 1}', "Expecting ':' delimiter at column 6"),
])
def test_json_reason_names_the_column_once(text, reason):
    with pytest.raises(json.JSONDecodeError) as err:
        json.loads(text)
    assert json_reason(err.value, f"column {err.value.colno}") == reason


def test_a_link_with_an_unterminated_string_reads_once():
    with pytest.raises(InputError) as err:
        loads('{"eval_id": "x', what="filters", max_chars=1000, max_depth=10)
    assert str(err.value) == "filters is not valid JSON (Unterminated string starting at character 12)"
