"""``--adapter samples``: the generic JSONL / CSV format of spec §10, one record per completion.

Every record is checked before anything is kept, so one bad line anywhere stops the whole
import with ``FILE:LINE: reason`` and the target dataset stays untouched. ``finish_reason``, as
OpenAI-compatible and vLLM outputs report it, is accepted so their lines convert in one step:
``length`` makes the record truncated whatever ``outcome`` says; other values change nothing.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from app.engine.errors import InputError, json_reason, listing
from app.engine.integrity import collision_message, name_problem, object_problem
from app.engine.meta import EvalMeta, ImportMeta, TaskMeta
from app.engine.schema import OUTCOMES, canonical_json, compressed_size, eval_id, parse_tag
from app.importers.base import Context, Imported, expand_files, samples_table

SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv")
FIELDS = ("model", "template", "sampler", "base_task", "params", "outcome", "completion_tokens", "text",
          "compressed_bytes", "guess_rate", "manifold", "groups", "label", "max_tokens", "sample", "finish_reason")
PER_EVAL = ("label", "groups", "max_tokens")


class _Bad(Exception):
    """One reason a record is unusable; the caller adds FILE:LINE."""


class SamplesAdapter:
    """``--adapter samples``: every record of every file is validated, then the table is built (all or nothing)."""

    name = "samples"
    help = "generic JSONL or CSV, one completion per record (spec §10)"
    suffixes = SUFFIXES

    def read(self, sources: Sequence[Path], ctx: Context) -> Imported:
        """Validate every record of every file, then build the table."""
        files = expand_files(sources, self.suffixes)
        if not files:
            raise InputError(f"no .jsonl or .csv files under {', '.join(map(str, sources))}")
        acc = _Accumulator()
        acc.existing = ctx.existing.evals if ctx.existing is not None else ()
        progress = ctx.progress(self.name, len(files))
        for path in files:
            for line, record in _records(path):
                where = f"{path}:{line}"
                try:
                    acc.add(_check(record, from_text=isinstance(record, _CsvRow)), where)
                except _Bad as exc:
                    acc.errors.append(f"{where}: {exc}")
            progress.step()
        progress.done()
        if acc.errors:
            more = len(acc.errors) - 1
            tail = f" (and {more} more invalid record{'s' if more > 1 else ''})" if more else ""
            raise InputError(acc.errors[0] + tail)
        if not acc.cols["eval_id"]:
            raise InputError(f"no records in {', '.join(map(str, files))}")
        return acc.result(ctx, files)


ADAPTER = SamplesAdapter()


class _CsvRow(dict):
    """A CSV record: every value is text, so numbers and JSON fields are parsed from strings."""


def _records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, record) pairs; a line that is not a record yields the reason as a _Bad."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:  # -sig: spreadsheets often add a BOM
            if _is_csv(path, fh):
                yield from _csv_records(path, fh)
            else:
                yield from _jsonl_records(fh)
    except UnicodeDecodeError as exc:
        raise InputError(_utf8_error(path, exc)) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _utf8_error(path: Path, exc: UnicodeDecodeError) -> str:
    """``FILE:LINE:COLUMN: not UTF-8 text (reason at byte OFFSET)`` for the file's first invalid byte.

    The text reader decodes in chunks, so ``exc.start`` counts from the start of a chunk, not of
    the file. The file is read again as bytes, line by line (a newline byte never occurs inside a
    UTF-8 sequence), to name the bad byte's offset in the file (from 0), its line and its column.
    """
    offset = 0
    try:
        with open(path, "rb") as fh:
            for line_no, line in enumerate(fh, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as bad:
                    return (f"{path}:{line_no}:{bad.start + 1}: not UTF-8 text ({bad.reason} at byte "
                            f"{offset + bad.start} of the file)")
                offset += len(line)
    except OSError:
        pass
    return f"{path}: not UTF-8 text ({exc.reason})"


def _is_csv(path: Path, fh) -> bool:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return False
    if suffix == ".csv":
        return True
    head = fh.read(4096).lstrip()  # unknown suffix: a JSON object starts with "{"
    fh.seek(0)
    return not head.startswith("{")


def _jsonl_records(fh) -> Iterator[tuple[int, Any]]:
    for line_no, line in enumerate(fh, start=1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_no, _Bad(f"not valid JSON ({json_reason(exc, f'column {exc.colno}')})")


def _csv_records(path: Path, fh) -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(fh)
    if not reader.fieldnames:
        raise InputError(f"{path}: empty CSV (expected a header line naming the fields)")
    missing = [f for f in ("model", "base_task", "params", "outcome") if f not in reader.fieldnames]
    if missing:
        raise InputError(f"{path}:1: CSV header lacks required column(s) {', '.join(missing)}")
    start = reader.line_num + 1
    try:
        for row in reader:
            if None in row:
                yield start, _Bad(f"{len(row[None])} more value(s) than header columns")
            else:
                yield start, _CsvRow({k: v for k, v in row.items() if v not in ("", None)})
            start = reader.line_num + 1
    except csv.Error as exc:
        yield reader.line_num, _Bad(f"malformed CSV ({exc})")


def _check(rec: Any, from_text: bool) -> dict[str, Any]:
    """One record as clean Python values, or _Bad naming the first problem."""
    if isinstance(rec, _Bad):
        raise rec
    if not isinstance(rec, dict):
        raise _Bad(f"expected a JSON object, got {type(rec).__name__}")
    outcome = rec.get("outcome")
    if outcome is None:
        raise _Bad(f"missing required field 'outcome' (one of {', '.join(OUTCOMES)})")
    if outcome not in OUTCOMES:
        raise _Bad(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    # OpenAI-compatible servers (vLLM too) say why generation stopped: "length" means it hit max_tokens,
    # so the completion is truncated whatever a grader made of it; "stop" and other values change nothing
    finish = rec.get("finish_reason")
    if finish is not None and not isinstance(finish, str):
        raise _Bad(f"'finish_reason' must be a string such as \"stop\" or \"length\", got {json.dumps(finish)[:60]}")
    hit_length = finish is not None and finish.strip().lower() == "length"
    out = {
        "model": _name(rec, "model", required=True),
        "template": _name(rec, "template") or "default",
        "sampler": _name(rec, "sampler") or "default",
        "base_task": _name(rec, "base_task", required=True),
        "params": _flat_object(rec, "params", from_text, required=True),
        "manifold": _flat_object(rec, "manifold", from_text),
        "outcome": "truncated" if hit_length else outcome,
        "length_over": outcome if hit_length and outcome != "truncated" else None,  # the outcome it replaced
        "completion_tokens": _count(rec, "completion_tokens", from_text),
        "compressed_bytes": _count(rec, "compressed_bytes", from_text),
        "sample": _count(rec, "sample", from_text),
        "max_tokens": _count(rec, "max_tokens", from_text),
        "guess_rate": _probability(rec, "guess_rate", from_text),
        "label": _name(rec, "label"),
        "groups": _groups(rec, from_text),
        "unknown": [k for k in rec if k not in FIELDS],
    }
    text = rec.get("text")  # when given, compressed_bytes is computed from it (a given value is ignored)
    if text is not None and not isinstance(text, str):
        raise _Bad(f"'text' must be a string, got {type(text).__name__}")
    out["text"] = text
    return out


def _name(rec: dict, key: str, required: bool = False) -> str | None:
    value = rec.get(key)
    if value is None:
        if required:
            raise _Bad(f"missing required field '{key}'")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"'{key}' must be a non-empty string, got {json.dumps(value)[:60]}")
    problem = name_problem(f"'{key}'", value)
    if problem:
        raise _Bad(problem)
    return value


def _parsed(rec: dict, key: str, from_text: bool) -> Any:
    """JSON-valued fields arrive as text in CSV (and may in JSONL): parse them here."""
    value = rec.get(key)
    if isinstance(value, str) and (from_text or value.lstrip()[:1] in ("{", "[")):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise _Bad(f"'{key}' is not valid JSON ({json_reason(exc, f'column {exc.colno}')})") from None
    return value


def _flat_object(rec: dict, key: str, from_text: bool, required: bool = False) -> str | None:
    value = _parsed(rec, key, from_text)
    if value is None:
        if required:
            raise _Bad(f"missing required field '{key}' (an object, may be empty: {{}})")
        return None
    if not isinstance(value, dict):
        raise _Bad(f"'{key}' must be a JSON object, got {json.dumps(value)[:60]}")
    nested = [k for k, v in value.items() if isinstance(v, (dict, list))]
    if nested:
        raise _Bad(f"'{key}' must be flat (scalar values); '{nested[0]}' holds a {type(value[nested[0]]).__name__}")
    floats = [k for k, v in value.items() if isinstance(v, float) and not math.isfinite(v)]
    if floats:
        raise _Bad(f"'{key}.{floats[0]}' is not a finite number")
    problem = object_problem(f"'{key}'", value)
    if problem:
        raise _Bad(problem)
    return canonical_json(value)


def _count(rec: dict, key: str, from_text: bool) -> int | None:
    value = rec.get(key)
    if value is None:
        return None
    if from_text and isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise _Bad(f"'{key}' must be an integer ≥ 0, got {value!r}") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"'{key}' must be an integer ≥ 0, got {json.dumps(value)}")
    if value < 0:
        raise _Bad(f"'{key}' must be ≥ 0, got {value}")
    if value >= 2**31:
        raise _Bad(f"'{key}' is too large ({value})")
    return value


def _probability(rec: dict, key: str, from_text: bool) -> float | None:
    value = rec.get(key)
    if value is None:
        return None
    if from_text and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise _Bad(f"'{key}' must be a number in [0, 1], got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise _Bad(f"'{key}' must be a number in [0, 1], got {json.dumps(value)}")
    return float(value)


def _groups(rec: dict, from_text: bool) -> tuple[str, ...] | None:
    value = _parsed(rec, "groups", from_text)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise _Bad(f"'groups' must be a list of \"key:value\" strings, got {json.dumps(value)[:60]}")
    for tag in value:
        problem = name_problem("group tag", tag)
        if problem:
            raise _Bad(problem)
        try:
            parse_tag(tag)
        except ValueError as exc:
            raise _Bad(str(exc)) from None
    return tuple(sorted(set(value)))


class _Accumulator:
    """Columns of the valid records, per-eval settings (which must agree), per-task guess rates."""

    def __init__(self) -> None:
        self.cols: dict[str, list] = {k: [] for k in ("eval_id", "base_task", "params", "manifold", "outcome",
                                                     "completion_tokens", "compressed_bytes", "guess_rate",
                                                     "text", "sample")}
        self.evals: dict[str, dict[str, Any]] = {}
        self.seen: dict[tuple[str, str], str] = {}  # (eval_id, field) -> where it was first given
        self.task_rates: dict[str, Counter] = {}
        self.unknown: Counter = Counter()
        self.length_over: Counter = Counter()  # outcomes that finish_reason "length" turned into truncated
        self.errors: list[str] = []
        self.existing: tuple[EvalMeta, ...] = ()  # the evals of the dataset merged into

    def add(self, r: dict[str, Any], where: str) -> None:
        eid = eval_id(r["model"], r["template"], r["sampler"])
        ev = self.evals.setdefault(eid, {"eval_id": eid, "model": r["model"], "template": r["template"],
                                         "sampler": r["sampler"]})
        self._check_collision(ev, r, where)
        for key in PER_EVAL:  # per-eval fields may be repeated on every line, but must agree
            value = r[key]
            if value is None:
                continue
            if key in ev and ev[key] != value:
                first = self.seen[(eid, key)]
                raise _Bad(f"'{key}' {_show(value)} differs from {_show(ev[key])} given at {first} for the "
                           f"same eval ({r['model']} | {r['template']} | {r['sampler']})")
            if key not in ev:
                ev[key], self.seen[(eid, key)] = value, where
        rates = self.task_rates.setdefault(r["base_task"], Counter())
        if r["guess_rate"] is not None:
            rates[r["guess_rate"]] += 1
        self.unknown.update(r["unknown"])
        if r["length_over"] is not None:
            self.length_over[r["length_over"]] += 1
        cb = compressed_size(r["text"]) if r["text"] is not None else r["compressed_bytes"]
        for key, value in (("eval_id", eid), ("compressed_bytes", cb)):
            self.cols[key].append(value)
        for key in ("base_task", "params", "manifold", "outcome", "completion_tokens", "guess_rate", "text",
                    "sample"):
            self.cols[key].append(r[key])

    def _check_collision(self, ev: dict[str, Any], r: dict[str, Any], where: str) -> None:
        """Refuse a record whose eval gets the eval_id of a different eval (spec §2's id can collide).

        The other eval is one read earlier (named with where it was first seen) or one of the
        dataset merged into.
        """
        triple = (r["model"], r["template"], r["sampler"])
        mine = EvalMeta(model=r["model"], template=r["template"], sampler=r["sampler"], eval_id=ev["eval_id"])
        first = self.seen.setdefault((ev["eval_id"], "eval"), where)
        if (ev["model"], ev["template"], ev["sampler"]) != triple:
            other = EvalMeta(model=ev["model"], template=ev["template"], sampler=ev["sampler"], eval_id=ev["eval_id"])
            raise _Bad(collision_message(ev["eval_id"], other, mine, f"at {first}"))
        old = next((e for e in self.existing if e.eval_id == ev["eval_id"]), None)
        if old is not None and (old.model, old.template, old.sampler) != triple:
            raise _Bad(collision_message(ev["eval_id"], old, mine, "already in the dataset"))

    def result(self, ctx: Context, files: list[Path]) -> Imported:
        tasks, notes = [], []
        for task, rates in sorted(self.task_rates.items()):
            known = ctx.task_guess_rate(task)
            default = known if known is not None else (rates.most_common(1)[0][0] if rates else 0.0)
            tasks.append(TaskMeta(base_task=task, guess_rate=default))
        cols: dict[str, Any] = dict(self.cols)
        defaults = pa.array([t.guess_rate for t in tasks], pa.float64())
        task_index = pc.index_in(pa.array(cols["base_task"]), value_set=pa.array([t.base_task for t in tasks]))
        cols["guess_rate"] = pc.fill_null(pa.array(cols["guess_rate"], pa.float64()), pc.take(defaults, task_index))
        for optional in ("text", "sample"):
            if all(v is None for v in cols[optional]):
                del cols[optional]
        if self.unknown:
            notes.append(f"ignored unknown field(s): {listing(sorted(self.unknown))}")
        if self.length_over:
            notes.append(f"finish_reason 'length' (the token budget ran out) made {sum(self.length_over.values())} "
                         f"record(s) truncated that said " +
                         ", ".join(f"{o} ({n})" for o, n in sorted(self.length_over.items())))
        has_tokens = any(v is not None for v in self.cols["completion_tokens"])
        evals = [EvalMeta(model=ev["model"], template=ev["template"], sampler=ev["sampler"], eval_id=ev["eval_id"],
                          label=ev.get("label") or "", groups=ev.get("groups") or (), max_tokens=ev.get("max_tokens"))
                 for ev in self.evals.values()]
        meta = ImportMeta(evals=tuple(evals), tasks=tuple(tasks), source=", ".join(map(str, files)),
                          tokens="exact" if has_tokens else None)
        return Imported(meta=meta, table=samples_table(cols), notes=notes, files=len(files))


def _show(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
