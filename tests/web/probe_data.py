"""A small dataset *with completion texts* for the probe's tests, imported the way a user would.

The records are written as the generic samples JSONL and imported with the real
``analyze.py import --adapter samples`` (``app.cli.main``), so the texts live where the
importer puts them. Every ordinary text is unique and names its own record, so a test that
reads a text off the page finds its record (``RECORDS``) without asking the engine.

Among them, hostile texts a page must show as characters, never as markup:
``SCRIPT`` (a script tag), ``MARKDOWN`` (bold and a javascript: link), ``IMG`` (an element
with an event handler), ``HUGE`` (one 1 MB line), a ``LOOP`` (a block repeated to the end)
and one record with no text at all. The other web tests keep their own dataset
(``tests.web.data``): nothing here changes their numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from app.cli import main
from app.engine.schema import eval_id

NAME = "probetest"
EVALS = (("quill-7b", "cot", "greedy", 4096), ("slate-13b", "cot", "greedy", 4096))
TASK = "echo"
GRID = {"n": (1, 2, 3), "k": (1, 2)}
SAMPLES = 8  # per point: 48 per eval, enough samples at risk for the hazard bins to be drawn

SCRIPT = "<script>window.__pwned=1</script>"
MARKDOWN = "**bold** [x](javascript:alert(1))\n# not a heading\n<b>not bold</b>"
IMG = '<img src="x" onerror="window.__pwned=2"> &amp; &lt;tag&gt;'
HUGE = "<i>loop</i> " * (1_048_576 // 12) + "END"  # a 1 MB line (no newline), markup in it
LOOP = "Let me think about it step by step. " + "I must check the answer again. " * 80
HOSTILE = {"script": SCRIPT, "markdown": MARKDOWN, "img": IMG, "huge": HUGE, "loop": LOOP}


def ordinary_text(model: str, n: int, k: int, sample: int) -> str:
    """A unique text that says which record it is (and, for some, is longer than a page preview)."""
    head = f"{model} answers echo n={n} k={k} (sample {sample}).\n  Indented line\ttab & ampersand < > \"quotes\""
    return head + (" filler words" * 300 if sample == 7 else "")


def records() -> list[dict[str, Any]]:
    """The JSONL records: 2 evals × 6 points × 8 samples; the first point of quill-7b carries the hostile texts."""
    rng = np.random.default_rng(11)
    out: list[dict[str, Any]] = []
    hostile = iter(HOSTILE.values())
    for model, template, sampler, budget in EVALS:
        for n in GRID["n"]:
            for k in GRID["k"]:
                for s in range(SAMPLES):
                    tokens = int(rng.integers(20, 1200))
                    outcome = ("correct", "incorrect", "invalid", "correct")[int(rng.integers(0, 4))]
                    rec: dict[str, Any] = {"model": model, "template": template, "sampler": sampler,
                                           "base_task": TASK, "params": {"n": n, "k": k}, "outcome": outcome,
                                           "completion_tokens": tokens, "max_tokens": budget,
                                           "label": f"{model} ({template})"}
                    if model == EVALS[0][0] and (n, k) == (1, 1) and s < len(HOSTILE):
                        rec["text"] = next(hostile)
                    elif model == EVALS[1][0] and (n, k) == (3, 2) and s == 0:
                        rec["compressed_bytes"] = 40  # no text kept for this one
                    else:
                        rec["text"] = ordinary_text(model, n, k, s)
                    out.append(rec)
    return out


RECORDS = records()


def by_text(text: str, clipped_at: int | None = None) -> dict[str, Any]:
    """The one record whose text this is (or begins so, when a page clipped it at ``clipped_at`` characters)."""
    found = [r for r in RECORDS if r.get("text") == text
             or (clipped_at and len(text) == clipped_at and (r.get("text") or "").startswith(text))]
    assert len(found) == 1, f"{len(found)} records have this text"
    return found[0]


def ids() -> list[str]:
    return [eval_id(m, t, s) for m, t, s, _ in EVALS]


def make_text_dataset(out: Path) -> Path:
    """Write the JSONL beside ``out`` and import it with analyze.py's samples adapter; returns dataset.json."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    source = out.parent / f"{out.name}-records.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n", encoding="utf-8")
    code = main(["import", str(source), "--adapter", "samples", "--out", str(out), "--name", NAME])
    assert code == 0, f"analyze.py import exited {code}"
    return out / "dataset.json"
