"""'Copy as CLI command': the analyze.py line that writes the figure a page shows.

Built from the same state and the same projection declaration (``app.projections.spec``)
as the URL and the CLI's parser, so the three never drift; flags equal to the CLI's
own defaults are left out to keep the line short. The dataset is named by its place
under the data folder, never by an absolute path of the server (see :func:`display_path`).
"""

from __future__ import annotations

import shlex
from pathlib import Path

from app.engine import filters as flt
from app.projections.spec import OptionKind, declared
from app.web.state import State, uses_truncation


def display_path(path: Path, data_root: Path | None = None) -> str:
    """The dataset's path as the page shows it: under its data folder, never an absolute server path.

    Rule: relative to the parent of the data root's folder (``PROFILE_DATA``, or the folder
    holding it when it is a dataset.json), so it starts with that folder's name:
    ``data/dataset.json``, ``datasets/rg/dataset.json`` (what a user with the same folders types).
    A dataset outside the root (reached through a symlink), or with no root given, is
    ``<its folder>/<its file>``.
    """
    path = Path(path).resolve()
    if data_root is not None:
        root = Path(data_root).resolve()
        folder = root.parent if root.suffix == ".json" or root.is_file() else root
        if path.is_relative_to(folder) and folder.parent != folder:
            return path.relative_to(folder.parent).as_posix()
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def cli_command(state: State, dataset_path: Path, data_root: Path | None = None) -> str:
    """``python analyze.py PAGE DATASET [--filters JSON] [options]`` for a page's state.

    Options declared without a CLI flag are left out.
    """
    spec = declared(state.page)
    if spec is None:
        raise KeyError(state.page)
    parts = ["python", "analyze.py", state.page, display_path(dataset_path, data_root)]
    if state.filters:
        parts += ["--filters", flt.canonical_json(state.filters)]
    for opt in spec.page_options:
        value = state.options[opt.name]
        if not opt.cli_flag:
            continue
        if opt.multiple:
            if value:
                parts += [opt.cli_flag, *map(str, value)]
            continue
        if value == opt.cli_default:
            continue
        if opt.kind is OptionKind.INT_RANGE:
            parts += [opt.cli_flag, str(value[0]), str(value[1])]
            continue
        parts += [opt.cli_flag, opt.cli_value(value)]
    if state.truncation != "failure" and uses_truncation(state.page):
        parts += ["--truncation", state.truncation]
    return " ".join(shlex.quote(p) for p in parts)
