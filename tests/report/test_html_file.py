"""The HTML report: one self-contained file (plotly.js inlined, nothing fetched) in which data stays text."""

from __future__ import annotations

import json
import re

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from app.engine import Dataset
from app.findings.base import Finding
from app.projections.base import Projection, SplitFigure
from app.report import build, render_html
from app.report.document import Report, Step
from app.report.html_file import figure_json
from tests.report.conftest import BALANCED


def tags(page: str, name: str) -> list[str]:
    return re.findall(rf"<{name}\b[^>]*>", page, flags=re.IGNORECASE)


def test_one_file_with_plotly_inlined_and_no_reference_to_anything_outside_it(demo):
    report = build(demo, {"eval_id": [BALANCED]})
    page = render_html(report)
    assert get_plotlyjs() in page  # the installed plotly.js, whole
    scripts = tags(page, "script")
    figures = sum(len(s.result.figures) for s in report.steps)
    assert figures == 1 + 3 + 3 + 1  # spiderweb, 3 weakest tasks' surfaces, 3 hungriest tasks' compressions, hazard
    assert len(scripts) == 1 + figures + 1  # plotly.js, one JSON block per figure, the drawing script
    assert not any("src=" in s for s in scripts)
    assert tags(page, "link") == [] and tags(page, "img") == [] and tags(page, "iframe") == []
    assert "@import" not in page and "url(" not in page.split("<script>")[0]  # the style sheet fetches nothing
    assert len(re.findall(r'class="figure"', page)) == figures


def test_each_figure_json_is_the_projections_figure(demo):
    report = build(demo, {"eval_id": [BALANCED]})
    page = render_html(report)
    blocks = re.findall(r'<script type="application/json" class="figure-json" data-target="figure-(\d+)">(.*?)'
                        r"</script>", page, flags=re.S)
    hazard = report.steps[3].result.figures[0].figure
    assert json.loads(blocks[-1][1]) == json.loads(hazard.to_json())
    assert [int(i) for i, _ in blocks] == list(range(len(blocks)))


def test_labels_that_look_like_markup_stay_text(flat):
    page = render_html(build(Dataset.open(flat)))
    assert "window.pwned=1</script>" not in page
    assert len(tags(page, "script")) == 1 + 2 + 1  # spiderweb and hazard figures; nothing from the label
    assert "&lt;/script&gt;&lt;script&gt;window.pwned=1" in page  # in the text: escaped
    assert "\\u003cscript\\u003ewindow.pwned=1" in page  # in figure JSON: escaped


def test_figure_json_escapes_what_could_end_a_script_element():
    fig = go.Figure(go.Scatter(x=[1], y=[2], name="</script><!-- & \u2028"))
    text = figure_json(fig)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text)["data"][0]["name"] == "</script><!-- & \u2028"


def test_findings_show_kind_evidence_action_and_a_link_under_the_base_url():
    wall = Finding(kind="context_wall", projection="hazard", eval_id="e1", base_task=None,
                   text="failure hazard spike at 8,192–8,448 tokens", where={"bin_start": 8192, "bin_end": 8448},
                   evidence={"n": 643, "ratio": 10.49}, action="Check RoPE config, pretrain length",
                   link="/hazard?filters=%7B%22eval_id%22:%5B%22e1%22%5D%7D")
    result = Projection("hazard", pd.DataFrame(), [SplitFigure(None, go.Figure())], findings=[wall])
    report = Report("d", "d", {"eval_id": ["e1"]}, "failure", [{"eval_id": "e1", "label": "E <1>"}],
                    [Step("hazard", "Temporal profile", "when", {"eval_id": ["e1"]}, "/hazard", "cmd", result=result)])
    page = render_html(report, base_url="http://example.test/profile/")
    assert '<div class="finding failure" data-kind="context_wall">' in page
    assert "E &lt;1&gt; (e1)" in page and "bin_start 8,192 · bin_end 8,448" in page and "ratio 10.49" in page
    assert "Check RoPE config, pretrain length" in page
    assert 'href="http://example.test/profile/hazard?filters=%7B%22eval_id%22:%5B%22e1%22%5D%7D"' in page
    plain = render_html(report, base_url=None)
    body = plain.split("</head>")[1]
    assert "<code>/hazard?filters=%7B%22eval_id%22:%5B%22e1%22%5D%7D</code>" in body and "href=" not in body
