"""Helpers shared by the WASM PVM tests: inbox levels built by hand and
kernels assembled from WAT snippets that call the real host functions."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping

import wasmtime

from executable.wasm import host
from executable.wasm.durable import key
from executable.wasm.limits import Limits
from executable.wasm.pvm import PvmConfig, WasmPvm
from executable.wasm.reveal import Metadata, RevealOracle
from executable.wasm.revisions import LATEST, Revision

SOL = b"\x00\x01"
EOL = b"\x00\x02"
IPL = b"\x00\x03" + bytes(8) + bytes(32)
ADDRESS = bytes(range(20))
ORIGINATION = 5
METADATA = Metadata(ADDRESS, ORIGINATION)


def level(*externals: bytes, extra: Iterable[bytes] = ()) -> list[bytes]:
    """A full inbox level: SOL, IPL, [extra internal messages], externals, EOL."""
    return [SOL, IPL, *extra, *(b"\x01" + e for e in externals), EOL]


def migration(name: bytes) -> bytes:
    return b"\x00\x04" + len(name).to_bytes(4, "big") + name


def wat(text: str) -> bytes:
    """Assemble WebAssembly text (no validation: the PVM decides)."""
    return bytes(wasmtime.wat2wasm(text))


def wat_bytes(data: bytes) -> str:
    return "".join(f"\\{b:02x}" for b in data)


def call(name: str, *args: int) -> str:
    """A WAT expression calling host function ``name`` with constants."""
    spec = next(f for f in host.HOST_FUNCTIONS if f.name == name)
    assert len(args) == len(spec.params), name
    consts = " ".join(
        f"(i64.const {a})" if t == 0x7E else f"(i32.const {a})"
        for a, t in zip(args, spec.params, strict=True)
    )
    return f"(call ${name} {consts})"


def rec(expr: str, *, i64: bool = False) -> str:
    """Record the value of ``expr`` (reported through write_debug)."""
    return f"(call $rec {expr})" if i64 else f"(call $rec (i64.extend_i32_s {expr}))"


def snippet_kernel(
    body: str,
    *,
    data: Mapping[int, bytes] | None = None,
    revision: Revision = LATEST,
    pages: int = 1,
    memory_name: str = "memory",
) -> bytes:
    """A kernel importing every (non-NDS) host function of ``revision`` whose
    ``kernel_run`` is ``body``; ``$rec`` reports an i64 via write_debug at
    address 0..8 (keep test data above 16)."""
    imports = []
    for spec in host.HOST_FUNCTIONS:
        if spec.since > revision or spec.name.startswith("nds_"):
            continue
        params = " ".join("i64" if p == 0x7E else "i32" for p in spec.params)
        result = " ".join("i64" if p == 0x7E else "i32" for p in spec.results)
        sig = (f"(param {params})" if params else "") + (f" (result {result})" if result else "")
        imports.append(f'(import "smart_rollup_core" "{spec.name}" (func ${spec.name} {sig}))')
    segments = "".join(
        f'(data (i32.const {addr}) "{wat_bytes(blob)}")' for addr, blob in (data or {}).items()
    )
    wat_text = f"""(module {" ".join(imports)}
      (memory (export "{memory_name}") {pages})
      {segments}
      (func $rec (param i64)
        (i64.store (i32.const 0) (local.get 0))
        (call $write_debug (i32.const 0) (i32.const 8)))
      (func (export "kernel_run") {body}))"""
    return wat(wat_text)


def new_pvm(
    kernel: bytes,
    *,
    revision: Revision = LATEST,
    limits: Limits | None = None,
    oracle: RevealOracle | None = None,
) -> WasmPvm:
    pvm = WasmPvm(
        PvmConfig(metadata=METADATA, revision=revision, limits=limits or Limits()), oracle
    )
    pvm.install(kernel)
    return pvm


def feed(pvm: WasmPvm, lvl: int, messages: list[bytes]) -> None:
    for i, m in enumerate(messages):
        pvm.set_input(lvl, i, m)
    pvm.eval_until_input()


def results(debug: bytes) -> list[int]:
    return [struct.unpack_from("<q", debug, i)[0] for i in range(0, len(debug) - 7, 8)]


def run_snippet(
    body: str,
    *,
    data: Mapping[int, bytes] | None = None,
    durable: Mapping[str, bytes] | None = None,
    externals: Iterable[bytes] = (),
    revision: Revision = LATEST,
    oracle: RevealOracle | None = None,
) -> tuple[list[int], WasmPvm]:
    """Run ``body`` once as kernel_run at level 6 and return the recorded
    values and the PVM. ``durable`` values are stored before the level."""
    pvm = new_pvm(
        snippet_kernel(body, data=data, revision=revision), revision=revision, oracle=oracle
    )
    for path, value in (durable or {}).items():
        pvm.durable.set_value(key(path), value, edit_readonly=True)
    feed(pvm, ORIGINATION + 1, level(*externals))
    assert len(pvm.runs) == 1, pvm.runs
    return results(pvm.runs[0].debug), pvm
