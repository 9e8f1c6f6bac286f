"""``--adapter reasoning-gym-eval``: run folders of open-thought/reasoning-gym-eval.

Layout: ``<level>/<provider>_<model>_<YYYYMMDD>_<HHMMSS>/summary.json`` plus one
``<category>/<task>.json`` per task. Identity comes from the run directory name, because
``summary.json``'s ``model`` can be wrong or missing; the folder above the run names the
difficulty level, so the easy and hard runs of one model become one eval with a ``level`` param.
A run folder is one holding ``summary.json`` or named like a run; one without ``summary.json`` is
imported with a note (its sampler settings are unknown, so it is its own eval). Every .json file
found is imported or reported as skipped, with why.

With reasoning-gym installed, each file's questions are rebuilt from its config and, where they
match, each sample also gets its question's real difficulty values as params (see
``reasoning_gym_axes``); without it, ``level`` is the only param and a note says how to install it.

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
from app.engine.integrity import register_eval
from app.engine.meta import EvalMeta, ImportMeta, TaskMeta, ViewMeta
from app.engine.schema import canonical_json, eval_id
from app.importers.base import (
    AdapterOption,
    Context,
    Imported,
    compressed_sizes,
    estimate_tokens,
    load_json,
    sampler_label,
    samples_table,
)
from app.importers.reasoning_gym_axes import axes_and_views, rebuild_all
from app.importers.reasoning_gym_rebuild import DEFAULT_CACHE, INSTALL, Rebuilder, installed

RUN_DIR = re.compile(r"^(?P<name>.+?)_(?P<stamp>\d{8}_\d{6})$")
SUMMARY = "summary.json"
OUTSIDE = ("not inside a run folder (no summary.json above it, and no folder named "
           "<provider>_<model>_<YYYYMMDD>_<HHMMSS>)")
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
    has_summary: bool = True


@dataclass
class Point:
    """One task file read: a (run, task, config) point with its completions."""

    run: Run
    task: str
    config: dict[str, Any]
    source: Path
    level: str = ""
    system_prompt: str | None = None
    answered: list[bool] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    entries: list[int] = field(default_factory=list)  # per completion: its results[] index
    questions: list[str | None] = field(default_factory=list)  # per results[] entry
    coords: list[dict[str, Any]] | None = None  # per results[] entry: real difficulty values, when rebuilt


class ReasoningGymEvalAdapter:
    """``--adapter reasoning-gym-eval``: run folders found under the sources, one eval per model."""

    name = "reasoning-gym-eval"
    help = "reasoning-gym-eval run folders (<level>/<run-dir>/summary.json + <category>/<task>.json)"
    suffixes = (".json",)
    options = (AdapterOption("--rebuild-cache", "rebuild_cache",
                             f"folder keeping reasoning-gym rebuilds between imports (default {DEFAULT_CACHE})",
                             metavar="DIR"),)

    def read(self, sources: Sequence[Path], ctx: Context) -> Imported:
        """Find runs under every source, read all task files, rebuild their axes, then map them to samples."""
        runs, skipped = _discover(sources)
        if not runs:
            raise InputError(f"no reasoning-gym-eval runs (folders with summary.json, or named "
                             f"<provider>_<model>_<YYYYMMDD>_<HHMMSS>) under {', '.join(map(str, sources))}")
        progress = ctx.progress(self.name, sum(len(r.tasks) for r in runs))
        points = []
        for run in runs:
            for path in run.tasks:
                points.append(_read_task(run, path))
                progress.step()
            if not run.has_summary:  # the prompt is in every task file too
                run.template = template_for(next((p.system_prompt for p in points if p.run is run
                                                  and p.system_prompt), None))
        progress.done()
        notes = _assign_levels(points)
        points, superseded = _drop_superseded(points)
        notes += _run_notes(runs)
        axes, views, more = _real_axes(points, ctx)
        notes += more
        used = {id(p.run) for p in points}
        skipped += superseded + [(str(r.path / SUMMARY), "no task file of this run was imported")
                                 for r in runs if r.has_summary and id(r) not in used]
        files = len(points) + sum(r.has_summary and id(r) in used for r in runs)
        return Imported(meta=_meta(runs, points, sources, axes, views), table=_table(points), notes=notes,
                        files=files, skipped=skipped)


ADAPTER = ReasoningGymEvalAdapter()


def _discover(sources: Sequence[Path]) -> tuple[list[Run], list[tuple[str, str]]]:
    """The runs holding the .json files under the sources, and the .json files no run holds (with why).

    A file belongs to the nearest folder above it that holds summary.json or is named like a run
    (``<provider>_<model>_<YYYYMMDD>_<HHMMSS>``); a summary.json given as a source stands for its run.
    """
    found: dict[Path, Path] = {}  # resolved -> as found; a file named twice is read once
    for src in sources:
        if src.is_file() and src.name == SUMMARY:
            src = src.parent
        paths = sorted(p for p in src.rglob("*.json") if p.is_file()) if src.is_dir() else [src]
        for p in paths:
            found.setdefault(p.resolve(), p)
    runs: dict[Path, Run] = {}
    skipped: list[tuple[str, str]] = []
    for path in found.values():
        home = path.parent if path.name == SUMMARY else _run_folder(path)
        if home is None:
            skipped.append((str(path), OUTSIDE))
            continue
        run = runs.get(home.resolve()) or runs.setdefault(home.resolve(), _load_run(home))
        if path.name != SUMMARY:
            run.tasks.append(path)
    return list(runs.values()), skipped


def _run_folder(path: Path) -> Path | None:
    """The nearest folder above ``path`` that holds summary.json or is named like a run."""
    above = list(path.parents)
    if not path.is_absolute():  # a relative path stops at "."; the run may lie above the working folder
        above += list(Path.cwd().parents)
    for folder in above:
        if (folder / SUMMARY).is_file() or RUN_DIR.match(folder.resolve().name):
            return folder
    return None


def _load_run(path: Path) -> Run:
    has_summary = (path / SUMMARY).is_file()
    summary = load_json(path / SUMMARY) if has_summary else {}
    if not isinstance(summary, dict):
        raise InputError(f"{path / SUMMARY}: expected a JSON object")
    model, stamp = model_from_dir(path.resolve().name)
    return Run(path=path, model=model, stamp=stamp, template=template_for(summary.get("system_prompt")),
               sampler=sampler_for(summary), summary=summary, folder=path.resolve().parent.name,
               has_summary=has_summary)


def _run_notes(runs: list[Run]) -> list[str]:
    """What the user should know about each run's identity and completeness."""
    notes = [f"{r.path}: summary.json says model {r.summary.get('model')!r}; using {r.model!r} from the "
             f"directory name" for r in runs if r.has_summary and r.summary.get("model") not in (None, r.model)]
    notes += [f"{r.path}: summary.json has no model; using {r.model!r} from the directory name"
              for r in runs if r.has_summary and r.summary.get("model") is None]
    notes += [f"{r.path}: marked partial; imported the {len(r.tasks)} task file(s) present"
              for r in runs if r.summary.get("partial")]
    for r in runs:
        if r.has_summary:
            continue
        kin = sorted({o.path.name for o in runs if o.has_summary and o.model == r.model})
        notes.append(f"{r.path}: no summary.json; imported its {len(r.tasks)} task file(s) as model {r.model!r} "
                     f"(from the folder name) with sampler 'default' and no token budget, since temperature, "
                     f"top_p and max_tokens are recorded only there" +
                     (f"; so it is an eval of its own, apart from {', '.join(kin)}" if kin else ""))
    return notes


def _real_axes(points: list[Point], ctx: Context) -> tuple[dict[str, tuple[str, ...]], list[ViewMeta], list[str]]:
    """Rebuild every file with reasoning-gym when it is installed; (task -> axes, views, notes)."""
    module = installed()
    if module is None:
        return {}, [], [f"reasoning-gym is not installed, so every task has the 'level' param alone; "
                        f"`{INSTALL}` adds each question's real difficulty values (e.g. basic_arithmetic "
                        f"num_terms x num_digits)"]
    given = ctx.options.get("rebuild_cache")
    rebuilder = Rebuilder(module, Path(given) if given else DEFAULT_CACHE)
    notes = rebuild_all(points, rebuilder, lambda total: ctx.progress(
        "reasoning-gym-eval: rebuilding questions with reasoning-gym", total, unit="entries rebuilt"))
    axes, views, more = axes_and_views(points, ctx.existing)
    done = sum(p.coords is not None for p in points)
    found = "; ".join(f"{task}: {', '.join(keys)}" for task, keys in axes.items())
    summary = [f"reasoning-gym {rebuilder.version} rebuilt the questions of {done} of {len(points)} task file(s) "
               f"exactly; their samples carry the real difficulty values" + (f" ({found})" if found else "")]
    return axes, views, summary + notes + more


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
    prompt = doc.get("system_prompt")
    point = Point(run=run, task=name, config=config, source=path,
                  system_prompt=prompt if isinstance(prompt, str) and prompt.strip() else None)
    for i, result in enumerate(results):
        completions = result.get("completions") if isinstance(result, dict) else None
        if not isinstance(completions, list):
            raise InputError(f"{path}: results[{i}] has no 'completions' list")
        question = result.get("question")
        point.questions.append(question if isinstance(question, str) else None)
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
            point.entries.append(i)
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


def _drop_superseded(points: list[Point]) -> tuple[list[Point], list[tuple[str, str]]]:
    """Two runs giving the same point: the later run (by directory timestamp) wins; the other file is skipped."""
    latest: dict[tuple, Point] = {}
    for p in sorted(points, key=lambda p: (p.run.stamp, str(p.run.path))):
        latest[(_eval(p.run), p.task, p.level)] = p
    winners = {id(p) for p in latest.values()}
    skipped = [(str(p.source), f"superseded by the later run {latest[(_eval(p.run), p.task, p.level)].run.path} "
                               f"({len(p.texts)} completion(s) not imported)") for p in points if id(p) not in winners]
    return [p for p in points if id(p) in winners], skipped


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
        "params": [canonical_json({"level": p.level, **(p.coords[i] if p.coords is not None else {})})
                   for p in points for i in p.entries],
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


def _meta(runs: list[Run], points: list[Point], sources: Sequence[Path], axes: dict[str, tuple[str, ...]],
          views: list[ViewMeta]) -> ImportMeta:
    evals: dict[str, EvalMeta] = {}
    for run in runs:
        ev = register_eval(evals, EvalMeta(model=run.model, template=run.template, sampler=run.sampler,
                                           eval_id=_eval(run)), str(run.path))
        budget = run.summary.get("max_tokens")
        if isinstance(budget, int) and not isinstance(budget, bool):
            evals[ev.eval_id] = replace(ev, max_tokens=max(budget, ev.max_tokens or 0))
    used = {_eval(p.run) for p in points}
    return ImportMeta(
        evals=tuple(ev for eid, ev in evals.items() if eid in used),
        tasks=tuple(TaskMeta(base_task=t, guess_rate=0.0, params=("level", *axes.get(t, ())))
                    for t in sorted({p.task for p in points})),
        views=tuple(views),
        source="reasoning-gym-eval: " + ", ".join(map(str, sources)),
        tokens="estimated",
        tokens_method=TOKENS_METHOD,
        details={
            "outcomes": OUTCOME_RULE,
            "runs": [{"dir": str(r.path), "model": r.model, "summary_model": r.summary.get("model"),
                      "provider": r.summary.get("provider"), "sampler": r.sampler, "template": r.template,
                      "completions_per_prompt": r.summary.get("completions_per_prompt"),
                      "partial": bool(r.summary.get("partial")), "task_files": len(r.tasks),
                      "summary": r.has_summary} for r in runs],
        },
    )
