"""The wasmtime engine, configured for determinism, and where kernels run.

Configuration (reference §11; Wasmer features of Octez in
src/lib_wasmer/config.ml): fuel metering on; the proposals the PVM decoder
accepts on (bulk memory, sign extension, multi-value, reference types, SIMD
integer operations); everything else off (threads, tail calls, memory64,
multi-memory, exceptions, GC, function references, relaxed SIMD); NaN
canonicalisation on, so the few float SIMD operations the decoder does not
guard (``f64x2.ceil``…) give one result everywhere.

Pitfall: wasmtime aborts the whole process (a Rust panic, not an exception)
on some inconsistent configurations, e.g. ``max_wasm_stack`` larger than the
async stack size, or reference types off while the component-model-async
feature is on. :func:`make_config` sets the async stack size before the wasm
stack and never turns reference types off; tests build every configuration
in a subprocess.

Stack: the PVM limits call depth in frames, wasmtime in bytes of native
stack. We allow ``Limits.max_wasm_stack`` bytes and run every instantiation
and ``kernel_run`` on a thread whose native stack is twice that, so that a
deep recursion ends in wasmtime's ``STACK_OVERFLOW`` trap, never in a
segmentation fault.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TypeVar

import wasmtime
from wasmtime import _ffi as wasmtime_ffi

T = TypeVar("T")

_ENGINES: dict[int, wasmtime.Engine] = {}
_LOCK = threading.Lock()


def make_config(max_wasm_stack: int) -> wasmtime.Config:
    """The deterministic configuration (order matters, see module doc)."""
    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = False
    config.wasm_threads = False
    config.wasm_tail_call = False
    config.wasm_memory64 = False
    config.wasm_multi_memory = False
    config.wasm_exceptions = False
    config.wasm_gc = False
    config.wasm_function_references = False
    config.wasm_relaxed_simd = False
    config.wasm_relaxed_simd_deterministic = True
    config.wasm_reference_types = True
    config.wasm_bulk_memory = True
    config.wasm_multi_value = True
    config.wasm_simd = True
    config.cranelift_nan_canonicalization = True
    config.cranelift_opt_level = "speed"
    # The async stack must be at least the wasm stack, or Engine() panics.
    wasmtime_ffi.wasmtime_config_async_stack_size_set(config.ptr(), 2 * max_wasm_stack)
    config.max_wasm_stack = max_wasm_stack
    return config


def engine(max_wasm_stack: int) -> wasmtime.Engine:
    """The shared engine for a given wasm stack size (engines are costly)."""
    with _LOCK:
        eng = _ENGINES.get(max_wasm_stack)
        if eng is None:
            eng = wasmtime.Engine(make_config(max_wasm_stack))
            _ENGINES[max_wasm_stack] = eng
        return eng


class _Worker:
    """A daemon thread with a large native stack that runs submitted jobs
    one at a time (starting a thread per kernel_run costs more than the run)."""

    def __init__(self, stack_bytes: int) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        previous = threading.stack_size(stack_bytes)
        try:
            self._thread = threading.Thread(target=self._serve, name="wasm-kernel", daemon=True)
            self._thread.start()
        finally:
            threading.stack_size(previous)

    def _serve(self) -> None:
        while True:
            self._jobs.get()()

    def run(self, fn: Callable[[], T]) -> T:
        done = threading.Event()
        result: list[T] = []
        error: list[BaseException] = []

        def job() -> None:
            try:
                result.append(fn())
            except BaseException as exc:  # re-raised in the caller's thread
                error.append(exc)
            finally:
                done.set()

        self._jobs.put(job)
        done.wait()
        if error:
            raise error[0]
        return result[0]


_WORKERS: dict[int, _Worker] = {}


def run_on_big_stack(fn: Callable[[], T], max_wasm_stack: int) -> T:
    """Run ``fn`` on a worker thread whose native stack is
    ``2 × max_wasm_stack + 8 MiB`` and return its result (or re-raise).
    Calls are serialised per stack size; a call from the worker itself runs
    in place."""
    with _LOCK:
        worker = _WORKERS.get(max_wasm_stack)
        if worker is None:
            worker = _Worker(2 * max_wasm_stack + 8 * 1024 * 1024)
            _WORKERS[max_wasm_stack] = worker
    if threading.current_thread() is worker._thread:
        return fn()
    with _RUN_LOCKS.setdefault(max_wasm_stack, threading.Lock()):
        return worker.run(fn)


_RUN_LOCKS: dict[int, threading.Lock] = {}
