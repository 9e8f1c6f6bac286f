"""Adding an adapter is one module and one registration: the CLI and the contract pick it up unedited."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.engine.errors import InputError
from app.engine.meta import EvalMeta, ImportMeta
from app.engine.schema import OUTCOMES
from app.importers import BUILTIN, Adapter, adapters, get_adapter, register, unregister
from app.importers.base import Context, Imported, expand_files, samples_table
from tests.importers.conftest import load, run_import
from tests.importers.test_contract import check_contract


class Tally:
    """A throwaway adapter: each line of a ``.txt`` file is ``<task> <outcome> <tokens>``."""

    name = "tally-test"
    help = "tally lines: <task> <outcome> <tokens> (tests only)"
    suffixes = (".txt",)

    def read(self, sources, ctx: Context) -> Imported:
        files, rows = expand_files(sources, self.suffixes), []
        for path in files:
            for n, line in enumerate(path.read_text().splitlines(), start=1):
                task, outcome, tokens = line.split()
                if outcome not in OUTCOMES:
                    raise InputError(f"{path}:{n}: outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
                rows.append((task, outcome, int(tokens)))
        ev = EvalMeta(model="tally/model")
        task, outcome, tokens = zip(*rows)
        table = samples_table({"eval_id": [ev.eval_id] * len(rows), "base_task": task, "params": ["{}"] * len(rows),
                               "outcome": outcome, "completion_tokens": tokens, "guess_rate": [0.0] * len(rows)})
        return Imported(meta=ImportMeta(evals=[ev], source="tally", tokens="exact"), table=table, files=len(files))


@pytest.fixture
def tally():
    """Tally, registered for one test only."""
    adapter = register(Tally())
    yield adapter
    unregister(adapter.name)


def write_fixtures(root: Path) -> Path:
    (root / "tally-test").mkdir(parents=True)
    (root / "tally-test" / "a.txt").write_text("add correct 12\nadd incorrect 40\nsort truncated 512\n")
    (root / "tally-test-broken").mkdir()
    (root / "tally-test-broken" / "a.txt").write_text("add correct 12\nadd maybe 3\n")
    return root


def test_the_cli_imports_with_an_adapter_registered_later(tally, capsys, tmp_path):
    source = write_fixtures(tmp_path / "fx") / "tally-test"
    code, out, err = run_import(capsys, source, "--adapter", "tally-test", "--out", tmp_path / "ds")
    assert code == 0, err
    assert "imported with adapter tally-test from 1 file(s): 1 eval(s), 2 task(s), 2 point(s), 3 sample(s)" in out
    meta, samples = load(tmp_path / "ds")
    assert [e["model"] for e in meta["evals"]] == ["tally/model"] and len(samples) == 3
    assert meta["provenance"]["imports"][0]["adapter"] == "tally-test"


def test_import_help_lists_it(tally, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["import", "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert "tally-test" in out and Tally.help in out
    assert all(a.name in out for a in BUILTIN)


def test_it_is_held_to_the_contract_with_no_edit_to_it(tally, capsys, tmp_path):
    check_contract(capsys, "tally-test", tmp_path / "work", root=write_fixtures(tmp_path / "fx"))


def test_unregistering_removes_it_everywhere(capsys, tmp_path):
    register(Tally())
    unregister("tally-test")
    assert "tally-test" not in [a.name for a in adapters()]
    with pytest.raises(InputError, match="unknown adapter 'tally-test'; valid adapters: samples"):
        get_adapter("tally-test")
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    assert "tally-test" not in capsys.readouterr().out


def test_registration_checks_what_it_is_given():
    with pytest.raises(TypeError):
        register(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        register(Tally)  # type: ignore[arg-type]  # the class, not an adapter
    with pytest.raises(ValueError, match="already registered"):
        register(type("Other", (Tally,), {"name": "samples"})())
    with pytest.raises(ValueError, match="lower-case"):
        register(type("Odd", (Tally,), {"name": "Tally Test"})())
    assert [a.name for a in adapters()][:3] == ["samples", "reasoning-gym-eval", "babilong"]


def test_builtin_adapters_are_adapters():
    for adapter in BUILTIN:
        assert isinstance(adapter, Adapter) and get_adapter(adapter.name) is adapter
        assert adapter.help and all(s.startswith(".") for s in adapter.suffixes)
