"""What every adapter shares: the :class:`Adapter` protocol, its result, its context, and helpers.

An adapter turns result files of one source format into samples plus typed metadata
(:class:`~app.engine.meta.ImportMeta`). Adapters only *read*: the runner does the one atomic
write, so a failing adapter can never leave a half-written dataset behind. The helpers here
(JSON loading with positions, sampler labels, token and size estimates, the samples table)
are what each adapter would otherwise write again.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence, TextIO, runtime_checkable

import pyarrow as pa
import pyarrow.compute as pc

from app.engine.errors import InputError
from app.engine.meta import DatasetMeta, ImportMeta
from app.engine.schema import OPTIONAL_COLUMNS, SAMPLES_SCHEMA, compressed_size


@dataclass
class Imported:
    """An adapter's answer: typed dataset metadata plus one row per completion."""

    meta: ImportMeta
    table: pa.Table
    rejected: list[str] = field(default_factory=list)  # what was left out, and why
    notes: list[str] = field(default_factory=list)  # mapping facts worth telling the user
    files: int = 0  # source files read, for the summary
    # source files found but not imported, each with why (path, reason): the summary lists them,
    # so nothing is skipped in silence (records left out of imported files go in ``rejected``)
    skipped: list[tuple[str, str]] = field(default_factory=list)


class Progress:
    """Counts files read (or another ``unit`` of work) and reports on stderr, once an import has run a while.

    Short imports stay silent, so an error is the only line a user (or a test) sees.
    """

    def __init__(self, label: str, total: int | None = None, *, after: float = 1.0,
                 stream: TextIO | None = None, unit: str = "files read") -> None:
        self.label, self.total, self.after, self.unit = label, total, after, unit
        self.stream = stream
        self.count = 0
        self.start = self.last = time.monotonic()
        self.shown, self.shown_count = False, 0

    def step(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if now - self.last >= self.after:
            self.last = now
            self._show(now)

    def done(self) -> None:
        if self.shown and self.shown_count != self.count:
            self._show(time.monotonic())

    def _show(self, now: float) -> None:
        of = f"/{self.total}" if self.total is not None else ""
        print(f"{self.label}: {self.count}{of} {self.unit} ({now - self.start:.1f} s)",
              file=self.stream or sys.stderr, flush=True)
        self.shown, self.shown_count = True, self.count


@dataclass(frozen=True)
class AdapterOption:
    """A flag of ``analyze.py import`` that one adapter declares (its ``options``), e.g. ``--scorer NAME``.

    The import command turns every registered adapter's options into flags, so an adapter adds
    a setting with no edit to the CLI; the value given (None when not given) reaches ``read``
    as ``ctx.options[dest]``. Several adapters may declare the same flag and share it.
    """

    flag: str  # "--scorer"
    dest: str  # key in ctx.options
    help: str
    metavar: str = "VALUE"


def adapter_options(adapter: Any) -> tuple[AdapterOption, ...]:
    """The options an adapter declares; none when it has no ``options`` attribute."""
    return tuple(getattr(adapter, "options", None) or ())


def option_names(raw: Any, flag: str, example: str) -> tuple[str, ...] | None:
    """An option's ``a,b`` -> ("a", "b"); None when the flag was not given; an empty name is bad input."""
    if raw is None:
        return None
    names = tuple(k.strip() for k in str(raw).split(","))
    if any(not k for k in names):
        raise InputError(f"{flag} {raw!r}: give comma-separated names, e.g. {flag} {example}")
    return names


@dataclass
class Context:
    """What an adapter may know about the target: the dataset it will merge into, and progress settings.

    ``options`` holds the values of the adapter's declared flags (:class:`AdapterOption`), keyed by ``dest``.
    """

    existing: DatasetMeta | None = None
    progress_after: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)

    def progress(self, label: str, total: int | None = None, unit: str = "files read") -> Progress:
        return Progress(label, total, after=self.progress_after, unit=unit)

    def task_guess_rate(self, base_task: str) -> float | None:
        """The guess rate the target dataset already gives ``base_task``, if it has that task."""
        task = self.existing.task(base_task) if self.existing is not None else None
        return None if task is None else task.guess_rate


@runtime_checkable
class Adapter(Protocol):
    """One source format: what ``analyze.py import --adapter NAME`` reads.

    ``name`` is the ``--adapter`` value (lower-case letters, digits and hyphens) and the name of
    its fixture folder in ``tests/importers/fixtures/``; ``help`` is one line for ``--help``;
    ``suffixes`` are the file suffixes it reads (for the help text). ``read`` validates every
    record before returning anything, raising :class:`~app.engine.errors.InputError` with
    ``file:line: reason`` on bad input, and never writes. An optional dependency is imported
    inside ``read``; when it is missing, ``read`` raises an InputError saying how to install it.
    An adapter may also declare ``options``, a tuple of :class:`AdapterOption` (flags of the
    import command whose values arrive in ``ctx.options``); it is optional, so not a member here.
    """

    @property
    def name(self) -> str: ...

    @property
    def help(self) -> str: ...

    @property
    def suffixes(self) -> tuple[str, ...]: ...

    def read(self, sources: Sequence[Path], ctx: Context) -> Imported:
        """Every sample and the metadata found in ``sources`` (files or folders)."""
        ...


# --------------------------------------------------------------------------- helpers

def load_json(path: Path) -> Any:
    """Parse a JSON file; any problem is an InputError ``path:line:column: reason`` (or ``path: reason``)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _position(raw, exc.start)
        raise InputError(f"{path}:{line}:{column}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a byte offset."""
    before = raw[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def sampler_label(temperature: Any = None, top_p: Any = None, *, greedy: bool = False) -> str:
    """A readable sampler name from generation settings, the same for every adapter.

    ``greedy`` when the source says it decoded greedily; else ``t<temperature>-p<top_p>`` from
    the settings that are numbers (``t0.6-p0.95``, ``t0.7``, ``p0.9``); ``default`` when neither is.
    """
    if greedy:
        return "greedy"
    parts = [f"{prefix}{number:g}" for prefix, number in (("t", _number(temperature)), ("p", _number(top_p)))
             if number is not None]
    return "-".join(parts) or "default"


def estimate_tokens(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """ceil(UTF-8 bytes / 4): the usual rule of thumb when a source has no token counts."""
    nbytes = pc.binary_length(texts)
    return pc.divide(pc.add(nbytes, 3), 4).cast(pa.int32())


def compressed_sizes(texts: Iterable[str | None]) -> pa.Array:
    """``schema.compressed_size`` per text (gzip has no vectorised form); null stays null."""
    return pa.array([None if t is None else compressed_size(t) for t in texts], pa.int32())


def samples_table(columns: dict[str, Any]) -> pa.Table:
    """Columns in the public schema's order and types, plus the optional ones given.

    Nullable public columns that are not given (``manifold``, ``completion_tokens``,
    ``compressed_bytes``) are added as nulls; the others must be given.
    """
    rows = len(next(iter(columns.values()))) if columns else 0
    columns = {**{f.name: pa.nulls(rows, f.type) for f in SAMPLES_SCHEMA if f.nullable}, **columns}
    fields = [f for f in SAMPLES_SCHEMA if f.name in columns]
    fields += [pa.field(n, t) for n, t in OPTIONAL_COLUMNS.items() if n in columns]
    arrays = [pa.array(columns[f.name], f.type) if not isinstance(columns[f.name], (pa.Array, pa.ChunkedArray))
              else columns[f.name].cast(f.type) for f in fields]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def expand_files(sources: Sequence[Path], suffixes: Sequence[str]) -> list[Path]:
    """Files given directly, plus files with a wanted suffix found under given folders."""
    files: dict[Path, Path] = {}  # keyed by resolved path: a file named twice is read once
    for src in sources:
        found = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in suffixes) \
            if src.is_dir() else [src]
        files.update((p.resolve(), p) for p in found if p.resolve() not in files)
    return list(files.values())
