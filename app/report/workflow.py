"""The user's Workflow 1 (one eval) and Workflow 2 (several), run end to end as one report.

The steps are the workflow document's, in its order, each on the filters the document gives it:

1. **spiderweb** on the selection: the fingerprint, archetypes, and which tasks to look at next;
2. **surface** on the weakest tasks: the ``STEP_TASKS`` tasks with the lowest accuracy (centre of
   the 95% interval) in any selected eval, each task once, lowest first;
3. **compression** on the most token-hungry tasks: the ``STEP_TASKS`` tasks with the highest mean
   completion tokens in any selected eval, each task once, highest first;
4. **hazard** on the selection;
5. with several evals, the **comparison** (the registered ``compare`` projection) of the first eval
   against each other, per task.

Both rankings are the spiderweb's next steps (:mod:`app.findings.next_steps`, one rule for the
dashboard and the report): the tasks its surface and compression steps name. A step that
cannot run on this data (no 2-D view for the weak tasks, no token counts) is kept with the
projection's own sentence saying why, so the rest of the report still comes out.
Nothing here imports Dash; the CLI and the /report page both call :func:`build`.
"""

from __future__ import annotations

import shlex
from typing import Any, Mapping

from app.engine import filters as flt
from app.engine.dataset import Dataset
from app.engine.errors import InputError
from app.engine.stats import check_truncation
from app.findings.base import link
from app.findings.next_steps import LIMIT, NextStep, next_steps
from app.projections import PROJECTIONS
from app.projections.base import empty_error, plain
from app.projections.catalog import REPORT
from app.projections.compare import eval_sequence
from app.report.document import Report, Step

NAME = REPORT  # the page, the subcommand and the JSON document's "projection"
STEP_TASKS = LIMIT  # tasks a surface / compression step looks at: those the spiderweb's next steps name
AXIS = "base_task"  # the workflow's fingerprint axis (the document's default --group-by)
COMPARE = "compare"  # the comparison projection's name, used when it is registered


def command(projection: str, dataset_arg: str, filters: Mapping[str, Any], truncation: str = "failure") -> str:
    """The ``analyze.py`` line that writes a step's files (the workflow document's own commands)."""
    parts = ["python", "analyze.py", projection, dataset_arg]
    if filters:
        parts += ["--filters", flt.canonical_json(dict(filters))]
    if truncation != "failure":
        parts += ["--truncation", truncation]
    return " ".join(shlex.quote(p) for p in parts)


def _tasks(steps: list[NextStep], page: str) -> list[Any]:
    """The axis values the next steps send to ``page``, in their order (each once)."""
    return list(dict.fromkeys(v for s in steps if s.page == page for v in s.filters.get(AXIS, [])))


def _step_json(step: NextStep) -> dict[str, Any]:
    return {"text": step.text, "page": step.page, "filters": plain(dict(step.filters)), "link": step.link}


class _Steps:
    """Runs the steps on one dataset with one truncation mode, each through its registered projection."""

    def __init__(self, ds: Dataset, dataset_arg: str, truncation: str) -> None:
        self.ds, self.dataset_arg, self.truncation = ds, dataset_arg, truncation

    def step(self, projection: str, title: str, purpose: str, filters: Mapping[str, Any],
             skipped: str | None = None) -> Step:
        filters = dict(filters)  # already checked; lists keep their order (weakest task first, eval a first)
        mode = None if self.truncation == "failure" else self.truncation  # a link names it only when not the default
        step = Step(projection, title, purpose, filters, link(projection, filters, truncation=mode),
                    command(projection, self.dataset_arg, filters, self.truncation), skipped=skipped)
        if skipped is not None:
            return step
        try:
            step.result = PROJECTIONS[projection].run(self.ds, filters=filters, truncation=self.truncation)
        except InputError as exc:  # this step cannot be drawn on this data: say why, keep the others
            step.skipped = str(exc)
        return step


def selected_evals(ds: Dataset, filters: Any, parsed: Mapping[str, Any]) -> list[str]:
    """The evals the filters keep, in the comparison's order: as ``filters`` names them, then by label."""
    present = ds.aggregate(parsed, ["eval_id"], quantiles=False)["eval_id"]
    return eval_sequence(ds, filters, present) if len(present) else []


def build(ds: Dataset, filters: Any = None, truncation: str = "failure", *, dataset_arg: str | None = None
          ) -> Report:
    """Run the workflow on the selection ``filters``; InputError when the filters are malformed or keep nothing.

    ``dataset_arg``: how the steps' commands name the dataset (default its path).
    """
    truncation = check_truncation(truncation)
    parsed = ds.parse_filters(filters)
    evals = selected_evals(ds, filters, parsed)
    if not evals:
        raise empty_error(ds, parsed, NAME)
    labels = ds.eval_labels()
    steps = _Steps(ds, dataset_arg or str(ds.path), truncation)
    several = len(evals) > 1
    who = "the evals" if several else "the eval"

    fingerprint = steps.step("spiderweb", "Fingerprint", f"Cross-task fingerprint of {who}: archetype, weak and "
                             "token-hungry tasks, elevated truncation.", parsed)
    rows = fingerprint.result.rows.to_dict("records") if fingerprint.result is not None else []
    advice = next_steps(rows, AXIS, limit=STEP_TASKS, base=parsed)
    weak, hungry = _tasks(advice, "surface"), _tasks(advice, "compression")
    none = "the fingerprint names no task" if fingerprint.result is not None else "the fingerprint did not run"
    report_steps = [
        fingerprint,
        steps.step("surface", "Capability zones on the weakest tasks",
                   ("Where accuracy breaks down on the weakest tasks" + (f" ({', '.join(map(str, weak))})" if weak
                                                                         else "") + ": cliffs, slopes, safe zones."),
                   {**parsed, AXIS: weak}, None if weak else none),
        steps.step("compression", "Reasoning efficiency on the most token-hungry tasks",
                   ("Tokens against information content on the most token-hungry tasks"
                    + (f" ({', '.join(map(str, hungry))})" if hungry else "") + ": underthink, overthink, loops."),
                   {**parsed, AXIS: hungry}, None if hungry else none),
        steps.step("hazard", "Temporal profile", "When, in tokens, answers, failures and truncations happen: "
                   "early failures, late rising, context walls.", parsed),
    ]
    notes: list[str] = []
    comparison = None
    if several:
        if COMPARE in PROJECTIONS:
            comparison = steps.step(COMPARE, "Where the models differ",
                                    f"{labels.get(evals[0], evals[0])} against each other eval, per task: where one "
                                    "is better beyond noise, where they are equivalent.", {**parsed, "eval_id": evals})
        else:
            notes.append("No comparison: this build has no compare projection.")
    again = {**parsed, "eval_id": evals} if "eval_id" in parsed else dict(parsed)  # eval a stays first
    line = command(NAME, steps.dataset_arg, again, truncation)
    return Report(dataset=ds.name, dataset_arg=steps.dataset_arg, filters=dict(parsed), truncation=truncation,
                  evals=[{"eval_id": e, "label": labels.get(e, e)} for e in evals], steps=report_steps,
                  comparison=comparison, next_steps=[_step_json(s) for s in advice], notes=notes,
                  command=line)


__all__ = ["AXIS", "NAME", "STEP_TASKS", "build", "command", "selected_evals"]
