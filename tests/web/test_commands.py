"""'Copy as CLI command': the line must parse with analyze.py's own parser into the same projection call."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from app.cli import build_parser
from app.cli.projections import options as cli_options
from app.engine import filters as flt
from app.web.commands import cli_command, display_path
from app.web.registry import Registry
from app.web.state import decode
from tests.web import data


@pytest.fixture(scope="module")
def registry(web_data):
    return Registry(web_data)


CASES = [
    ("spiderweb", {}),
    ("spiderweb", {"style": "bars", "group_by": "params.a", "truncation": "separate"}),
    ("surface", {"view": ["adding: a x b", "sorting: n x k"], "split_by": "none"}),
    ("compression", {"split_by": "none", "facet_by": "groups.arch", "group_by": "none"}),
    ("hazard", {"bucket_size": "100", "split_by": "base_task", "group_by": "groups.size"}),
]


@pytest.mark.parametrize("page, query", CASES)
def test_command_parses_into_the_same_call(registry, page, query):
    e1 = data.ids()[0]
    query = {"filters": json.dumps({"eval_id": [e1], "groups": [["arch:dense", "size:small"]]}), **query}
    state = decode(page, query, registry).state
    line = cli_command(state, registry.entry(state.dataset).path, registry.root)
    argv = shlex.split(line)
    assert argv[:3] == ["python", "analyze.py", page]
    args = build_parser().parse_args(argv[2:])
    # the dataset is named under its data folder: run from the folder that holds it, the line opens it
    assert args.dataset == "webtest/dataset.json"
    assert (registry.root.parent.parent / args.dataset).resolve() == registry.entry(state.dataset).path
    assert flt.parse_filters(args.filters) == state.filters
    assert args.truncation == state.truncation
    got = cli_options(args)
    got.pop("max_points", None)
    assert got == state.run_options()


def test_defaults_give_the_short_line(registry, tmp_path):
    state = decode("hazard", {}, registry).state
    assert cli_command(state, Path("/x/data/dataset.json"), Path("/x/data")) == \
        "python analyze.py hazard data/dataset.json"


def test_quoting_survives_the_shell(registry):
    state = decode("surface", {"view": "adding: a x b"}, registry).state
    line = cli_command(state, Path("/srv/my data/dataset.json"), Path("/srv/my data"))
    assert shlex.split(line)[3:] == ["my data/dataset.json", "--view", "adding: a x b"]


def test_the_dataset_is_named_under_its_data_folder_never_by_a_server_path(registry, tmp_path):
    root = tmp_path / "datasets"
    assert display_path(root / "rg" / "dataset.json", root) == "datasets/rg/dataset.json"
    assert display_path(root / "dataset.json", root / "dataset.json") == "datasets/dataset.json"
    # outside the data root (a symlinked folder), or with no root given: the folder and the file only
    assert display_path(Path("/other/place/dataset.json"), root) == "place/dataset.json"
    assert display_path(tmp_path / "x" / "dataset.json") == "x/dataset.json"
    state = decode("hazard", {}, registry).state
    assert cli_command(state, root / "rg" / "dataset.json", root) == "python analyze.py hazard datasets/rg/dataset.json"
