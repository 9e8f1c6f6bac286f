"""URL state codec: round trips, canonical form, and bad or stale links falling back with a notice."""

from __future__ import annotations

import json

import pytest

from app.web.registry import Registry
from app.web.state import State, carry, decode, encode, parse_query
from tests.web import data


@pytest.fixture(scope="module")
def registry(web_data):
    return Registry(web_data)


def roundtrip(page, query, registry):
    decoded = decode(page, query, registry)
    assert decoded.notices == []
    again = decode(page, parse_query(encode(decoded.state, registry)), registry)
    assert again.notices == []
    assert again.state == decoded.state
    return decoded.state


@pytest.mark.parametrize("page, options", [
    ("spiderweb", {"group_by": "manifold.target_tokens", "style": "bars"}),
    ("surface", {"view": ["adding: a x b", "sorting: n x k"], "split_by": "none"}),
    ("compression", {"split_by": "none", "facet_by": "groups.arch", "group_by": "none"}),
    ("hazard", {"split_by": "base_task", "bucket_size": "512", "group_by": "groups.size"}),
])
def test_every_option_round_trips(registry, page, options):
    e1, e2 = data.ids()[:2]
    query = {"filters": json.dumps({"eval_id": [e2, e1], "groups": [["size:large", "arch:moe"], "arch:dense"],
                                    "params.a": [2, 1]}),
             "truncation": "separate", **options}
    state = roundtrip(page, query, registry)
    assert state.truncation == "separate"
    assert state.filters["eval_id"] == sorted([e1, e2])
    assert state.filters["groups"] == [["arch:dense"], ["arch:moe", "size:large"]]
    for key, value in options.items():
        want = tuple(value) if isinstance(value, list) else (int(value) if value.isdigit() else value)
        assert state.options[key] == want


def test_defaults_encode_to_an_empty_query(registry):
    for page in ("spiderweb", "surface", "compression", "hazard", "overview"):
        state = decode(page, {}, registry).state
        assert encode(state, registry) == ""
    assert decode("spiderweb", {"style": "radar", "group_by": "base_task"}, registry).state == \
        decode("spiderweb", {}, registry).state


def test_equal_filters_written_differently_give_one_url(registry):
    e1, e2 = data.ids()[:2]
    a = decode("spiderweb", {"filters": json.dumps({"eval_id": [e1, e2]})}, registry).state
    b = decode("spiderweb", {"filters": json.dumps({"eval_id": [e2, e1, e2]})}, registry).state
    assert encode(a, registry) == encode(b, registry)
    assert a.identity() == b.identity()


def test_query_string_is_readable_and_parses_back(registry):
    e1 = data.ids()[0]
    state = decode("surface", {"filters": json.dumps({"eval_id": [e1]}), "view": ["adding: a x b"]}, registry).state
    search = encode(state, registry)
    assert search.startswith("?filters=") and "view=adding:%20a%20x%20b" in search
    assert parse_query(search)["view"] == "adding: a x b"


def test_unknown_eval_keeps_the_valid_ones(registry):
    e1 = data.ids()[0]
    decoded = decode("spiderweb", {"filters": json.dumps({"eval_id": [e1, "ffffff"]})}, registry)
    assert decoded.state.filters == {"eval_id": [e1]}
    assert len(decoded.notices) == 1 and "ffffff" in decoded.notices[0] and "Kept eval_id" in decoded.notices[0]


def test_only_unknown_evals_drop_the_filter(registry):
    decoded = decode("hazard", {"filters": '{"eval_id": "zzzzzz"}'}, registry)
    assert decoded.state.filters == {}
    assert "zzzzzz" in decoded.notices[0] and "ignored" in decoded.notices[0]


@pytest.mark.parametrize("raw", ['{"eval_id": [', '["a"]', '{"nope": 1}', '{"groups": ["no-colon"]}'])
def test_malformed_filters_fall_back_to_all_samples(registry, raw):
    decoded = decode("spiderweb", {"filters": raw}, registry)
    assert decoded.state.filters == {}
    assert decoded.notices


def test_stale_group_tag_and_param_value(registry):
    decoded = decode("surface", {"filters": json.dumps({"groups": ["arch:moe", "arch:tpu"], "params.a": [1, 99],
                                                        "params.zzz": 3})}, registry)
    assert decoded.state.filters == {"groups": [["arch:moe"]], "params.a": [1]}
    assert len(decoded.notices) == 3
    assert any("params.zzz" in n for n in decoded.notices)


@pytest.mark.parametrize("page, key, raw, fallback", [
    ("spiderweb", "group_by", "params.nothere", "base_task"),
    ("spiderweb", "group_by", "eval_id", "base_task"),
    ("spiderweb", "style", "pie", "radar"),
    ("surface", "split_by", "eval_id", "base_task"),
    ("compression", "facet_by", "manifold.nothere", "eval_id"),
    ("hazard", "bucket_size", "-3", 256),
    ("hazard", "bucket_size", "lots", 256),
    ("hazard", "group_by", "outcome", "eval_id"),
])
def test_bad_option_falls_back_to_default(registry, page, key, raw, fallback):
    decoded = decode(page, {key: raw}, registry)
    assert decoded.state.options[key] == fallback
    assert len(decoded.notices) == 1 and key in decoded.notices[0]


def test_unknown_view_is_dropped(registry):
    decoded = decode("surface", {"view": ["adding: a x b", "gone: p x q"]}, registry)
    assert decoded.state.options["view"] == ("adding: a x b",)
    assert "gone: p x q" in decoded.notices[0]


def test_unknown_dataset_parameter_and_repeats(registry):
    decoded = decode("spiderweb", {"dataset": "../../etc", "colour": "red", "truncation": ["separate", "failure"],
                                   "style": ["bars", "radar"]}, registry)
    state = decoded.state
    assert state.dataset == registry.default and state.truncation == "separate" and state.options["style"] == "bars"
    text = " ".join(decoded.notices)
    assert "Unknown dataset" in text and "colour" in text and "given 2 times" in text


def test_bad_truncation(registry):
    decoded = decode("compression", {"truncation": "ignore"}, registry)
    assert decoded.state.truncation == "failure" and decoded.notices


def test_carry_keeps_filters_and_overrides(registry):
    e1, e2 = data.ids()[:2]
    state = decode("spiderweb", {"filters": json.dumps({"eval_id": [e1, e2], "groups": ["arch:moe"]}),
                                 "truncation": "separate", "style": "bars"}, registry).state
    search = carry(state, "surface", registry, {"eval_id": [e2], "base_task": ["adding"]})
    target = decode("surface", parse_query(search), registry)
    assert target.notices == []
    assert target.state.filters == {"base_task": ["adding"], "eval_id": [e2], "groups": [["arch:moe"]]}
    assert target.state.truncation == "separate"
    assert "style" not in search


def test_state_run_options_name_the_projection_arguments(registry):
    state = decode("surface", {"view": "adding: a x b"}, registry).state
    assert state.run_options() == {"views": ["adding: a x b"], "split_by": "base_task", "mode": "2d"}
    assert decode("surface", {}, registry).state.run_options()["views"] is None
    assert isinstance(State("hazard", "x", {}, "failure", {"bucket_size": 5}).identity(), str)


def test_show_picks_one_split_value(registry):
    state = roundtrip("compression", {"show": "sorting"}, registry)
    assert state.show == "sorting" and state.split == "base_task"
    assert state.showing("sorting").filters == {"base_task": ["sorting"]}
    numeric = roundtrip("hazard", {"split_by": "params.a", "show": "2"}, registry)
    assert numeric.show == 2 and encode(numeric, registry).endswith("show=2")
    bad = decode("surface", {"show": "juggling"}, registry)
    assert bad.state.show is None and "juggling" in bad.notices[0]
    unsplit = decode("hazard", {"show": "adding"}, registry)
    assert unsplit.state.show is None and "not split" in unsplit.notices[0]
    assert "show" in decode("spiderweb", {"show": "adding"}, registry).notices[0]


def test_grid_pages_of_a_large_dataset_open_on_its_first_evals(registry, monkeypatch):
    from app import bounds
    monkeypatch.setattr(bounds, "MAX_GRID_EVALS", 2)
    decoded = decode("surface", {}, registry)
    assert set(decoded.state.filters["eval_id"]) == set(data.ids()[:2])
    assert decoded.notices == [] and "opened on the first 2" in decoded.info[0]
    # the cap is written into the link, so the link reopens exactly this view
    assert "eval_id" in encode(decoded.state, registry)
    # an explicit choice of evals, and pages that are not grids, are left alone
    chosen = decode("compression", {"filters": json.dumps({"groups": ["arch:dense"]})}, registry)
    assert chosen.info == [] and "eval_id" not in chosen.state.filters
    assert decode("spiderweb", {}, registry).info == []


# ---------------------------------------------------------------- hostile links: one notice each, never an error
@pytest.mark.parametrize("query, said", [
    ({"filters": '{"eval_id": ' + "[" * 5000 + "]" * 5000 + "}"}, "a value holds at most 4,096 characters"),
    ({"filters": '{"eval_id": ' + "[" * 50 + "]" * 50 + "}"}, "nests 51 levels deep; at most 8 are allowed"),
    ({"filters": '{"eval_id": "\\ud800"}'}, "not valid Unicode"),
    ({"filters": '{"params.a": NaN}'}, "numbers must be finite"),
    ({"filters": '{"params.a": ' + "9" * 5000 + "}"}, "'filters' (5,014 characters) were ignored"),
    ({"filters": '{"params.a": ' + "9" * 4000 + "}"}, "a 4000-digit number; numbers must fit in 64 bits"),
    ({"filters": '{"params.a": 1' + "0" * 30 + "}"}, "numbers must fit in 64 bits"),
    ({"dataset": "\ud800"}, "not valid Unicode"),
    ({"\udcff": "1"}, "not valid Unicode"),
    ({"bucket_size": "²"}, "must be a whole number from 1 to 1048576, not '²'"),
    ({"bucket_size": "٣٠٠"}, "must be a whole number"),
    ({"bucket_size": "9" * 30}, "must be a whole number"),
    ({"truncation": "x" * 4000}, "not 'xxxxxxxx"),
    ({"group_by": "y" * 5000}, "'group_by' (5,000 characters)"),
    ({f"p{i}": "1" for i in range(100)}, "A link holds at most 64 parameter values"),
    ({"split_by": ["a"] * 100}, "A link holds at most 64 parameter values"),
    ({"filters": ["{}", '{"eval_id": 1}']}, "'filters' was given 2 times"),
])
def test_a_hostile_link_opens_the_nearest_valid_view_with_a_short_notice(registry, query, said):
    decoded = decode("hazard", query, registry)
    text = " ".join(decoded.notices)
    assert said in text, text
    assert all(len(n) <= 2_000 for n in decoded.notices) and len(decoded.notices) <= 10
    assert decoded.state.options["bucket_size"] == 256 and decoded.state.dataset == "webtest"
    encode(decoded.state, registry).encode("utf-8")  # the state it falls back to always makes a link


def test_the_link_bounds_keep_the_parameters_in_order_until_they_are_spent(registry):
    e1 = data.ids()[0]
    query = {"filters": json.dumps({"eval_id": [e1]}), "bucket_size": "300",
             **{f"unknown{i}": "1" for i in range(70)}}
    decoded = decode("hazard", query, registry)
    assert decoded.state.filters == {"eval_id": [e1]} and decoded.state.options["bucket_size"] == 300
    text = " ".join(decoded.notices)
    assert "these were ignored: 'unknown62', 'unknown63'" in text and "(2 more)" in text
    assert "Unknown parameters 'unknown0', 'unknown1'" in text and "(56 more) were ignored" in text


def test_a_forged_search_that_is_not_text_is_an_empty_query():
    assert parse_query(5) == {} and parse_query(None) == {} and parse_query(["?a=1"]) == {}
