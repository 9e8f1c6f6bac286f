"""Findings: the readings the user's workflow asks for, made by stated rules, one module per projection.

No Dash here: projections return findings and render their notes from them, figures draw the
marks findings give them, and the report and the pages list them.
"""

from app.findings.base import FAILURE_MODES, KINDS, Finding, link

__all__ = ["FAILURE_MODES", "KINDS", "Finding", "link"]
