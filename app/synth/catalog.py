"""What the synthetic world contains: tasks with their difficulty knobs, and evals.

Everything here is fixed design (independent of the random seed), so eval ids,
task names and planted features are stable and the truth file can name them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCALES: tuple[str, ...] = ("demo", "r12")
SAMPLES_PER_POINT: dict[str, int] = {"demo": 64, "r12": 128}
# Manifold tiers by combined difficulty: name and the token budget the tier targets.
TIERS: tuple[tuple[str, int], ...] = (("easy", 2048), ("medium", 4096), ("hard", 8192))


@dataclass(frozen=True)
class Param:
    """One difficulty knob: an arithmetic progression, denser at r12 scale."""

    name: str
    start: int
    step: int
    n_demo: int
    n_r12: int
    weight: float = 1.0

    def values(self, scale: str) -> list[int]:
        n = self.n_demo if scale == "demo" else self.n_r12
        return [self.start + i * self.step for i in range(n)]


@dataclass(frozen=True)
class TaskSpec:
    """A task family: its knobs, its chance level and its typical answer length."""

    name: str
    label: str
    guess_rate: float
    base_tokens: float
    params: tuple[Param, ...]


TASKS: tuple[TaskSpec, ...] = (
    TaskSpec("arithmetic", "Arithmetic", 0.0, 500, (Param("length", 2, 2, 8, 11), Param("depth", 1, 1, 6, 8))),
    TaskSpec("boolean", "Boolean logic (true/false)", 0.5, 350,
             (Param("variables", 2, 1, 7, 10), Param("depth", 1, 1, 6, 9))),
    TaskSpec("brackets", "Bracket matching", 0.0, 450, (Param("length", 8, 8, 8, 11), Param("kinds", 1, 1, 4, 8))),
    TaskSpec("cipher", "Cipher decoding", 0.0, 700,
             (Param("key_len", 1, 1, 4, 5), Param("msg_len", 8, 8, 4, 6), Param("rounds", 1, 1, 2, 3, 0.5))),
    TaskSpec("counting", "Object counting", 0.0, 300,
             (Param("items", 8, 8, 6, 9), Param("distractors", 0, 2, 7, 10))),
    TaskSpec("dates", "Date arithmetic", 0.0, 550,
             (Param("steps", 1, 1, 6, 6), Param("span", 30, 60, 5, 5), Param("tz_shifts", 0, 1, 2, 3, 0.5))),
    TaskSpec("letters", "Letter counting", 0.0, 250, (Param("word_len", 4, 2, 9, 11), Param("target", 1, 1, 5, 8))),
    TaskSpec("logic_grid", "Logic grid (4 choices)", 0.25, 1200,
             (Param("people", 3, 1, 4, 5), Param("attributes", 2, 1, 3, 3), Param("red_herrings", 0, 2, 3, 6, 0.5))),
    TaskSpec("planning", "Block planning", 0.0, 1100,
             (Param("blocks", 3, 1, 7, 10), Param("goal_depth", 1, 1, 6, 9))),
    TaskSpec("sequence", "Sequence completion", 0.0, 650, (Param("terms", 4, 1, 7, 9), Param("order", 1, 1, 5, 10))),
    TaskSpec("shapes", "Shape geometry", 0.0, 800, (Param("vertices", 3, 1, 6, 9), Param("ops", 1, 1, 6, 10))),
    TaskSpec("sorting", "List sorting", 0.0, 600, (Param("count", 4, 4, 8, 11), Param("length", 3, 2, 5, 8))),
)
TASK_NAMES: tuple[str, ...] = tuple(t.name for t in TASKS)
TASK_INDEX: dict[str, int] = {name: i for i, name in enumerate(TASK_NAMES)}


@dataclass(frozen=True)
class EvalSpec:
    """How one (model, template, sampler) behaves.

    ``skill`` is the target mean guess-corrected accuracy per task (TASKS order),
    before truncation; ``spread`` is the drop from the easiest to the hardest
    point and ``shape`` bends it (1 linear, 2 a plateau then a fall).
    """

    model: str
    template: str
    sampler: str
    max_tokens: int
    groups: tuple[str, ...]
    skill: tuple[float, ...]
    spread: float = 0.45
    shape: float = 1.0
    trunc: float = 0.01
    verbosity: float = 1.0
    invalid_share: float = 0.15
    entropy: float = 1.0
    top: float = 0.99
    role: str = "mixed"

    @property
    def label(self) -> str:
        return f"{self.model} ({self.template}, {self.sampler})"


def mixed_skill(center: float, half: float, order: int) -> tuple[float, ...]:
    """Evenly spread per-task skills in a fixed shuffled order: std ≈ 0.63·half.

    Keeps "mixed" evals clear of the archetype rules: wide enough not to be a
    generalist, capped below the specialist's 0.8.
    """
    levels = np.linspace(center - half, center + half, len(TASKS))
    return tuple(float(v) for v in levels[np.random.default_rng(order).permutation(len(TASKS))])


def _specialist(strong: tuple[str, ...], high: float, low: tuple[float, ...]) -> tuple[float, ...]:
    lows = iter(low)
    return tuple(high if name in strong else next(lows) for name in TASK_NAMES)


def _groups(arch: str, size: str, family: str) -> tuple[str, ...]:
    return (f"arch:{arch}", f"size:{size}", f"family:{family}")


# The demo's evals; the r12 scale keeps them (same ids) and adds EXTRA_COUNT more.
DEMO_EVALS: tuple[EvalSpec, ...] = (
    EvalSpec("aurora-7b", "zeroshot-cot", "greedy-4k", 4096, _groups("dense", "small", "aurora"),
             mixed_skill(0.58, 0.12, 1), trunc=0.25, verbosity=1.35, role="truncation_victim"),
    EvalSpec("aurora-7b", "zeroshot-cot", "temp0.6-8k", 8192, _groups("dense", "small", "aurora"),
             mixed_skill(0.45, 0.26, 2), trunc=0.02, invalid_share=0.25),
    EvalSpec("aurora-70b", "zeroshot-cot", "temp0.6-8k", 8192, _groups("dense", "large", "aurora"),
             mixed_skill(0.83, 0.025, 3), spread=0.6, shape=1.6, trunc=0.008, top=0.998,
             invalid_share=0.08, role="balanced_generalist"),
    EvalSpec("aurora-70b", "fewshot-direct", "temp0.6-8k", 8192, _groups("dense", "large", "aurora"),
             mixed_skill(0.50, 0.26, 4), trunc=0.015, verbosity=0.8),
    EvalSpec("basalt-30b-moe", "zeroshot-cot", "temp0.6-16k", 16384, _groups("moe", "medium", "basalt"),
             mixed_skill(0.74, 0.05, 5), spread=0.35, trunc=0.015, verbosity=3.1, entropy=0.85,
             role="inefficient_reasoner"),
    EvalSpec("basalt-8b-moe", "zeroshot-cot", "temp0.6-16k", 16384, _groups("moe", "small", "basalt"),
             mixed_skill(0.45, 0.26, 6), trunc=0.01, verbosity=1.5, invalid_share=0.2),
    EvalSpec("cobalt-14b", "fewshot-cot", "greedy-8k", 8192, _groups("dense", "medium", "cobalt"),
             _specialist(("arithmetic", "cipher", "letters"), 0.97,
                         (0.22, 0.15, 0.28, 0.18, 0.25, 0.12, 0.2, 0.26, 0.16)),
             spread=0.12, trunc=0.01, top=0.998, role="task_specialist"),
    EvalSpec("ember-32b-moe", "zeroshot-cot", "temp1.0-8k", 8192, _groups("moe", "medium", "ember"),
             mixed_skill(0.50, 0.26, 8), trunc=0.015, verbosity=1.1),
)

# Names for the r12 scale's extra evals: 8 families x 7 sizes, none clashing with the demo's.
EXTRA_FAMILIES = ("aurora", "basalt", "cobalt", "dune", "ember", "fjord", "granite", "heron")
EXTRA_SIZES = ("2b", "9b", "13b", "27b", "34b", "72b", "16x4b-moe")
EXTRA_TEMPLATES = ("zeroshot-cot", "fewshot-cot", "fewshot-direct")
EXTRA_SAMPLERS = (("greedy-4k", 4096), ("temp0.6-8k", 8192), ("temp0.6-16k", 16384), ("temp1.0-8k", 8192))
R12_EVALS = 64


def _size_group(size: str) -> str:
    if "moe" in size:
        return "medium"
    billions = int(size.rstrip("b"))
    return "small" if billions < 10 else "medium" if billions < 40 else "large"


def extra_evals(count: int) -> tuple[EvalSpec, ...]:
    """Realistic, archetype-free evals to fill the r12 scale (design seeds are fixed)."""
    out = []
    for i in range(count):
        family = EXTRA_FAMILIES[i % len(EXTRA_FAMILIES)]
        size = EXTRA_SIZES[(i // len(EXTRA_FAMILIES) + i) % len(EXTRA_SIZES)]
        sampler, budget = EXTRA_SAMPLERS[i % len(EXTRA_SAMPLERS)]
        design = np.random.default_rng(10_000 + i)
        out.append(EvalSpec(
            model=f"{family}-{size}", template=EXTRA_TEMPLATES[(i // 3) % len(EXTRA_TEMPLATES)], sampler=sampler,
            max_tokens=budget, groups=_groups("moe" if "moe" in size else "dense", _size_group(size), family),
            skill=mixed_skill(float(design.uniform(0.32, 0.48)), float(design.uniform(0.24, 0.28)), 100 + i),
            trunc=float(design.uniform(0.005, 0.035)), verbosity=float(design.uniform(0.8, 1.25)),
            invalid_share=float(design.uniform(0.08, 0.3)), entropy=float(design.uniform(0.9, 1.1)),
        ))
    return tuple(out)


def evals_for(scale: str) -> tuple[EvalSpec, ...]:
    """Demo evals, plus fillers up to 64 at r12 scale."""
    if scale == "demo":
        return DEMO_EVALS
    return DEMO_EVALS + extra_evals(R12_EVALS - len(DEMO_EVALS))
