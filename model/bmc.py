"""Bounded model checking: unroll the transition relation and look for a bad state.

The unrolling is incremental: one solver, one new step per depth, and the
negated property is checked under ``push``/``pop`` at each depth, so depth
``k`` reuses everything learnt for depths below it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import attrs
import z3

from model.ts import State, TransitionSystem, state_values, value_of

Verdict = Literal["holds", "proved", "violated", "unknown"]


@attrs.frozen
class Step:
    """One decoded step of a counterexample: the action and its parameter values."""

    action: str
    params: dict[str, Any]


@attrs.frozen
class Counterexample:
    """States ``0..k`` and the ``k`` actions between them, decoded from a Z3 model."""

    states: list[dict[str, Any]]
    steps: list[Step]
    #: Values of rigid symbols needed to replay the trace (see ``TransitionSystem.extras``).
    extras: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Result:
    """The outcome of checking one property.

    ``depth`` is the depth reached (``holds``: no violation up to it;
    ``proved``: the ``k`` of the k-induction; ``violated``: the length of the
    counterexample; ``unknown``: the last depth fully checked, or -1).
    """

    verdict: Verdict
    depth: int
    seconds: float
    reason: str = ""
    counterexample: Counterexample | None = None
    seconds_per_depth: tuple[float, ...] = ()


def decode(
    ts: TransitionSystem,
    model: z3.ModelRef,
    states: list[State],
    selectors: list[Any],
    params: list[list[dict[str, Any]]],
) -> Counterexample:
    """Read the states, chosen actions and their parameters out of a model."""
    steps = []
    chosen: list[dict[str, Any]] = []
    for selector, step_params in zip(selectors, params, strict=True):
        index = value_of(model, selector)
        action = ts.actions[index]
        chosen.append(step_params[index])
        steps.append(
            Step(action.name, {k: value_of(model, v) for k, v in step_params[index].items()})
        )
    extras = {} if ts.extras is None else ts.extras(model, states, chosen)
    return Counterexample([state_values(model, s) for s in states], steps, extras)


def bmc(
    ts: TransitionSystem,
    prop: Callable[[State], Any],
    depth: int,
    *,
    timeout_ms: int = 60_000,
    deadline: float | None = None,
) -> Result:
    """Check ``prop`` in every state reachable in at most ``depth`` steps."""
    start = time.monotonic()
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    states = [ts.state(0)]
    solver.add(ts.init(states[0]), ts.well_formed(states[0]))
    selectors: list[Any] = []
    params: list[list[dict[str, Any]]] = []
    per_depth: list[float] = []
    for k in range(depth + 1):
        t0 = time.monotonic()
        solver.push()
        solver.add(z3.Not(prop(states[k])))
        answer = solver.check()
        if answer == z3.sat:
            cex = decode(ts, solver.model(), states, selectors, params)
            return Result(
                "violated",
                k,
                time.monotonic() - start,
                counterexample=cex,
                seconds_per_depth=(*per_depth, time.monotonic() - t0),
            )
        if answer == z3.unknown:
            return Result(
                "unknown",
                k - 1,
                time.monotonic() - start,
                reason=f"solver: {solver.reason_unknown()} at depth {k}",
                seconds_per_depth=tuple(per_depth),
            )
        solver.pop()
        if k < depth:
            nxt = ts.state(k + 1)
            relation, selector, step_params = ts.step(states[k], nxt, k)
            solver.add(relation, ts.well_formed(nxt))
            states.append(nxt)
            selectors.append(selector)
            params.append(step_params)
        per_depth.append(time.monotonic() - t0)
        if deadline is not None and time.monotonic() > deadline and k < depth:
            return Result(
                "unknown",
                k,
                time.monotonic() - start,
                reason=f"time budget exhausted after depth {k}",
                seconds_per_depth=tuple(per_depth),
            )
    # Exhaustive? If no run is longer than ``depth`` steps, every reachable state was checked.
    nxt = ts.state(depth + 1)
    relation, _, _ = ts.step(states[depth], nxt, depth)
    solver.add(relation, ts.well_formed(nxt))
    if solver.check() == z3.unsat:
        return Result(
            "proved",
            depth,
            time.monotonic() - start,
            reason=f"every run ends within {depth} steps: the search was exhaustive",
            seconds_per_depth=tuple(per_depth),
        )
    return Result("holds", depth, time.monotonic() - start, seconds_per_depth=tuple(per_depth))
