"""``scoru run``: bundled kernels, JSON report, determinism, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checks.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "executable" / "examples" / "inputs.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_echo_kernel_echoes_external_messages(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "run", "echo", "--inputs", str(EXAMPLE), "--json")
    assert code == 0
    doc = json.loads(out)
    assert [(o["level"], o["payload"]) for o in doc["outbox"]] == [
        (1, b"hello".hex()),
        (3, "0000000000000001"),
    ]
    assert [lvl["level"] for lvl in doc["levels"]] == [1, 2, 3]


def test_run_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "run", "counter", "--inputs", str(EXAMPLE), "--json")[1]
    second = run(capsys, "run", "counter", "--inputs", str(EXAMPLE), "--json")[1]
    assert first == second
    assert json.loads(first)["final_state_hash"]


def test_wat_kernel_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wat = tmp_path / "k.wat"
    wat.write_text('(module (memory (export "mem") 1) (func (export "kernel_run")))')
    code, out, _ = run(capsys, "run", str(wat), "--inputs", str(EXAMPLE))
    assert code == 0 and "level 3" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["run", "no-such-kernel"], "neither a file nor a bundled kernel"),
        (["run", "echo", "--rollup", "sr1bad"], "base58check"),
        (["run", "echo", "--inputs", "/nonexistent.json"], "does not exist"),
        (["run", "echo", "--origination-level", "-3"], "--origination-level"),
        (["run", "echo", "--preimages", "/nonexistent-dir"], "is not a directory"),
    ],
)
def test_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("scoru: error:") and err.count("\n") == 1 and needle in err


def test_invalid_wat(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wat = tmp_path / "bad.wat"
    wat.write_text("(module (func")
    code, _, err = run(capsys, "run", str(wat))
    assert code == 2 and "not valid WAT" in err and err.count("\n") == 1
