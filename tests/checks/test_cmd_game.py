"""``scoru game``: transcripts of whole refutation games, text and JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from checks import cmd_game
from checks.cli import _Parser
from executable import kernels
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
        ["--refuter", "keen", "--pvm", "riscv"],
        ["--refuter", "keen", "--kernel", "counter"],
        ["--pvm", "wasm", "--refuter", "keen"],
        ["--pvm", "wasm", "--refuter", "honest"],
        ["--pvm", "wasm", "--refuter", "byte_flip", "--defender", "byte_flip"],
        ["--pvm", "wasm", "--refuter", "byte_flip", "--ticks", "9"],
        ["--pvm", "wasm", "--refuter", "byte_flip", "--kernel", "nokernel"],
        ["--pvm", "wasm", "--refuter", "byte_flip", "--lie-level", "99"],
        ["--pvm", "wasm", "--refuter", "byte_flip", "--lie-path", "/nothing"],
    ],
)
def test_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(ScoruError):
        run(capsys, *argv)


def test_wasm_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--pvm", "wasm", "--list")
    assert code == 0
    assert out.split() == list(cmd_game.WASM_STRATEGIES)


@pytest.mark.parametrize("liar", ["refuter", "defender"])
def test_wasm_dispute_json(capsys: pytest.CaptureFixture[str], liar: str) -> None:
    """A real kernel (the bundled counter): the byte_flip node loses at the
    tick of its lie, with a one-step proof; bonds move."""
    honest = "defender" if liar == "refuter" else "refuter"
    code, out = run(
        capsys, "--pvm", "wasm", f"--{liar}", "byte_flip", f"--{honest}", "honest", "--json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["pvm"] == "wasm_2_0_0" and doc["kernel"] == "counter"
    assert doc["outcome"]["kind"] == "loser"
    assert doc["outcome"]["loser"] == liar
    assert doc["outcome"]["reason"] == "conflict_resolved"
    stake = doc["outcome"]["stakes"]
    assert stake[liar]["frozen_bond_change"] < 0
    assert stake[honest]["balance_change"] == -stake[liar]["frozen_bond_change"] // 2
    assert doc["lie"]["liar"] == liar and doc["lie"]["path"] == "/counter"
    assert doc["resolved_tick"] == doc["lie"]["tick"]
    last = doc["moves"][-1]
    assert last["step"] == "proof" and last["accepted"]
    assert last["section"]["start"]["tick"] == doc["lie"]["tick"]
    assert doc["final_proof_size"] > 0
    assert doc["refuter"]["number_of_ticks"] == doc["defender"]["number_of_ticks"]


def test_wasm_dispute_text_with_a_kernel_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--kernel FILE`` (a .wat source), a chosen lie, 32 sections (MAINNET)."""
    source = tmp_path / "echo.wat"
    source.write_text((kernels.KERNELS_DIR / "echo.wat").read_text())
    code, out = run(
        capsys,
        "--pvm",
        "wasm",
        "--kernel",
        str(source),
        "--preset",
        "MAINNET",
        "--refuter",
        "honest",
        "--defender",
        "byte_flip",
        "--lie-level",
        "2",
        "--lie-tick",
        "1",
        "--lie-path",
        "/readonly/wasm_version",
    )
    assert code == 0
    assert f"kernel {source}" in out
    assert "the defender's PVM flips byte 0 of /readonly/wasm_version" in out
    assert "outcome: the defender loses (conflict_resolved)" in out
    assert "chunks)" in out  # 33-chunk dissections are elided
    assert "resolved at tick " in out
