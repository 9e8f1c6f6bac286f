"""``evals`` and ``tasks``: find the ids and names the filters take."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import pandas as pd

from app.engine import Dataset


def register(sub: argparse._SubParsersAction) -> None:
    """The ``evals`` and ``tasks`` subcommands."""
    p = sub.add_parser("evals", help="list the evaluations (model, template, sampler) with ids and groups")
    p.add_argument("dataset", help="a dataset.json or its folder")
    p.add_argument("--search", help="keep evals whose id, model, template, sampler, label or groups contain TEXT")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(run=run_evals)

    p = sub.add_parser("tasks", help="list the tasks with their params and values")
    p.add_argument("dataset", help="a dataset.json or its folder")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(run=run_tasks)


def _search(frame: pd.DataFrame, text: str | None) -> pd.DataFrame:
    if not text:
        return frame
    needle = text.lower()
    hay = frame[["eval_id", "model", "template", "sampler", "label"]].astype(str).agg(" ".join, axis=1)
    hay = hay + " " + frame["groups"].map(" ".join)
    return frame[hay.str.lower().str.contains(needle, regex=False)]


def _emit(rows: list[dict], fmt: str, table: pd.DataFrame) -> None:
    if fmt == "json":
        json.dump({"rows": rows}, sys.stdout, indent=1, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    elif table.empty:
        print("(no rows)")
    else:
        print(table.to_string(index=False))


def run_evals(args: argparse.Namespace) -> int:
    """``evals``: one line (or JSON object) per eval."""
    ds = Dataset.open(args.dataset)
    frame = _search(ds.evals(), args.search)
    rows: list[dict[str, Any]] = [
        {k: (None if pd.isna(v) else v) if not isinstance(v, list) else v for k, v in r.items()}
        for r in frame.to_dict("records")]
    for r in rows:
        budget = r.get("max_tokens")
        if budget is not None:
            r["max_tokens"] = int(budget)
    shown = frame.assign(groups=frame["groups"].map(", ".join),
                         max_tokens=frame["max_tokens"].map(lambda v: "" if pd.isna(v) else f"{int(v)}"))
    _emit(rows, args.format, shown[["eval_id", "label", "model", "template", "sampler", "groups", "max_tokens",
                                    "points", "samples"]])
    return 0


def run_tasks(args: argparse.Namespace) -> int:
    """``tasks``: one line (or JSON object) per task, with its params and their values."""
    ds = Dataset.open(args.dataset)
    frame = ds.tasks()
    rows = frame.to_dict("records")

    def values_text(values: dict) -> str:
        parts = []
        for key, vals in values.items():
            shown = ", ".join(str(v) for v in vals[:6]) + (f", … ({len(vals)})" if len(vals) > 6 else "")
            parts.append(f"{key}: {shown}")
        return "; ".join(parts)

    shown = frame.assign(params=frame["values"].map(values_text))
    _emit(rows, args.format, shown[["base_task", "label", "guess_rate", "points", "samples", "params"]])
    return 0
