"""'Copy as CLI command': the analyze.py line that writes the figure a page shows.

Built from the same state and the same projection declaration (``app.projections.spec``)
as the URL and the CLI's parser, so the three never drift; flags equal to the CLI's
own defaults are left out to keep the line short.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from app.engine import filters as flt
from app.projections.spec import SPECS, OptionKind
from app.web.state import State


def display_path(path: Path, cwd: Path | None = None) -> str:
    """The dataset path as a user would type it: relative to the working directory when inside it."""
    path = Path(path)
    cwd = Path.cwd() if cwd is None else Path(cwd)
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


def cli_command(state: State, dataset_path: Path, cwd: Path | None = None) -> str:
    """``python analyze.py PAGE DATASET [--filters JSON] [options]`` for a projection page's state."""
    spec = SPECS[state.page]
    parts = ["python", "analyze.py", state.page, display_path(dataset_path, cwd)]
    if state.filters:
        parts += ["--filters", flt.canonical_json(state.filters)]
    for opt in spec.page_options:
        value = state.options[opt.name]
        if opt.kind is OptionKind.VIEWS:
            if value:
                parts += [opt.cli_flag, *value]
            continue
        if value == opt.cli_default:
            continue
        parts += [opt.cli_flag, opt.cli_value(value)]
    if state.truncation != "failure":
        parts += ["--truncation", state.truncation]
    return " ".join(shlex.quote(p) for p in parts)
