"""``scoru simulate``: the report, the JSON document, exit statuses, one-line errors.

The command is exercised through a parser built like :func:`checks.cli.main`
(with :mod:`checks.cmd_simulate` registered), so these tests do not depend on
the command's registration in :mod:`checks.cli`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from checks import cli, cmd_simulate
from executable import chain
from spec.errors import ScoruError
from spec.invariants import INVARIANTS, Invariant


def main(argv: Sequence[str]) -> int:
    """:func:`checks.cli.main`, with ``simulate`` registered."""
    parser = cli._Parser(prog="scoru")
    sub = parser.add_subparsers(dest="command", parser_class=cli._Parser)
    cmd_simulate.register(sub)
    try:
        args = parser.parse_args(list(argv))
        code: int = args.run(args)
        return code
    except ScoruError as exc:
        print(f"scoru: error: {exc}", file=sys.stderr)
        return cli.EXIT_USAGE
    except SystemExit as exc:
        return int(exc.code or 0)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["simulate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_default_simulation_shortened(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--levels", "120")
    assert code == 0
    assert "echo on the wasm_2_0_0 PVM" in out and "reference PVM" in out
    assert "timeout_period_in_blocks raised" in out
    assert "honest-1 wins" in out and "liar-2 loses its bond (burnt): 10,000 tez" in out
    assert "inbox level 3 cemented" in out and "executes outbox message" in out
    assert "each exactly once" in out and "every check holds" in out
    assert "(WRONG STATE)" in out


def test_json_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "run.json"
    code, out, _ = run(
        capsys, "--pvm", "arith", "--levels", "60", "--nodes", "honest,lazy", "--json", str(target)
    )
    assert code == 0 and "summary" in out
    doc = json.loads(target.read_text())
    assert doc["pvm"] == "arith" and doc["ok"] is True
    assert doc["games"][0]["winner"] == "honest-1" and "clock" in doc["games"][0]["why"]
    assert doc["invariants"]["levels_checked"] == 60
    kinds = {e["kind"] for e in doc["timeline"]}
    assert {"published", "game_started", "game_ended", "bond", "cemented"} <= kinds
    code, out, _ = run(capsys, "--pvm", "arith", "--levels", "60", "--json", "-")
    assert code == 0 and json.loads(out)["levels"] == 60


def test_same_seed_same_output(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("--pvm", "arith", "--levels", "50", "--nodes", "honest,random_liar", "--seed", "3")
    assert run(capsys, *argv)[1] == run(capsys, *argv)[1]


def test_timeline_choices(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("--pvm", "arith", "--levels", "40")
    full = run(capsys, *argv, "--timeline", "full")[1]
    normal = run(capsys, *argv)[1]
    key = run(capsys, *argv, "--timeline", "key")[1]
    none = run(capsys, *argv, "--timeline", "none")[1]
    assert "posts" in full and "posts" not in normal
    assert "(correct)" in normal and "(correct)" not in key and "game" in key
    assert "timeline" not in none and "summary" in none


def test_violations_are_loud_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An invariant that fails from level 5 on: reported on standard error when
    found, in the timeline and the summary, and the exit status is 1."""
    failing = Invariant("SR-999", "made up", "critical", "nowhere", lambda s, c: s.level < 5)
    monkeypatch.setattr(chain, "INVARIANTS", (*INVARIANTS, failing))
    code, out, err = run(capsys, "--pvm", "arith", "--levels", "8")
    assert code == 1
    assert "scoru: VIOLATION at level 5: SR-999 made up" in err
    assert "VIOLATION SR-999: made up" in out and "4 VIOLATION(S)" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--levels", "1"], "--levels must be at least 2"),
        (["--nodes", "honest,bogus"], "unknown node kind 'bogus'"),
        (["--nodes", "liar@x"], "the level after @"),
        (["--nodes", "honest,liar@1", "--pvm", "arith"], "after the origination level"),
        (["--preset", "NOPE"], "unknown constants preset"),
        (["--mode", "weird"], "--mode must be one of"),
        (["--kernel", "no-such-kernel"], "neither a file nor a bundled kernel"),
        (["--pvm", "arith", "--kernel", "echo"], "--kernel is for --pvm wasm"),
        (["--pvm", "riscv"], "invalid choice"),
        (["--json", "/nonexistent-dir/x.json"], "its directory does not exist"),
    ],
)
def test_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1, err
