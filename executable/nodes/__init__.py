"""Parts of the simulated rollup nodes (:mod:`executable.node`).

* :mod:`.backend` — the PVM a node runs while following the inbox (arith, or
  WASM on wasmtime with reference-PVM state hashes), its state at every
  commitment level, and :class:`~.backend.Trace`, the tick-by-tick states of
  one commitment that a node plays a refutation game with;
* :mod:`.behaviour` — the honest node and the adversaries, as data.
"""
