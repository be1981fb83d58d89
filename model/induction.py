"""k-induction: prove a property for every depth when it is (k-)inductive.

``P`` is k-inductive when no path of ``k + 1`` well-formed states linked by
the transition relation has ``P`` in its first ``k`` states and not in the
last. With the base case (no violation within ``k`` steps of an initial
state, checked by BMC) this proves ``P`` in every reachable state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import z3

from model.bmc import Result, bmc
from model.ts import State, TransitionSystem


def inductive_step(
    ts: TransitionSystem,
    prop: Callable[[State], Any],
    k: int,
    *,
    strengthen: Callable[[State], Any] | None = None,
    timeout_ms: int = 60_000,
) -> z3.CheckSatResult:
    """``unsat`` iff ``prop`` (with the optional invariant ``strengthen``) is k-inductive."""
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    states = [ts.state(0, tag="'")]
    for i in range(k + 1):
        s = states[i]
        solver.add(ts.well_formed(s))
        if strengthen is not None:
            solver.add(strengthen(s))
        if i < k:
            solver.add(prop(s))
            nxt = ts.state(i + 1, tag="'")
            relation, _, _ = ts.step(s, nxt, i, tag="'")
            solver.add(relation)
            states.append(nxt)
    solver.add(z3.Not(prop(states[k])))
    return solver.check()


def prove(
    ts: TransitionSystem,
    prop: Callable[[State], Any],
    *,
    max_k: int,
    strengthen: Callable[[State], Any] | None = None,
    timeout_ms: int = 60_000,
) -> Result:
    """Try k = 1 … ``max_k``; ``proved`` with the first k that works, else why not."""
    start = time.monotonic()
    last = "no k tried"
    for k in range(1, max_k + 1):
        answer = inductive_step(ts, prop, k, strengthen=strengthen, timeout_ms=timeout_ms)
        if answer == z3.unsat:
            base = bmc(ts, prop, k, timeout_ms=timeout_ms)
            if base.verdict == "violated":
                return base
            if base.verdict == "holds":
                return Result("proved", k, time.monotonic() - start)
            return Result("unknown", -1, time.monotonic() - start, reason=base.reason)
        last = (
            f"not {k}-inductive (a state satisfying it for {k} steps can step out)"
            if answer == z3.sat
            else f"solver gave up at k={k}"
        )
    return Result("unknown", -1, time.monotonic() - start, reason=last)
