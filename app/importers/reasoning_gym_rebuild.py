"""Difficulty coordinates of reasoning-gym questions, rebuilt with reasoning-gym itself.

A reasoning-gym-eval task file stores each question and the generator ``config``, not the values
each question was drawn with. ``reasoning_gym.create_dataset(name, **config)[i]`` regenerates
entry ``i`` offline, and its ``metadata["difficulty"]`` names the difficulty knobs (holding the
config's *ranges*, e.g. ``num_terms: (2, 6)``). An entry's coordinates are, for each knob, the
entry's own realised value of that name in ``metadata`` (``num_terms: 4``), else the knob's value
when it is one fixed scalar (knights_knaves ``n_people: 2``; a range whose ends agree counts as
that value). A knob with neither (only a range, or a realised value that is not one scalar, such as
count_primes' ``n = (start, end)``) gives no coordinate, and the reason is kept.

The adapter trusts a rebuild only where the rebuilt questions equal the stored ones: a generator
whose output depends on something outside the config (polynomial_multiplication's depends on
PYTHONHASHSEED) shows up as a mismatch, never as wrong coordinates.

Rebuilds are cached by (reasoning-gym version, task, config): in this process, and on disk as one
small JSON file each (question digests and coordinates), because some generators are slow
(zebra_puzzles: about 15 s for 50 hard entries).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any, Callable, Mapping

from app.bounds import MAX_NAME_CHARS
from app.engine.schema import canonical_json

PACKAGE = "reasoning-gym"
INSTALL = "pip install reasoning-gym==0.1.25"
DEFAULT_CACHE = Path(".cache") / "reasoning-gym"
CACHE_FORMAT = 1  # bump whenever coordinates() changes what it keeps: cached rebuilds hold its results
LEVEL = "level"  # the run's own param; a knob of that name would clash with it

Scalar = int | float | str | bool


@dataclass(frozen=True)
class Rebuild:
    """Entries 0..n-1 of one (task, config): a digest of each question and its difficulty coordinates."""

    questions: tuple[str, ...] = ()
    coordinates: tuple[dict[str, Scalar], ...] = ()
    unused: Mapping[str, str] = field(default_factory=dict)  # knob -> why it gives no coordinate
    error: str = ""  # why nothing could be rebuilt (unknown task, a config the generator refuses, ...)


def digest(question: str) -> str:
    """What a rebuilt question is compared by (the cache keeps digests, not questions)."""
    return hashlib.sha256(question.encode("utf-8")).hexdigest()[:32]


def _scalar(value: Any) -> Scalar | None:
    """A JSON scalar param value (numpy scalars unwrapped), or None when ``value`` is not one."""
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):
        try:
            value = value.item()  # numpy scalars (np.int64, np.str_) as Python values
        except (TypeError, ValueError):
            return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, (bool, int, float, str)) else None


def _fixed(knob: Any) -> Scalar | None:
    """A knob's value when it is one fixed scalar (a (lo, hi) range with lo == hi is that value)."""
    if isinstance(knob, (list, tuple)) and len(knob) == 2 and knob[0] == knob[1]:
        knob = knob[0]
    return _scalar(knob)


def coordinates(meta: Mapping[str, Any]) -> tuple[dict[str, Scalar], dict[str, str]]:
    """(coordinates, unused knobs with the reason) of one entry's ``metadata``."""
    knobs = meta.get("difficulty")
    if not isinstance(knobs, Mapping):
        return {}, {"difficulty": "the generator's metadata has no 'difficulty' object"}
    coords: dict[str, Scalar] = {}
    unused: dict[str, str] = {}
    for key, knob in knobs.items():
        realised = _scalar(meta[key]) if key in meta else None
        value = realised if realised is not None else _fixed(knob)
        if key == LEVEL:
            unused[key] = "its name clashes with the run's own 'level' param"
        elif isinstance(value, str) and len(value) > MAX_NAME_CHARS:
            unused[key] = f"its value is {len(value)} characters long; a param value may have {MAX_NAME_CHARS}"
        elif value is not None:
            coords[str(key)] = value
        elif key in meta:
            unused[key] = f"the realised value {_short(meta[key])} is not one scalar"
        else:
            unused[key] = f"no realised value in the metadata, and the difficulty {_short(knob)} is a range"
    return coords, unused


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def installed() -> Any | None:
    """The ``reasoning_gym`` module, or None when it is not installed."""
    try:
        import reasoning_gym
    except ImportError:
        return None
    return reasoning_gym


def _version(module: Any) -> str:
    try:
        return package_metadata.version(PACKAGE)
    except package_metadata.PackageNotFoundError:
        return str(getattr(module, "__version__", "unknown"))


_MEMORY: dict[tuple[str, str, str], Rebuild] = {}  # (version, task, config) -> rebuild, for this process


class Rebuilder:
    """Rebuilds (task, config) with reasoning-gym, from memory, the disk cache or the generator."""

    def __init__(self, module: Any, cache_dir: Path | None = DEFAULT_CACHE) -> None:
        self.module = module
        self.version = _version(module)
        self.cache_dir = cache_dir
        self.notes: list[str] = []  # cache trouble worth telling (never a reason to fail an import)

    def cached(self, task: str, config: Mapping[str, Any], n: int) -> Rebuild | None:
        """The rebuild of at least ``n`` entries when memory or the disk cache has it."""
        key = (self.version, task, canonical_json(dict(config)))
        hit = _MEMORY.get(key)
        if hit is None:
            hit = self._load(task, config)
            if hit is not None:
                _MEMORY[key] = hit
        return hit if hit is not None and len(hit.questions) >= n else None

    def rebuild(self, task: str, config: Mapping[str, Any], n: int,
                step: Callable[[], None] = lambda: None) -> Rebuild:
        """Entries 0..n-1 of ``create_dataset(task, **config)``; ``step`` is called after each entry built."""
        hit = self.cached(task, config, n)
        if hit is not None:
            return hit
        result = self._generate(task, config, n, step)
        if not result.error:
            _MEMORY[(self.version, task, canonical_json(dict(config)))] = result
            self._store(task, config, result)
        return result

    def _generate(self, task: str, config: Mapping[str, Any], n: int, step: Callable[[], None]) -> Rebuild:
        try:
            dataset = self.module.create_dataset(task, **config)
            size = len(dataset)
            if size < n:
                return Rebuild(error=f"the config makes {size} entries, the file has {n}")
            questions: list[str] = []
            coords: list[dict[str, Scalar]] = []
            unused: dict[str, str] = {}
            for i in range(n):
                entry = dataset[i]
                questions.append(digest(str(entry["question"])))
                point, why = coordinates(entry.get("metadata") or {})
                coords.append(point)
                for knob, reason in why.items():
                    unused.setdefault(knob, reason)
                step()
        except Exception as exc:  # noqa: BLE001 - third-party generator code may raise anything; reported, never fatal
            return Rebuild(error=f"reasoning-gym could not rebuild it ({type(exc).__name__}: {_one_line(exc)})")
        return Rebuild(questions=tuple(questions), coordinates=tuple(coords),
                       unused={k: v for k, v in unused.items() if not any(k in c for c in coords)})

    # ------------------------------------------------------------------ disk cache
    def _path(self, task: str, config: Mapping[str, Any]) -> Path | None:
        if self.cache_dir is None:
            return None
        key = canonical_json({"format": CACHE_FORMAT, "version": self.version, "task": task, "config": dict(config)})
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in task)[:60]
        return self.cache_dir / f"{safe}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]}.json"

    def _load(self, task: str, config: Mapping[str, Any]) -> Rebuild | None:
        """A cached rebuild; an unreadable or foreign cache file is ignored (and rewritten later)."""
        path = self._path(task, config)
        if path is None or not path.is_file():
            return None
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if (doc.get("format"), doc.get("version"), doc.get("task"), doc.get("config")) != \
                    (CACHE_FORMAT, self.version, task, json.loads(canonical_json(dict(config)))):
                return None
            return Rebuild(questions=tuple(doc["questions"]), coordinates=tuple(doc["coordinates"]),
                           unused=dict(doc["unused"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def _store(self, task: str, config: Mapping[str, Any], result: Rebuild) -> None:
        """Write one cache file atomically; a cache that cannot be written is a note, not a failure."""
        path = self._path(task, config)
        if path is None:
            return
        doc = {"format": CACHE_FORMAT, "version": self.version, "task": task, "config": dict(config),
               "questions": list(result.questions), "coordinates": list(result.coordinates),
               "unused": dict(result.unused)}
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh)
            os.replace(tmp, path)
        except OSError as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            note = f"could not write the reasoning-gym rebuild cache in {self.cache_dir} ({exc.strerror or exc}); " \
                   f"rebuilds are not kept"
            if note not in self.notes:
                self.notes.append(note)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"


__all__ = ["INSTALL", "Rebuild", "Rebuilder", "coordinates", "digest", "installed"]
