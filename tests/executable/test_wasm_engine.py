"""The wasmtime configuration and the checks done before instantiation
(Octez: src/lib_webassembly/binary/decode.ml, src/lib_scoru_wasm/wasm_vm.ml)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import wasmtime

from executable.wasm import engine, host
from executable.wasm.module_check import KernelLoadError, scan
from executable.wasm.revisions import LATEST, Revision
from tests.executable.wasm_helpers import wat

OFFERED = host.offered(LATEST)


def _run_isolated(code: str) -> subprocess.CompletedProcess[str]:
    """wasmtime aborts the process on some bad configurations: test them in
    a child process."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )


@pytest.mark.parametrize("stack", [64 * 1024, 1024 * 1024, 128 * 1024 * 1024, 512 * 1024 * 1024])
def test_engine_configurations_build(stack: int) -> None:
    result = _run_isolated(
        f"""
        import wasmtime
        from executable.wasm import engine
        e = engine.engine({stack})
        wasmtime.Module(e, '(module (memory (export "m") 1) (func (export "kernel_run")))')
        print("ok")
        """
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_unsafe_order_aborts_the_process() -> None:
    """Why make_config sets the async stack first: without it wasmtime
    panics (SIGABRT), which no Python handler can catch."""
    result = _run_isolated(
        """
        import wasmtime
        c = wasmtime.Config()
        c.max_wasm_stack = 64 << 20
        wasmtime.Engine(c)
        """
    )
    assert result.returncode != 0


def test_features_match_the_pvm_decoder() -> None:
    e = engine.engine(1024 * 1024)
    accepted = [
        "(func (result i32) (i32.extend8_s (i32.const 1)))",  # sign extension
        "(func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0)))",  # bulk memory
        "(func (result i32 i32) (i32.const 1) (i32.const 2))",  # multi-value
        "(func (result i32) (ref.is_null (ref.null func)))",  # reference types
        "(func (result v128) (i32x4.add (v128.const i64x2 0 0) (v128.const i64x2 0 0)))",
    ]
    for f in accepted:
        wasmtime.Module(e, f"(module (memory 1) {f})")
    refused = [
        "(memory 1 1 shared)",  # threads
        "(func (return_call 0))",  # tail calls
        "(memory i64 1)",  # memory64
        "(func (result v128) (i32x4.relaxed_trunc_f32x4_s (v128.const i64x2 0 0)))",
    ]
    for f in refused:
        with pytest.raises(wasmtime.WasmtimeError):
            wasmtime.Module(e, f"(module {f})")


def _module(body: str) -> bytes:
    return wat(f'(module (memory (export "m") 1) {body})')


@pytest.mark.parametrize(
    "body",
    [
        "(func (param f32))",
        "(func (result f64) (f64.const 0))",
        "(func (local f32))",
        "(global f64 (f64.const 0))",
        "(func (drop (f32.load (i32.const 0))))",
        "(func (f64.store (i32.const 0) (f64.const 0)))",
        "(func (drop (f32.convert_i32_s (i32.const 0))))",
        "(func (drop (f64.reinterpret_i64 (i64.const 0))))",
        "(func (drop (block (result f32) (unreachable))))",
        "(func (drop (select (result f64) (unreachable) (unreachable) (i32.const 0))))",
        "(func (drop (f32x4.splat (unreachable))))",
        "(func (drop (f64x2.add (v128.const i64x2 0 0) (v128.const i64x2 0 0))))",
        "(func (drop (f64x2.convert_low_i32x4_s (v128.const i64x2 0 0))))",
        "(func (drop (f32x4.extract_lane 0 (v128.const i64x2 0 0))))",
    ],
)
def test_floats_are_decode_errors(body: str) -> None:
    with pytest.raises(KernelLoadError) as err:
        scan(_module(body), OFFERED)
    assert err.value.stage == "decode" and "float" in err.value.reason


@pytest.mark.parametrize(
    "body",
    [
        # Not guarded by Octez's decoder (decode.ml): accepted.
        "(func (drop (f64x2.ceil (v128.const i64x2 0 0))))",
        "(func (drop (i32x4.trunc_sat_f32x4_s (v128.const i64x2 0 0))))",
        "(func (drop (f32x4.convert_i32x4_u (v128.const i64x2 0 0))))",
        "(func (drop (i32.trunc_f32_s (unreachable))))",
        "(func (drop (i64.reinterpret_f64 (unreachable))))",
        "(func (drop (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"
        " (v128.const i64x2 0 0) (v128.const i64x2 0 0))))",
        "(func (v128.store64_lane offset=4 1 (i32.const 0) (v128.const i64x2 0 0)))",
        "(table 1 funcref) (elem (i32.const 0) func 0)"
        " (func (table.set 0 (i32.const 0) (ref.func 0)))",
        '(data "x") (func (memory.init 0 (i32.const 0) (i32.const 0) (i32.const 1)) (data.drop 0))',
        "(func (drop (br_table 0 0 (i32.const 1) (i32.const 0))))",
    ],
)
def test_allowed_instructions(body: str) -> None:
    scan(_module(body), OFFERED)


def test_names_longer_than_512_bytes() -> None:
    ok = _module(f'(func (export "{"n" * 512}"))')
    scan(ok, OFFERED)
    with pytest.raises(KernelLoadError, match="512"):
        scan(_module(f'(func (export "{"n" * 513}"))'), OFFERED)


def test_link_and_init_classification() -> None:
    with pytest.raises(KernelLoadError) as err:
        scan(wat('(module (import "env" "read_input" (func)))'), OFFERED)
    assert err.value.stage == "link"
    with pytest.raises(KernelLoadError) as err:
        scan(
            wat(
                '(module (import "smart_rollup_core" "store_delete_value"'
                " (func (param i32 i32) (result i32))))"
            ),
            host.offered(Revision.V0),
        )
    assert err.value.stage == "link"
    with pytest.raises(KernelLoadError) as err:
        scan(
            wat(
                '(module (import "smart_rollup_core" "write_debug"'
                " (func (param i32 i32) (result i32))))"
            ),
            OFFERED,
        )
    assert err.value.stage == "init"
    with pytest.raises(KernelLoadError) as err:
        scan(
            wat('(module (import "smart_rollup_core" "read_input" (memory 1)))'),
            OFFERED,
        )
    assert err.value.stage == "init"


def test_decode_errors() -> None:
    for bad in (
        b"",
        b"\x00asm",
        b"\x00asm\x02\x00\x00\x00",
        b"not wasm",
        b"\x00asm\x01\x00\x00\x00\x01\xff",
    ):
        with pytest.raises(KernelLoadError) as err:
            scan(bad, OFFERED)
        assert err.value.stage == "decode"


def test_module_info_memory_by_type_and_entrypoint() -> None:
    info = scan(_module('(func (export "kernel_run"))'), OFFERED)
    assert info.memory_export == "m" and info.entrypoint == ((), ())
    info = scan(
        wat('(module (memory 1) (global (export "kernel_run") i32 (i32.const 0)))'),
        OFFERED,
    )
    assert info.memory_export is None and info.entrypoint_kind == "global"


def test_revision_host_function_sets() -> None:
    counts = {r: len([n for n in host.offered(r) if not n.startswith("nds_")]) for r in Revision}
    assert counts[Revision.V0] == 14
    assert counts[Revision.V1] == 17
    assert counts[Revision.V2] == 18
    assert counts[Revision.V3] == counts[Revision.V6] == 19
    assert len(host.offered(Revision.V6)) == 30
    assert Revision.V0.version_string == "2.0.0" and Revision.V6.version_string == "2.0.0-r6"
    assert Revision.from_version_string(b"2.0.0-r3") is Revision.V3
