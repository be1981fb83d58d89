"""Benchmark of the fast WASM PVM: ``python bench/bench_run.py [LEVELS]``.

Runs the bundled echo and counter kernels over LEVELS inbox levels (default
1,000; each level: Start_of_level, Info_per_level, one external message,
End_of_level) through :func:`executable.wasm.run.run_kernel`, and the same
kernels on bare wasmtime (same engine configuration, one fresh instance per
level, host functions that do nothing and return 0). Prints wall times and
their ratio.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import wasmtime

from executable import kernels
from executable.wasm import engine as engine_mod
from executable.wasm import host
from executable.wasm.limits import Limits
from executable.wasm.run import run_kernel

SOL = b"\x00\x01"
EOL = b"\x00\x02"
IPL = b"\x00\x03" + bytes(8) + bytes(32)


def levels(n: int) -> list[list[bytes]]:
    return [[SOL, IPL, b"\x01" + f"message {i}".encode(), EOL] for i in range(n)]


def _noop_i32(*_args: int) -> int:
    return 0


def _noop(*_args: int) -> None:
    return None


def bare_wasmtime(kernel: bytes, n: int) -> None:
    """The kernel alone: fresh store and instance per level, no-op hosts."""
    eng = engine_mod.engine(Limits().max_wasm_stack)
    module = wasmtime.Module(eng, kernel)
    linker = wasmtime.Linker(eng)
    for spec in host.HOST_FUNCTIONS:
        ty = wasmtime.FuncType(
            [host._valtype(p) for p in spec.params], [host._valtype(r) for r in spec.results]
        )
        linker.define_func(host.MODULE, spec.name, ty, _noop_i32 if spec.results else _noop)
    for _ in range(n):
        store = wasmtime.Store(eng)
        store.set_fuel(10**9)
        instance = linker.instantiate(store, module)
        run = instance.exports(store)["kernel_run"]
        assert isinstance(run, wasmtime.Func)
        run(store)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    inbox = levels(n)
    print(f"{n} levels, {sum(len(lvl) for lvl in inbox)} inbox messages")
    print(f"{'kernel':10} {'run_kernel':>12} {'bare':>10} {'ratio':>8} {'kernel_runs':>12}")
    for name in ("echo", "counter"):
        kernel = kernels.load(name)
        start = time.perf_counter()
        report = run_kernel(kernel, inbox, rollup_address=bytes(20), origination_level=0)
        pvm_time = time.perf_counter() - start
        start = time.perf_counter()
        bare_wasmtime(kernel, n)
        bare_time = time.perf_counter() - start
        runs = sum(lvl.kernel_run_count for lvl in report.levels)
        print(
            f"{name:10} {pvm_time:11.3f}s {bare_time:9.3f}s {pvm_time / bare_time:7.1f}x {runs:>12}"
        )


if __name__ == "__main__":
    main()
