"""Typed dataset metadata: what ``dataset.json`` says about evals, tasks, views and provenance.

One set of records is shared by the store (which reads and writes ``dataset.json``), the
adapters (which build them), the engine (which indexes them) and the projections and
pages (which read them), so a field is named, typed and defaulted in one place instead
of being looked up in dicts all over the tree. ``from_json`` is the one normalisation of
a ``dataset.json`` document; ``to_json`` writes it back in the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from app.engine.errors import InputError, listing
from app.engine.schema import eval_id as make_eval_id
from app.engine.schema import parse_tag

SAMPLES_FILE = "samples.parquet"
TEXTS_FILE = "texts.parquet"  # completion texts, keyed by sample row (see ``app.engine.texts``)
DEFAULT_NAME = "dataset"


@dataclass(frozen=True)
class EvalMeta:
    """One evaluation: model × template × sampler, its label, group tags and token budget."""

    model: str
    template: str = "default"
    sampler: str = "default"
    eval_id: str = ""  # filled from model|template|sampler when empty (spec §2)
    label: str = ""  # filled with "model (template, sampler)" when empty
    groups: tuple[str, ...] = ()
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        if not self.eval_id:
            object.__setattr__(self, "eval_id", make_eval_id(self.model, self.template, self.sampler))
        if not self.label:
            object.__setattr__(self, "label", f"{self.model} ({self.template}, {self.sampler})")
        object.__setattr__(self, "groups", tuple(self.groups))

    def group(self, key: str) -> str | None:
        """The value of this eval's ``key:value`` tag, or None when it has none."""
        for tag in self.groups:
            k, v = parse_tag(tag)
            if k == key:
                return v
        return None

    def attribute(self, name: str) -> Any:
        """An eval-level dimension's value: eval_id, model, template, sampler or groups.<key>."""
        if name.startswith("groups."):
            return self.group(name.split(".", 1)[1])
        return getattr(self, name)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"eval_id": self.eval_id, "model": self.model, "template": self.template,
                               "sampler": self.sampler, "label": self.label, "groups": list(self.groups)}
        if self.max_tokens is not None:
            out["max_tokens"] = self.max_tokens
        return out

    @classmethod
    def from_json(cls, doc: Any, where: str = "eval") -> "EvalMeta":
        if not isinstance(doc, Mapping) or "model" not in doc:
            raise InputError(f"{where} needs at least a 'model'")
        groups = doc.get("groups") or []
        if not isinstance(groups, (list, tuple)):
            raise InputError(f"{where}: 'groups' must be a list of key:value tags")
        for tag in groups:
            try:
                parse_tag(str(tag))
            except ValueError as exc:
                raise InputError(f"{where}: {exc}") from None
        max_tokens = doc.get("max_tokens")
        try:
            budget = None if max_tokens is None else int(max_tokens)
        except (TypeError, ValueError):
            raise InputError(f"{where}: 'max_tokens' must be a whole number, not {max_tokens!r}") from None
        return cls(model=str(doc["model"]), template=str(doc.get("template") or "default"),
                   sampler=str(doc.get("sampler") or "default"), eval_id=str(doc.get("eval_id") or ""),
                   label=str(doc.get("label") or ""), groups=tuple(str(t) for t in groups), max_tokens=budget)


@dataclass(frozen=True)
class TaskMeta:
    """One task family: its label, guess rate and the names of its difficulty params."""

    base_task: str
    label: str = ""
    guess_rate: float = 0.0
    params: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.base_task)
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "guess_rate", float(self.guess_rate or 0.0))

    def to_json(self) -> dict[str, Any]:
        return {"base_task": self.base_task, "label": self.label, "guess_rate": self.guess_rate,
                "params": list(self.params)}

    @classmethod
    def from_json(cls, doc: Any, where: str = "task") -> "TaskMeta":
        if not isinstance(doc, Mapping) or "base_task" not in doc:
            raise InputError(f"{where} needs a 'base_task'")
        try:
            guess = float(doc.get("guess_rate", 0.0) or 0.0)
        except (TypeError, ValueError):
            raise InputError(f"{where}: 'guess_rate' must be a number") from None
        return cls(base_task=str(doc["base_task"]), label=str(doc.get("label") or ""), guess_rate=guess,
                   params=tuple(str(k) for k in doc.get("params") or ()))


@dataclass(frozen=True)
class ViewMeta:
    """A named projection of one task (or, with ``base_task`` None, across tasks)."""

    name: str
    base_task: str | None
    group_by: tuple[str, ...]
    filters: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "group_by", tuple(self.group_by))
        object.__setattr__(self, "filters", dict(self.filters))

    @property
    def is_2d(self) -> bool:
        """A surface: exactly two group-by dimensions."""
        return len(self.group_by) == 2

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "base_task": self.base_task, "group_by": list(self.group_by),
                "filters": dict(self.filters)}

    @classmethod
    def from_json(cls, doc: Any, where: str = "view") -> "ViewMeta":
        if not isinstance(doc, Mapping) or not {"name", "base_task", "group_by"} <= set(doc):
            raise InputError(f"{where} needs 'name', 'base_task' and 'group_by'")
        if not isinstance(doc["group_by"], (list, tuple)):
            raise InputError(f"{where}: 'group_by' must be a list of dimensions")
        filters = doc.get("filters") or {}
        if not isinstance(filters, Mapping):
            raise InputError(f"{where}: 'filters' must be an object")
        return cls(name=str(doc["name"]), base_task=None if doc["base_task"] is None else str(doc["base_task"]),
                   group_by=tuple(str(d) for d in doc["group_by"]), filters=dict(filters))


@dataclass(frozen=True)
class CubeMeta:
    """The cube a dataset is served from (``app.cube``): its file beside dataset.json and how it was built.

    ``grid_step``: tokens per histogram bin; ``dots_per_point``: completions kept per point; ``seed``: what
    picked them; ``engine``: what built it (duckdb or dask); ``completions``: how many rows it summarises.
    """

    file: str
    grid_step: int
    dots_per_point: int
    seed: int
    engine: str = "duckdb"
    completions: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "grid_step": self.grid_step, "dots_per_point": self.dots_per_point,
                "seed": self.seed, "engine": self.engine, "completions": self.completions}

    @classmethod
    def from_json(cls, doc: Any, where: str = "cube") -> "CubeMeta":
        if not isinstance(doc, Mapping) or not isinstance(doc.get("file"), str) or not doc.get("file"):
            raise InputError(f"{where}: must be an object naming the cube's 'file' (e.g. \"cube.parquet\")")
        numbers = {}
        for key, least in (("grid_step", 1), ("dots_per_point", 1), ("seed", 0), ("completions", 0)):
            value = doc.get(key, None if least else 0)
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise InputError(f"{where}: '{key}' must be a whole number (got {value!r})")
            numbers[key] = value
        return cls(file=doc["file"], engine=str(doc.get("engine") or "duckdb"), **numbers)


@dataclass(frozen=True)
class DatasetMeta:
    """Everything ``dataset.json`` says: name, title, the samples file, evals, tasks, views, provenance.

    ``texts`` names the completion-texts file beside the samples, None when the dataset has none
    (or, for older datasets, when the texts are a ``text`` column of the samples file).
    """

    name: str = DEFAULT_NAME
    title: str = ""
    samples: str = SAMPLES_FILE
    evals: tuple[EvalMeta, ...] = ()
    tasks: tuple[TaskMeta, ...] = ()
    views: tuple[ViewMeta, ...] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)
    texts: str | None = None
    cube: CubeMeta | None = None  # served from this cube (its samples then read only on demand)

    def __post_init__(self) -> None:
        if not self.title:
            object.__setattr__(self, "title", self.name)
        for name in ("evals", "tasks", "views"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "provenance", dict(self.provenance))

    # ---------------------------------------------------------------- lookups
    def eval(self, eval_id: str) -> EvalMeta:
        for e in self.evals:
            if e.eval_id == eval_id:
                return e
        raise InputError(f"unknown eval id {eval_id!r}; valid: {listing([e.eval_id for e in self.evals])}")

    def task(self, base_task: str) -> TaskMeta | None:
        for t in self.tasks:
            if t.base_task == base_task:
                return t
        return None

    def view(self, name: str) -> ViewMeta:
        for v in self.views:
            if v.name == name:
                return v
        raise InputError(f"unknown view {name!r}; views: {listing([v.name for v in self.views])}")

    @property
    def eval_labels(self) -> dict[str, str]:
        return {e.eval_id: e.label for e in self.evals}

    @property
    def max_tokens(self) -> dict[str, int | None]:
        return {e.eval_id: e.max_tokens for e in self.evals}

    @property
    def tags(self) -> list[str]:
        """Every group tag any eval carries, sorted."""
        return sorted({t for e in self.evals for t in e.groups})

    @property
    def group_keys(self) -> list[str]:
        """The keys of the group tags (``arch`` of ``arch:moe``), sorted."""
        return sorted({parse_tag(t)[0] for t in self.tags})

    @property
    def views_2d(self) -> list[ViewMeta]:
        """The views with exactly two group-by dimensions: the surfaces."""
        return [v for v in self.views if v.is_2d]

    @property
    def tokens_estimated(self) -> bool:
        return self.provenance.get("tokens") == "estimated"

    @property
    def tokens_methods(self) -> list[str]:
        """How each import estimated its tokens, in import order, without repeats."""
        methods = [str(i["tokens_method"]) for i in self.provenance.get("imports", [])
                   if isinstance(i, Mapping) and i.get("tokens_method")]
        return list(dict.fromkeys(methods))

    def with_(self, **changes: Any) -> "DatasetMeta":
        return replace(self, **changes)

    # ------------------------------------------------------------ dataset.json
    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "title": self.title, "samples": self.samples}
        if self.texts is not None:  # written only when present, so datasets without texts read as before
            out["texts"] = self.texts
        if self.cube is not None:
            out["cube"] = self.cube.to_json()
        return {**out, "evals": [e.to_json() for e in self.evals], "tasks": [t.to_json() for t in self.tasks],
                "views": [v.to_json() for v in self.views], "provenance": dict(self.provenance)}

    @classmethod
    def from_json(cls, doc: Any, where: str = "dataset.json") -> "DatasetMeta":
        """Fill defaults and reject shapes the engine cannot use; errors name ``where``."""
        if isinstance(doc, DatasetMeta):
            return doc
        if not isinstance(doc, Mapping):
            raise InputError(f"{where}: top level must be a JSON object")
        for key in ("evals", "tasks", "views"):
            if not isinstance(doc.get(key) or [], list):
                raise InputError(f"{where}: '{key}' must be a list")
        provenance = doc.get("provenance") or {}
        if not isinstance(provenance, Mapping):
            raise InputError(f"{where}: 'provenance' must be an object")
        name = str(doc.get("name") or DEFAULT_NAME)
        texts = doc.get("texts")
        if texts is not None and (not isinstance(texts, str) or not texts):
            raise InputError(f"{where}: 'texts' must name the completion-texts file, e.g. \"{TEXTS_FILE}\"")
        return cls(
            name=name, title=str(doc.get("title") or name), samples=str(doc.get("samples") or SAMPLES_FILE),
            texts=texts, cube=None if doc.get("cube") is None else CubeMeta.from_json(doc["cube"], f"{where}: cube"),
            evals=_records(EvalMeta, doc.get("evals"), f"{where}: evals"),
            tasks=_records(TaskMeta, doc.get("tasks"), f"{where}: tasks"),
            views=_records(ViewMeta, doc.get("views"), f"{where}: views"),
            provenance=dict(provenance),
        )


TOKEN_KINDS: tuple[str, ...] = ("exact", "estimated")


@dataclass(frozen=True)
class ImportMeta:
    """What one import read: evals, tasks and views, where they came from and how tokens were counted.

    Adapters build it; :meth:`dataset` turns it into the :class:`DatasetMeta` the store writes
    (or merges into the target). A record field an import leaves at its default (an eval's
    label, groups or max_tokens; a task's label or params) keeps what the target already says.
    ``details`` is adapter-specific provenance (grading rules, runs read, ...), kept as given.
    """

    evals: tuple[EvalMeta, ...] = ()
    tasks: tuple[TaskMeta, ...] = ()
    views: tuple[ViewMeta, ...] = ()
    source: str = ""
    tokens: str | None = None  # "exact" or "estimated"; None when the source has no token counts
    tokens_method: str | None = None  # how estimated tokens were computed, in words
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("evals", "tasks", "views"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "details", dict(self.details))
        if self.tokens is not None and self.tokens not in TOKEN_KINDS:
            raise ValueError(f"tokens must be one of {', '.join(TOKEN_KINDS)} or None, not {self.tokens!r}")

    def record(self, adapter: str, imported: str) -> dict[str, Any]:
        """The entry of this import in ``provenance.imports``."""
        out: dict[str, Any] = {"adapter": adapter, "imported": imported, "source": self.source}
        if self.tokens is not None:
            out["tokens"] = self.tokens
        if self.tokens_method is not None:
            out["tokens_method"] = self.tokens_method
        return {**out, **self.details}

    def dataset(self, adapter: str, imported: str, *, name: str | None = None,
                previous: DatasetMeta | None = None) -> DatasetMeta:
        """The dataset description this import writes: its records, and provenance over every import so far.

        ``name`` None means "keep the target's name" (the default name never replaces one on merge);
        ``previous`` is the dataset merged into, whose ``provenance.imports`` this import extends.
        """
        old = dict(previous.provenance) if previous is not None else {}
        imports = list(old.get("imports") or []) + [self.record(adapter, imported)]
        entries = [i for i in imports if isinstance(i, Mapping)]
        tokens = {i.get("tokens") for i in entries} | ({old["tokens"]} if old.get("tokens") else set())
        tokens.discard(None)
        sources = dict.fromkeys(str(i["source"]) for i in entries if i.get("source"))
        provenance = {**old, "source": "; ".join(sources), "imported": imported, "imports": imports}
        if tokens:  # one estimated import makes the dataset's token counts estimated
            provenance["tokens"] = "estimated" if "estimated" in tokens else tokens.pop()
        return DatasetMeta(name=name or DEFAULT_NAME, title=name or "", evals=self.evals, tasks=self.tasks,
                           views=self.views, provenance=provenance)


def _records(kind: Any, items: Iterable[Any] | None, where: str) -> tuple[Any, ...]:
    return tuple(kind.from_json(item, f"{where}[{i}]") for i, item in enumerate(items or []))


__all__ = ["DatasetMeta", "EvalMeta", "ImportMeta", "TaskMeta", "ViewMeta", "SAMPLES_FILE", "TEXTS_FILE"]
