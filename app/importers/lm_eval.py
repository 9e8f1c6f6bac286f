"""``--adapter lm-eval``: EleutherAI lm-evaluation-harness output written with ``--log_samples``.

Layout (``lm_eval run --log_samples --output_path DIR``): ``DIR/<model>/results_<date>.json`` beside
one ``samples_<task>_<date>.jsonl`` per task, paired by ``<date>``. Older releases wrote each samples
file as one JSON array (``.json``); the content decides, not the suffix. Facts checked on files that
lm-eval 0.4.13 wrote itself (``tests/importers/fixtures/lm-eval/``).

Mapping:

- model = ``model_name`` (what lm-eval took from ``model_args``, a string or a dict), else the
  ``pretrained``/``model``/``path``/... entry of ``model_args``, else ``config.model``; a
  ``revision`` in ``model_args`` is appended as ``@<revision>``.
- template = ``<n>-shot`` from the task's ``n-shot``, plus ``chat-<sha8>`` and ``sys-<sha8>`` of the
  chat template and the system instruction, and ``multiturn`` for few-shot as multi-turn chat.
- sampler = the generation kwargs each request was sent with (``arguments.gen_args_0.arg_1``):
  ``greedy`` or ``t<temperature>-p<top_p>``, ``k<top_k>``, ``max<max_gen_toks>`` (the eval's budget),
  ``cfg<hash6>`` for any other setting; ``loglikelihood`` for tasks that score choices instead.
  So one run gives one eval per distinct (n-shot, generation settings) of its tasks.
- base_task = the task; params = the doc fields named with ``--params`` (none by default).
- outcome from one metric (``--metric``, default the first of the task's ``metric_list``) on one
  filter (``--filter``, default the first in the file): the file holds one line per doc *per filter*,
  so the other filters' lines are never counted. A filtered answer ``[invalid]`` -> invalid, else
  1 -> correct, 0 -> incorrect, strictly between -> incorrect (partial credit, counted in a note).
  A metric that is not a 0..1 score (perplexity, BLEU) cannot give outcomes: that task is rejected.
- each repeat (``repeats: k``: k outputs in one line's ``resps``) is a sample; lm-eval scores one
  filtered answer per doc (the first repeat, or a vote), so a doc's k samples share that score.
- guess rate: 1/number of choices for ``multiple_choice`` tasks, else 0.
- text = the raw output; tokens are estimated from it (lm-eval records no token counts), and as it
  records no finish reason either, a completion cut at ``max_gen_toks`` cannot be seen: no sample
  is marked truncated.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pyarrow as pa

from app.engine.errors import InputError, listing
from app.engine.integrity import register_eval
from app.engine.meta import EvalMeta, ImportMeta, TaskMeta
from app.engine.schema import canonical_json, eval_id
from app.importers.base import (
    AdapterOption,
    Context,
    Imported,
    compressed_sizes,
    estimate_tokens,
    option_names,
    sampler_label,
    samples_table,
)
from app.importers.lm_eval_files import Run, find_runs, records

NAME = "lm-eval"
INVALID = "[invalid]"   # what lm-eval's regex filters return when they find no answer
NO_FILTER = "none"      # the filter name of a task without a filter_list
GENERATE = "generate_until"
MULTIPLE_CHOICE = "multiple_choice"
MODEL_KEYS = ("peft", "delta", "pretrained", "model", "path", "engine")   # lm-eval's own model_name order
SAMPLING = ("do_sample", "temperature", "top_p", "top_k", "max_gen_toks", "until")   # named, or not output-shaping
TOKENS_METHOD = "ceil(UTF-8 bytes of the output / 4); lm-eval records no token counts"
OUTCOME_RULE = ("the chosen metric on the chosen filter's line of each doc: filtered answer [invalid] -> invalid; "
                "1 -> correct; 0 -> incorrect; strictly between -> incorrect (partial credit); never truncated "
                "(lm-eval records no finish reason)")
NOT_A_SCORE = "not a 0..1 score"


class NotAScore(Exception):
    """A task whose chosen metric has a value that is not a 0..1 score: it cannot give outcomes."""


@dataclass
class Task:
    """The samples of one task of one run, mapped: one entry per sample row."""

    run: Run
    name: str
    path: Path
    model: str
    metric: str
    filter: str
    eval_ids: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    texts: list[str | None] = field(default_factory=list)
    guess: list[float] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    evals: dict[str, EvalMeta] = field(default_factory=dict)
    docs: int = 0
    partial: int = 0
    repeats: int = 1
    fields: dict[str, set[str]] = field(default_factory=dict)   # scalar doc field -> distinct values seen
    keys_used: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Choice:
    """``--metric``, ``--filter`` and ``--params`` as given: names in order of preference (None: defaults)."""

    metrics: tuple[str, ...] | None = None
    filters: tuple[str, ...] | None = None
    params: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> "Choice":
        return cls(metrics=option_names(options.get("metric"), "--metric", "acc_norm"),
                   filters=option_names(options.get("filter"), "--filter", "flexible-extract"),
                   params=option_names(options.get("params"), "--params", "digits,level") or ())


class LmEvalAdapter:
    """``--adapter lm-eval``: every run found under the sources, one eval per model and task settings."""

    name = NAME
    help = "lm-evaluation-harness --log_samples output (results_<date>.json + samples_<task>_<date>.jsonl)"
    suffixes = (".json", ".jsonl")
    options = (
        AdapterOption("--metric", "metric", "the metric that decides outcomes; with several names, the first a "
                      "task has (default: each task's first metric)", "NAME,..."),
        AdapterOption("--filter", "filter", "which filter's answers are scored; with several names, the first a "
                      "task has (default: each task's first filter)", "NAME,..."),
        AdapterOption("--params", "params", "comma-separated doc fields kept as params (default: none; the import "
                      "notes list the candidates)", "KEY,..."),
    )

    def read(self, sources: Sequence[Path], ctx: Context) -> Imported:
        """Pair results and samples files, check the choices against every task, then map each doc."""
        choice = Choice.from_options(ctx.options)
        runs, skipped, rejected = find_runs(sources)
        if not any(run.samples for run in runs):
            raise InputError(f"no lm-eval samples under {', '.join(map(str, sources))}: expected results_<date>.json "
                             "with samples_<task>_<date>.jsonl beside it (lm_eval --log_samples --output_path DIR)")
        chosen = choose(runs, choice)
        progress = ctx.progress(self.name, sum(len(r.samples) for r in runs))
        tasks, unscored = [], []
        for run in runs:
            for task, path in sorted(run.samples.items()):
                metric, filter_ = chosen[(run.path, task)]
                try:
                    tasks.append(read_task(run, task, path, metric, filter_, choice.params))
                except NotAScore as exc:
                    unscored.append((str(path), str(exc)))
                progress.step()
        progress.done()
        _check_params(choice, tasks)
        tasks, superseded = latest(tasks)
        if not tasks:
            raise InputError(f"nothing to import from {', '.join(map(str, sources))}: "
                             + "; ".join(f"{path}: {why}" for path, why in unscored + superseded))
        kept = {t.run.path for t in tasks}
        skipped += unscored + superseded + [(str(r.path), "not imported: each of its samples files was skipped "
                                             "(see above)") for r in runs if r.samples and r.path not in kept]
        files = len({t.path for t in tasks}) + len(kept)
        return Imported(meta=_meta(tasks, sources), table=_table(tasks), rejected=rejected,
                        notes=_notes(tasks, choice), files=files, skipped=skipped)


ADAPTER = LmEvalAdapter()


def model_args(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``config.model_args`` as a dict: lm-eval records the string (``k=v,k=v``) or the dict it was given."""
    raw = _object(doc.get("config")).get("model_args")
    if isinstance(raw, dict):
        return dict(raw)
    if isinstance(raw, str):
        pairs = (part.split("=", 1) for part in raw.split(",") if "=" in part)
        return {k.strip(): v.strip() for k, v in pairs}
    return {}


def model_for(doc: Mapping[str, Any]) -> str:
    """``model_name``, else the model-naming entry of model_args, else the model type; ``@revision`` when pinned."""
    args = model_args(doc)
    name = doc.get("model_name") or next((str(args[k]) for k in MODEL_KEYS if args.get(k)), None) \
        or _object(doc.get("config")).get("model") or "unknown"
    revision = args.get("revision")
    return f"{name}@{revision}" if revision and revision != "main" else str(name)


def template_for(doc: Mapping[str, Any], task: str) -> str:
    """``2-shot-chat-5875dc31-sys-acf04f16-multiturn``: what shapes the prompt besides the task itself."""
    shots = _object(doc.get("n-shot")).get(task, _object(doc["configs"].get(task)).get("num_fewshot")) or 0
    parts = [f"{shots}-shot"]
    for key, prefix in (("chat_template", "chat"), ("system_instruction", "sys")):
        text, sha = doc.get(key), doc.get(f"{key}_sha")
        if text or sha:
            parts.append(f"{prefix}-{str(sha or hashlib.sha256(str(text).encode('utf-8')).hexdigest())[:8]}")
    if doc.get("fewshot_as_multiturn") and doc.get("chat_template"):
        parts.append("multiturn")
    return "-".join(parts)


def sampler_for(kwargs: Any, output_type: str) -> tuple[str, int | None]:
    """(sampler label, token budget) from the generation kwargs a request was sent with."""
    if output_type != GENERATE:
        return "loglikelihood", None
    kw = kwargs if isinstance(kwargs, dict) else {}
    temperature = kw.get("temperature")
    greedy = kw.get("do_sample") is False or temperature == 0
    parts = [sampler_label(temperature, kw.get("top_p"), greedy=greedy)]
    if isinstance(kw.get("top_k"), int) and not greedy:
        parts.append(f"k{kw['top_k']}")
    budget = kw.get("max_gen_toks")
    budget = budget if isinstance(budget, int) and not isinstance(budget, bool) and budget > 0 else None
    if budget is not None:
        parts.append(f"max{budget}")
    other = {k: v for k, v in kw.items() if k not in SAMPLING}
    if other:
        parts.append("cfg" + hashlib.sha256(canonical_json(other).encode("utf-8")).hexdigest()[:6])
    return "-".join(p for p in parts if p != "default") or "default", budget


# --------------------------------------------------------------------------- metric and filter

def available(run: Run, task: str) -> tuple[list[str], list[str]]:
    """(metrics, filters) a task declares: ``metric_list`` and ``filter_list`` names, in order."""
    config = run.config(task)
    metrics = [m["metric"] for m in config.get("metric_list") or [] if isinstance(m, dict) and "metric" in m]
    filters = [f["name"] for f in config.get("filter_list") or [] if isinstance(f, dict) and "name" in f]
    return [str(m) for m in metrics], [str(f) for f in filters] or [NO_FILTER]


def choose(runs: Sequence[Run], choice: Choice) -> dict[tuple[Path, str], tuple[str | None, str | None]]:
    """(metric, filter) per (run, task): the first of the user's names the task has, else its default.

    A name given that no task has is bad input: one line naming what every task offers.
    None means "the first the samples file shows" (a task whose config lists nothing).
    """
    out: dict[tuple[Path, str], tuple[str | None, str | None]] = {}
    offered: dict[str, tuple[list[str], list[str]]] = {}
    for run in runs:
        for task in run.samples:
            metrics, filters = available(run, task)
            offered.setdefault(task, (metrics, filters))
            metric = next((m for m in choice.metrics or () if m in metrics), metrics[0] if metrics else None)
            filter_ = next((f for f in choice.filters or () if f in filters), None)
            out[(run.path, task)] = (metric, filter_)
    for flag, names, index in (("--metric", choice.metrics, 0), ("--filter", choice.filters, 1)):
        if names and not any(n in offered[t][index] for t in offered for n in names):
            per_task = "; ".join(f"{t}: {', '.join(offered[t][index]) or '(none listed)'}" for t in sorted(offered))
            raise InputError(f"{flag} {','.join(names)}: no task in these results has it; "
                             f"{flag[2:]}s by task: {per_task}")
    return out


# --------------------------------------------------------------------------- reading one samples file

def read_task(run: Run, task: str, path: Path, metric: str | None, filter_: str | None,
              params: Sequence[str]) -> Task:
    """Map the lines of ``filter_`` (default: the first filter in the file) to samples."""
    config = run.config(task)
    output_type = str(config.get("output_type") or "")
    template = template_for(run.doc, task)
    out: Task | None = None
    first_line: dict[int, str] = {}
    for where, place, line in records(path):
        if not isinstance(line, dict):
            raise InputError(f"{where}: expected a JSON object (one sample)")
        for key in ("doc_id", "doc", "resps", "filtered_resps"):
            if key not in line:
                raise InputError(f"{where}: no '{key}' (not an lm-eval sample)")
        name = str(line.get("filter") or NO_FILTER)
        if out is None:   # the first line fixes the defaults: the file's first filter, the line's first metric
            listed = line.get("metrics") if isinstance(line.get("metrics"), list) else []
            chosen_metric = metric or (str(listed[0]) if listed else None)
            if chosen_metric is None:
                raise InputError(f"{where}: the task lists no metric, and the sample names none")
            out = Task(run=run, name=task, path=path, model=model_for(run.doc), metric=chosen_metric,
                       filter=filter_ or name)
        if name != out.filter:
            continue
        doc_id = line["doc_id"]
        if not isinstance(doc_id, int) or isinstance(doc_id, bool) or doc_id < 0:
            raise InputError(f"{where}: 'doc_id' must be a whole number ≥ 0, got {json.dumps(doc_id)}")
        if doc_id in first_line:
            raise InputError(f"{where}: doc {doc_id} appears twice for filter {out.filter!r} (first at "
                             f"{first_line[doc_id]}); a doc is counted once")
        first_line[doc_id] = where
        _add_doc(out, where, place, line, output_type, template, params)
    if out is None or not out.docs:
        shown = out.filter if out is not None else filter_
        raise InputError(f"{path}: no samples for filter {shown!r}" if out is not None else f"{path}: no samples")
    return out


def _add_doc(out: Task, where: str, place: str, line: dict[str, Any], output_type: str, template: str,
             params: Sequence[str]) -> None:
    """One doc's line: its eval, point, outcome and one sample row per repeat."""
    if out.metric not in line:
        raise InputError(f"{where}: no value for metric {out.metric!r} (the sample names {line.get('metrics')!r})")
    value = line[out.metric]
    if isinstance(value, bool):
        value = float(value)
    if not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= 1:
        metrics, _ = available(out.run, out.name)
        raise NotAScore(f"task {out.name!r}: metric {out.metric!r} is {NOT_A_SCORE} ({json.dumps(value)[:40]} at "
                        f"{place}), so it cannot say correct or incorrect; choose one with --metric "
                        f"(metrics: {listing(metrics)})")
    if not output_type:   # an older config without output_type: generated outputs are strings, scores are pairs
        resps = line["resps"]
        first = resps[0] if isinstance(resps, list) and resps else None
        output_type = GENERATE if isinstance(first, list) and first and isinstance(first[0], str) else "loglikelihood"
    if first_answer(line["filtered_resps"]) == INVALID:
        outcome = "invalid"
    elif value == 1:
        outcome = "correct"
    else:
        outcome = "incorrect"
        out.partial += value > 0
    requests = _requests(line.get("arguments"))
    sampler, budget = sampler_for(requests[0][1] if requests and len(requests[0]) > 1 else None, output_type)
    eid = eval_id(out.model, template, sampler)
    register_eval(out.evals, EvalMeta(model=out.model, template=template, sampler=sampler, eval_id=eid,
                                      max_tokens=budget), where)
    point = canonical_json(_params(out, where, line["doc"], params))
    texts: list[str | None] = [None]
    if output_type == GENERATE:
        texts = _outputs(where, line["resps"])
        out.repeats = max(out.repeats, len(texts))
    guess = 1 / len(requests) if output_type == MULTIPLE_CHOICE and requests else 0.0
    for r, text in enumerate(texts):
        out.eval_ids.append(eid)
        out.params.append(point)
        out.outcomes.append(outcome)
        out.texts.append(text)
        out.guess.append(guess)
        out.index.append(line["doc_id"] * len(texts) + r)
    out.docs += 1


def first_answer(filtered: Any) -> Any:
    """The filtered answer a metric reads: the first item, descending into nested lists."""
    while isinstance(filtered, list) and filtered:
        filtered = filtered[0]
    return filtered


def _requests(arguments: Any) -> list[list[Any]]:
    """The requests of a doc as ``[arg_0, arg_1, ...]`` lists: ``gen_args_<i>`` objects (jsonl) or pairs (older)."""
    if isinstance(arguments, dict):
        keyed = sorted((int(k[len("gen_args_"):]), v) for k, v in arguments.items()
                       if re.fullmatch(r"gen_args_\d+", k) and isinstance(v, dict))
        return [[v[a] for a in sorted((a for a in v if re.fullmatch(r"arg_\d+", a)), key=lambda a: int(a[4:]))]
                for _, v in keyed]
    if isinstance(arguments, list):
        return [list(a) if isinstance(a, (list, tuple)) else [a] for a in arguments]
    return []


def _outputs(where: str, resps: Any) -> list[str | None]:
    """The model's outputs of a generate_until doc: ``resps[0]``, one string per repeat."""
    outputs = resps[0] if isinstance(resps, list) and resps and isinstance(resps[0], list) else None
    if not outputs or not all(isinstance(t, str) for t in outputs):
        raise InputError(f"{where}: 'resps' must hold the outputs as [[text, ...]], got {json.dumps(resps)[:80]}")
    return list(outputs)


def _params(out: Task, where: str, doc: Any, keys: Sequence[str]) -> dict[str, Any]:
    """The doc fields named by ``--params``; every scalar field is remembered for the candidates note."""
    if not isinstance(doc, dict):
        return {}
    for key, value in doc.items():
        if _scalar(value):
            out.fields.setdefault(str(key), set()).add(canonical_json(value))
    picked = {}
    for key in keys:
        if key not in doc:
            continue
        if not _scalar(doc[key]):
            raise InputError(f"{where}: doc field {key!r} is a {type(doc[key]).__name__}, not a single value; "
                             "--params takes fields holding text, a number or a boolean")
        picked[key] = doc[key]
        out.keys_used.add(key)
    return picked


def _object(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one: optional parts of a results file may be absent."""
    return value if isinstance(value, Mapping) else {}


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, bool, int)) or (isinstance(value, float) and math.isfinite(value))


def _check_params(choice: Choice, tasks: Sequence[Task]) -> None:
    missing = [k for k in choice.params if not any(k in t.keys_used for t in tasks)]
    if missing:
        fields = sorted({f for t in tasks for f in t.fields})
        raise InputError(f"--params {','.join(choice.params)}: no doc field named {listing(missing)} in any task; "
                         f"scalar doc fields: {listing(fields)}")


# --------------------------------------------------------------------------- several runs, one point

def latest(tasks: list[Task]) -> tuple[list[Task], list[tuple[str, str]]]:
    """One task per (eval, task): the run that started last wins; the same run found twice is read once.

    Returns the tasks kept and, for each samples file left out, (path, why).
    """
    best: dict[tuple[str, str], Task] = {}
    for t in sorted(tasks, key=lambda t: (t.run.started, str(t.path))):
        for eid in t.evals:
            best[(eid, t.name)] = t
    kept, rejected = [], []
    for t in tasks:
        winners = {best[(eid, t.name)].path for eid in t.evals}
        if winners == {t.path}:
            kept.append(t)
            continue
        winner = next(w for w in (best[(eid, t.name)] for eid in t.evals) if w is not t)
        same = winner.run.started == t.run.started and winner.run.doc == t.run.doc
        rejected.append((str(t.path), f"{len(t.outcomes)} sample(s) not imported: " + (
            f"the same run as {winner.path} (read once)" if same
            else f"superseded by the later run {winner.run.path}")))
    return kept, rejected


# --------------------------------------------------------------------------- notes, metadata, table

def _notes(tasks: Sequence[Task], choice: Choice) -> list[str]:
    """What the mapping decided, once per task name (over every run that has it)."""
    notes = [f"lm-eval records no token counts and no finish reason: completion tokens are estimated from the text "
             f"({TOKENS_METHOD.split(';')[0]}), and a completion cut at max_gen_toks cannot be told from one that "
             "ended, so no sample is marked truncated"]
    for name in sorted({t.name for t in tasks}):
        mine = [t for t in tasks if t.name == name]
        metrics, filters = (list(dict.fromkeys(x for t in mine for x in available(t.run, name)[i])) for i in (0, 1))
        used = list(dict.fromkeys((t.metric, t.filter) for t in mine))
        runs = f"{sum(t.docs for t in mine)} doc(s) in {len(mine)} run(s)"
        others = [f"other {what}: {', '.join(x for x in names if x not in {u[i] for u in used})}"
                  for i, (what, names) in enumerate((("metrics", metrics), ("filters", filters)))
                  if set(names) - {u[i] for u in used}]
        notes.append(f"{name}: outcome from " + " / ".join(f"metric {m!r} on filter {f!r}" for m, f in used)
                     + f" ({runs}" + (f"; {'; '.join(others)}; choose with --metric / --filter" if others else "")
                     + ")")
        for flag, names, i in (("--metric", choice.metrics, 0), ("--filter", choice.filters, 1)):
            if names and any(u[i] not in names for u in used):
                notes.append(f"{name}: has none of {flag} {','.join(names)}; used its first")
        repeats = max(t.repeats for t in mine)
        if repeats > 1:
            notes.append(f"{name}: repeats {repeats}: lm-eval scores one filtered answer per doc (the first "
                         f"completion, or a vote, as the filter says), so the {repeats} completions of a doc are "
                         f"{repeats} samples sharing that score; per-completion outcomes are not in the file")
        partial = sum(t.partial for t in mine)
        if partial:
            notes.append(f"{name}: {partial} doc(s) scored strictly between 0 and 1: counted as incorrect "
                         "(partial credit)")
        if not any(t.keys_used for t in mine):
            fields: dict[str, set[str]] = {}
            for t in mine:
                for key, values in t.fields.items():
                    fields.setdefault(key, set()).update(values)
            shown = ", ".join(f"{k} ({len(v)} value{'s' if len(v) > 1 else ''})"
                              for k, v in sorted(fields.items(), key=lambda kv: (len(kv[1]), kv[0]))[:8])
            notes.append(f"{name}: no params, so each eval's docs are one point"
                         + (f"; doc fields --params KEY,... can make params: {shown}" if shown else ""))
        if all(x is None for t in mine for x in t.texts):
            notes.append(f"{name}: scores choices by log-likelihood: no text is generated, so no tokens or "
                         "compressed size" + ("; guess rate 1/number of choices" if any(any(t.guess) for t in mine)
                                              else ""))
    return notes


def _meta(tasks: Sequence[Task], sources: Sequence[Path]) -> ImportMeta:
    evals: dict[str, EvalMeta] = {}
    for t in tasks:
        for ev in t.evals.values():
            register_eval(evals, ev, str(t.path))
    task_meta = []
    for name in sorted({t.name for t in tasks}):
        mine = [t for t in tasks if t.name == name]
        guess = [g for t in mine for g in t.guess]
        task_meta.append(TaskMeta(base_task=name, guess_rate=float(np.mean(guess)) if guess else 0.0,
                                  params=tuple(sorted({k for t in mine for k in t.keys_used}))))
    runs = {t.run.path: t.run for t in tasks}
    return ImportMeta(
        evals=tuple(evals.values()), tasks=tuple(task_meta),
        source=f"{NAME}: " + ", ".join(map(str, sources)), tokens="estimated", tokens_method=TOKENS_METHOD,
        details={"outcomes": OUTCOME_RULE,
                 "guess_rate": "1/number of choices for multiple_choice tasks, else 0",
                 "runs": [{"results": str(r.path), "model": model_for(r.doc), "model_args": model_args(r.doc),
                           "lm_eval_version": r.doc.get("lm_eval_version"),
                           "tasks": {t.name: {"metric": t.metric, "filter": t.filter, "docs": t.docs,
                                              "repeats": t.repeats} for t in tasks if t.run is r}}
                          for r in runs.values()]})


def _table(tasks: Sequence[Task]) -> pa.Table:
    texts = pa.array([x for t in tasks for x in t.texts], pa.string())
    return samples_table({
        "eval_id": pa.array([e for t in tasks for e in t.eval_ids], pa.string()),
        "base_task": pa.array([t.name for t in tasks for _ in t.outcomes], pa.string()),
        "params": pa.array([p for t in tasks for p in t.params], pa.string()),
        "outcome": pa.array([o for t in tasks for o in t.outcomes], pa.string()),
        "completion_tokens": estimate_tokens(texts),
        "compressed_bytes": compressed_sizes(texts.to_pylist()),
        "guess_rate": np.array([g for t in tasks for g in t.guess], dtype=np.float64),
        "text": texts,
        "sample": np.array([i for t in tasks for i in t.index], dtype=np.int32),
    })


__all__ = ["ADAPTER", "Choice", "LmEvalAdapter", "model_for", "sampler_for", "template_for"]
