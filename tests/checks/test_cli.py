"""The scoru command line: outputs, JSON, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checks.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "executable" / "examples" / "inputs.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_inbox_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "inbox", str(EXAMPLE), "--json")
    assert code == 0
    doc = json.loads(out)
    levels = doc["levels"]
    assert [lvl["level"] for lvl in levels] == [0, 1, 2, 3]
    first = levels[1]["messages"]
    assert [m["kind"] for m in first] == [
        "start_of_level",
        "info_per_level",
        "external",
        "transfer",
        "end_of_level",
    ]
    assert first[2]["serialized"] == "01" + b"hello".hex()
    assert doc["inbox_hash"] == levels[-1]["inbox_hash"]
    assert all(lvl["inbox_hash"].startswith("srib1") for lvl in levels)


def test_inbox_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "inbox", str(EXAMPLE))
    assert code == 0
    assert "inbox hash after level 3: srib1" in out


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{", "is not valid JSON"),
        ('{"a": 1}', "expected a JSON list of levels"),
        ("[[1]]", "level 0, message 0: expected an object"),
        ('[[{"external": "zz"}]]', "is not valid hex"),
        ('[[{"external": "00", "payload": "1"}]]', "exactly one of"),
        ('[[{"payload": "Pair (1"}]]', "level 0, message 0"),
        ('[[{"payload": "1", "sender": "KT1bad"}]]', "level 0, message 0"),
        (
            '[[{"payload": "1", "source": "KT18amZmM5W7qDWVt2pH6uj7sCEd3kbzLrHT"}]]',
            "not an implicit account",
        ),
        ('[[{"external": "' + "00" * 4096 + '"}]]', "limit is 4095"),
        ('[[{"serialized": "0009"}]]', "unknown internal inbox message tag"),
        ('[[{"mystery": "00"}]]', "unknown field 'mystery'"),
    ],
)
def test_malformed_inputs_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, needle: str
) -> None:
    path = tmp_path / "inputs.json"
    path.write_text(content)
    code, out, err = run(capsys, "inbox", str(path))
    assert code == 2
    assert out == ""
    assert err.startswith("scoru: error: ") and err.count("\n") == 1
    assert needle in err


def test_missing_file_and_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "inbox", "/nonexistent/inputs.json")
    assert code == 2 and "does not exist" in err
    with pytest.raises(SystemExit) as exc:
        main(["inbox"])
    assert exc.value.code == 2
    code, _, err = run(capsys, "inbox", str(EXAMPLE), "--preset", "bogus")
    assert code == 2 and "unknown constants preset" in err


def test_constants_and_demo(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "constants", "MAINNET", "--json")
    assert code == 0 and json.loads(out)["commitment_period_in_blocks"] == 150
    code, out, _ = run(capsys, "constants", "--history")
    assert code == 0 and "Tallinn" in out
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "inbox hash srib1" in out


def test_console_script_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "checks", "inbox", str(EXAMPLE), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["levels"]
