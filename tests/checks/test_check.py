"""``scoru check``: verdicts, exit codes, reports (table, JSON, JUnit, ITF) and replays."""

from __future__ import annotations

import json
import runpy
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from checks import properties, replay
from checks.cli import main
from model.bmc import Counterexample, Step
from spec.constants import TEST


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_catalogue_entries_are_complete() -> None:
    props = properties.catalogue()
    ids = [p.id for p in props]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    for p in props:
        assert p.statement and p.octez and p.rationale and p.concrete
        assert p.severity in ("critical", "high", "medium")
        assert callable(p.system) and callable(p.symbolic)
    for required in (
        "SR-001",
        "SR-002",
        "SR-006",
        "SR-007",
        "SR-012",
        "SR-013",
        "SR-014",
        "SR-015",
    ):
        assert required in ids


def test_intended_mode_proves_a_sample(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        capsys,
        "check",
        "SR-001",
        "SR-006",
        "SR-014",
        "--jobs",
        "1",
        "--json",
        str(tmp_path / "r.json"),
        "--junit",
        str(tmp_path / "r.xml"),
    )
    assert code == 0, out
    doc = json.loads((tmp_path / "r.json").read_text())
    assert {r["id"]: r["verdict"] for r in doc["results"]} == {
        "SR-001": "proved",
        "SR-006": "proved",
        "SR-014": "proved",
    }
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "3" and suite.get("failures") == "0"


def test_octez_mode_finds_the_forced_draw(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Reference §7.12: a proof on a multi-tick section forces a draw on an honest defender."""
    itf = tmp_path / "itf"
    code, out, _ = run(
        capsys,
        "check",
        "SR-014",
        "--mode",
        "octez",
        "--jobs",
        "1",
        "--itf-dir",
        str(itf),
        "--junit",
        str(tmp_path / "r.xml"),
    )
    assert code == 1
    assert "VIOLATED" in out and "the honest defender draws" in out
    trace = json.loads((itf / "SR-014-TEST-octez.itf.json").read_text())
    assert trace["#meta"]["format"] == "ITF"
    assert trace["states"][0]["action_taken"] == "init"
    assert [s["action_taken"] for s in trace["states"][1:]] == ["prove", "prove"]
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    regression = runpy.run_path(str(itf / "SR-014-TEST-octez.py"))
    regression["test_sr_014_counterexample_replays"]()


def test_octez_mode_finds_the_blocked_section_draw(capsys: pytest.CaptureFixture[str]) -> None:
    """Reference §7.13: a proof on a one-tick section starting at None forces a draw."""
    code, out, _ = run(capsys, "check", "SR-013", "--mode", "octez", "--jobs", "1")
    assert code == 1 and "the honest refuter draws" in out


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, needle in [
        (["check", "SR-999"], "unknown property id"),
        (["check", "--depth", "-1"], "--depth"),
        (["check", "--jobs", "0"], "--jobs"),
        (["check", "--preset", "nope"], "unknown constants preset"),
    ]:
        code, _out, err = run(capsys, *argv)
        assert code == 2 and needle in err and err.count("\n") == 1, (argv, err)


def test_properties_listing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "properties", "-v")
    assert code == 0 and "SR-012  An honest staker never loses its bond." in out
    assert "Rationale:" in out


def test_a_counterexample_that_does_not_replay_is_a_model_bug() -> None:
    prop = properties.by_id(["SR-001"])[0]
    ts = prop.system(TEST)
    state = {v.name: 0 for v in ts.variables}
    bogus = Counterexample([state, state], [Step("cement", {})])
    with pytest.raises(replay.ModelBug, match="refuses"):
        replay.replay(prop, bogus, TEST)


def test_model_traces_replay_on_the_spec_machine() -> None:
    """Traces the model finds for reachability goals replay step for step on ``spec.rollup``."""
    import z3

    from model.bmc import bmc
    from model.rollup import build

    ts, _ = build(TEST)
    goals = {
        "two cementations": lambda s: s["lcc_j"] < 2,
        "an executed outbox message": lambda s: z3.And(
            *[t == 0 for n, t in s.items() if n.startswith("exec_")]
        ),
        "a slashed staker": lambda s: s["burnt"] == 0,
        "a recovered bond": lambda s: z3.Not(
            z3.And(s["counter"] >= 1, s["index_0"] == -1, s["index_1"] == -1)
        ),
    }
    for name, goal in goals.items():
        result = bmc(ts, goal, 8)
        assert result.verdict == "violated", name
        assert result.counterexample is not None
        state, lines, _ops, accounts, _ = replay.run_rollup_trace(result.counterexample, TEST)
        rollup = next(iter(state.rollups.values()))
        final = result.counterexample.states[-1]
        assert len(rollup.ghost_cemented) - 1 == final["lcc_j"], name
        assert state.ledger.burnt == final["burnt"], name
        assert len(rollup.ghost_executed_outputs) == sum(
            v for k, v in final.items() if k.startswith("exec_")
        ), name
        for i, account in enumerate(accounts):
            assert state.ledger.balance(account) == final[f"bal_{i}"], (name, lines)
            assert rollup.is_staker(account) == (final[f"index_{i}"] >= 0), (name, lines)
