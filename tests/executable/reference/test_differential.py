"""Differential testing: the fast VM (wasmtime) and the reference PVM agree
on outputs, durable storage, ticks and state hashes at every kernel_run end
and every level end, for generated kernels and the bundled ones."""

from __future__ import annotations

import pytest
import wasmtime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executable import kernels
from executable.wasm.limits import Limits
from tests.executable.reference.gen import inbox, kernel_wat
from tests.executable.reference.helpers import differential, level

SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large]


def _levels(messages: list[list[bytes]]) -> list[list[bytes]]:
    return [level(*externals) for externals in messages]


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW_DATA)
@given(kernel_wat(), inbox())
def test_generated_kernels_agree(wat: str, messages: list[list[bytes]]) -> None:
    differential(bytes(wasmtime.wat2wasm(wat)), _levels(messages))


@settings(max_examples=25, deadline=None, suppress_health_check=SLOW_DATA)
@given(kernel_wat(), inbox(), st.integers(20, 3_000))
def test_generated_kernels_agree_when_fuel_runs_out(
    wat: str, messages: list[list[bytes]], cap: int
) -> None:
    """A small fuel cap stops runs at random places (``fuel_cap``)."""
    differential(bytes(wasmtime.wat2wasm(wat)), _levels(messages), Limits(fuel_cap=cap))


BUNDLED = [
    ("echo", [level(b"hello", b"world"), level(), level(b"!")], None),
    ("counter", [level(b"a", b"b"), level(), level(b"c")], None),
    ("host_exercise", [level()], None),
    ("hostile/oversized_output", [level(b"x"), level()], None),
    ("hostile/oob_pointers", [level(b"x"), level()], None),
    ("hostile/floats", [level(b"x"), level()], None),
    ("hostile/unknown_import", [level(b"x"), level()], None),
    ("hostile/no_kernel_run", [level(b"x"), level()], None),
    ("hostile/start_host_call", [level(b"x"), level()], None),
    ("hostile/infinite_loop", [level(b"x"), level()], Limits(fuel_cap=50_000)),
    ("hostile/infinite_loop", [level(b"x"), level()], Limits(tick_budget=100_000)),
    ("hostile/memory_bomb", [level()], Limits(max_memory_bytes=1 << 20)),
    # the fast VM's native stack must overflow before Octez's 60,000 frames
    ("hostile/stack_overflow", [level(), level()], Limits(max_wasm_stack=1 << 20)),
]


@pytest.mark.parametrize(("name", "levels", "limits"), BUNDLED, ids=[b[0] for b in BUNDLED])
def test_bundled_kernels_agree(name: str, levels: list[list[bytes]], limits: Limits | None) -> None:
    differential(kernels.load(name), levels, limits)


@pytest.mark.slow
def test_installer_with_reveals_agrees() -> None:
    """The installer reveals its next stage page by page (reveal inputs in
    the reference PVM), upgrades itself and reboots into the counter."""
    differential(
        kernels.load("installer"), [level(b"a"), level(b"b")], preimages=kernels.PREIMAGES_DIR
    )


def _wat_bytes(data: bytes) -> str:
    return "".join(f"\\{b:02x}" for b in data)


def upgrader(new_kernel: bytes) -> bytes:
    """A kernel that replaces itself by ``new_kernel`` (written 2 KiB at a
    time) and reboots; the next kernel_run loads the new kernel."""
    n = len(new_kernel)
    writes = " ".join(
        f"(drop (call $write (i32.const 200) (i32.const 17) (i32.const {off})"
        f" (i32.const {4096 + off}) (i32.const {min(2048, n - off)})))"
        for off in range(0, n, 2048)
    )
    wat = f"""(module
      (import "smart_rollup_core" "store_write"
        (func $write (param i32 i32 i32 i32 i32) (result i32)))
      (import "smart_rollup_core" "store_delete" (func $delete (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 200) "/kernel/boot.wasm")
      (data (i32.const 300) "/kernel/env/reboot")
      (data (i32.const 4096) "{_wat_bytes(new_kernel)}")
      (func (export "kernel_run")
        (drop (call $delete (i32.const 200) (i32.const 17)))
        {writes}
        (drop (call $write (i32.const 300) (i32.const 18) (i32.const 0) (i32.const 0)
                           (i32.const 1)))))"""
    return bytes(wasmtime.wat2wasm(wat))


def _kernel(text: str) -> bytes:
    return bytes(wasmtime.wat2wasm(text))


BAD = {
    "oob_data_segment": '(module (memory (export "m") 1) (data (i32.const 65535) "ab")'
    ' (func (export "kernel_run")))',
    "memory_over_the_limit": '(module (memory (export "m") 40) (func (export "kernel_run")))',
    "no_memory_export": '(module (memory 1) (func (export "kernel_run")))',
    "start_traps": '(module (memory (export "m") 1) (func $s unreachable) (start $s)'
    ' (func (export "kernel_run")))',
    "kernel_run_with_params": '(module (memory (export "m") 1)'
    ' (func (export "kernel_run") (param i32)))',
    "floats": '(module (memory (export "m") 1) (func (export "kernel_run") (drop (f32.const 1))))',
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_load_failures_agree(name: str) -> None:
    """A bad kernel at origination is stuck forever; a bad upgrade falls
    back to the previous kernel (or, for ``kernel_run`` with parameters, is
    stuck: Invalid_module)."""
    limits = Limits(tick_budget=1_000_000, max_memory_bytes=1 << 21)
    bad = _kernel(BAD[name])
    differential(bad, [level(b"x"), level()], limits)
    fast, _ref = differential(upgrader(bad), [level(b"x"), level(), level()], limits)
    outcomes = [r.outcome for r in fast.runs]
    if name == "kernel_run_with_params":
        assert outcomes == ["returned", "stuck"]
    else:
        assert outcomes == ["returned", "fallback"] * 3


def test_revision_and_migration_agree() -> None:
    """A rollup originated under V0 migrates at the second level (the new
    revision's host functions and budget apply at once)."""
    from executable.wasm.revisions import Revision

    migration = b"\x00\x04" + len(b"nairobi_017").to_bytes(4, "big") + b"nairobi_017"
    levels = [level(b"a"), [level()[0], level()[1], migration, b"\x01b", level()[-1]], level()]
    differential(kernels.load("counter"), levels, Limits(), Revision.V0)
