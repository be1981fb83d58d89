"""The PVM state machine (Octez: src/lib_scoru_wasm/wasm_vm.ml): input
collection, kernel_runs on fresh instances, reboots and their counter, the
flags the PVM maintains, traps, terminal stuck states, the fallback kernel,
migrations, ticks and the state hash."""

from __future__ import annotations

import pytest
import wasmtime

from executable.wasm.durable import key
from executable.wasm.errors import InvalidPvmCall
from executable.wasm.layout import Phase
from executable.wasm.limits import Limits
from executable.wasm.outbox import Outbox
from executable.wasm.pvm import BoundaryDecision, RunOutcome, Status, WasmPvm
from executable.wasm.revisions import Revision
from tests.executable.wasm_helpers import (
    EOL,
    IPL,
    SOL,
    call,
    feed,
    level,
    migration,
    new_pvm,
    rec,
    results,
    snippet_kernel,
    wat,
)

BUF = 1024
REBOOT = 100  # "/kernel/env/reboot" (18)
COUNTER = 130  # "/readonly/kernel/env/reboot_counter" (35)
FLAGS = 200  # flag paths
DATA = {
    REBOOT: b"/kernel/env/reboot",
    COUNTER: b"/readonly/kernel/env/reboot_counter",
    FLAGS: b"/readonly/kernel/env/stuck",  # 26
    240: b"/readonly/kernel/env/upgrade_error",  # 34
    280: b"/readonly/kernel/env/too_many_reboot",  # 36
    320: b"/readonly/wasm_version",  # 22
    350: b"/n",
    360: b"/readonly/kernel/boot.wasm",  # 26
    400: b"/kernel/boot.wasm",  # 17
}
REQUEST_REBOOT = call("store_write", REBOOT, 18, 0, 10, 1)
RUN_NUMBER = """
  (drop (call $store_read (i32.const 350) (i32.const 2) (i32.const 0) (i32.const 8) (i32.const 1)))
  (i32.store8 (i32.const 8) (i32.add (i32.load8_u (i32.const 8)) (i32.const 1)))
  (drop (call $store_write (i32.const 350) (i32.const 2) (i32.const 0) (i32.const 8) (i32.const 1)))
"""


REBOOT_UNTIL_3 = (
    "(if (i32.lt_u (i32.load8_u (i32.const 8)) (i32.const 3)) (then (drop " + REQUEST_REBOOT + ")))"
)


def probe(body: str, **kw: object) -> bytes:
    return snippet_kernel(body, data=DATA, **kw)  # type: ignore[arg-type]


def drain() -> str:
    return (
        "(block $d (loop $l (br_if $d (i32.le_s "
        + call("read_input", 16, BUF, 4096)
        + " (i32.const 0))) (br $l)))"
    )


def test_reboot_counter_and_flag_as_seen_by_the_kernel() -> None:
    # Each run reports the counter and whether /kernel/env/reboot exists,
    # then asks for a reboot until it has run three times.
    body = (
        RUN_NUMBER
        + call("store_read", COUNTER, 35, 0, 16, 4).join(["(drop ", ")"])
        + rec("(i32.load (i32.const 16))")
        + rec(call("store_has", REBOOT, 18))
        + REBOOT_UNTIL_3
    )
    pvm = new_pvm(probe(body))
    feed(pvm, 6, level())
    assert [results(r.debug) for r in pvm.runs] == [[1000, 0], [999, 0], [998, 0]]
    counter = pvm.durable.read_all(key("/readonly/kernel/env/reboot_counter"))
    assert counter == (1001).to_bytes(4, "little")
    assert pvm.durable.read_all(key("/kernel/env/reboot")) == b""  # set at yield
    feed(pvm, 7, level())
    assert results(pvm.runs[3].debug) == [1000, 0]


def test_inputs_survive_reboots_and_are_dropped_at_yield() -> None:
    # Read one message per run, rebooting while input remains.
    body = (
        rec(call("read_input", 16, BUF, 4096))
        + f"(if (i64.gt_s (i64.load (i32.const 0)) (i64.const 0)) (then (drop {REQUEST_REBOOT})))"
    )
    pvm = new_pvm(probe(body))
    feed(pvm, 6, level(b"x", b"y"))
    assert [results(r.debug)[0] for r in pvm.runs] == [2, len(IPL), 2, 2, 2, 0]

    # A kernel that yields at once loses the rest of the level's inbox.
    body2 = rec(call("read_input", 16, BUF, 4096))
    pvm2 = new_pvm(probe(body2))
    feed(pvm2, 6, level(b"x"))
    feed(pvm2, 7, level())
    assert [results(r.debug)[0] for r in pvm2.runs] == [2, 2]


def test_outbox_index_counts_across_reboots() -> None:
    body = RUN_NUMBER + "(drop " + call("write_output", 8, 1) + ")" + (REBOOT_UNTIL_3)
    pvm = new_pvm(probe(body))
    feed(pvm, 6, level())
    assert [(m.level, m.index, m.payload) for m in pvm.outbox_messages(6)] == [
        (6, 0, b"\x01"),
        (6, 1, b"\x02"),
        (6, 2, b"\x03"),
    ]
    feed(pvm, 7, level())
    assert [(m.level, m.index) for m in pvm.outbox_messages(7)] == [(7, 0)]


def test_fresh_instance_per_kernel_run() -> None:
    text = """(module
      (import "smart_rollup_core" "write_output" (func $o (param i32 i32) (result i32)))
      (import "smart_rollup_core" "store_write" (func $w (param i32 i32 i32 i32 i32) (result i32)))
      (import "smart_rollup_core" "store_has" (func $h (param i32 i32) (result i32)))
      (memory (export "mem") 1)
      (global $g (mut i32) (i32.const 7))
      (data (i32.const 100) "/done")
      (data (i32.const 120) "/kernel/env/reboot")
      (func (export "kernel_run")
        (i32.store (i32.const 0) (global.get $g))
        (i32.store (i32.const 4) (i32.load (i32.const 50)))
        (drop (call $o (i32.const 0) (i32.const 8)))
        (global.set $g (i32.const 99))
        (i32.store (i32.const 50) (i32.const 42))
        (if (i32.eqz (call $h (i32.const 100) (i32.const 5)))
          (then
            (drop (call $w (i32.const 100) (i32.const 5)
                           (i32.const 0) (i32.const 0) (i32.const 1)))
            (drop (call $w (i32.const 120) (i32.const 18)
                           (i32.const 0) (i32.const 0) (i32.const 1)))))))"""
    pvm = new_pvm(wat(text))
    feed(pvm, 6, level())
    payloads = [m.payload for m in pvm.outbox_messages(6)]
    assert payloads == [(7).to_bytes(4, "little") + bytes(4)] * 2  # memory named "mem"


def test_too_many_reboots_forces_a_yield() -> None:
    body = RUN_NUMBER + f"(drop {REQUEST_REBOOT})" + rec(call("store_has", 280, 36))
    pvm = new_pvm(probe(body))
    feed(pvm, 6, level())
    assert len(pvm.runs) == 1001
    assert pvm.durable.has_value(key("/readonly/kernel/env/too_many_reboot"))
    assert results(pvm.runs[-1].debug) == [0]
    feed(pvm, 7, level())
    assert results(pvm.runs[1001].debug) == [1]  # flag visible during the next level
    assert pvm.durable.has_value(key("/readonly/kernel/env/too_many_reboot"))


def test_too_many_reboot_flag_removed_at_normal_yield() -> None:
    body = (
        RUN_NUMBER
        + "(if (i32.le_u (i32.load8_u (i32.const 8)) (i32.const 250)) (then (drop "
        + REQUEST_REBOOT
        + ")))"
    )
    pvm = new_pvm(probe(body))
    pvm.durable.set_value(key("/readonly/kernel/env/too_many_reboot"), b"", edit_readonly=True)
    feed(pvm, 6, level())
    assert not pvm.durable.exists(key("/readonly/kernel/env/too_many_reboot"))


def test_trap_keeps_side_effects_sets_stuck_flag_and_honours_reboot() -> None:
    body = (
        RUN_NUMBER
        + "(drop "
        + call("write_output", 8, 1)
        + ")"
        + rec(call("store_has", FLAGS, 26))
        + "(if (i32.eq (i32.load8_u (i32.const 8)) (i32.const 1)) (then (drop "
        + REQUEST_REBOOT
        + ") unreachable))"
    )
    pvm = new_pvm(probe(body))
    feed(pvm, 6, level())
    assert [r.outcome for r in pvm.runs] == [RunOutcome.TRAPPED, RunOutcome.RETURNED]
    assert [results(r.debug) for r in pvm.runs] == [[0], [1]]  # flag seen by the reboot
    assert not pvm.durable.exists(key("/readonly/kernel/env/stuck"))  # removed on return
    assert len(pvm.outbox_messages(6)) == 2
    assert pvm.durable.read_all(key("/n")) == b"\x02"


@pytest.mark.parametrize(
    "instr,trap",
    [
        ("(drop (i32.div_s (i32.const 1) (i32.const 0)))", "integer_division_by_zero"),
        ("(drop (i32.div_s (i32.const -2147483648) (i32.const -1)))", "integer_overflow"),
        ("unreachable", "unreachable"),
        ("(drop (i32.load (i32.const 65535)))", "memory_out_of_bounds"),
        ("(call_indirect (type $v) (i32.const 5))", "table_out_of_bounds"),
        ("(call_indirect (type $v) (i32.const 1))", "indirect_call_to_null"),
        ("(call_indirect (type $v) (i32.const 0))", "bad_signature"),
    ],
)
def test_recoverable_traps(instr: str, trap: str) -> None:
    text = f"""(module
      (type $v (func))
      (memory (export "memory") 1)
      (table 2 funcref)
      (elem (i32.const 0) $f)
      (func $f (param i32))
      (func (export "kernel_run") {instr}))"""
    pvm = new_pvm(wat(text))
    feed(pvm, 6, level())
    assert pvm.runs[0].outcome is RunOutcome.TRAPPED and pvm.runs[0].reason == trap
    assert pvm.durable.has_value(key("/readonly/kernel/env/stuck"))
    feed(pvm, 7, level())
    assert len(pvm.runs) == 2 and pvm.status is Status.WAITING_FOR_INPUT


def upgrade_kernel(new_code: bytes, *, reboot: bool = True) -> bytes:
    """A kernel that, on its first run, writes ``new_code`` to
    /kernel/boot.wasm (in 2 KiB chunks) and reboots; it reports flags."""
    chunks = [f"(drop {call('store_delete', 400, 17)})"]
    for off in range(0, len(new_code), 2048):
        n = min(2048, len(new_code) - off)
        chunks.append(f"(drop {call('store_write', 400, 17, off, 5000 + off, n)})")
    body = (
        RUN_NUMBER
        + rec(call("store_has", 240, 34))
        + "(if (i32.eq (i32.load8_u (i32.const 8)) (i32.const 1)) (then "
        + "".join(chunks)
        + (f"(drop {REQUEST_REBOOT})" if reboot else "")
        + "))"
    )
    return snippet_kernel(body, data=DATA | {5000: new_code}, pages=2)


def test_failed_upgrade_restores_the_fallback_kernel() -> None:
    bad = wat('(module (memory (export "m") 1) (func (export "kernel_run") (drop (f32.const 1))))')
    first = upgrade_kernel(bad)
    pvm = new_pvm(first)
    feed(pvm, 6, level(b"lost"))
    assert [r.outcome for r in pvm.runs] == [RunOutcome.RETURNED, RunOutcome.FALLBACK]
    assert "float" in pvm.runs[1].reason
    d = pvm.durable
    assert d.read_all(key("/kernel/boot.wasm")) == first
    assert d.read_all(key("/readonly/kernel/boot.wasm")) == first
    assert d.has_value(key("/readonly/kernel/env/upgrade_error"))
    # The old kernel runs again at the next level and sees the flag, which
    # disappears once a kernel_run returns normally.
    feed(pvm, 7, level())
    assert results(pvm.runs[2].debug) == [1]
    assert not d.exists(key("/readonly/kernel/env/upgrade_error"))
    assert pvm.status is Status.WAITING_FOR_INPUT


@pytest.mark.parametrize(
    "text,stage",
    [
        (
            '(module (import "env" "f" (func)) (memory (export "m") 1)'
            ' (func (export "kernel_run")))',
            "link",
        ),
        (
            '(module (import "smart_rollup_core" "store_has" (func (param i32)))'
            ' (memory (export "m") 1) (func (export "kernel_run")))',
            "init",
        ),
        ('(module (memory 1) (func (export "kernel_run")))', "init"),
        (
            '(module (memory (export "m") 1) (func $s unreachable) (start $s)'
            ' (func (export "kernel_run")))',
            "init",
        ),
        (
            '(module (memory (export "m") 1) (func (export "kernel_run") (drop (f64.const 0))))',
            "decode",
        ),
        ('(module (memory (export "m") 65537))', "decode"),
    ],
)
def test_load_failures_fall_back(text: str, stage: str) -> None:
    try:
        code = wat(text)
    except wasmtime.WasmtimeError:
        pytest.skip("not expressible in WAT")
    pvm = new_pvm(upgrade_kernel(code))
    feed(pvm, 6, level())
    assert pvm.runs[-1].outcome is RunOutcome.FALLBACK
    assert pvm.runs[-1].reason.startswith(stage), pvm.runs[-1].reason


def test_no_fallback_at_origination_is_terminal_and_inputs_cost_one_tick() -> None:
    pvm = new_pvm(b"not wasm at all")
    feed(pvm, 6, level())
    assert pvm.status is Status.STUCK and pvm.stuck is not None
    assert pvm.stuck.kind == "no_fallback_kernel"
    tick = pvm.current_tick
    h = pvm.state_hash()
    feed(pvm, 7, level(b"a"))
    assert pvm.current_tick == tick + 4 and len(pvm.runs) == 1
    assert pvm.state_hash() != h  # the tick counter and last input moved


def test_missing_kernel_run_is_terminal_even_with_fallback() -> None:
    code = wat('(module (memory (export "m") 1) (func (export "main")))')
    pvm = new_pvm(upgrade_kernel(code))
    feed(pvm, 6, level())
    assert pvm.stuck is not None and pvm.stuck.kind == "invalid_state"


def test_fallback_copy_equals_running_kernel_during_first_run() -> None:
    body = rec(call("store_value_size", 360, 26)) + rec(call("store_value_size", 400, 17))
    kernel = probe(body)
    pvm = new_pvm(kernel)
    feed(pvm, 6, level())
    assert results(pvm.runs[0].debug) == [len(kernel), len(kernel)]


def test_wasm_version_and_migration() -> None:
    body = rec(call("store_read", 320, 22, 0, BUF, 32)) + rec(
        "(i64.load (i32.const 1024))", i64=True
    )
    pvm = new_pvm(probe(body, revision=Revision.V0), revision=Revision.V0)
    feed(pvm, 6, level())
    assert results(pvm.runs[0].debug)[0] == 5  # "2.0.0"
    assert pvm.tick_budget == 11_000_000_000
    feed(pvm, 7, level(extra=[migration(b"paris_019")]))
    assert pvm.durable.read_all(key("/readonly/wasm_version")) == b"2.0.0-r4"
    assert results(pvm.runs[1].debug)[0] == 8  # in force in the same level
    assert pvm.tick_budget == 50_000_000_000_000
    feed(pvm, 8, level(extra=[migration(b"unknown_proto")]))
    assert pvm.revision is Revision.V4


def test_level_ticks_are_padded_per_period() -> None:
    pvm = new_pvm(probe(RUN_NUMBER + REBOOT_UNTIL_3))
    budget = pvm.tick_budget
    feed(pvm, 6, level(b"a", b"b"))
    assert pvm.current_tick == (3 + 1) * budget
    feed(pvm, 7, level())
    assert pvm.current_tick == (3 + 1) * budget + 2 * budget


def test_too_many_ticks_is_terminal() -> None:
    loop = wat('(module (memory (export "m") 1) (func (export "kernel_run") (loop $l (br $l))))')
    pvm = new_pvm(loop, limits=Limits(tick_budget=100_000))
    feed(pvm, 6, level())
    assert pvm.stuck is not None and pvm.stuck.kind == "too_many_ticks"
    assert pvm.current_tick == 2 * 100_000
    capped = new_pvm(loop, limits=Limits(fuel_cap=50_000))
    feed(capped, 6, level())
    assert capped.stuck is not None and capped.stuck.kind == "fuel_cap"


def test_host_ticks_count_towards_the_budget() -> None:
    body = "(loop $l (drop " + call("store_has", REBOOT, 18) + ") (br $l))"
    pvm = new_pvm(probe(body), limits=Limits(tick_budget=100_000))
    feed(pvm, 6, level())
    assert pvm.stuck is not None and pvm.stuck.kind == "too_many_ticks"


def test_set_input_only_when_waiting() -> None:
    pvm = new_pvm(probe(""))
    pvm.set_input(6, 0, SOL)
    pvm.set_input(6, 1, EOL)
    assert not pvm.is_waiting_for_input()
    with pytest.raises(InvalidPvmCall):
        pvm.set_input(6, 2, SOL)
    pvm.eval_until_input()
    assert pvm.is_waiting_for_input()


def test_state_hash_is_deterministic_and_tracks_state() -> None:
    def run() -> list[bytes]:
        pvm = new_pvm(probe(RUN_NUMBER + "(drop " + call("write_output", 8, 1) + ")"))
        hashes = [pvm.state_hash()]
        for lvl in (6, 7, 8):
            feed(pvm, lvl, level(b"m"))
            hashes.append(pvm.state_hash())
        return hashes

    first, second = run(), run()
    assert first == second
    assert len(set(first)) == len(first)


def test_outbox_levels_expire() -> None:
    outbox = Outbox(2)
    outbox.start_level(1, validity_period=3)
    outbox.push(b"a")
    outbox.start_level(3, validity_period=3)
    assert outbox.levels() == [1, 3]
    outbox.start_level(4, validity_period=3)
    assert outbox.levels() == [3, 4]
    outbox.push(b"x")
    outbox.push(b"y")
    with pytest.raises(Exception, match="FULL_OUTBOX"):
        outbox.push(b"z")


def test_bulk_memory_is_charged_per_byte() -> None:
    """wasmtime charges memory.fill/copy by the byte, so fuel bounds them."""
    text = """(module (memory (export "m") 1024)
      (func (export "kernel_run")
        (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const 67108864)) (br $l))))"""
    pvm = new_pvm(wat(text), limits=Limits(fuel_cap=200_000_000))
    feed(pvm, 6, level())
    assert pvm.stuck is not None and pvm.stuck.kind == "fuel_cap"


def test_oversized_kernel_is_a_decode_error_and_falls_back() -> None:
    body = (
        f"(drop {call('store_delete', 400, 17)})"
        f"(drop {call('store_create', 400, 17, 2**31 - 1)})"
        f"(drop {REQUEST_REBOOT})"
    )
    kernel = probe(body)
    pvm = new_pvm(kernel)
    feed(pvm, 6, level())
    assert pvm.runs[-1].outcome is RunOutcome.FALLBACK
    assert "exceeds" in pvm.runs[-1].reason
    assert pvm.durable.read_all(key("/kernel/boot.wasm")) == kernel


def test_outbox_export_restore_and_digest() -> None:
    """The outbox digest (the reference PVM's layout) depends on contents
    only: a restored or copied outbox, or one rebuilt after a rollback,
    hashes the same; a Start_of_level not above the current level is
    ignored."""
    outbox = Outbox(3)
    empty = outbox.digest()
    outbox.start_level(5, validity_period=2)
    outbox.push(b"a")
    outbox.start_level(6, validity_period=2)
    outbox.push(b"b")
    outbox.push(b"c")
    copy = outbox.copy()
    assert outbox.digest() == copy.digest() != empty
    assert Outbox.restore(3, *outbox.export()).digest() == outbox.digest()
    outbox.start_level(6, validity_period=2)  # not above the current level
    assert outbox.digest() == copy.digest() and outbox.current_level == 6
    outbox.push(b"d")
    outbox.truncate(6, 2)
    assert outbox.digest() == copy.digest()
    copy.start_level(7, validity_period=2)  # level 5 leaves the validity period
    assert copy.levels() == [6, 7] and copy.low == 6 and outbox.levels() == [5, 6]
    assert Outbox.restore(3, *copy.export()).digest() == copy.digest()


def test_on_boundary_reports_every_decision() -> None:
    """The hook runs after each reboot decision (the PVM then stands at the
    reference PVM's LOAD point) and each yield (level end)."""
    pvm = new_pvm(probe(RUN_NUMBER + REBOOT_UNTIL_3))
    seen: list[tuple[str, str | None, int]] = []

    def hook(decision: BoundaryDecision) -> None:
        phase = pvm.boundary_phase()
        seen.append((decision.value, None if phase is None else phase.name, pvm.current_tick))
        assert pvm.current_tick == pvm.period_start

    pvm.on_boundary = hook
    feed(pvm, 6, level())
    assert [(d, p) for d, p, _t in seen] == [
        ("reboot", "LOAD"),
        ("reboot", "LOAD"),
        ("reboot", "LOAD"),
        ("yield", "COLLECT"),
    ]
    budget = pvm.tick_budget
    assert [t for _d, _p, t in seen] == [budget, 2 * budget, 3 * budget, 4 * budget]


def test_boundary_states_resume_identically() -> None:
    """``boundary_state`` then ``from_boundary`` at each kind of boundary point
    (waiting for input, right after End_of_level, stuck) resumes a PVM that
    goes on exactly like the original."""
    kernel = probe(RUN_NUMBER + "(drop " + call("write_output", 8, 1) + ")")
    pvm = new_pvm(kernel)
    feed(pvm, 6, level(b"x"))
    for i, message in enumerate(level(b"y")):
        pvm.set_input(7, i, message)
    assert pvm.boundary_phase() is Phase.PADDING
    twin = WasmPvm.from_boundary(pvm.config, pvm.boundary_state())
    assert twin.state_hash() == pvm.state_hash()
    for p in (pvm, twin):
        p.eval_until_input()
        feed(p, 8, level(b"z"))
    assert twin.state_hash() == pvm.state_hash()
    assert twin.outbox_messages(8) == pvm.outbox_messages(8)

    stuck = new_pvm(b"not wasm at all")
    feed(stuck, 6, level())
    assert stuck.boundary_phase() is Phase.STUCK
    again = WasmPvm.from_boundary(stuck.config, stuck.boundary_state())
    for p in (stuck, again):
        feed(p, 7, level(b"a"))
    assert again.state_hash() == stuck.state_hash() and again.status is Status.STUCK
