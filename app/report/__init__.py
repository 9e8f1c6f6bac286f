"""The characterisation report: the user's Workflow 1 or 2 run end to end, as one document.

:func:`build` runs the workflow (:mod:`app.report.workflow`) and returns a :class:`Report`;
:func:`to_json`, :func:`render_html` and :func:`render_markdown` write it. No Dash here:
``analyze.py report`` and the dashboard's /report page both build on these.
"""

from app.report.document import Report, Step, to_json
from app.report.html_file import render_html
from app.report.markdown_file import render_markdown
from app.report.workflow import build

__all__ = ["Report", "Step", "build", "render_html", "render_markdown", "to_json"]
