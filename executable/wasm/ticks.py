"""Ticks: Octez's host-function tick model and the padding of periods.

Octez: src/lib_scoru_wasm/host_funcs.ml (``Tick_model``: a failing call
costs nothing extra), src/lib_webassembly/exec/tick_model.ml (42 ticks per
byte read from or written to kernel memory, 1 per tree operation),
src/lib_scoru_wasm/wasm_vm.ml (``ticks_to_snapshot``: every top-level period
lasts exactly the revision's budget).

Here WebAssembly instructions are counted by wasmtime fuel (about one unit
per operator), which is *not* the interpreter's small-step count; host
functions add the ticks below to the same fuel. Only the per-level total —
(kernel_runs + 1) × budget — is comparable with Octez.
"""

from __future__ import annotations

TICKS_PER_BYTE = 42
"""``ticks_per_byte_read`` = ``ticks_per_byte_written`` (tick_model.ml)."""

TREE_ACCESS = 1
"""One tick per durable tree operation (host_funcs.ml ``Tick_model``)."""

REVEAL_STEP = 1
"""A reveal is one PVM step of its own (wasm_vm.ml ``reveal_step``)."""


def read_input(bytes_written: int) -> int:
    """``read_input``: 42 × bytes written."""
    return TICKS_PER_BYTE * bytes_written


def write_output(num_bytes: int) -> int:
    """``write_output``: 42 × bytes read."""
    return TICKS_PER_BYTE * num_bytes


def key_operation(key_length: int) -> int:
    """``store_has/exists/value_size/list_size/get_nth_key/get_hash/create/
    delete/delete_value``: 42 × key length + 1."""
    return TICKS_PER_BYTE * key_length + TREE_ACCESS


def copy_or_move(from_length: int, to_length: int) -> int:
    """``store_copy/store_move``: 42 × (both key lengths) + 1."""
    return TICKS_PER_BYTE * (from_length + to_length) + TREE_ACCESS


def store_io(key_length: int, num_bytes: int) -> int:
    """``store_read/store_write``: 42 × key length + 1 + 42 × bytes."""
    return TICKS_PER_BYTE * key_length + TREE_ACCESS + TICKS_PER_BYTE * num_bytes


def reveal(bytes_revealed: int) -> int:
    """Reveals: one step plus 42 × bytes revealed."""
    return REVEAL_STEP + TICKS_PER_BYTE * bytes_revealed


def level_ticks(kernel_runs: int, budget: int) -> int:
    """A level costs one period to collect inputs plus one per kernel_run."""
    return (kernel_runs + 1) * budget
