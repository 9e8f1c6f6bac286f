"""``--adapter reasoning-gym-eval``: run folders of open-thought/reasoning-gym-eval.

Layout: ``<level>/<provider>_<model>_<YYYYMMDD>_<HHMMSS>/summary.json`` plus one
``<category>/<task>.json`` per task. Identity comes from the run directory name, because
``summary.json``'s ``model`` can be wrong or missing; the folder above the run names the
difficulty level, so the easy and hard runs of one model become one eval with a ``level`` param.

Outcomes: ``model_answer`` null -> invalid, unless ``full_model_response`` is empty too,
which is read as a truncation *signal* (the source has no flag); score 1 -> correct; any
other score (partial credit included) -> incorrect. Tokens are estimated from the text.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.engine.errors import InputError
from app.engine.meta import EvalMeta, ImportMeta, TaskMeta
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

RUN_DIR = re.compile(r"^(?P<name>.+?)_(?P<stamp>\d{8}_\d{6})$")
# sha256 of the stock reasoning-gym eval system prompt (stripped): runs using it get template "default".
STOCK_PROMPT_SHA256 = "c1b9ae4e7f820f9809a91564c33b064ab7c9b2fae311da4360991fc936392388"
TOKENS_METHOD = ("ceil(UTF-8 bytes of full_model_response / 4); null when the response is empty. For reasoning "
                 "models the stored text is only the final answer, so hidden reasoning tokens are not counted")
OUTCOME_RULE = ("model_answer null -> invalid, but an empty full_model_response -> truncated (a signal, not "
                "proof: the source has no truncation flag); score 1 -> correct; other scores, partial credit "
                "included -> incorrect")


@dataclass
class Run:
    """One run directory, its identity and its summary."""

    path: Path
    model: str
    stamp: str
    template: str
    sampler: str
    summary: dict[str, Any]
    folder: str  # the folder above the run dir: the level in the usual layout
    tasks: list[Path] = field(default_factory=list)


@dataclass
class Point:
    """One task file read: a (run, task, config) point with its completions."""

    run: Run
    task: str
    config: dict[str, Any]
    source: Path
    level: str = ""
    answered: list[bool] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)


class ReasoningGymEvalAdapter:
    """``--adapter reasoning-gym-eval``: run folders found under the sources, one eval per model."""

    name = "reasoning-gym-eval"
    help = "reasoning-gym-eval run folders (<level>/<run-dir>/summary.json + <category>/<task>.json)"
    suffixes = (".json",)

    def read(self, sources: Sequence[Path], ctx: Context) -> Imported:
        """Find runs under every source, read all task files, then map them to samples."""
        runs = [_load_run(p) for src in sources for p in _find_runs(src)]
        if not runs:
            raise InputError(f"no reasoning-gym-eval runs (folders with summary.json) under "
                             f"{', '.join(map(str, sources))}")
        runs = list({r.path.resolve(): r for r in runs}.values())  # the same run given twice counts once
        progress = ctx.progress(self.name, sum(len(r.tasks) for r in runs))
        points = []
        for run in runs:
            for path in run.tasks:
                points.append(_read_task(run, path))
                progress.step()
        progress.done()
        notes = _assign_levels(points)
        points, rejected = _drop_superseded(points)
        notes += [f"{r.path}: summary.json says model {r.summary.get('model')!r}; using {r.model!r} from the "
                  f"directory name" for r in runs if r.summary.get("model") not in (None, r.model)]
        notes += [f"{r.path}: summary.json has no model; using {r.model!r} from the directory name"
                  for r in runs if r.summary.get("model") is None]
        notes += [f"{r.path}: marked partial; imported the {len(r.tasks)} task file(s) present"
                  for r in runs if r.summary.get("partial")]
        table = _table(points)
        return Imported(meta=_meta(runs, points, sources), table=table, rejected=rejected, notes=notes,
                        files=sum(len(r.tasks) for r in runs))


ADAPTER = ReasoningGymEvalAdapter()


def _find_runs(source: Path) -> list[Path]:
    if source.is_file():  # a run's summary.json names its run; any other file names nothing
        return [source.parent] if source.name == "summary.json" else []
    if (source / "summary.json").is_file():
        return [source]
    return sorted(p.parent for p in source.rglob("summary.json"))


def _load_run(path: Path) -> Run:
    summary = load_json(path / "summary.json")
    if not isinstance(summary, dict):
        raise InputError(f"{path / 'summary.json'}: expected a JSON object")
    model, stamp = model_from_dir(path.resolve().name)
    tasks = sorted(p for p in path.rglob("*.json") if p != path / "summary.json")
    return Run(path=path, model=model, stamp=stamp, template=template_for(summary.get("system_prompt")),
               sampler=sampler_for(summary), summary=summary, folder=path.resolve().parent.name, tasks=tasks)


def model_from_dir(name: str) -> tuple[str, str]:
    """``deepseek_deepseek-r1_20250315_181530`` -> (``deepseek/deepseek-r1``, ``20250315_181530``)."""
    m = RUN_DIR.match(name)
    base, stamp = (m["name"], m["stamp"]) if m else (name, "")
    return base.replace("_", "/", 1), stamp


def sampler_for(summary: dict[str, Any]) -> str:
    """``t0.6-p0.95`` from temperature and top_p; ``default`` when neither is recorded."""
    return sampler_label(summary.get("temperature"), summary.get("top_p"))


def template_for(system_prompt: Any) -> str:
    """``default`` for the stock prompt (or none recorded); another prompt is another eval."""
    if not isinstance(system_prompt, str) or not system_prompt.strip():
        return "default"
    digest = hashlib.sha256(system_prompt.strip().encode("utf-8")).hexdigest()
    return "default" if digest == STOCK_PROMPT_SHA256 else f"prompt-{digest[:8]}"


def _read_task(run: Run, path: Path) -> Point:
    """Check a task file's shape while collecting its completions; problems name file and place."""
    doc = load_json(path)
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected a JSON object with 'results'")
    results = doc.get("results")
    if not isinstance(results, list):
        raise InputError(f"{path}: 'results' is missing or not a list")
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise InputError(f"{path}: 'config' must be an object")
    given = doc.get("name")
    name = given if isinstance(given, str) and given else path.stem
    point = Point(run=run, task=name, config=config, source=path)
    for i, result in enumerate(results):
        completions = result.get("completions") if isinstance(result, dict) else None
        if not isinstance(completions, list):
            raise InputError(f"{path}: results[{i}] has no 'completions' list")
        for j, c in enumerate(completions):
            where = f"{path}: results[{i}].completions[{j}]"
            if not isinstance(c, dict):
                raise InputError(f"{where} is not an object")
            text = c.get("full_model_response")
            if text is not None and not isinstance(text, str):
                raise InputError(f"{where}: 'full_model_response' must be a string or null")
            answered = c.get("model_answer") is not None
            score = c.get("score")
            if answered and (isinstance(score, bool) or not isinstance(score, (int, float)) or math.isnan(score)):
                raise InputError(f"{where}: 'score' must be a number, got {json.dumps(score)}")
            point.answered.append(answered)
            point.texts.append(text or "")
            point.scores.append(float(score) if answered and score is not None else 0.0)
    return point


def config_level(config: dict[str, Any]) -> str:
    """A level name from the config alone: the generator's default (only size/seed) or a hash."""
    knobs = {k: v for k, v in config.items() if k not in ("size", "seed")}
    if not knobs:
        return "default"
    return "cfg-" + hashlib.sha256(canonical_json(knobs).encode("utf-8")).hexdigest()[:6]


def _assign_levels(points: list[Point]) -> list[str]:
    """Level = the folder above the run (``-evals`` suffix dropped), as in ``demo/<easy|hard>/<run>``.

    If one folder holds runs of the same eval and task with different configs, it is not a
    level folder (a flat dump of runs); its points take a config-derived level instead.
    """
    configs: dict[tuple, set[str]] = {}
    for p in points:
        configs.setdefault((p.run.folder, _eval(p.run), p.task), set()).add(canonical_json(p.config))
    flat = sorted({key[0] for key, seen in configs.items() if len(seen) > 1})
    for p in points:
        folder = re.sub(r"[-_]evals?$", "", p.run.folder)
        p.level = config_level(p.config) if p.run.folder in flat or not folder else folder
    return [f"folder {f!r} mixes task configs of one model, so levels there come from the config "
            f"('default' or 'cfg-<hash>')" for f in flat]


def _eval(run: Run) -> str:
    return eval_id(run.model, run.template, run.sampler)


def _drop_superseded(points: list[Point]) -> tuple[list[Point], list[str]]:
    """Two runs giving the same point: the later run (by directory timestamp) wins."""
    latest: dict[tuple, Point] = {}
    for p in sorted(points, key=lambda p: (p.run.stamp, str(p.run.path))):
        latest[(_eval(p.run), p.task, p.level)] = p
    winners = {id(p) for p in latest.values()}
    rejected = [f"{p.source}: {len(p.texts)} completion(s) skipped, superseded by the later run "
                f"{latest[(_eval(p.run), p.task, p.level)].run.path}" for p in points if id(p) not in winners]
    return [p for p in points if id(p) in winners], rejected


def _table(points: list[Point]) -> pa.Table:
    sizes = np.array([len(p.texts) for p in points], dtype=np.int64)

    def per_point(values: list) -> np.ndarray:
        return np.repeat(np.array(values, dtype=object), sizes)

    answered = np.concatenate([np.array(p.answered, dtype=bool) for p in points]) if points else np.array([], bool)
    scores = np.concatenate([np.array(p.scores, dtype=float) for p in points]) if points else np.array([])
    texts = pa.array([t for p in points for t in p.texts], pa.string())
    empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(texts)), 0).to_numpy(zero_copy_only=False)
    outcome = np.select([~answered & empty, ~answered, scores >= 1.0], ["truncated", "invalid", "correct"],
                        "incorrect")
    tokens = pc.if_else(pa.array(empty), pa.scalar(None, pa.int32()), estimate_tokens(texts))
    return samples_table({
        "eval_id": per_point([_eval(p.run) for p in points]),
        "base_task": per_point([p.task for p in points]),
        "params": per_point([canonical_json({"level": p.level}) for p in points]),
        "manifold": per_point([canonical_json({**_scalars(p.config), "id": p.level}) for p in points]),
        "outcome": outcome,
        "completion_tokens": tokens,
        "compressed_bytes": compressed_sizes(texts.to_pylist()),
        "guess_rate": np.zeros(len(outcome)),  # write-in answers: nothing to guess from
        "text": texts,
        "sample": np.concatenate([np.arange(n) for n in sizes]) if points else np.array([], np.int32),
    })


def _scalars(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if v is None or isinstance(v, (str, int, float, bool))}


def _meta(runs: list[Run], points: list[Point], sources: Sequence[Path]) -> ImportMeta:
    evals: dict[str, EvalMeta] = {}
    for run in runs:
        ev = evals.setdefault(_eval(run), EvalMeta(model=run.model, template=run.template, sampler=run.sampler,
                                                   eval_id=_eval(run)))
        budget = run.summary.get("max_tokens")
        if isinstance(budget, int) and not isinstance(budget, bool):
            evals[ev.eval_id] = replace(ev, max_tokens=max(budget, ev.max_tokens or 0))
    used = {_eval(p.run) for p in points}
    return ImportMeta(
        evals=tuple(ev for eid, ev in evals.items() if eid in used),
        tasks=tuple(TaskMeta(base_task=t, guess_rate=0.0) for t in sorted({p.task for p in points})),
        source="reasoning-gym-eval: " + ", ".join(map(str, sources)),
        tokens="estimated",
        tokens_method=TOKENS_METHOD,
        details={
            "outcomes": OUTCOME_RULE,
            "runs": [{"dir": str(r.path), "model": r.model, "summary_model": r.summary.get("model"),
                      "provider": r.summary.get("provider"), "sampler": r.sampler, "template": r.template,
                      "completions_per_prompt": r.summary.get("completions_per_prompt"),
                      "partial": bool(r.summary.get("partial")), "task_files": len(r.tasks)} for r in runs],
        },
    )
