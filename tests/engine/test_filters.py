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


# ---------------------------------------------------------------- bounds: the URL, the filter bar and --filters
@pytest.mark.parametrize("raw, message", [
    ('{"eval_id": ' + "[" * 5000 + '"a"' + "]" * 5000 + "}", "filters is 10,016 characters long; at most 4,096"),
    ('{"eval_id": ' + "[" * 40 + '"a"' + "]" * 40 + "}", "filters nests 41 levels deep; at most 8 are allowed"),
    ('{"eval_id": "\\ud800"}', r"filters holds '\ud800', which is not valid Unicode"),
    ('{"params.x": NaN}', "filters holds nan; numbers must be finite"),
    ('{"params.x": 1e999}', "filters holds inf; numbers must be finite"),
    ('{"params.x": 123456789012345678901234567890}', "filters holds a 30-digit number; numbers must fit in 64 bits"),
    ('{"' + "k" * 3000 + '": 1}', "unknown filter key 'kkkkkkkk"),
])
def test_hostile_filters_are_one_bounded_message(raw, message):
    with pytest.raises(InputError) as caught:
        parse_filters(raw)
    assert message in str(caught.value) and len(str(caught.value)) < 600


def test_nesting_is_measured_outside_strings_without_parsing():
    from app.engine.bounded_json import nesting

    assert nesting('{"a": [["x[[[{{"]]]}') == 3 and nesting("") == 0 and nesting('"[[[[') == 0
    assert nesting("[" * 1_000_000) == 1_000_000  # what json.loads would recurse into, found in one pass


def test_a_number_past_pythons_digit_limit_is_a_message_not_a_valueerror():
    from app.engine.bounded_json import loads

    with pytest.raises(InputError, match="is not valid JSON .Exceeds the limit .4300 digits"):
        loads("9" * 5000, what="x", max_chars=10_000, max_depth=8)


def test_filters_given_as_objects_get_the_same_checks():
    with pytest.raises(InputError, match="not valid Unicode"):
        parse_filters({"base_task": "\udcff"})
    with pytest.raises(InputError, match="unknown filter key 1"):
        parse_filters({1: "a", "base_task": "b"})
    assert parse_filters({"params.x": 2**62}) == {"params.x": [2**62]}


def test_the_cli_refuses_deep_filters_with_exit_2_and_one_line(bundled, tmp_path, capsys):
    from app.cli import main

    code = main(["spiderweb", str(bundled), "--filters", '{"eval_id": ' + "[" * 100 + "]" * 100 + "}",
                 "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "nests 101 levels deep" in err and "Traceback" not in err
