"""What each projection page can be asked for: its options, their defaults and CLI flags.

One table drives the URL codec, the option controls, the cache key and the
"Copy as CLI command" builder, so a page option cannot exist in one of them and
be missing from another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from app.engine import Dataset
from app.engine.stats import TRUNCATION_MODES

NONE = "none"


@dataclass(frozen=True)
class Option:
    """One page option: URL parameter ``name`` = the projection's keyword argument."""

    name: str
    label: str
    kind: str  # "dim" (a dimension), "dim_or_none", "choice", "int", "views" (list of view names)
    cli_flag: str
    cli_default: Any  # the CLI's own default: flags equal to it are left out of the command
    default: Callable[[Dataset], Any]
    choices: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # dimensions this option may not take
    minimum: int = 1
    maximum: int = 1 << 20
    help: str = ""
    cli_values: dict[str, str] = field(default_factory=dict)  # page value → CLI value (radar → webpng)
    kwarg: str = ""  # the projection's keyword when it differs from ``name`` (view → views)


@dataclass(frozen=True)
class PageSpec:
    """A projection page: path, title, a sentence on what it shows, and its options."""

    name: str
    title: str
    summary: str
    options: tuple[Option, ...]
    split: str | None = None  # the option whose values get one figure each (the page shows one at a time)

    @property
    def path(self) -> str:
        return f"/{self.name}"

    def option(self, name: str) -> Option:
        for opt in self.options:
            if opt.name == name:
                return opt
        raise KeyError(name)


def _fixed(value: Any) -> Callable[[Dataset], Any]:
    return lambda ds: value


def _dim_or_none(preferred: str) -> Callable[[Dataset], Any]:
    """The preferred dimension when the dataset has it, else none (imports may lack manifolds)."""
    return lambda ds: preferred if preferred in ds.dimension_names else NONE


SPECS: dict[str, PageSpec] = {
    "spiderweb": PageSpec(
        "spiderweb", "Spiderweb",
        "Cross-task fingerprint: accuracy (centre of the 95% interval, band = interval) per eval on every axis, "
        "truncation in purple and mean tokens. Click a point to open its surface.",
        (
            Option("group_by", "Axes", "dim", "--group-by", "base_task", _fixed("base_task"),
                   exclude=("eval_id", "outcome"), help="one axis per value of this dimension"),
            Option("style", "Style", "choice", "--format", "radar", _fixed("radar"), choices=("radar", "bars"),
                   cli_values={"radar": "webpng", "bars": "barpng"},
                   help="radar: shape at a glance; bars: precise comparison"),
        ),
    ),
    "surface": PageSpec(
        "surface", "Surface",
        "Accuracy over a 2-D parameter grid: one row per view, one column per eval; green = safe zone "
        "(lower bound ≥ 0.9), marks where truncation exceeds 2%.",
        (
            Option("view", "Views", "views", "--view", (), _fixed(()), kwarg="views",
                   help="2-D views to draw; empty = every view of the selected tasks"),
            Option("split_by", "Split", "choice", "--split-by", "base_task", _fixed("base_task"),
                   choices=("base_task", NONE), help="one figure per task, or one combined figure"),
        ),
        split="split_by",
    ),
    "compression": PageSpec(
        "compression", "Compression",
        "Each completion as tokens (x) against gzip-compressed size (y), coloured by outcome: underthink, "
        "overthink and broken loops separate here.",
        (
            Option("split_by", "Split", "dim_or_none", "--split-by", "base_task", _dim_or_none("base_task"),
                   exclude=("outcome",), help="one figure per value"),
            Option("facet_by", "Facet rows", "dim_or_none", "--facet-by", "eval_id", _dim_or_none("eval_id"),
                   exclude=("outcome",), help="one row of panels per value"),
            Option("group_by", "Marker", "dim_or_none", "--group-by", "manifold.id", _dim_or_none("manifold.id"),
                   exclude=("outcome",), help="marker symbol per value"),
        ),
        split="split_by",
    ),
    "hazard": PageSpec(
        "hazard", "Hazard",
        "When, in tokens, answers, failures and truncations happen: cumulative incidence per outcome and the "
        "failure hazard per token bucket, with each eval's budget marked.",
        (
            Option("split_by", "Split", "dim_or_none", "--split-by", NONE, _fixed(NONE),
                   exclude=("outcome",), help="one figure per value"),
            Option("bucket_size", "Bucket (tokens)", "int", "--bucket-size", 256, _fixed(256), minimum=1,
                   maximum=1 << 20, help="width of a token bin"),
            Option("group_by", "Series", "dim", "--group-by", "eval_id", _fixed("eval_id"),
                   exclude=("outcome",), help="one curve per value"),
        ),
        split="split_by",
    ),
}

COMMON_PARAMS = ("dataset", "filters", "truncation")
SHOW = "show"  # which split value a split page draws (the CLI writes one file per value)
