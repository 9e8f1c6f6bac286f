"""Where lm-evaluation-harness puts its output, and how to read it: the file layer of ``--adapter lm-eval``.

``lm_eval run --log_samples --output_path DIR`` writes ``DIR/<model>/results_<date>.json`` and, per
task, ``samples_<task>_<date>.jsonl`` with the same ``<date>`` (``datetime.isoformat()`` with ``:``
turned into ``-``): the date pairs a samples file with the results file that holds its model and
task settings. Releases of mid-2024 wrote ``samples_<task>_<date>.json`` as one JSON array instead;
:func:`records` tells the two apart by content. What the records *mean* is ``app.importers.lm_eval``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from app.engine.errors import InputError, json_reason
from app.importers.base import load_json

DATE = r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?"   # datetime.isoformat() with ":" -> "-"
RESULTS_FILE = re.compile(rf"^results_(?P<date>{DATE})\.json$")
SAMPLES_FILE = re.compile(rf"^samples_(?P<task>.+)_(?P<date>{DATE})\.jsonl?$")
SKIP_REASON = "not an lm-eval results_<date>.json or samples_<task>_<date>.json[l] file"


@dataclass
class Run:
    """One ``results_<date>.json`` and what it says about its tasks."""

    path: Path
    date: str            # the file name's <date>, shared with its samples files
    started: float       # ``date`` inside the file (unix time): the later run wins a point
    doc: dict[str, Any]
    samples: dict[str, Path] = field(default_factory=dict)   # task -> samples file

    def config(self, task: str) -> dict[str, Any]:
        value = self.doc["configs"].get(task)
        return value if isinstance(value, dict) else {}


def find_runs(sources: Sequence[Path]) -> tuple[list[Run], list[tuple[str, str]], list[str]]:
    """Runs (results files with their samples files), skipped files with why, and tasks without samples.

    A folder brings every run under it; a results file its run; a samples file named on its own
    brings its run with that task only. Other ``.json``/``.jsonl`` files are skipped and named.
    """
    results: dict[Path, Path] = {}        # resolved -> as given
    whole: set[Path] = set()              # runs found as results files: every task
    only: dict[Path, set[str]] = {}       # runs reached through single samples files: those tasks only
    samples: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for src in sources:
        files = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
        for path in files:
            if RESULTS_FILE.match(path.name):
                results[path.resolve()] = path
                whole.add(path.resolve())
                if not src.is_dir():   # a results file named on its own: its samples files are beside it
                    samples += _samples_beside(path)
            elif SAMPLES_FILE.match(path.name):
                samples.append(path)
                beside = _results_beside(path)
                if not src.is_dir() and beside is not None:
                    only.setdefault(beside.resolve(), set()).add(_samples_match(path)["task"])
                    results.setdefault(beside.resolve(), beside)
            elif path.suffix.lower() in (".json", ".jsonl"):
                skipped.append((str(path), SKIP_REASON))
    runs = {key: _load_run(path) for key, path in sorted(results.items(), key=lambda kv: str(kv[1]))}
    for path in dict.fromkeys(samples):
        task, beside = _samples_match(path)["task"], _results_beside(path)
        run = runs.get(beside.resolve()) if beside is not None else None
        if run is None:
            skipped.append((str(path), f"no results_{_samples_match(path)['date']}.json beside it: the model "
                                       "and the task settings are recorded only there"))
        elif task not in run.doc["configs"]:
            skipped.append((str(path), f"task {task!r} is not in the configs of {run.path.name}"))
        elif run.path.resolve() in whole or task in only.get(run.path.resolve(), set()):
            run.samples.setdefault(task, path)
    rejected: list[str] = []
    for key, run in runs.items():
        if not run.samples:
            skipped.append((str(run.path), "no samples_<task>_<date>.jsonl beside it (was lm_eval run with "
                                           "--log_samples?)"))
        elif key in whole:
            rejected += [f"{run.path}: task {task!r} has no samples file (samples_{task}_{run.date}.jsonl), so its "
                         "results are not imported" for task in sorted(run.doc["configs"]) if task not in run.samples]
    return list(runs.values()), skipped, rejected


def _samples_match(path: Path) -> re.Match:
    m = SAMPLES_FILE.match(path.name)
    assert m is not None
    return m


def _samples_beside(results: Path) -> list[Path]:
    """The samples files of the run ``results`` records: same folder, same ``<date>``."""
    m = RESULTS_FILE.match(results.name)
    date = m["date"] if m else None
    return sorted(p for p in results.parent.glob("samples_*.json*")
                  if (s := SAMPLES_FILE.match(p.name)) and s["date"] == date and p.is_file())


def _results_beside(path: Path) -> Path | None:
    beside = path.with_name(f"results_{_samples_match(path)['date']}.json")
    return beside if beside.is_file() else None


def _load_run(path: Path) -> Run:
    doc = load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("configs"), dict):
        raise InputError(f"{path}: not an lm-eval results file (no 'configs' object)")
    m = RESULTS_FILE.match(path.name)
    assert m is not None
    started = doc.get("date")
    return Run(path=path, date=m["date"], started=float(started) if isinstance(started, (int, float)) else 0.0,
               doc=doc)


def records(path: Path) -> Iterator[tuple[str, str, Any]]:
    """(where, place, record) of a samples file: JSONL lines, or the items of the older one-array layout.

    ``where`` prefixes an error (``path:12``), ``place`` names the record in a sentence (``line 12``).
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if head.startswith(b"["):
        items = load_json(path)
        if not isinstance(items, list):
            raise InputError(f"{path}: expected a JSON array of samples")
        for i, item in enumerate(items):
            yield f"{path}: item {i}", f"item {i}", item
        return
    with path.open("r", encoding="utf-8-sig", errors="strict") as fh:
        line_no = 0
        try:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    yield f"{path}:{line_no}", f"line {line_no}", json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{line_no}: not valid JSON "
                                     f"({json_reason(exc, f'column {exc.colno}')})") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}:{line_no + 1}: not UTF-8 text ({exc.reason})") from None


__all__ = ["RESULTS_FILE", "Run", "SAMPLES_FILE", "SKIP_REASON", "find_runs", "records"]
