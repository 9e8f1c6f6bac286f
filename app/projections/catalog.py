"""The projections of spec §5, declared: one :class:`ProjectionSpec` each, registered in page order.

Everything the CLI and the dashboard know about a projection is written here once:
its subcommand help and flags, its ``--format`` choices, its page's title, summary,
controls and defaults, the overview's "where to start" entry, its per-eval cap and
its split. A new projection is its module (with ``run``) plus one ``register_projection``
call like these; the CLI subcommand, the page, its link in the navbar and on the
overview follow. The probe, a page that lists completions instead of drawing a figure,
is declared here too (a :class:`PageSpec`): compression, surface and hazard drill down to it.
"""

from __future__ import annotations

from typing import Any, Mapping

from app import bounds
from app.engine import Dataset
from app.engine.errors import InputError
from app.engine.schema import OUTCOMES
from app.projections import compare, compression, hazard, spiderweb, surface
from app.projections.base import NONE
from app.projections.spec import (
    FORMAT_FLAG,
    DrillDown,
    DrillKind,
    Option,
    OptionKind,
    PageSpec,
    ProjectionSpec,
    dim_if_present,
    register_page,
)
from app.projections.spec import register_projection as register

PROBE = "probe"  # the page a click on a compression dot, a surface cell or a hazard bin opens (declared below)
REPORT = "report"  # the characterisation report: the workflow end to end (declared below; app.report)


def _surface_tasks(ds: Dataset, filters: Mapping[str, Any], options: Mapping[str, Any]) -> list[Any]:
    """The surface's split values: the tasks of the views it draws (a task without a 2-D view has no figure)."""
    try:
        chosen = surface.select_views(ds, filters, list(options.get("views") or []) or None)
    except InputError:
        return []
    return list(dict.fromkeys(v.base_task for v in chosen if v.base_task))


SPIDERWEB = register(ProjectionSpec(
    name=spiderweb.NAME, title="Spiderweb", order=1, run=spiderweb.run,
    help="cross-task fingerprint per eval (radar or bars) with archetypes",
    summary="Cross-task fingerprint: accuracy (centre of the 95% interval, band = interval) per eval on every "
            "axis, truncation in purple and mean tokens. Click a point to open its surface.",
    question="What can each model do, and how do they differ?",
    start="Start here. The fingerprint names each eval's archetype and lists the weakest tasks, the most "
          "token-hungry ones and any elevated truncation, each linked to the page that explains it.",
    formats=("webpng", "barpng", "json", "csv"),
    options=(
        Option("group_by", "Axes", OptionKind.DIM, "--group-by", "base_task", exclude=("eval_id", "outcome"),
               help="one axis per value of this dimension", cli_help="one axis per value of DIM (default base_task)"),
        Option("style", "Style", OptionKind.CHOICE, FORMAT_FLAG, "radar", choices=spiderweb.STYLES,
               cli_values={"radar": "webpng", "bars": "barpng"},
               help="radar: shape at a glance; bars: precise comparison"),
    ),
    drill_down=DrillDown(page=surface.NAME, axis="group_by"),
    next_steps=True,
))

SURFACE = register(ProjectionSpec(
    name=surface.NAME, title="Surface", order=2, run=surface.run,
    help="accuracy heatmaps over each 2-D view, rows = views, columns = evals",
    summary="Accuracy over a 2-D parameter grid: one row per view, one column per eval; green = safe zone "
            "(lower bound ≥ 0.9), marks where truncation exceeds 2%.",
    question="Where does a capability break down?",
    start="Accuracy over two difficulty parameters: sharp cliffs, gradual slopes and the safe green zone.",
    options=(
        Option("view", "Views", OptionKind.VIEWS, "--view", None, kwarg="views",
               help="2-D views to draw; empty = every view of the selected tasks",
               cli_help="view name(s) with two group-by dimensions (default: all matching)"),
        Option("split_by", "Split", OptionKind.CHOICE, "--split-by", "base_task", choices=surface.SPLITS,
               help="one figure per task, or one combined figure",
               cli_help="one file per task (default) or one file"),
        Option("mode", "Mode", OptionKind.CHOICE, "--mode", "2d", choices=surface.MODES,
               help="2d: heatmaps; 3d: accuracy as a relief with the lower bound as a grey shadow (drag to turn)",
               cli_help="2d heatmaps (default) or 3d surfaces with the lower-bound shadow"),
    ),
    per_eval_mark="column of heatmaps",
    split="split_by", split_inputs=("view",), split_values=_surface_tasks,
    drill_down=DrillDown(page=PROBE, kind=DrillKind.CELL),
))

COMPRESSION = register(ProjectionSpec(
    name=compression.NAME, title="Compression", order=3, run=compression.run,
    help="completion tokens vs compressed size per completion, by outcome",
    summary="Each completion as tokens (x) against gzip-compressed size (y), coloured by outcome: underthink, "
            "overthink and broken loops separate here.",
    question="Is the reasoning efficient?",
    start="Tokens against information content per completion: underthinking, overthinking and broken loops.",
    options=(
        Option("split_by", "Split", OptionKind.DIM_OR_NONE, "--split-by", "base_task", exclude=("outcome",),
               page_default=dim_if_present("base_task"), help="one figure per value",
               cli_help="one file per value (default base_task)"),
        Option("facet_by", "Facet rows", OptionKind.DIM_OR_NONE, "--facet-by", "eval_id", exclude=("outcome",),
               page_default=dim_if_present("eval_id"), help="one row of panels per value",
               cli_help="subplot rows (default eval_id)"),
        Option("group_by", "Marker", OptionKind.DIM_OR_NONE, "--group-by", compression.DEFAULT_GROUP,
               exclude=("outcome",), page_default=dim_if_present(compression.DEFAULT_GROUP),
               help="marker symbol per value", cli_help="marker symbol per value (default %(default)s)"),
        Option("max_points", "Points", OptionKind.INT, "--max-points", bounds.POINTS_PER_FIGURE, on_page=False,
               help="dots drawn per figure; numbers always use all samples",
               cli_help="dots drawn per file; numbers always use all samples (default %(default)s)"),
    ),
    per_eval_mark="row of scatter plots",
    split="split_by",
    drill_down=DrillDown(page=PROBE, kind=DrillKind.COMPLETION),
))

HAZARD = register(ProjectionSpec(
    name=hazard.NAME, title="Hazard", order=4, run=hazard.run,
    help="cumulative incidence per outcome and failure hazard over tokens",
    summary="When, in tokens, answers, failures and truncations happen: cumulative incidence per outcome and the "
            "failure hazard per token bucket, with each eval's budget marked.",
    question="When, in tokens, does the model start failing?",
    start="Cumulative incidence and hazard per token bucket: a spike at 4k, 8k or 16k is a context wall.",
    options=(
        Option("split_by", "Split", OptionKind.DIM_OR_NONE, "--split-by", NONE, exclude=("outcome",),
               help="one figure per value", cli_help="one file per value (default none)"),
        Option("bucket_size", "Bucket (tokens)", OptionKind.INT, "--bucket-size", bounds.BUCKET_SIZE_DEFAULT,
               minimum=bounds.BUCKET_SIZE_MIN, maximum=bounds.BUCKET_SIZE_MAX,
               help="width of a token bin", cli_help="tokens per bin (default %(default)s)"),
        Option("group_by", "Series", OptionKind.DIM, "--group-by", "eval_id", exclude=("outcome",),
               metavar="DIM|none", help="one curve per value", cli_help="one line per value (default eval_id)"),
    ),
    per_eval_mark="curve",
    split="split_by",
    drill_down=DrillDown(page=PROBE, kind=DrillKind.BIN),
))

COMPARE = register(ProjectionSpec(
    name=compare.NAME, title="Compare", order=5, run=compare.run,  # ties with the probe: by name, before it
    help="first eval against each other one, per task: accuracy difference with its interval, Holm p, verdict",
    summary="The first chosen eval (a) against each other one (b), per group: the accuracy difference a − b "
            "with its 95% Newcombe interval, coloured by verdict (a better, b better, equivalent within ±0.05, "
            "unclear); the notes say whether the gap is broad or narrow.",
    question="Do two models differ beyond noise, and where?",
    start="Choose two or more evals: per task, the difference with its interval and a verdict, and whether "
          "the gap is broad (most tasks) or narrow (a few).",
    options=(
        Option("group_by", "Groups", OptionKind.DIM_OR_NONE, "--group-by", "base_task",
               exclude=("eval_id", "outcome"), page_default=dim_if_present("base_task"),
               help="one comparison per value", cli_help="one comparison per value of DIM (default base_task)"),
    ),
    opens_on_evals=compare.MIN_EVALS,
))

register_page(PageSpec(
    name=PROBE, title="Probe", order=5,
    question="What did the model actually write?",
    start="Read the completions behind a mark (failures, truncations, a loop's repeated tail): click a "
          "compression dot, a surface cell or a hazard bin, or choose outcomes and a token range here.",
    help="the completions behind any mark: what the model wrote, with a repetition signal",
    summary="What the model wrote: the completions the filters, outcomes and token range select, each text shown "
            "as plain characters, with its compression ratio and the period of its longest repeated tail (a "
            "broken loop repeats a short period). Click a compression dot, a surface cell or a hazard bin to "
            "open the completions behind it.",
    options=(
        Option("outcome", "Outcomes", OptionKind.CHOICES, "--outcome", (), choices=OUTCOMES, kwarg="outcomes",
               help="only completions that ended so; none ticked = every outcome"),
        Option("tokens", "Tokens", OptionKind.INT_RANGE, "--tokens", None, minimum=0,
               maximum=bounds.PROBE_TOKENS_MAX,
               help="completion tokens from MIN up to but not including MAX; empty = any count"),
        Option("limit", "Per page", OptionKind.INT, "--limit", bounds.PROBE_LIMIT_DEFAULT,
               maximum=bounds.PROBE_LIMIT_MAX, help="completions listed per page"),
        Option("offset", "From", OptionKind.INT, "--offset", 0, minimum=0, maximum=bounds.PROBE_OFFSET_MAX,
               help="how many matching completions to skip (the pager sets it)"),
        Option("row", "Completion", OptionKind.ROWS, "--row", (), kwarg="rows",
               help="only these completions (row keys); a click on a compression dot sets it"),
    ),
))

register_page(PageSpec(
    name=REPORT, title="Report", order=7, draws_figures=True,
    question="What does the whole workflow say about these models?",
    start="The user's workflow end to end on the evals you choose: fingerprint, surfaces of the weakest tasks, "
          "compression of the most token-hungry, hazard, and with several evals the comparison; every finding "
          "with its evidence and a link to the view that shows it, then the next steps.",
    help="the characterisation report: the four projections, every finding, the comparison, the next steps",
    summary="Workflow 1 (one eval) or 2 (several) run end to end: each step's figures and findings, grouped by "
            "projection, each finding linked to the page and filters that show it. analyze.py report writes "
            "the same as one HTML file, Markdown or JSON.",
))
