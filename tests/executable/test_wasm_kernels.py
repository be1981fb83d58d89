"""The bundled kernels, run through :func:`run_kernel`: reproducible build,
echo, counter, the host-function exerciser, the installer (reveals and
self-upgrade), hostile kernels, determinism and the report."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest

from executable import kernels
from executable.kernels import build
from executable.wasm.errors import InvalidPvmCall
from executable.wasm.limits import Limits
from executable.wasm.pvm import PvmConfig, Status, WasmPvm
from executable.wasm.reveal import RevealOracle
from executable.wasm.run import InvalidInboxLevel, run_kernel
from spec.errors import EncodingError
from tests.executable.wasm_helpers import ADDRESS, EOL, METADATA, ORIGINATION, SOL, level

KW: dict[str, Any] = {"rollup_address": ADDRESS, "origination_level": ORIGINATION}


def test_committed_kernels_match_a_fresh_build() -> None:
    artefacts = build.build_all()
    stale = [p.name for p, data in artefacts.items() if not p.exists() or p.read_bytes() != data]
    assert stale == [], "run: python -m executable.kernels.build"
    committed = {p.name for p in kernels.PREIMAGES_DIR.iterdir()}
    assert committed == {p.name for p in artefacts if p.parent == kernels.PREIMAGES_DIR}


def test_echo() -> None:
    report = run_kernel(
        kernels.load("echo"), [level(b"hello", b"world"), level(), level(b"!")], **KW
    )
    assert [(m.level, m.index, m.payload) for m in report.outbox] == [
        (6, 0, b"hello"),
        (6, 1, b"world"),
        (8, 0, b"!"),
    ]
    assert [lvl.kernel_run_count for lvl in report.levels] == [1, 1, 1]
    assert report.status == "ok"


def test_counter_keeps_state_across_levels_and_reboots() -> None:
    report = run_kernel(kernels.load("counter"), [level(b"a", b"b"), level(), level(b"c")], **KW)
    counts = [struct.unpack("<Q", m.payload)[0] for m in report.outbox]
    assert counts == [5, 8, 12]  # every message, SOL/IPL/EOL included
    assert [lvl.kernel_run_count for lvl in report.levels] == [3, 1, 2]
    assert report.levels[0].kernel_runs[-1].debug == b"counter at end of level"
    changes = dict(report.levels[1].durable_changes)
    assert changes == {"/counter": struct.pack("<Q", 8)}
    budget = 50_000_000_000_000
    assert [lvl.ticks for lvl in report.levels] == [4 * budget, 2 * budget, 3 * budget]


HOST_EXERCISE_EXPECTED = [
    *[2, -6, -6, -6, 0, 2, 0],  # read_input
    *[0, -7, -6, -8],  # write_output
    *[0, -4, -9, -1, -2, -7, -6, -5, -6, -8, -6],  # store_write
    *[4, -4, -3, -7, -6, -4],  # store_read
    *[5, -3],  # store_value_size
    *[2, 1, 0, 1, 0, 1, 3, 2, -2],  # has / exists / list_size
    *[1, 0, -12, -10, -6],  # get_nth_key
    *[0, -10, -9, -9, 0, -9, -10, 0],  # copy / move
    *[0, 0, -9, 0, 2, -9],  # delete / delete_value
    *[0, 100, -13, -5, -9],  # create
    *[32, 4, -10, -6],  # get_hash
    *[24, 5, -6, 0, -7, -6, 24, 0, -7, -6, -6],  # reveals
]


def test_host_exercise_kernel_reports_every_code() -> None:
    report = run_kernel(kernels.load("host_exercise"), [level()], **KW)
    run = report.levels[0].kernel_runs[0]
    assert run.outcome == "returned"
    codes = [struct.unpack_from("<i", run.debug, i)[0] for i in range(0, len(run.debug), 4)]
    assert codes == HOST_EXERCISE_EXPECTED
    assert [m.payload for m in report.outbox] == [b"hello"]


def test_installer_reveals_and_upgrades_itself() -> None:
    report = run_kernel(
        kernels.load("installer"),
        [level(b"a"), level(b"b")],
        preimages_dir=kernels.PREIMAGES_DIR,
        **KW,
    )
    first = report.levels[0]
    assert first.kernel_run_count == 3  # installer, then the counter (one reboot)
    changes = dict(first.durable_changes)
    assert changes["/readonly/kernel/boot.wasm"] == kernels.load("installer_next_stage")
    assert "/installer/kernel/boot.wasm" not in changes
    counts = [struct.unpack("<Q", m.payload)[0] for m in report.outbox]
    assert counts == [4, 8]  # the next stage saw the whole first inbox


def test_installer_blocks_on_missing_preimage_and_resumes_identically() -> None:
    blocked = run_kernel(kernels.load("installer"), [level(b"a"), level(b"b")], **KW)
    assert blocked.status == "blocked" and len(blocked.levels) == 1
    assert blocked.levels[0].kernel_run_count == 0

    reference = run_kernel(
        kernels.load("installer"), [level(b"a")], preimages_dir=kernels.PREIMAGES_DIR, **KW
    )
    pvm = WasmPvm(PvmConfig(metadata=METADATA), RevealOracle(METADATA))
    pvm.install(kernels.load("installer"))
    for i, m in enumerate(level(b"a")):
        pvm.set_input(6, i, m)
    pvm.eval_until_input()
    h0 = pvm.state_hash()
    supplied = 0
    while pvm.is_waiting_for_reveal():
        assert pvm.state_hash() == h0  # always rolled back to the start of the run
        request = pvm.reveal_request()
        assert request is not None and request[0] == 0
        pvm.set_reveal((kernels.PREIMAGES_DIR / request[1:].hex()).read_bytes())
        supplied += 1
        pvm.eval_until_input()
    assert supplied == 4  # root hash page + 3 content pages
    assert pvm.state_hash() == reference.final_state_hash
    with pytest.raises(InvalidPvmCall):
        pvm.set_reveal(b"")


@pytest.mark.parametrize(
    "name,limits,status,kind",
    [
        ("infinite_loop", Limits(fuel_cap=2_000_000), "stuck", "fuel_cap"),
        ("infinite_loop", Limits(tick_budget=2_000_000), "stuck", "too_many_ticks"),
        ("memory_bomb", Limits(max_memory_bytes=32 * 1024 * 1024), "ok", None),
        ("stack_overflow", Limits(max_wasm_stack=1024 * 1024), "stuck", "stack_overflow"),
        ("floats", None, "stuck", "no_fallback_kernel"),
        ("unknown_import", None, "stuck", "no_fallback_kernel"),
        ("oversized_output", None, "ok", None),
        ("oob_pointers", None, "ok", None),
        ("no_kernel_run", None, "stuck", "invalid_state"),
        ("start_host_call", None, "stuck", "no_fallback_kernel"),
    ],
)
def test_hostile_kernels_end_in_bounded_outcomes(
    name: str, limits: Limits | None, status: str, kind: str | None
) -> None:
    report = run_kernel(
        kernels.load(f"hostile/{name}"), [level(b"x"), level()], limits=limits, **KW
    )
    assert report.status == status, report.reason
    if kind is not None:
        assert report.reason is not None and report.reason.startswith(kind)
        assert report.levels[1].kernel_run_count == 0  # stuck forever
        assert report.levels[1].ticks == 3  # one tick per ignored input
    again = run_kernel(kernels.load(f"hostile/{name}"), [level(b"x"), level()], limits=limits, **KW)
    assert again.to_json() == report.to_json()


def test_hostile_outputs_and_pointers_codes() -> None:
    out = run_kernel(kernels.load("hostile/oversized_output"), [level()], **KW)
    dbg = out.levels[0].kernel_runs[0].debug
    codes = [struct.unpack_from("<i", dbg, i)[0] for i in range(0, len(dbg), 4)]
    assert codes == [-7] + [0] * 100 + [-11]
    assert len(out.outbox) == 100
    oob = run_kernel(kernels.load("hostile/oob_pointers"), [level()], **KW)
    run = oob.levels[0].kernel_runs[0]
    assert run.outcome == "trapped" and run.reason == "memory_out_of_bounds"
    codes = [struct.unpack_from("<i", run.debug, i)[0] for i in range(0, len(run.debug), 4)]
    assert codes == [-6, -6, -6, -6, -6]
    assert dict(oob.levels[0].durable_changes)["/hostile"] == b"/hostile"  # kept
    assert "/readonly/kernel/env/stuck" in dict(oob.levels[0].durable_changes)


@pytest.mark.slow
def test_reboot_forever_is_cut_at_1001_runs() -> None:
    report = run_kernel(kernels.load("hostile/reboot_forever"), [level(), level()], **KW)
    assert [lvl.kernel_run_count for lvl in report.levels] == [1001, 1001]
    assert dict(report.levels[0].durable_changes)["/readonly/kernel/env/too_many_reboot"] == b""


def test_same_inputs_same_report() -> None:
    levels = [level(b"a", b"b"), level(), level(b"c")]
    one = run_kernel(kernels.load("counter"), levels, **KW)
    two = run_kernel(kernels.load("counter"), levels, **KW)
    assert one.to_json() == two.to_json()
    assert one.render_text() == two.render_text()
    other = run_kernel(kernels.load("counter"), [level(b"a"), level(), level(b"c")], **KW)
    assert other.final_state_hash != one.final_state_hash


def test_report_json_and_text() -> None:
    report = run_kernel(kernels.load("counter"), [level(b"a")], **KW)
    data = report.to_json()
    json.dumps(data)
    lvl = data["levels"][0]
    assert lvl["level"] == 6 and lvl["kernel_run_count"] == 2
    assert len(bytes.fromhex(lvl["state_hash"])) == 32
    assert data["outbox"][0] == {"level": 6, "index": 0, "payload": struct.pack("<Q", 4).hex()}
    assert lvl["kernel_runs"][-1]["debug_text"] == "counter at end of level"
    text = report.render_text()
    assert "level 6: 2 kernel_run(s)" in text and "counter at end of level" in text


def test_first_level_and_input_validation() -> None:
    report = run_kernel(kernels.load("echo"), [level(b"x")], first_level=42, **KW)
    assert report.outbox[0].level == 42
    with pytest.raises(InvalidInboxLevel):
        run_kernel(kernels.load("echo"), [[SOL, b"\x01x"]], **KW)
    with pytest.raises(InvalidInboxLevel):
        run_kernel(kernels.load("echo"), [[SOL, b"\x01" + bytes(4096), EOL]], **KW)
    with pytest.raises(EncodingError):
        run_kernel(kernels.load("echo"), [level()], rollup_address=b"short", origination_level=1)
    with pytest.raises(InvalidPvmCall):
        run_kernel(kernels.load("echo"), [level()], first_level=ORIGINATION, **KW)


def test_stuck_pvm_reports_status_every_level() -> None:
    report = run_kernel(kernels.load("hostile/floats"), [level(), level(), level()], **KW)
    assert [lvl.status for lvl in report.levels] == ["stuck"] * 3
    assert all("float" in (lvl.reason or "") for lvl in report.levels)
    assert report.levels[0].kernel_runs[0].outcome == "stuck"


def test_pvm_status_after_run() -> None:
    pvm = WasmPvm(PvmConfig(metadata=METADATA))
    pvm.install(kernels.load("echo"))
    assert pvm.status is Status.WAITING_FOR_INPUT


def test_report_cuts_huge_values() -> None:
    from tests.executable.wasm_helpers import call, snippet_kernel

    kernel = snippet_kernel(
        f"(drop {call('store_create', 100, 4, 5_000_000)})", data={100: b"/big"}
    )
    report = run_kernel(kernel, [level()], **KW)
    lvl = report.levels[0]
    assert dict(lvl.durable_changes)["/big"] == bytes(1024 * 1024)
    assert dict(lvl.truncated_values) == {"/big": 5_000_000}
    assert "cut from 5000000 bytes" in report.render_text()


def test_preimage_file_that_does_not_match_its_hash_blocks(tmp_path: Any) -> None:
    import shutil

    for page in kernels.PREIMAGES_DIR.iterdir():
        shutil.copy(page, tmp_path / page.name)
    victim = sorted(tmp_path.iterdir())[0]
    victim.write_bytes(b"tampered")
    report = run_kernel(kernels.load("installer"), [level()], preimages_dir=tmp_path, **KW)
    assert report.status == "blocked"
    assert report.reason is not None and "does not hash to its name" in report.reason
