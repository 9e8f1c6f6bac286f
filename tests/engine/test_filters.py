"""The filter grammar of spec §4: one parser for the CLI, the URL and the filter bar."""

import pytest

from app.engine.errors import InputError
from app.engine.filters import canonical_json, describe, groups_text, merge, parse_filters


def test_scalars_become_sorted_lists_and_integral_floats_become_ints():
    parsed = parse_filters('{"base_task": "arith", "params.x": [3, 1.0, 3], "eval_id": ["b", "a"]}')
    assert parsed == {"base_task": ["arith"], "eval_id": ["a", "b"], "params.x": [1, 3]}


def test_canonical_form_is_independent_of_spelling():
    a = parse_filters({"eval_id": ["b", "a"], "groups": [["size:large", "arch:moe"], "arch:dense"]})
    b = parse_filters('{"groups": ["arch:dense", ["arch:moe", "size:large"]], "eval_id": ["a", "b"]}')
    assert canonical_json(a) == canonical_json(b)


def test_groups_items_or_and_tags_inside_an_item_and():
    parsed = parse_filters({"groups": ["arch:moe", ["size:large", "arch:dense"]]})
    assert parsed["groups"] == [["arch:dense", "size:large"], ["arch:moe"]]
    assert groups_text(parsed["groups"]) == "(arch:dense AND size:large) OR arch:moe"


@pytest.mark.parametrize("raw, message", [
    ("{eval_id: 1}", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"evalid": "x"}', "unknown filter key 'evalid'; valid keys: eval_id"),
    ('{"params.": 1}', "unknown filter key"),
    ('{"eval_id": []}', "empty list matches nothing"),
    ('{"eval_id": {"a": 1}}', "values must be strings or numbers"),
    ('{"groups": ["moe"]}', "is not a tag 'key:value'"),
    ('{"groups": [["arch:moe", 3]]}', "is not a tag"),
    ('{"base_task": null}', "values must be strings or numbers"),
])
def test_malformed_filters_name_the_problem(raw, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_filters(raw)


def test_merge_ands_filters_including_groups():
    a = parse_filters({"groups": ["arch:moe", "arch:dense"], "params.x": [1, 2]})
    b = parse_filters({"groups": ["size:large"], "params.x": [2, 3]})
    merged = merge(a, b)
    assert merged["params.x"] == [2]
    assert merged["groups"] == [["arch:dense", "size:large"], ["arch:moe", "size:large"]]


def test_describe_reads_plainly():
    assert describe({}) == "all samples"
    assert describe(parse_filters({"base_task": "arith", "groups": [["a:b", "c:d"]]})) == \
        "base_task = arith; groups: (a:b AND c:d)"


def test_canonical_json_is_the_schema_rule():
    from app.engine import schema
    assert canonical_json is schema.canonical_json
    assert canonical_json({"b": ["é"], "a": 1}) == '{"a":1,"b":["é"]}'
