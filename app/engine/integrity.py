"""Checks every write of a dataset passes, whichever adapter or tool made the records.

The store calls these before it writes anything, so a rule holds for every import at once:

* **Bounded names.** Labels, model/template/sampler, task names, group tags, view names and the
  keys and values of ``params`` and ``manifold`` are shown in every page, legend, hover and cache
  key; one 10 MB model name made every page of its dataset 20 MB. A name longer than
  ``app.bounds.MAX_NAME_CHARS`` is refused at import. Only what is being written is checked:
  a ``dataset.json`` another tool wrote with longer names still opens (the pages clip them).
* **One eval per eval_id.** Spec §2 fixes ``eval_id`` as the first 6 hex of
  sha256("model|template|sampler"), so ``m|x`` + ``t`` and ``m`` + ``x|t`` get the same id (and
  any two triples can, by chance). Two different triples with one id would silently become one
  eval, so that is refused, within one import and against the dataset merged into.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from app.bounds import MAX_NAME_CHARS
from app.engine.errors import InputError
from app.engine.meta import DatasetMeta, EvalMeta


def preview(value: str, width: int = 40) -> str:
    """The start of a (possibly huge, possibly hostile) string as one quoted line."""
    return json.dumps(value[:width] + ("…" if len(value) > width else ""), ensure_ascii=False)


def name_problem(field: str, value: Any) -> str | None:
    """Why ``value`` is too long to be the name ``field`` (None when it is short enough)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) <= MAX_NAME_CHARS:
        return None
    return (f"{field} {preview(text)} is {len(text):,} characters long; names (models, templates, samplers, "
            f"labels, tasks, tags, param keys and values) are limited to {MAX_NAME_CHARS} characters")


def object_problem(field: str, obj: dict[str, Any]) -> str | None:
    """The first key or value of a flat ``params``/``manifold`` object that is too long, if any."""
    for key, value in obj.items():
        problem = name_problem(f"{field} key", key) or name_problem(f"{field}.{key[:40]} value", value)
        if problem:
            return problem
    return None


def _meta_names(meta: DatasetMeta) -> Iterator[tuple[str, Any]]:
    """Every name the records hold; a default label is made of bounded names, so only a given one counts."""
    yield from (("dataset name", meta.name), ("dataset title", meta.title))
    for e in meta.evals:
        yield from (("eval_id", e.eval_id), ("model", e.model), ("template", e.template), ("sampler", e.sampler))
        if e.label != EvalMeta(model=e.model, template=e.template, sampler=e.sampler, eval_id=e.eval_id).label:
            yield "eval label", e.label
        yield from (("group tag", tag) for tag in e.groups)
    for t in meta.tasks:
        yield from (("task", t.base_task), ("task label", t.label))
        yield from (("task param", p) for p in t.params)
    yield from (("view name", v.name) for v in meta.views)


def _longest(table: pa.Table, column: str) -> int:
    """The longest string of a column in characters (0 when absent or empty): one vectorised pass."""
    if column not in table.column_names or table.num_rows == 0:
        return 0
    return int(pc.max(pc.utf8_length(table[column])).as_py() or 0)


def check_names(meta: DatasetMeta, samples: pa.Table) -> None:
    """Refuse a name longer than ``MAX_NAME_CHARS`` in the records and samples about to be written."""
    for field, value in _meta_names(meta):
        problem = name_problem(field, value)
        if problem:
            raise InputError(problem)
    for column, field in (("eval_id", "eval_id"), ("base_task", "task")):
        if _longest(samples, column) > MAX_NAME_CHARS:
            raise InputError(name_problem(field, max(pc.unique(samples[column]).drop_null().to_pylist(), key=len))
                             or "")
    for column in ("params", "manifold"):
        if _longest(samples, column) <= MAX_NAME_CHARS:  # a key or value is never longer than the JSON holding it
            continue
        for text in pc.unique(samples[column]).drop_null().to_pylist():
            problem = object_problem(column, json.loads(text)) if len(text) > MAX_NAME_CHARS else None
            if problem:
                raise InputError(problem)


def describe(e: EvalMeta) -> str:
    """An eval by its three names, as the user wrote them."""
    return f"model {preview(e.model)}, template {preview(e.template)}, sampler {preview(e.sampler)}"


def collision_message(eval_id: str, first: EvalMeta, second: EvalMeta, first_where: str = "") -> str:
    """Two different evals that would share ``eval_id``: both named, and what to rename."""
    joined = {"|".join((e.model, e.template, e.sampler)) for e in (first, second)}
    why = ("the '|' inside a name makes both read the same \"model|template|sampler\"; rename one so no name "
           "holds '|'" if len(joined) == 1 else
           "two different names hash to the same 6 hex digits by chance; rename one (e.g. its sampler)")
    where = f" ({first_where})" if first_where else ""
    return (f"two different evals would get eval_id {eval_id}: {describe(first)}{where} and {describe(second)}; "
            f"eval_id is the first 6 hex of sha256(\"model|template|sampler\") and {why}")


def register_eval(evals: dict[str, EvalMeta], ev: EvalMeta, where: str = "") -> EvalMeta:
    """Put ``ev`` in ``evals`` (keyed by eval_id) for an adapter; the eval already there when it is the same.

    An adapter that collects evals by id would otherwise merge two different evals that share
    one (the store cannot see that afterwards): this refuses it, ``where`` naming the source.
    """
    known = evals.setdefault(ev.eval_id, ev)
    if (known.model, known.template, known.sampler) != (ev.model, ev.template, ev.sampler):
        raise InputError((f"{where}: " if where else "") + collision_message(ev.eval_id, known, ev))
    return known


def check_eval_ids(evals: Iterable[EvalMeta], existing: Iterable[EvalMeta] = ()) -> None:
    """Refuse two evals with one eval_id but different (model, template, sampler).

    ``existing`` are the evals of the dataset merged into; the same triple again is the same
    eval (merged as before), only a different one is a collision.
    """
    seen: dict[str, tuple[EvalMeta, str]] = {e.eval_id: (e, "already in the dataset") for e in existing}
    for e in evals:
        first, where = seen.setdefault(e.eval_id, (e, ""))
        if (first.model, first.template, first.sampler) != (e.model, e.template, e.sampler):
            raise InputError(collision_message(e.eval_id, first, e, where))


__all__ = ["MAX_NAME_CHARS", "check_eval_ids", "check_names", "collision_message", "describe", "name_problem",
           "object_problem", "preview", "register_eval"]
