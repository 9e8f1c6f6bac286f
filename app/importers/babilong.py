"""``--adapter babilong``: BABILong result CSVs, ``<org>/<model>/qaN_<len>k_<settings>.csv``.

The data holds the model's short answer but no grade, so grading happens here, per the
data README: lower-case the output, keep its first sentence, and see which of the task's
label words (the distinct targets of that task) it names, ignoring labels the question
itself names. Exactly one label = correct or incorrect; none or several = invalid.
A task with k labels has guess_rate 1/k: a blind pick among them is right that often.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from app.engine.errors import InputError
from app.engine.integrity import register_eval
from app.engine.meta import EvalMeta, ImportMeta, TaskMeta, ViewMeta
from app.engine.schema import canonical_json, eval_id
from app.importers.base import (
    Context,
    Imported,
    compressed_sizes,
    estimate_tokens,
    load_json,
    sampler_label,
    samples_table,
)

FILE = re.compile(r"^qa(?P<task>\d+)_(?P<length>\d+)k_(?P<settings>.+)\.csv$")
COLUMNS = ("target", "output", "question")
CROSS_VIEW = ViewMeta(name="task x context length", base_task=None, group_by=("base_task", "params.context_tokens"))
# The bAbI task names, so the dashboard shows more than "qa3".
BABI = ("single supporting fact", "two supporting facts", "three supporting facts", "two argument relations",
        "three argument relations", "yes/no questions", "counting", "lists/sets", "simple negation",
        "indefinite knowledge", "basic coreference", "conjunction", "compound coreference", "time reasoning",
        "basic deduction", "basic induction", "positional reasoning", "size reasoning", "path finding",
        "agent's motivations")
GRADING = ("lower-cased output, first sentence only (up to . ! ? or a line break); labels = distinct targets of "
           "the task; labels named in the question are ignored; exactly one label named: correct if it is "
           "the target, else incorrect; no label or several: invalid")


class BabilongAdapter:
    """``--adapter babilong``: one eval per model folder and prompt settings, graded here."""

    name = "babilong"
    help = "BABILong result CSVs (<org>/<model>/qaN_<len>k_<settings>.csv + the JSON beside each)"
    suffixes = (".csv", ".json")

    def read(self, sources: Sequence[Path], ctx: Context) -> Imported:
        """Read every result CSV, grade each task against its own label set, build the samples."""
        found, rejected = _find(sources)
        if not found:
            raise InputError(f"no BABILong result CSVs (qaN_<len>k_<settings>.csv) under "
                             f"{', '.join(map(str, sources))}")
        progress = ctx.progress(self.name, len(found))
        parts, notes = [], []
        evals: dict[str, EvalMeta] = {}
        for path, m in found:
            sampler = _sampler(path.with_suffix(".json"))
            if sampler is None:
                notes.append(f"{path}: no JSON beside it, sampler recorded as 'default'")
                sampler = "default"
            resolved = path.resolve()
            model = f"{resolved.parent.parent.name}/{resolved.parent.name}"
            eid = eval_id(model, m["settings"], sampler)
            register_eval(evals, EvalMeta(model=model, template=m["settings"], sampler=sampler, eval_id=eid), str(path))
            parts.append((f"qa{int(m['task'])}", int(m["length"]) * 1024, f"{int(m['length'])}k", eid,
                          _read_csv(path)))
            progress.step()
        progress.done()
        labels = task_labels([(task, t["target"]) for task, *_, t in parts])
        table = pa.concat_tables([_samples(task, tokens, lid, eid, t, labels[task])
                                  for task, tokens, lid, eid, t in parts])
        tasks = [TaskMeta(base_task=task, label=_task_label(task), guess_rate=_guess_rate(labels[task]))
                 for task in sorted(labels, key=lambda t: int(t[2:]))]
        meta = ImportMeta(evals=tuple(evals.values()), tasks=tuple(tasks), views=(CROSS_VIEW,),
                          source="babilong: " + ", ".join(map(str, sources)), tokens="estimated",
                          tokens_method="ceil(UTF-8 bytes of the output / 4)",
                          details={"grading": GRADING, "guess_rate": "1/k, k = number of labels of the task",
                                   "labels": {t: labels[t] for t in sorted(labels)}})
        return Imported(meta=meta, table=table, rejected=rejected, notes=notes, files=len(found))


ADAPTER = BabilongAdapter()


def task_labels(targets: Sequence[tuple[str, Any]]) -> dict[str, list[str]]:
    """Each task's label words: the distinct (lower-cased) targets over all its files."""
    out: dict[str, set[str]] = {}
    for task, column in targets:
        values = pc.unique(pc.utf8_lower(pc.utf8_trim_whitespace(column))).to_pylist()
        out.setdefault(task, set()).update(v for v in values if v)
    return {task: sorted(words) for task, words in out.items()}


def _find(sources: Sequence[Path]) -> tuple[list[tuple[Path, re.Match]], list[str]]:
    found, rejected = [], []
    for src in sources:
        for path in ([src] if src.is_file() else sorted(src.rglob("*.csv"))):
            m = FILE.match(path.name)
            if m:
                found.append((path, m))
            else:
                rejected.append(f"{path}: file skipped, name is not qaN_<len>k_<settings>.csv")
    return found, rejected


def _sampler(path: Path) -> str | None:
    """``greedy`` when generate_kwargs say no sampling (or temperature 0); else ``t<temp>-p<top_p>``."""
    if not path.is_file():
        return None
    doc = load_json(path)
    kw = doc.get("generate_kwargs") if isinstance(doc, dict) else None
    if not isinstance(kw, dict):
        return "default"
    temperature = kw.get("temperature") or 0
    return sampler_label(temperature, kw.get("top_p") or None, greedy=not kw.get("do_sample") or temperature == 0)


def _read_csv(path: Path) -> pa.Table:
    try:
        table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True),
                               convert_options=pacsv.ConvertOptions(
                                   column_types={c: pa.string() for c in COLUMNS}, strings_can_be_null=False))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (expected {', '.join(COLUMNS)})")
    index = table.column(0)
    sample = index if table.column_names[0] not in COLUMNS and pa.types.is_integer(index.type) \
        else pa.array(np.arange(table.num_rows))
    return pa.table({"target": table["target"], "output": table["output"], "question": table["question"],
                     "sample": sample})


def _samples(task: str, tokens: int, length_id: str, eid: str, t: pa.Table, labels: list[str]) -> pa.Table:
    n = t.num_rows
    outputs = t["output"].combine_chunks()
    return samples_table({
        "eval_id": pa.array([eid] * n),
        "base_task": pa.array([task] * n),
        "params": pa.array([canonical_json({"context_tokens": tokens})] * n),
        "manifold": pa.array([canonical_json({"id": length_id, "target_tokens": tokens})] * n),
        "outcome": grade(outputs, t["target"], t["question"], labels),
        "completion_tokens": estimate_tokens(outputs),
        "compressed_bytes": compressed_sizes(outputs.to_pylist()),
        "guess_rate": np.full(n, _guess_rate(labels)),
        "text": outputs,
        "sample": t["sample"],
    })


def first_sentence(outputs: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Lower-cased text up to the first ``.``, ``!``, ``?`` or line break (leading space skipped)."""
    lowered = pc.utf8_trim_whitespace(pc.utf8_lower(outputs))
    return pc.replace_substring_regex(lowered, pattern=r"[.!?\n][\s\S]*", replacement="", max_replacements=1)


def grade(outputs: Any, targets: Any, questions: Any, labels: Sequence[str]) -> np.ndarray:
    """Outcome per row, vectorised over rows (one regex pass per label)."""
    answer = first_sentence(outputs)
    question = pc.utf8_lower(questions)
    target = np.asarray(pc.utf8_lower(pc.utf8_trim_whitespace(targets)).to_numpy(zero_copy_only=False), dtype=object)
    named = np.zeros(len(answer), dtype=np.int64)
    right = np.zeros(len(answer), dtype=bool)
    for label in labels:
        pattern = r"\b" + re.escape(label.lower()) + r"\b"
        hit = pc.and_(pc.match_substring_regex(answer, pattern), pc.invert(pc.match_substring_regex(question, pattern)))
        hit = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
        named += hit
        right |= hit & (target == label.lower())
    return np.select([(named == 1) & right, named == 1], ["correct", "incorrect"], "invalid")


def grade_one(output: str, target: str, question: str, labels: Sequence[str]) -> str:
    """``grade`` for a single answer: handy in tests and notebooks."""
    return str(grade(pa.array([output]), pa.array([target]), pa.array([question]), labels)[0])


def _guess_rate(labels: Sequence[str]) -> float:
    """A blind pick among the task's k label words is right 1/k of the time."""
    return 1 / len(labels) if labels else 0.0


def _task_label(task: str) -> str:
    number = int(task[2:])
    return f"{task}: {BABI[number - 1]}" if 1 <= number <= len(BABI) else task
