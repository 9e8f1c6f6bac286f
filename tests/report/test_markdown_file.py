"""The Markdown report: readable in a pull request, figures as images beside it, data text kept inert."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from app.engine import Dataset
from app.findings.base import Finding
from app.projections.base import Projection, SplitFigure
from app.report import build, render_markdown
from app.report.document import Report, Step
from app.report.markdown_file import code_block, md
from tests.report.conftest import BALANCED


def test_sections_follow_the_workflow_with_commands_links_and_image_names(demo):
    report = build(demo, {"eval_id": [BALANCED]}, dataset_arg="data/dataset.json")
    images = {"spiderweb": ["spiderweb.png"], "hazard": ["hazard.png"]}
    text = render_markdown(report, images, base_url="http://127.0.0.1:8050/")
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert heads == ["## 1. Fingerprint (Spiderweb)", "## 2. Capability zones on the weakest tasks (Surface)",
                     "## 3. Reasoning efficiency on the most token-hungry tasks (Compression)",
                     "## 4. Temporal profile (Hazard)", "## Next steps"] + (["## Notes"] if report.notes else [])
    assert f"- [{md(report.next_steps[0]['text'])}](http://127.0.0.1:8050{report.next_steps[0]['link']})" in text
    assert "![Spiderweb](spiderweb.png)" in text and "![Hazard](hazard.png)" in text
    assert "*Figure Surface · arithmetic: no PNG written (see the notes).*" in text
    assert "```sh\npython analyze.py hazard data/dataset.json --filters '{\"eval_id\":[\"54804a\"]}'\n```" in text
    assert "[open the hazard page](http://127.0.0.1:8050/hazard?filters=" in text


def test_a_finding_is_one_item_with_where_evidence_action_and_link():
    cliff = Finding(kind="sharp_cliff", projection="surface", eval_id="e1", base_task="sorting",
                    text="accuracy falls 0.61 between count 16 and 20", where={"dim": "params.count", "from": 16,
                                                                               "to": 20},
                    evidence={"n": 640, "drop": 0.61}, action="Set conservative boundaries",
                    link="/surface?filters=%7B%7D")
    result = Projection("surface", pd.DataFrame(), [SplitFigure("sorting", go.Figure())], findings=[cliff])
    report = Report("d", "d", {}, "failure", [{"eval_id": "e1", "label": "m | <b>"}],
                    [Step("surface", "Zones", "where", {}, "/surface", "cmd", result=result)])
    text = render_markdown(report, {"surface": ["surface-sorting.png"]}, base_url=None)
    assert ("- **sharp cliff** · m \\| &lt;b&gt; \\(e1\\) · sorting: accuracy falls 0.61 between count 16 and 20  \n"
            "  where: dim params.count · from 16 · to 20  \n  evidence: n 640 · drop 0.61  \n"
            "  action: Set conservative boundaries  \n  [show it on the dashboard](/surface?filters=%7B%7D)") in text
    assert "- sharp cliff: m \\| &lt;b&gt; \\(e1\\) · sorting" not in text  # not a failure mode: not in the glance
    assert "**At a glance:** 1 finding(s), 0 failure mode(s)" in text


def test_data_text_cannot_open_a_link_a_cell_or_html(flat):
    text = render_markdown(build(Dataset.open(flat)), {}, base_url=None)
    assert "<script>" not in text and "[x](javascript" not in text
    assert ("&lt;script&gt;window.pwned=1&lt;/script&gt; \\*evil\\* \\[x\\]\\(javascript:alert\\(1\\)\\) "
            "\\| \\`tick\\`") in text


def test_helpers_escape_and_fence():
    assert md("a_b *c* [d](e) <f> | #") == "a\\_b \\*c\\* \\[d\\]\\(e\\) &lt;f&gt; \\| \\#"
    assert md("two\nlines") == "two lines"
    assert code_block("echo ```x```") == "````sh\necho ```x```\n````"
