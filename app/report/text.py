"""How the report writes a finding's numbers, a kind and a link: one wording for the html, md and the page."""

from __future__ import annotations

import json
import math
from typing import Any, Mapping

from app.engine import filters as flt

DEFAULT_BASE_URL = "http://127.0.0.1:8050/"  # where `make run` serves the dashboard: the report's links open there
PROJECTION_TITLES = {"spiderweb": "Spiderweb", "surface": "Surface", "compression": "Compression",
                     "hazard": "Hazard", "compare": "Compare"}


def kind_title(kind: str) -> str:
    """``sharp_cliff`` → ``sharp cliff`` (the kinds are the issue's exact strings; this is only how they read)."""
    return kind.replace("_", " ")


def value_text(value: Any) -> str:
    """A number to 4 significant digits (counts whole), anything else as compact JSON or text."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def pairs_text(mapping: Mapping[str, Any]) -> str:
    """``{"dim": "params.n", "from": 10}`` → ``dim params.n · from 10`` (the where and evidence of a finding)."""
    return " · ".join(f"{k} {value_text(v)}" for k, v in mapping.items())


def filters_text(filters: Mapping[str, Any]) -> str:
    """The filters as the ``--filters`` JSON (``{}`` for all samples)."""
    return flt.canonical_json(dict(filters)) if filters else "{}"


def absolute(link: str, base_url: str | None) -> str:
    """A dashboard link (relative to the app's root) under ``base_url``; as it is when there is none."""
    if not base_url:
        return link
    return base_url.rstrip("/") + "/" + link.lstrip("/")


def who(finding_eval: str | None, labels: Mapping[str, str]) -> str:
    """An eval as the report names it: its label and id (or 'all evals' for a finding about no one eval)."""
    if finding_eval is None:
        return "all evals"
    label = labels.get(finding_eval)
    return f"{label} ({finding_eval})" if label and label != finding_eval else finding_eval


__all__ = ["DEFAULT_BASE_URL", "PROJECTION_TITLES", "absolute", "filters_text", "kind_title", "pairs_text",
           "value_text", "who"]
