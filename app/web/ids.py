"""Every component id of the dashboard, in one place.

Layouts, callbacks and the browser tests meet on these strings: a callback
whose id is misspelt never fires and Dash does not say so, so no module spells
an id itself. ``assets/profile.js`` cannot import this module; the ids it uses
(CLI_COMMAND through ``data-copy``) are listed there in a comment.
Pattern-matching ids (one per option, figure or tag) are built by the functions
at the end.
"""

from __future__ import annotations

from typing import Any

# the app shell and Dash Pages' own location component (dash._pages._ID_LOCATION)
APP_ROOT = "app-root"
LOCATION = "_pages_location"
NAVBAR = "navbar"
DATASET_SELECT = "dataset-select"
NOTICES = "notices"

# filter bar (app.web.filter_bar)
FB_EVALS = "fb-evals"
FB_TASKS = "fb-tasks"
FB_GROUPS = "fb-groups"
FB_GROUPS_PLAIN = "fb-groups-plain"
FB_MORE = "fb-more"
FB_ERROR = "fb-error"

# options row and actions
OPT_TRUNCATION = "opt-truncation"
COPY_LINK = "copy-link"
COPY_CLI = "copy-cli"
CLI_COMMAND = "cli-command"
DOWNLOAD_CSV = "download-csv"

# the view: its state, where it is drawn, and what comes with it
VIEW_QUERY = "view-query"  # Store {"page", "search", "filled"}: the page's canonical query; filled: view laid out
CANONICAL_URL = "canonical-url"
VIEW_AREA = "view-area"
VIEW_LOADING = "view-loading"
VIEW_NOTES = "view-notes"
NOTES_CARD = "notes-card"
NEXT_STEPS = "next-steps"
NEXT_STEPS_CARD = "next-steps-card"
SPLIT_PICKER = "split-picker"
SPLIT_SHOW = "split-show"
SPLIT_SHOWN = "split-shown"  # Store: the split value on screen
EMPTY_STATE = "empty-state"
INTERNAL_ERROR = "internal-error"

# probe (app.web.probe): its URL store, controls, and the listing of completions
PROBE_QUERY = "probe-query"  # Store {"page", "search"}: the probe's canonical query
PROBE_CANONICAL_URL = "probe-canonical-url"
PROBE_OUTCOME = "probe-outcome"
PROBE_TOKENS_MIN = "probe-tokens-min"
PROBE_TOKENS_MAX = "probe-tokens-max"
PROBE_LIMIT = "probe-limit"
PROBE_AREA = "probe-area"
PROBE_LOADING = "probe-loading"
PROBE_COUNT = "probe-count"
PROBE_TABLE = "probe-table"
PROBE_NO_TEXT = "probe-no-text"
PROBE_TEXT_ERROR = "probe-text-error"
PROBE_OPENED = "probe-opened"  # the note over a completion opened from a compression dot
PROBE_SHOW_ALL = "probe-show-all"
PROBE_PREV = "probe-prev"
PROBE_NEXT = "probe-next"

# report (app.web.report): its URL store, the area the report is drawn in, and its parts
REPORT_QUERY = "report-query"  # Store {"page", "search"}: the report's canonical query
REPORT_CANONICAL_URL = "report-canonical-url"
REPORT_AREA = "report-area"
REPORT_LOADING = "report-loading"
REPORT_GLANCE = "report-glance"
REPORT_COMPARISONS = "report-comparisons"
REPORT_NEXT_STEPS = "report-next-steps"

# overview
DATASET_FACTS = "dataset-facts"
WHERE_TO_START = "where-to-start"
EVALS_TABLE = "evals-table"
TASKS_TABLE = "tasks-table"
VIEWS_TABLE = "views-table"

# types of the pattern-matching ids
OPT = "opt"
GRAPH = "graph"
FIGURE_SRC = "figure-src"
TAG = "tag"


def option(name: Any) -> dict[str, Any]:
    """A page option's control (``name`` may be ``dash.ALL``)."""
    return {"type": OPT, "name": name}


def graph(page: Any, index: Any) -> dict[str, Any]:
    """A figure's dcc.Graph."""
    return {"type": GRAPH, "page": page, "index": index}


def figure_src(page: Any, index: Any) -> dict[str, Any]:
    """The Store holding the URL a figure's JSON is fetched from."""
    return {"type": FIGURE_SRC, "page": page, "index": index}


def tag(name: Any) -> dict[str, Any]:
    """A group tag chip of the filter bar."""
    return {"type": TAG, "tag": name}


def nav(page: str) -> str:
    """A page's navbar link."""
    return f"nav-{page}"


def start(page: str) -> str:
    """A page's link in the overview's "where to start"."""
    return f"start-{page}"


def next_step(page: str, index: int) -> str:
    """The ``index``-th next-step link to ``page`` (spiderweb)."""
    return f"next-{page}-{index}"


def completion(row: int) -> str:
    """The probe's table row of completion ``row`` (its text row follows it)."""
    return f"completion-{row}"


def png(index: int) -> str:
    """The PNG button of figure ``index``."""
    return f"png-{index}"


def report_step(projection: str) -> str:
    """The /report page's card of one workflow step (its figures, findings and notes)."""
    return f"report-step-{projection}"
