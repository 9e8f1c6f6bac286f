"""``--adapter inspect``: Inspect AI evaluation logs (``.eval`` and ``.json``), files or folders.

Logs are read only through inspect-ai's own log API (``read_eval_log``, ``list_eval_logs``): its
maintainers keep that stable while the files change (``.eval`` ZIP members are Zstandard since
0.3.206, deflate before). inspect-ai is heavy, so it is optional: imported when an import runs,
and without it the import stops with one line saying how to install it. The module is not called
``inspect`` so it can never shadow the standard library's.

One log is one task run by one model under one solver plan and one generate config:

- model = ``eval.model``; template = the solver plan, its step names plus a hash of their params
  (``system_message+generate-1a2b3c``), so two prompt variants are two evals; sampler = a readable
  label of the effective generate config ``{**eval.model_generate_config, **plan.config}``
  (``t0.7-p0.95-max64-seed7``), whose ``max_tokens`` is the eval's budget;
- base_task = ``eval.task`` without a package prefix; params = the scalar values of the sample's
  ``metadata`` plus the task's scalar ``task_args`` (metadata wins a name clash); ``--params`` keeps
  only the keys it names, and every key left out is named in a note;
- outcome from one scorer (``--scorer a,b``: the first of these the log has; default its first):
  ``C`` correct, ``I`` incorrect,
  ``P`` incorrect (partial credit, counted in a note), ``N`` invalid; a number or boolean 1 is
  correct, 0 incorrect, strictly between them incorrect (partial credit); a stop at ``max_tokens``
  or ``model_length`` is truncated whatever the score; a sample with an ``error``, or without a
  score (none recorded, or NaN: inspect's "unscored"), is rejected and listed with its reason;
- completion_tokens = ``output.usage.output_tokens`` (exact); text = ``output.completion``; every
  epoch is a sample, numbered at its point in reading order (the ``sample`` column); guess_rate =
  1/k for a sample with k ``choices`` (multiple choice), else 0.

Two logs of the same eval, task and task args (an eval-set retry, a re-run) would count their
samples twice: the complete one wins over an incomplete one, then the later one, and the other is
listed as skipped, with the log that superseded it.
"""

from __future__ import annotations

import hashlib
import json
import math
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import unquote, urlparse

from app.engine.errors import InputError, listing
from app.engine.integrity import register_eval
from app.engine.meta import EvalMeta, ImportMeta, TaskMeta
from app.engine.schema import canonical_json, eval_id
from app.importers.base import (
    AdapterOption,
    Context,
    Imported,
    compressed_sizes,
    option_names,
    sampler_label,
    samples_table,
)

NAME = "inspect"
SUFFIXES = (".eval", ".json")
INSTALL = "pip install inspect-ai"
# Sample fields the import never reads: skipping them keeps a large .eval log cheap to read.
EXCLUDED_FIELDS = frozenset({"messages", "events", "store", "attachments"})
TRUNCATING_STOPS = frozenset({"max_tokens", "model_length"})
LETTERS = {"C": "correct", "I": "incorrect", "P": "incorrect", "N": "invalid"}
# Generate settings named in the sampler label, with their prefix (temperature and top_p come first,
# as every adapter writes them); any other setting that can change what the model writes adds a hash.
READABLE = (("top_k", "k"), ("max_tokens", "max"), ("seed", "seed"), ("reasoning_effort", "reasoning-"),
            ("reasoning_tokens", "reasoning"), ("effort", "effort-"))
# Settings that cannot change what the model writes (retries, time-outs, caching, transport).
OPERATIONAL = frozenset({"max_retries", "timeout", "attempt_timeout", "stream_idle_timeout", "max_connections",
                         "adaptive_connections", "cache", "cache_prompt", "batch", "extra_headers", "logprobs",
                         "top_logprobs", "prompt_logprobs"})
# A param with more distinct values than this, and more than half as many as its task has samples,
# names samples rather than a difficulty (each point would hold about one sample): a note says so.
IDENTIFIER_MIN_VALUES = 10
OUTCOME_RULE = ("first scorer unless --scorer: C correct, I incorrect, P incorrect (partial credit), N invalid; "
                "1/true correct, 0/false incorrect, between 0 and 1 incorrect (partial credit); stop_reason "
                "max_tokens or model_length -> truncated whatever the score; error or no score -> rejected")


class InspectAdapter:
    """``--adapter inspect``: every log under the sources, read with inspect-ai's own reader."""

    name = NAME
    help = "Inspect AI logs (.eval or .json), files or folders; needs the optional package inspect-ai"
    suffixes = SUFFIXES
    options = (
        AdapterOption("--scorer", "scorer", "the scorer that decides outcomes; with several names, the first a "
                      "log has (default: each log's first scorer)", "NAME,..."),
        AdapterOption("--params", "params", "comma-separated keys kept as params: sample metadata or task args "
                      "(default: every scalar one)", "KEY,..."),
    )

    def read(self, sources: Sequence[Path], ctx: Context) -> Imported:
        """Find the logs, keep one per (eval, task, task args), map every sample, then build the table."""
        api = log_api()
        choice = Choice.from_options(ctx.options)
        files, skipped = find_logs(sources, api)
        if not files:
            raise InputError(f"no Inspect logs (.eval, or .json named <timestamp>_<task>_<id>.json) under "
                             f"{', '.join(map(str, sources))}")
        headers = [(path, read_header(api, path)) for path in files]
        kept, superseded = latest_logs(headers)
        acc = Accumulator(choice)
        empty: list[tuple[str, str]] = []
        progress = ctx.progress(self.name, len(kept))
        for path, header in kept:
            samples = read_samples(api, path)
            if samples:
                acc.add_log(path, header, samples)
            else:
                empty.append((str(path), "the log holds no samples (was it written with --no-log-samples?)"))
            progress.step()
        progress.done()
        imported = acc.result(ctx, sources, files=len(kept) - len(empty))
        imported.skipped = [(str(p), "not named like an Inspect log (<timestamp>_<task>_<id>.json); give the file "
                             "itself to read it") for p in skipped] + superseded + empty
        return imported


ADAPTER = InspectAdapter()


# --------------------------------------------------------------------------- inspect-ai, optional

def log_api() -> Any:
    """``inspect_ai.log``, or an InputError saying how to install it (it is an optional dependency)."""
    try:
        import importlib

        importlib.import_module("inspect_ai")
        return importlib.import_module("inspect_ai.log")
    except ImportError:
        raise InputError(f"--adapter {NAME} reads logs with the optional package inspect-ai, which is not "
                         f"installed; install it with: {INSTALL}") from None


def find_logs(sources: Sequence[Path], api: Any) -> tuple[list[Path], list[Path]]:
    """(logs to read, .json files skipped): files given as is, folders listed as inspect-ai lists log dirs.

    inspect-ai treats every ``.eval`` file in a folder as a log, and a ``.json`` file only when it is
    named ``<timestamp>_<task>_<id>.json`` (a log dir also holds e.g. ``logs.json``); the other
    ``.json`` files are returned as skipped, for a note.
    """
    logs: dict[Path, Path] = {}
    skipped: list[Path] = []
    for src in sources:
        if not src.is_dir():
            if src.suffix.lower() not in SUFFIXES:
                raise InputError(f"{src}: not an Inspect log (expected a .eval or .json file, or a folder of them)")
            logs.setdefault(src.resolve(), src)
            continue
        present = {p.resolve(): p for p in sorted(src.rglob("*")) if p.is_file() and p.suffix.lower() in SUFFIXES}
        try:
            listed = {Path(unquote(urlparse(info.name).path)).resolve() for info in
                      api.list_eval_logs(str(src), recursive=True)}
        except Exception as exc:  # the listing is inspect-ai's; any failure there is an unreadable folder
            raise InputError(f"{src}: cannot list Inspect logs ({_first_line(exc)})") from None
        for resolved, path in present.items():
            if resolved in listed:
                logs.setdefault(resolved, path)
            else:
                skipped.append(path)
    return sorted(logs.values(), key=str), skipped


def read_header(api: Any, path: Path) -> Any:
    """The log without its samples; an unreadable file is an InputError naming it."""
    try:
        return api.read_eval_log(str(path), header_only=True)
    except Exception as exc:  # inspect-ai raises many kinds (ValueError, ValidationError, OSError, ...)
        raise unreadable(path, exc) from None


def read_samples(api: Any, path: Path) -> list[Any]:
    """Every sample of a log (every epoch), without the fields the import never reads.

    One ``read_eval_log`` per file rather than ``read_eval_log_samples``: the latter opens the ZIP
    again for each sample, 4.5 to 6 times slower (a 2,000-sample .eval log: 10.5 s against 2.3 s).
    """
    try:
        log = api.read_eval_log(str(path), exclude_fields=set(EXCLUDED_FIELDS))
    except Exception as exc:
        raise unreadable(path, exc) from None
    return list(log.samples or [])


def unreadable(path: Path, exc: BaseException) -> InputError:
    """One line saying why inspect-ai could not read ``path``."""
    if isinstance(exc, OSError):
        return InputError(f"{path}: cannot read ({exc.strerror or exc})")
    if path.suffix.lower() == ".eval" and not zipfile.is_zipfile(path):
        reason = "not a complete ZIP archive, which an .eval log is; was it cut short?"
    else:
        inner = exc.__cause__ or exc  # inspect-ai often wraps the parser's own error
        errors = getattr(inner, "errors", None)  # pydantic: name the first field that does not fit
        first = errors()[0] if callable(errors) and errors() else None
        reason = (f"{'.'.join(map(str, first['loc'])) or 'log'}: {first['msg']}" if isinstance(first, dict)
                  else _first_line(inner))
    return InputError(f"{path}: not a readable Inspect log: {reason}")


def _first_line(exc: BaseException) -> str:
    return _one_line(str(exc)) or type(exc).__name__


def _one_line(text: str) -> str:
    """The first non-empty line of ``text``, at most 200 characters: messages stay one line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


# --------------------------------------------------------------------------- identity

def base_task(task: str) -> str:
    """``inspect_evals/gsm8k`` -> ``gsm8k``: the registry name without its package."""
    return task.rsplit("/", 1)[-1]


def template_label(plan: Any) -> str:
    """The solver plan as ``step+step-<hash6 of the steps and their params>``; ``default`` for no steps."""
    steps = list(plan.steps) + ([plan.finish] if plan.finish is not None else [])
    if not steps:
        return "default"
    names = "+".join(base_task(step.solver) for step in steps)
    spelled = json.dumps([[step.solver, step.params] for step in steps], sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False, default=str)
    return f"{names}-{hashlib.sha256(spelled.encode('utf-8')).hexdigest()[:6]}"


def generate_config(header: Any) -> dict[str, Any]:
    """The effective generate config of a log: the model's, overridden by the plan's."""
    return {**header.eval.model_generate_config.model_dump(exclude_none=True),
            **header.plan.config.model_dump(exclude_none=True)}


def sampler_for(config: Mapping[str, Any]) -> str:
    """``t0.7-p0.95-max64-seed7``: the settings that shape sampling, readable; others as ``cfg<hash6>``."""
    parts = [] if sampler_label(config.get("temperature"), config.get("top_p")) == "default" \
        else [sampler_label(config.get("temperature"), config.get("top_p"))]
    for key, prefix in READABLE:
        value = config.get(key)
        if value is not None:
            parts.append(f"{prefix}{value:g}" if isinstance(value, float) else f"{prefix}{value}")
    named = {"temperature", "top_p", *(key for key, _ in READABLE)}
    other = {k: v for k, v in config.items() if k not in named and k not in OPERATIONAL}
    if other:
        spelled = json.dumps(other, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        parts.append("cfg" + hashlib.sha256(spelled.encode("utf-8")).hexdigest()[:6])
    return "-".join(parts) or "default"


def latest_logs(headers: list[tuple[Path, Any]]) -> tuple[list[tuple[Path, Any]], list[tuple[str, str]]]:
    """One log per (eval, task, task args): complete before incomplete, then the later; the rest as (file, why)."""
    best: dict[str, tuple[Path, Any]] = {}
    order = sorted(headers, key=lambda ph: (ph[1].status == "success", str(ph[1].eval.created), str(ph[0])))
    for path, header in order:
        best[_log_key(header)] = (path, header)
    winners = {id(h) for _, h in best.values()}
    left_out = [(str(path), f"{_expected(header)} sample(s) superseded by {best[_log_key(header)][0]} (same model, "
                            f"plan, config, task and task args)")
                for path, header in headers if id(header) not in winners]
    return [(p, h) for p, h in headers if id(h) in winners], left_out


def _log_key(header: Any) -> str:
    spec = header.eval
    return canonical_json([spec.model, template_label(header.plan), sampler_for(generate_config(header)),
                           base_task(spec.task), json.loads(json.dumps(spec.task_args, default=str))])


def _expected(header: Any) -> str:
    ids = header.eval.dataset.sample_ids
    return str(len(ids) * (header.eval.config.epochs or 1)) if ids is not None else "all"


# --------------------------------------------------------------------------- outcomes and params

def outcome(value: Any) -> tuple[str | None, bool]:
    """(outcome, partial credit) of a score value; outcome None for NaN, inspect's "unscored".

    Anything else a score can hold (a dict, a list, another letter, a number outside 0..1) has no
    outcome: a ValueError the caller turns into one message naming the log and the sample.
    """
    if isinstance(value, str) and value in LETTERS:
        return LETTERS[value], value == "P"
    if isinstance(value, bool):
        return ("correct" if value else "incorrect"), False
    if isinstance(value, (int, float)):
        if math.isnan(value):
            return None, False
        if value == 1:
            return "correct", False
        if 0 <= value < 1:
            return "incorrect", value > 0
    raise ValueError(json.dumps(value, default=str)[:80])


def scalar(value: Any) -> bool:
    """A value a param may take: text, a boolean or a finite number."""
    return isinstance(value, (str, bool, int)) or (isinstance(value, float) and math.isfinite(value))


@dataclass(frozen=True)
class Choice:
    """What the user chose with ``--scorer`` and ``--params`` (None: the defaults)."""

    scorers: tuple[str, ...] | None = None  # in order of preference
    params: tuple[str, ...] | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> "Choice":
        return cls(scorers=option_names(options.get("scorer"), "--scorer", "grade,match"),
                   params=option_names(options.get("params"), "--params", "num_terms,num_digits"))


@dataclass
class TaskSeen:
    """What the samples of one task showed: values per param, sample ids, guess rates."""

    values: dict[str, set[str]] = field(default_factory=dict)  # param -> canonical values
    ids: set[str] = field(default_factory=set)
    rates: Counter = field(default_factory=Counter)


class Accumulator:
    """Columns of the mapped samples plus everything the notes and the metadata need."""

    def __init__(self, choice: Choice) -> None:
        self.choice = choice
        self.cols: dict[str, list[Any]] = {k: [] for k in ("eval_id", "base_task", "params", "outcome",
                                                         "completion_tokens", "text", "guess_rate", "sample")}
        self.at_point: Counter = Counter()  # completions numbered so far at each (eval, task, params)
        self.evals: dict[str, EvalMeta] = {}
        self.tasks: dict[str, TaskSeen] = {}
        self.rejected: list[str] = []
        self.notes: list[str] = []
        self.scorers: Counter = Counter()  # scorer used -> logs
        self.partial = 0
        self.truncated_scored = 0
        self.no_usage = 0
        self.not_scalar: set[str] = set()
        self.left_out: set[str] = set()
        self.wanted_found: set[str] = set()
        self.candidates: set[str] = set()
        self.logs: list[dict[str, Any]] = []

    def add_log(self, path: Path, header: Any, samples: list[Any]) -> None:
        """Map every sample of one log; a scorer that does not exist or cannot be mapped stops the import."""
        spec = header.eval
        config = generate_config(header)
        template, sampler = template_label(header.plan), sampler_for(config)
        eid = eval_id(spec.model, template, sampler)
        budget = config.get("max_tokens")
        register_eval(self.evals, EvalMeta(model=spec.model, template=template, sampler=sampler, eval_id=eid,
                                           max_tokens=budget if isinstance(budget, int) else None), str(path))
        task = base_task(spec.task)
        scorer = self._scorer(path, samples)
        task_args = self._params(spec.task_args)
        before = len(self.rejected)
        for sample in samples:
            self._add_sample(path, eid, task, scorer, task_args, sample)
        if header.status != "success":
            self.notes.append(f"{path}: log status {header.status!r}; imported the {len(samples)} sample(s) it "
                              f"holds of {_expected(header)}")
        self.logs.append({"file": str(path), "task": task, "eval_id": eid, "scorer": scorer, "status": header.status,
                          "samples": len(samples), "rejected": len(self.rejected) - before})

    def _scorer(self, path: Path, samples: list[Any]) -> str | None:
        """The scorer that decides outcomes in this log: the first ``--scorer`` name it has, else its first."""
        names = list(dict.fromkeys(k for s in samples for k in (s.scores or {})))
        wanted = self.choice.scorers
        if wanted is not None and not set(wanted) & set(names):
            raise InputError(f"{path}: no scorer named {listing(wanted)}; this log's scorers: {listing(names)}")
        chosen = next(n for n in wanted if n in names) if wanted is not None else (names[0] if names else None)
        if chosen is not None:
            self.scorers[chosen] += 1
        return chosen

    def _params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The scalar values kept as params; every other key is remembered for a note."""
        kept = {}
        for key, value in values.items():
            if not scalar(value):
                if value is not None:
                    self.not_scalar.add(key)
                continue
            self.candidates.add(key)
            if self.choice.params is not None and key not in self.choice.params:
                self.left_out.add(key)
                continue
            self.wanted_found.add(key)
            kept[key] = value
        return kept

    def _add_sample(self, path: Path, eid: str, task: str, scorer: str | None, task_args: dict[str, Any],
                    sample: Any) -> None:
        where = f"{path}: sample {sample.id} epoch {sample.epoch}"
        if sample.error is not None:
            self.rejected.append(f"{where}: error: {_one_line(sample.error.message) or 'no message'}")
            return
        output = sample.output
        stop = output.choices[0].stop_reason if output.choices else None
        score = (sample.scores or {}).get(scorer) if scorer is not None else None
        result: str | None
        if stop in TRUNCATING_STOPS:
            result = "truncated"
            self.truncated_scored += score is not None
        elif score is None:
            self.rejected.append(f"{where}: no score" + (f" from scorer {scorer!r}" if scorer else ""))
            return
        else:
            try:
                result, partial = outcome(score.value)
            except ValueError as exc:
                raise InputError(f"{where}: scorer {scorer!r} gave {exc}, which has no outcome (valid: C, I, P, N, "
                                 f"true/false, numbers 0..1); choose another with --scorer") from None
            if result is None:
                self.rejected.append(f"{where}: scorer {scorer!r} left it unscored (NaN)")
                return
            self.partial += partial
        params = {**task_args, **self._params(sample.metadata or {})}
        seen = self.tasks.setdefault(task, TaskSeen())
        for key, value in params.items():
            seen.values.setdefault(key, set()).add(canonical_json(value))
        seen.ids.add(str(sample.id))
        rate = 1 / len(sample.choices) if sample.choices else 0.0
        seen.rates[rate] += 1
        usage = output.usage
        self.no_usage += usage is None
        point = (eid, task, canonical_json(params))
        for key, value in (("eval_id", eid), ("base_task", task), ("params", point[2]), ("outcome", result),
                           ("completion_tokens", None if usage is None else usage.output_tokens),
                           ("text", output.completion), ("guess_rate", rate), ("sample", self.at_point[point])):
            self.cols[key].append(value)
        self.at_point[point] += 1

    def result(self, ctx: Context, sources: Sequence[Path], files: int) -> Imported:
        """The samples table, the metadata, and the notes that explain the mapping."""
        missing = sorted(set(self.choice.params or ()) - self.wanted_found)
        if missing:
            raise InputError(f"--params: no scalar sample metadata or task arg named {listing(missing)}; "
                             f"candidates: {listing(sorted(self.candidates))}")
        if not self.cols["eval_id"]:
            raise InputError(f"no sample could be imported from {listing(map(str, sources))}: "
                             f"{len(self.rejected)} rejected, the first: {self.rejected[0] if self.rejected else '-'}")
        cols: dict[str, Any] = dict(self.cols)
        cols["compressed_bytes"] = compressed_sizes(cols["text"])
        tasks = []
        for task, seen in sorted(self.tasks.items()):
            known = ctx.task_guess_rate(task)
            rate = known if known is not None else seen.rates.most_common(1)[0][0]
            tasks.append(TaskMeta(base_task=task, guess_rate=rate, params=tuple(seen.values)))
            self._identifiers(task, seen)
        # No views here: the store proposes one per pair of varying params, the same for every adapter.
        meta = ImportMeta(evals=tuple(self.evals[e] for e in dict.fromkeys(self.cols["eval_id"])),
                          tasks=tuple(tasks), source=f"{NAME}: " + ", ".join(map(str, sources)),
                          tokens="exact" if any(t is not None for t in self.cols["completion_tokens"]) else None,
                          details={"outcomes": OUTCOME_RULE, "logs": self.logs})
        return Imported(meta=meta, table=samples_table(cols), rejected=self.rejected, notes=self._notes(),
                        files=files)

    def _identifiers(self, task: str, seen: TaskSeen) -> None:
        """A note for each param that names samples rather than a difficulty: every point would hold ~1 sample."""
        for key, values in seen.values.items():
            if len(values) > max(IDENTIFIER_MIN_VALUES, len(seen.ids) / 2):
                self.notes.append(f"{task}: params.{key} has {len(values)} values over {len(seen.ids)} sample(s), "
                                  f"so it names samples rather than a difficulty; leave it out with --params")

    def _notes(self) -> list[str]:
        notes = list(self.notes)
        if self.scorers:
            notes.append("outcomes from scorer " + ", ".join(f"{name!r} ({n} log{'s' if n > 1 else ''})"
                                                             for name, n in sorted(self.scorers.items(),
                                                                                   key=lambda kv: (-kv[1], kv[0]))))
        if self.partial:
            notes.append(f"{self.partial} sample(s) scored partial credit (P, or a number between 0 and 1) were "
                         f"counted as incorrect")
        if self.truncated_scored:
            notes.append(f"{self.truncated_scored} sample(s) stopped at max_tokens or model_length: counted as "
                         f"truncated whatever their score")
        if self.not_scalar:
            notes.append("dropped sample metadata / task args that are not scalars: "
                         + listing(sorted(self.not_scalar)))
        if self.left_out:
            notes.append(f"left out by --params: {listing(sorted(self.left_out))}")
        if self.no_usage:
            notes.append(f"{self.no_usage} sample(s) have no token usage in their output: completion_tokens left empty")
        return notes


__all__ = ["ADAPTER", "Choice", "InspectAdapter", "outcome", "sampler_for", "template_label"]
