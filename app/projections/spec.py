"""What one projection is, declared once: the CLI, the dashboard and the overview all read it.

A :class:`ProjectionSpec` holds everything about one projection: its name, its
``run`` function, its options (kind, CLI flag and default, page default, bounds,
help), its ``--format`` choices, and what its dashboard page says and does (title,
summary, the overview's "where to start" question, per-eval cap, split). From it

- ``analyze.py`` builds the projection's subcommand and flags (``app.cli.projections``);
- the dashboard builds the page (``pages/projections.py``), its option controls, the
  URL codec, the cache key, the "Copy as CLI command" line, the navbar, the overview's
  "where to start" card and the per-eval cap (``app.web``).

:data:`SPECS` is the registry, in page order; ``register_projection`` adds to it and
``app.projections.catalog`` declares the projections of spec §5. A new projection is
its module (a ``run`` returning a :class:`~app.projections.base.Projection`) plus one
declaration there; nothing else needs editing.

A page that draws no projection (the probe: the completions behind a mark) is a
:class:`PageSpec` in :data:`PAGES` (``register_page``); :func:`declared_pages` gives the
navbar every page of both kinds in order and :func:`declared` looks either up by name.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable, Literal, Mapping

from app.engine import Dataset
from app.projections.base import NONE, Projection

FORMAT_FLAG = "--format"  # an option whose cli_flag is this is chosen by the output format (radar → webpng)
TABLE_FORMATS = ("json", "csv")
RESERVED_NAMES = frozenset({"overview", "health", "assets", "_profile", "_dash", "_pages"})
FileKind = Literal["png", "json", "csv"]

RunFunction = Callable[..., Projection]
# (dataset, parsed filters, the run keywords) → the split values that get a figure each, in order
SplitValues = Callable[[Dataset, Mapping[str, Any], Mapping[str, Any]], list[Any]]


class OptionKind(StrEnum):
    """What values an option takes; decides its CLI flag, its page control and how a URL value is checked."""

    DIM = "dim"                  # a dimension of the dataset
    DIM_OR_NONE = "dim_or_none"  # a dimension, or "none" to turn it off
    CHOICE = "choice"            # one of ``choices``
    INT = "int"                  # a whole number from ``minimum`` to ``maximum``
    VIEWS = "views"              # view names; none chosen = the projection's own choice
    CHOICES = "choices"          # any of ``choices``; none chosen = all of them
    INT_RANGE = "int_range"      # MIN,MAX: whole numbers from ``minimum`` to ``maximum`` with MIN < MAX
    ROWS = "rows"                # sample row keys of the dataset (which completions to open)


MULTIPLE = frozenset({OptionKind.VIEWS, OptionKind.CHOICES, OptionKind.ROWS})  # kinds that take a list


METAVARS = {OptionKind.DIM: "DIM", OptionKind.DIM_OR_NONE: "DIM|none", OptionKind.INT: "N",
            OptionKind.VIEWS: "NAME"}


@dataclass(frozen=True)
class Option:
    """One option of a projection: the same value is a URL parameter, a page control, a CLI flag and a keyword.

    ``name`` is the URL parameter and the CLI's argparse dest; ``kwarg`` the ``run``
    keyword when it differs (view → views). ``cli_default`` must equal ``run``'s own
    default (checked by :func:`register_projection`): flags equal to it are left out of
    the dashboard's CLI line. ``page_default`` is what a page opens on (default: the CLI
    default; for views: none chosen). ``cli_values`` maps a page value to its CLI value
    (radar → webpng); with ``cli_flag`` = ``--format`` the option is set by the format.
    """

    name: str
    label: str
    kind: OptionKind
    cli_flag: str
    cli_default: Any
    help: str  # the page control's hint; also the CLI's help unless ``cli_help`` is given
    cli_help: str = ""
    page_default: Callable[[Dataset], Any] | None = None
    choices: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # dimensions this option may not take
    minimum: int = 1
    maximum: int | None = None
    cli_values: Mapping[str, str] = field(default_factory=dict, hash=False)
    kwarg: str = ""
    metavar: str = ""  # the CLI's metavar when it differs from the kind's (DIM, DIM|none, N, NAME)
    on_page: bool = True  # False: a CLI-only flag (the page always uses the default)

    @property
    def keyword(self) -> str:
        """The ``run`` keyword this option fills."""
        return self.kwarg or self.name

    @property
    def multiple(self) -> bool:
        """Takes a list (repeated in the URL: ``view=a&view=b``)."""
        return self.kind in MULTIPLE

    @property
    def set_by_format(self) -> bool:
        """Chosen through ``--format`` (spiderweb style: webpng/barpng), not a flag of its own."""
        return self.cli_flag == FORMAT_FLAG

    @property
    def cli_metavar(self) -> str | None:
        return self.metavar or METAVARS.get(self.kind)

    def page_value(self, ds: Dataset) -> Any:
        """What a page shows when the URL says nothing."""
        if self.page_default is not None:
            return self.page_default(ds)
        if self.multiple:
            return ()
        return self.cli_default

    def cli_value(self, value: Any) -> str:
        """A page value as the CLI writes it."""
        return self.cli_values.get(str(value), str(value))

    def in_bounds(self, number: int) -> bool:
        return number >= self.minimum and (self.maximum is None or number <= self.maximum)

    def bounds_text(self) -> str:
        if self.maximum is None:
            return f"a whole number of at least {self.minimum}"
        return f"a whole number from {self.minimum} to {self.maximum}"


class DrillKind(StrEnum):
    """What a clicked point stands for, so the dashboard knows how to narrow the target page to it."""

    AXIS = "axis"              # customdata [eval_id, axis value]; ``axis`` names the option holding the axis dim
    COMPLETION = "completion"  # customdata is the sample's row key: open that one completion
    CELL = "cell"              # a surface cell: its trace's meta names view and eval, x/y index the view's values
    BIN = "bin"                # a hazard bin: its trace's meta names the series, x and customdata[0] the bin


@dataclass(frozen=True)
class DrillDown:
    """A click on a figure point opens another page narrowed to it.

    ``kind`` says what the point is (:class:`DrillKind`). For ``axis`` the point's
    customdata is ``[eval_id, axis value]`` and ``axis`` names the option that holds
    the axis dimension (spiderweb: group_by → open surface of that eval and task).
    """

    page: str
    axis: str = ""
    kind: DrillKind = DrillKind.AXIS


@dataclass(frozen=True)
class ProjectionSpec:
    """One projection: its ``run``, options, formats, and its dashboard page.

    ``name`` is the subcommand, the page path (``/name``), the file-name stem and the
    cache-key part. ``formats`` are the ``--format`` choices, the first one the default;
    any not in ``json``/``csv`` writes PNGs. ``order`` orders the navbar, the overview and
    the CLI's subcommands. ``question``/``start`` are the overview's "where to start" entry.
    ``per_eval_mark`` says what a page draws per eval ("column of heatmaps"); such a page
    opens on the first ``app.bounds.MAX_GRID_EVALS`` evals of a large dataset. ``split``
    names the option whose values get one figure each (the page shows one at a time);
    ``split_values`` computes those values when they are not simply the split dimension's
    values the filters keep, and ``split_inputs`` names the other options they depend on.
    ``next_steps``: the page lists next steps from its rows (the spiderweb's).
    ``opens_on_evals``: a page that compares evals (compare: 2) opens on the first this many
    (by label) when the filters choose none, and says so.
    """

    name: str
    title: str
    help: str
    summary: str
    run: RunFunction
    options: tuple[Option, ...] = ()
    formats: tuple[str, ...] = ("png", "json", "csv")
    order: int = 100
    question: str = ""
    start: str = ""
    per_eval_mark: str | None = None
    split: str | None = None
    split_inputs: tuple[str, ...] = ()
    split_values: SplitValues | None = None
    drill_down: DrillDown | None = None
    next_steps: bool = False
    opens_on_evals: int | None = None

    @property
    def path(self) -> str:
        return f"/{self.name}"

    @property
    def default_format(self) -> str:
        return self.formats[0]

    def option(self, name: str) -> Option:
        for opt in self.options:
            if opt.name == name:
                return opt
        raise KeyError(name)

    @property
    def page_options(self) -> tuple[Option, ...]:
        """The options a page shows as controls and keeps in its URL."""
        return tuple(o for o in self.options if o.on_page)

    @property
    def flag_options(self) -> tuple[Option, ...]:
        """The options with a CLI flag of their own (the others are set by ``--format``)."""
        return tuple(o for o in self.options if not o.set_by_format)

    def format_options(self, fmt: str) -> dict[str, Any]:
        """The ``run`` keywords a ``--format`` value chooses (barpng → style=bars; json → the default)."""
        out: dict[str, Any] = {}
        for opt in self.options:
            if opt.set_by_format:
                chosen = [page for page, cli in opt.cli_values.items() if cli == fmt]
                out[opt.keyword] = chosen[0] if chosen else opt.cli_default
        return out

    @staticmethod
    def writes(fmt: str) -> FileKind:
        """What a ``--format`` value writes: the table as json or csv, else one PNG per figure."""
        return "json" if fmt == "json" else "csv" if fmt == "csv" else "png"


def dim_if_present(preferred: str) -> Callable[[Dataset], str]:
    """A page default: the preferred dimension when the dataset has it, else none (imports may lack manifolds)."""
    return lambda ds: preferred if preferred in ds.dimension_names else NONE


def dimension_values(ds: Dataset, filters: Mapping[str, Any], dim: str) -> list[Any]:
    """The default split values: the dimension's values the filters keep, in axis order."""
    column = ds.aggregate(filters, [dim], quantiles=False)[dim]
    return [v for v in column.tolist() if v is not None]


# ---------------------------------------------------------------- the registry
SPECS: dict[str, ProjectionSpec] = {}
_NAME = re.compile(r"[a-z][a-z0-9_-]*")


def _check(spec: ProjectionSpec) -> None:
    """A declaration that would break the CLI, the URL codec or the pages fails here, at import."""
    where = f"projection {spec.name!r}"
    if not _NAME.fullmatch(spec.name) or spec.name in RESERVED_NAMES:
        raise ValueError(f"{where}: the name must be a lower-case slug and not one of {sorted(RESERVED_NAMES)}")
    if not spec.formats or len(set(spec.formats)) != len(spec.formats):
        raise ValueError(f"{where}: formats must be distinct and not empty")
    names = [o.name for o in spec.options]
    if len(set(names)) != len(names) or len({o.keyword for o in spec.options}) != len(names):
        raise ValueError(f"{where}: option names and keywords must be distinct")
    flags = [o.cli_flag for o in spec.flag_options]
    if len(set(flags)) != len(flags) or {"--filters", "--output-dir", "--truncation"} & set(flags):
        raise ValueError(f"{where}: CLI flags must be distinct and not a common flag")
    params = inspect.signature(spec.run).parameters
    for opt in spec.options:
        param = params.get(opt.keyword)
        if param is None or param.kind is not inspect.Parameter.KEYWORD_ONLY:
            raise ValueError(f"{where}: option {opt.name!r}: run() has no keyword-only argument {opt.keyword!r}")
        if param.default != opt.cli_default:
            raise ValueError(f"{where}: option {opt.name!r}: cli_default {opt.cli_default!r} differs from run()'s "
                             f"default {param.default!r}")
        if opt.kind is OptionKind.CHOICE and opt.cli_default not in opt.choices:
            raise ValueError(f"{where}: option {opt.name!r}: default {opt.cli_default!r} is not a choice")
        if opt.set_by_format and not set(opt.cli_values.values()) <= set(spec.formats):
            raise ValueError(f"{where}: option {opt.name!r}: its CLI values must be formats")
    if spec.split is not None and spec.split not in names:
        raise ValueError(f"{where}: split {spec.split!r} is not an option")
    if not set(spec.split_inputs) <= set(names):
        raise ValueError(f"{where}: split_inputs must be options")
    if spec.drill_down is not None and spec.drill_down.kind is DrillKind.AXIS and spec.drill_down.axis not in names:
        raise ValueError(f"{where}: drill_down axis {spec.drill_down.axis!r} is not an option")


def register_projection(spec: ProjectionSpec) -> ProjectionSpec:
    """Add (or replace) a projection; :data:`SPECS` stays in ``order``. Returns the spec."""
    _check(spec)
    SPECS[spec.name] = spec
    ordered = sorted(SPECS.values(), key=lambda s: (s.order, s.name))
    SPECS.clear()
    SPECS.update((s.name, s) for s in ordered)
    return spec


def unregister_projection(name: str) -> None:
    """Remove a projection (tests that declare a throwaway one clean up with this)."""
    SPECS.pop(name, None)


# ---------------------------------------------------------------- pages that are not projections
@dataclass(frozen=True)
class PageSpec:
    """A dashboard page that draws no projection figure (the probe): declared the same way, read the same way.

    ``name`` is the page path (``/name``) and the ``analyze.py`` subcommand its "Copy as
    CLI command" line names; ``options`` are its URL parameters, each with the CLI flag it
    maps to (``cli_flag=""``: the page's own, e.g. paging, with no flag). The navbar, the URL
    codec and the CLI line read it like a :class:`ProjectionSpec`; what the page shows is its
    layout in ``app.web`` (keyed by ``name``). It has no truncation mode and no split.
    """

    name: str
    title: str
    help: str
    summary: str
    options: tuple[Option, ...] = ()
    order: int = 100
    question: str = ""  # the overview's "where to start" entry, as for a projection
    start: str = ""
    draws_figures: bool = False  # its HTML then loads plotly.js at once, as a projection page's does (app.web.boot)
    split: None = field(default=None, init=False)           # read like a projection's: never split
    per_eval_mark: None = field(default=None, init=False)   # never capped per eval

    @property
    def path(self) -> str:
        return f"/{self.name}"

    @property
    def page_options(self) -> tuple[Option, ...]:
        return tuple(o for o in self.options if o.on_page)

    def option(self, name: str) -> Option:
        for opt in self.options:
            if opt.name == name:
                return opt
        raise KeyError(name)


PAGES: dict[str, PageSpec] = {}


def register_page(spec: PageSpec) -> PageSpec:
    """Add (or replace) a page that is not a projection; its name may not be a projection's."""
    where = f"page {spec.name!r}"
    if not _NAME.fullmatch(spec.name) or spec.name in RESERVED_NAMES or spec.name in SPECS:
        raise ValueError(f"{where}: the name must be a lower-case slug, not reserved and not a projection's")
    names = [o.name for o in spec.options]
    flags = [o.cli_flag for o in spec.options if o.cli_flag]
    if len(set(names)) != len(names) or len(set(flags)) != len(flags) or set(names) & {"dataset", "filters"}:
        raise ValueError(f"{where}: option names and CLI flags must be distinct and not dataset or filters")
    PAGES[spec.name] = spec
    return spec


def declared(name: str) -> ProjectionSpec | PageSpec | None:
    """The declaration of page ``name``: a projection's or another page's (None for the overview or unknown)."""
    return SPECS.get(name) or PAGES.get(name)


def declared_pages() -> list[ProjectionSpec | PageSpec]:
    """Every declared page in navbar order: the projections and the other pages, by ``order``."""
    pages: list[ProjectionSpec | PageSpec] = [*SPECS.values(), *PAGES.values()]
    return sorted(pages, key=lambda s: (s.order, s.name))
