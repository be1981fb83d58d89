"""The proof-generating reference WASM PVM (``wasm_2_0_0``).

A small-step interpreter of WebAssembly 1.0 without floats (plus the
integer extensions the PVM decodes: sign extension, bulk memory, reference
types, multi-value) whose whole configuration is explicit, Merkle-hashed
data, and whose one-step proofs :mod:`spec.proof` and :mod:`spec.game`
can judge. It counts ticks exactly like the fast VM of
:mod:`executable.wasm` (wasmtime fuel, Octez's host-function tick model,
periods padded to the budget) and reuses that VM's host functions, decode
and link checks, durable-storage rules and reveal classification, so both
VMs agree at every kernel_run boundary and level end.

Modules, one job each:

* :mod:`.merkle` — hashing, sparse and partial Merkle trees, hash chains,
  lists with unknown slots (the core shared with the fast VM:
  :mod:`executable.wasm.layout`);
* :mod:`.module` — decoding and compiling a kernel (branches resolved);
* :mod:`.durable` — durable storage as a persistent Merkle tree;
* :mod:`.state` — the machine: header, durable storage, outbox, inputs,
  instance (memory, globals, tables, segments, stack, frames) and its hash;
* :mod:`.interp` — one kernel_run tick by tick, with wasmtime's fuel rules;
* :mod:`.pvm` — periods, reboots, inputs; :class:`ReferencePvm`, the
  :class:`spec.pvm.PVM` implementation;
* :mod:`.proof` — one-step proofs and output proofs;
* :mod:`.boundary` — handing states over to and from the fast VM at the
  points where both compute the same state hash;
* :mod:`.lying` — :class:`ByteFlipPvm`, a PVM that flips one durable byte
  at one tick (the adversary of :mod:`executable.dispute`).
"""

from __future__ import annotations

from executable.reference.boundary import (
    boundary_of_machine,
    fast_state_hash,
    machine_of_boundary,
    machine_of_fast,
    run_end_hash,
)
from executable.reference.lying import ByteFlip, ByteFlipPvm
from executable.reference.pvm import NAME, ReferencePvm
from executable.reference.state import Machine, Phase

__all__ = [
    "NAME",
    "ByteFlip",
    "ByteFlipPvm",
    "Machine",
    "Phase",
    "ReferencePvm",
    "boundary_of_machine",
    "fast_state_hash",
    "machine_of_boundary",
    "machine_of_fast",
    "run_end_hash",
]
