"""The interface the dashboard and the CLI share: run(), Projection, to_json, to_csv."""

import csv
import inspect
import io
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from app.engine import Dataset, InputError
from app.projections import PROJECTIONS, Projection, to_csv, to_json
from tests.projections import synthetic

SPEC_COLUMNS = ["n", "correct", "incorrect", "invalid", "truncated", "accuracy", "center", "margin", "lower",
                "upper", "truncation_rate", "invalid_rate", "tokens_mean", "tokens_p50", "tokens_p95"]
COMPARE_COLUMNS = ["n_a", "n_b", "accuracy_a", "accuracy_b", "diff", "diff_lower", "diff_upper", "p_value", "p_holm",
                   "verdict"]   # compare's rows are pairs of groups (spec §12), not §3 groups
OPTIONS = {
    "spiderweb": {"group_by": "base_task", "style": "radar"},
    "surface": {"views": None, "split_by": "base_task", "mode": "2d"},
    "compression": {"split_by": "base_task", "facet_by": "eval_id", "group_by": "manifold.id", "max_points": 20000},
    "hazard": {"split_by": "none", "bucket_size": 256, "group_by": "eval_id"},
    "compare": {"group_by": "base_task"},
}


@pytest.fixture(scope="module")
def results(syn):
    return {name: module.run(syn) for name, module in PROJECTIONS.items()}


@pytest.mark.parametrize("name", list(OPTIONS))
def test_run_signature_and_defaults(name):
    sig = inspect.signature(PROJECTIONS[name].run)
    params = sig.parameters
    assert list(params)[0] == "ds"
    assert params["filters"].default is None and params["truncation"].default == "failure"
    for opt, default in OPTIONS[name].items():
        assert params[opt].kind is inspect.Parameter.KEYWORD_ONLY
        assert params[opt].default == default, (name, opt)


@pytest.mark.parametrize("name", list(OPTIONS))
def test_projection_shape(results, name):
    p = results[name]
    assert isinstance(p, Projection) and p.name == name
    assert set(COMPARE_COLUMNS if name == "compare" else SPEC_COLUMNS) <= set(p.rows.columns)
    assert p.figures and all(isinstance(f, go.Figure) for _, f in p.figures)
    assert all(isinstance(n, str) and n for n in p.notes)
    assert {"projection", "dataset", "filters", "group_by"} <= set(p.meta)
    for _, f in p.figures:
        assert len(f.to_json()) <= 1_500_000
        assert f.layout.width >= 1200 and f.layout.height >= 800


def test_split_values_name_the_figures(results):
    assert [s for s, _ in results["surface"].figures] == ["arith", "logic", "loops", "sort"]
    assert [s for s, _ in results["compression"].figures] == ["arith", "logic", "loops", "sort"]
    assert [s for s, _ in results["spiderweb"].figures] == [None]
    assert [s for s, _ in results["hazard"].figures] == [None]


def test_to_json_has_spec_keys_and_plain_values(results):
    doc = to_json(results["spiderweb"])
    assert list(doc)[:4] == ["projection", "dataset", "filters", "group_by"]
    assert doc["projection"] == "spiderweb" and doc["dataset"] == "synthetic" and doc["group_by"] == "base_task"
    assert len(doc["rows"]) == len(results["spiderweb"].rows)
    text = json.dumps(doc, allow_nan=False)                  # NaN became null, numpy became python
    assert json.loads(text)["rows"][0]["eval_id"]
    hz = to_json(results["hazard"])
    assert {"bin_start", "bin_end", "at_risk", "hazard_correct", "cif_truncated"} <= set(hz["rows"][0])


def test_to_csv_is_exactly_the_rows(results):
    for p in results.values():
        parsed = list(csv.DictReader(io.StringIO(to_csv(p))))
        assert len(parsed) == len(p.rows) and list(parsed[0]) == [str(c) for c in p.rows.columns]


def test_rows_equal_engine_aggregate(syn, results):
    agg = syn.aggregate(None, ["eval_id", "base_task"])
    rows = results["spiderweb"].rows
    merged = rows.merge(agg, on=["eval_id", "base_task"], suffixes=("", "_engine"))
    assert len(merged) == len(agg)
    for col in SPEC_COLUMNS:
        assert np.allclose(merged[col].astype(float), merged[f"{col}_engine"].astype(float), equal_nan=True)
    hz = syn.hazard(None, ["eval_id"], 256)
    assert np.allclose(results["hazard"].rows["cif_correct"], hz["cif_correct"])


def test_compression_numbers_use_all_samples_even_when_drawing_few(syn):
    small = PROJECTIONS["compression"].run(syn, split_by="none", facet_by="none", group_by="none", max_points=50)
    full = syn.samples(None, columns=["completion_tokens", "compressed_bytes"])
    row = small.rows.iloc[0]
    assert row["samples"] == len(full) == syn.n_samples
    assert row["bytes_mean"] == pytest.approx(full["compressed_bytes"].astype(float).mean())
    assert row["bytes_per_token"] == pytest.approx(full["compressed_bytes"].sum() / full["completion_tokens"].sum())
    (_, fig), = small.figures
    assert sum(len(t.x) for t in fig.data if t.meta and "outcome" in t.meta) == 50
    assert any("50 of" in n for n in small.notes)


def test_none_turns_dimensions_off(syn):
    p = PROJECTIONS["compression"].run(syn, split_by="none", facet_by="none", group_by="none")
    assert [s for s, _ in p.figures] == [None] and len(p.rows) == 1
    h = PROJECTIONS["hazard"].run(syn, group_by="none", split_by="base_task", bucket_size=512)
    assert [s for s, _ in h.figures] == ["arith", "logic", "loops", "sort"]
    assert set(h.rows["bin_end"] - h.rows["bin_start"]) == {512}


def test_spiderweb_other_axes_and_drilldown(syn, ids):
    p = PROJECTIONS["spiderweb"].run(syn, group_by="manifold.target_tokens", style="bars")
    (_, fig), = p.figures
    acc = [t for t in fig.data if isinstance(t, go.Bar) and t.error_y.array is not None]
    assert {c[0] for t in acc for c in t.customdata} == set(ids.values())
    assert {c[1] for t in acc for c in t.customdata} == set(p.rows["manifold.target_tokens"])


def test_truncation_mode_changes_the_numbers(syn, ids):
    fail = PROJECTIONS["spiderweb"].run(syn, filters={"eval_id": ids["Gamma"]}).rows
    sep = PROJECTIONS["spiderweb"].run(syn, filters={"eval_id": ids["Gamma"]}, truncation="separate").rows
    assert (sep["center"] > fail["center"]).all()


@pytest.mark.parametrize("name, kwargs, words", [
    ("spiderweb", {"filters": {"params.length": 99}}, "unknown value"),
    ("spiderweb", {"filters": {"base_task": "arith", "params.a": 1}}, "match no samples"),
    ("spiderweb", {"group_by": "eval_id"}, "other than eval_id"),
    ("spiderweb", {"style": "pie"}, "radar or bars"),
    ("surface", {"views": ["logic: a x b x c"]}, "exactly two"),
    ("surface", {"views": ["nope"]}, "unknown view"),
    ("surface", {"split_by": "eval_id"}, "base_task or none"),
    ("compression", {"facet_by": "nonsense"}, "unknown dimension"),
    ("compression", {"group_by": "outcome"}, "colours by"),
    ("hazard", {"bucket_size": 0}, "bucket-size"),
    ("hazard", {"group_by": "outcome"}, "colours by"),
    ("spiderweb", {"truncation": "ignore"}, "failure or separate"),
])
def test_bad_input_says_what_is_wrong(syn, name, kwargs, words):
    with pytest.raises(InputError, match=words):
        PROJECTIONS[name].run(syn, **kwargs)


def test_surface_views_and_filters(syn):
    p = PROJECTIONS["surface"].run(syn, filters={"base_task": "logic"}, split_by="none")
    assert p.meta["views"] == ["logic: a x b (c=0)", "logic: a x c"]   # the 3-D view is not a surface
    assert [s for s, _ in p.figures] == [None]
    one = p.rows[p.rows["view"] == "logic: a x b (c=0)"]
    assert set(one["params.a"]) == {1, 2, 3} and one["samples"].sum() == 4 * 9 * 40  # the view's own c=0 filter
    named = PROJECTIONS["surface"].run(syn, views=["sort: n x k"])
    assert named.meta["views"] == ["sort: n x k"]


def test_surface_marks_in_rows(syn):
    rows = PROJECTIONS["surface"].run(syn).rows
    assert (rows["safe_zone"] == (rows["lower"] >= 0.9)).all()
    assert (rows["truncation_mark"] == (rows["truncation_rate"] > 0.02)).all()


def test_meta_is_strict_json_even_without_tokens(results, tmp_path):
    for p in results.values():
        json.dumps(p.meta, allow_nan=False, default=str)          # the dashboard caches meta this way
    bare = Dataset.open(synthetic.build_bare(tmp_path / "bare"))
    web = PROJECTIONS["spiderweb"].run(bare)
    assert web.meta["archetypes"]["e"]["numbers"]["token_ratio"] is None
    json.dumps(web.meta, allow_nan=False)
    assert any("no token counts" in n for n in web.notes)


def test_compression_draws_at_most_max_facets_and_says_which_are_left_out(syn, monkeypatch):
    from app import bounds
    monkeypatch.setattr(bounds, "MAX_FACETS", 2)
    p = PROJECTIONS["compression"].run(syn, split_by="none", group_by="none")
    labels = syn.eval_labels()
    order = list(syn.evals()["eval_id"])
    (_, fig), = p.figures
    drawn = {t.meta["facet"] for t in fig.data if t.meta and "outcome" in t.meta}
    assert drawn == set(order[:2])
    note = next(n for n in p.notes if "not drawn" in n)
    assert "first 2 of 4" in note and all(labels[e][:20] in note for e in order[2:])
    assert set(p.rows["eval_id"]) == set(order)                  # the table keeps every facet
    shown = sum(len(t.x) for t in fig.data if t.meta and "outcome" in t.meta)
    assert fig.layout.meta["total"] == shown == int(syn.aggregate({"eval_id": order[:2]}, [])["samples"].iloc[0])


def test_every_projection_is_a_declared_spec():
    from app.projections import ProjectionSpec

    assert list(PROJECTIONS) == ["spiderweb", "surface", "compression", "hazard", "compare"]   # page order
    for name, spec in PROJECTIONS.items():
        assert isinstance(spec, ProjectionSpec) and spec.name == name and spec.path == f"/{name}"
        assert spec.title and spec.help and spec.summary and spec.question and spec.start
        params = inspect.signature(spec.run).parameters
        assert {o.keyword: o.cli_default for o in spec.options} == {k: params[k].default for k in OPTIONS[name]}
        assert spec.split is None or spec.split in {o.name for o in spec.options}
    assert PROJECTIONS["spiderweb"].format_options("barpng") == {"style": "bars"}
    assert PROJECTIONS["spiderweb"].format_options("json") == {"style": "radar"}
    assert PROJECTIONS["surface"].format_options("png") == {}
    assert [s.per_eval_mark is not None for s in PROJECTIONS.values()] == [False, True, True, True, False]


def test_a_declaration_that_disagrees_with_run_is_refused():
    from app.projections import Option, OptionKind, ProjectionSpec, register_projection
    from app.projections.spec import SPECS

    def run(ds, *, filters=None, truncation="failure", size: int = 3):
        raise AssertionError("never run")

    def spec(**changes):
        fields = dict(name="refused", title="Refused", help="h", summary="s", run=run,
                      options=(Option("size", "Size", OptionKind.INT, "--size", 3, help="h"),))
        return ProjectionSpec(**{**fields, **changes})

    bad = [
        spec(options=(Option("size", "Size", OptionKind.INT, "--size", 4, help="h"),)),      # default drifted
        spec(options=(Option("width", "Width", OptionKind.INT, "--width", 3, help="h"),)),   # run has no width
        spec(name="overview"),                                                                # a page of its own
        spec(name="Not A Slug"),
        spec(split="nope"),
        spec(options=(Option("size", "Size", OptionKind.INT, "--truncation", 3, help="h"),)),  # a common flag
    ]
    for declaration in bad:
        with pytest.raises(ValueError):
            register_projection(declaration)
    assert "refused" not in SPECS
