"""``scoru game``: transcripts of whole refutation games, text and JSON."""

from __future__ import annotations

import argparse
import json

import pytest

from checks import cmd_game
from checks.cli import _Parser
from spec import strategies
from spec.errors import ScoruError


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    parser = _Parser(prog="scoru")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    cmd_game.register(sub)
    args: argparse.Namespace = parser.parse_args(["game", *argv])
    code = args.run(args)
    out, _ = capsys.readouterr()
    return code, out


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--list")
    assert code == 0
    assert out.split() == list(strategies.STRATEGIES)


@pytest.mark.parametrize("refuter", ["keen", "random_liar", "eol_hater"])
def test_json_transcript(capsys: pytest.CaptureFixture[str], refuter: str) -> None:
    code, out = run(capsys, "--refuter", refuter, "--seed", "3", "--ticks", "40", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["mode"] == "intended"
    assert doc["refuter"]["strategy"] == refuter
    assert doc["moves"] and all("step" in m for m in doc["moves"])
    assert doc["outcome"]["kind"] == "loser"
    assert doc["outcome"]["loser"] == "refuter"
    assert doc["outcome"]["reason"] == "conflict_resolved"
    stake = doc["outcome"]["stakes"]
    assert stake["refuter"]["frozen_bond_change"] < 0
    assert stake["defender"]["balance_change"] == -stake["refuter"]["frozen_bond_change"] // 2
    first = doc["moves"][0]
    assert first["player"] == "refuter" and first["accepted"]
    assert first["clocks"]["refuter"] <= first["clocks"]["defender"]


def test_octez_draw(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--refuter", "griefer", "--mode", "octez", "--json")
    assert code == 0
    outcome = json.loads(out)["outcome"]
    assert outcome == {**outcome, "kind": "draw", "loser": None}


def test_text_transcript(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--refuter", "honest", "--defender", "lazy", "--preset", "MAINNET")
    assert code == 0
    assert "outcome: the defender loses (conflict_resolved)" in out
    assert "refuter  section " in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--refuter", "nobody"],
        [],
        ["--refuter", "keen", "--mode", "wrong"],
        ["--refuter", "keen", "--ticks", "0"],
        ["--refuter", "keen", "--preset", "NOPE"],
    ],
)
def test_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(ScoruError):
        run(capsys, *argv)
