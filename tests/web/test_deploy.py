"""The Dockerfile builds what the docs say (checked as text: CI has no container engine)."""

from __future__ import annotations

import re

from tests.web.conftest import ROOT


def test_dockerfile_runs_gunicorn_on_the_bundled_data():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    for folder in ("app", "pages", "assets", "data"):
        assert re.search(rf"^COPY {folder} \./{folder}$", text, re.M), folder
    assert "app.wsgi:server" in text and '"gunicorn", "--config", "gunicorn.conf.py"' in text
    assert "PROFILE_DATA=/app/data" in text and "HEALTHCHECK" in text and "/health" in text
    assert re.search(r"^USER ", text, re.M), "the server should not run as root"


def test_dockerignore_keeps_the_context_small():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".cache", "tests", "r12", "bench"} <= ignored
    assert not {"app", "pages", "assets", "data"} & ignored
