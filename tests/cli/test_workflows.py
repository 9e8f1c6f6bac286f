"""The seed's Workflow 1 and 2, verbatim (real ids and task names in place of placeholders), on data/.

The eight commands run as separate processes in parallel, from a scratch folder
holding ``data`` and ``analyze.py`` (links to the repository's), so the relative
paths ``data/dataset.json`` and ``research/<project>/`` are exactly the seed's.
"""

from __future__ import annotations

import json
import os
import shlex
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from app.engine import Dataset

ROOT = Path(__file__).resolve().parents[2]

WORKFLOW_1 = """
python analyze.py spiderweb data/dataset.json \\
  --filters '{"eval_id": ["<eval_id>"]}' \\
  --output-dir research/<project>/
python analyze.py surface data/dataset.json \\
  --filters '{"eval_id": ["<eval_id>"], "base_task": ["weak-task"]}' \\
  --output-dir research/<project>/
python analyze.py compression data/dataset.json \\
  --filters '{"eval_id": ["<eval_id>"], "base_task": ["expensive-task"]}' \\
  --output-dir research/<project>/
python analyze.py hazard data/dataset.json \\
  --filters '{"eval_id": ["<eval_id>"]}' \\
  --output-dir research/<project>/
"""

WORKFLOW_2 = """
python analyze.py spiderweb data/dataset.json \\
  --filters '{"eval_id": ["<eval_id_1>", "<eval_id_2>", "<eval_id_3>"]}' \\
  --output-dir research/<project>/
python analyze.py surface data/dataset.json \\
  --filters '{"eval_id": ["<eval_id_1>", "<eval_id_2>", "<eval_id_3>"], "base_task": ["critical-task"]}' \\
  --output-dir research/<project>/
python analyze.py compression data/dataset.json \\
  --filters '{"eval_id": ["<eval_id_1>", "<eval_id_2>", "<eval_id_3>"]}' \\
  --output-dir research/<project>/
python analyze.py hazard data/dataset.json \\
  --filters '{"eval_id": ["<eval_id_1>", "<eval_id_2>", "<eval_id_3>"]}' \\
  --output-dir research/<project>/
"""


def commands(text: str, values: dict[str, str]) -> list[list[str]]:
    for key, value in values.items():
        text = text.replace(key, value)
    return [shlex.split(c.replace("\\\n", " ")) for c in text.strip().split("\npython ") if c.strip()]


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def plan(bundled):
    """Fill the placeholders from the planted truth: a specialist to characterise, three evals to compare."""
    truth = json.loads((bundled.parent / "demo-truth.json").read_text())
    ds = Dataset.open(bundled)
    one = truth["archetypes"]["task_specialist"]["eval_id"]
    per_task = ds.aggregate({"eval_id": one}, ["base_task"])
    weak = per_task.sort_values("center")["base_task"].iloc[0]
    expensive = per_task.sort_values("tokens_mean")["base_task"].iloc[-1]
    three = [truth["context_wall"]["eval_id"], truth["context_wall"]["reference"]["eval_id"],
             truth["cliff"]["eval_id"]]
    w1 = commands(WORKFLOW_1, {"<eval_id>": one, "weak-task": weak, "expensive-task": expensive,
                               "<project>": "w1-characterisation"})
    w2 = commands(WORKFLOW_2, {"<eval_id_1>": three[0], "<eval_id_2>": three[1], "<eval_id_3>": three[2],
                               "critical-task": truth["cliff"]["base_task"], "<project>": "w2-comparison"})
    return {"w1": w1, "w2": w2, "one": one, "weak": weak, "expensive": expensive, "truth": truth,
            "tasks": sorted(set(ds.tasks()["base_task"]))}


@pytest.fixture(scope="module")
def ran(plan, tmp_path_factory):
    work = tmp_path_factory.mktemp("workflows")
    (work / "data").symlink_to(ROOT / "data")
    (work / "analyze.py").symlink_to(ROOT / "analyze.py")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = []
    for argv in plan["w1"] + plan["w2"]:
        assert argv[:2] == ["python", "analyze.py"] or argv[0] == "analyze.py"
        argv = [sys.executable] + (argv[1:] if argv[0] == "python" else argv)
        procs.append(subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        results.append((p.returncode, out, err))
    return work, results


def test_all_eight_commands_succeed_and_print_their_files(ran):
    work, results = ran
    assert len(results) == 8
    for code, out, err in results:
        assert code == 0, err
        for line in out.splitlines():
            path = work / line
            assert path.is_file(), line
            w, h = png_size(path)
            assert w >= 1200 and h >= 800


def test_expected_files(ran, plan):
    work, results = ran
    w1 = work / "research" / "w1-characterisation"
    assert sorted(p.name for p in w1.iterdir()) == sorted(
        ["spiderweb.png", f"surface-{plan['weak']}.png", f"compression-{plan['expensive']}.png", "hazard.png"])
    w2 = work / "research" / "w2-comparison"
    assert sorted(p.name for p in w2.iterdir()) == sorted(
        ["spiderweb.png", f"surface-{plan['truth']['cliff']['base_task']}.png", "hazard.png"]
        + [f"compression-{t}.png" for t in plan["tasks"]])


def test_the_workflows_say_what_they_found(ran, plan):
    _, results = ran
    assert "Task Specialist" in results[0][2]                              # step 1: the archetype
    wall = plan["truth"]["context_wall"]
    assert f"{wall['bin'][0]:,}–{wall['bin'][1]:,}" in results[7][2]     # W2 step 4: the context wall
    assert "sharp cliff" in results[5][2]                                  # W2 step 2: the cliff


def test_readme_example_images_exist_and_are_large_enough():
    images = ROOT / "docs" / "images"
    names = sorted(p.name for p in images.glob("*.png"))
    for projection in ("spiderweb", "surface", "compression", "hazard"):
        assert any(n.split("-")[0].split(".")[0] == projection for n in names), projection
    for name in names:
        w, h = png_size(images / name)
        assert w >= 1200 and h >= 800, name
    text = (ROOT / "README.md").read_text()
    assert all(f"docs/images/{n}" in text for n in names)
