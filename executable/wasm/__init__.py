"""The fast WASM PVM (``wasm_2_0_0``) on wasmtime.

Modules, one job each:

* :mod:`.limits` — Octez constants and the emulator's own resource limits;
* :mod:`.revisions` — PVM revisions, their host functions and tick budgets;
* :mod:`.errors` — host-function error codes and typed errors;
* :mod:`.layout` — the Merkle layout of state hashes, shared with the
  reference PVM (:mod:`executable.reference`);
* :mod:`.durable` — durable storage: paths, tree semantics, Merkle root;
* :mod:`.input_kind` — classification of inbox messages;
* :mod:`.outbox` — the output buffer indexed by (level, index);
* :mod:`.reveal` — reveal requests, preimage directories, metadata, DAC pages;
* :mod:`.ticks` — Octez's host-function tick model and period padding;
* :mod:`.module_check` — decode/link checks before instantiation;
* :mod:`.engine` — the deterministic wasmtime configuration;
* :mod:`.host` — the ``smart_rollup_core`` host functions;
* :mod:`.pvm` — the PVM state machine (levels, kernel_runs, reboots), its
  state hash at boundary points and boundary states;
* :mod:`.run` — running a kernel over inbox levels and reporting.
"""

from __future__ import annotations

from executable.wasm.limits import Limits
from executable.wasm.pvm import BoundaryDecision, BoundaryState, PvmConfig, Status, WasmPvm
from executable.wasm.reveal import Metadata, PreimageDirectory, RevealOracle
from executable.wasm.revisions import Revision
from executable.wasm.run import RunReport, run_kernel

__all__ = [
    "BoundaryDecision",
    "BoundaryState",
    "Limits",
    "Metadata",
    "PreimageDirectory",
    "PvmConfig",
    "RevealOracle",
    "Revision",
    "RunReport",
    "Status",
    "WasmPvm",
    "run_kernel",
]
