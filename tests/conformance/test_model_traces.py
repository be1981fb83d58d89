"""The converse of conformance: random traces found by Z3 replay on ``spec`` step for step.

Each example asks the model for a run reaching a randomly combined goal
(cementations, slashing, outbox executions, recovered bonds, a target level),
with a random Z3 seed to diversify the runs. The run is replayed with
``spec.rollup.apply``: every step must be accepted, and the final concrete
balances, stakes, cementations and executions must be the model's.
"""

from __future__ import annotations

import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks import replay
from model.bmc import bmc
from model.rollup import build
from spec.constants import TEST

TS, _SYM = build(TEST)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    cemented=st.integers(0, 2),
    slashed=st.booleans(),
    executed=st.booleans(),
    recovered=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_random_model_traces_replay(
    cemented: int, slashed: bool, executed: bool, recovered: bool, seed: int
) -> None:
    z3.set_param("smt.random_seed", seed)
    z3.set_param("sat.random_seed", seed)

    def goal_not_reached(s: dict) -> z3.BoolRef:
        parts = [s["lcc_j"] >= cemented]
        if slashed:
            parts.append(s["burnt"] > 0)
        if executed:
            parts.append(z3.Or(*[t > 0 for n, t in s.items() if n.startswith("exec_")]))
        if recovered:
            parts.append(z3.And(s["counter"] >= 1, s["index_0"] == -1))
        return z3.Not(z3.And(*parts))

    result = bmc(TS, goal_not_reached, 10, timeout_ms=60_000)
    if result.verdict != "violated":
        return  # the combined goal is out of reach within 10 steps
    assert result.counterexample is not None
    cex = result.counterexample
    state, lines, _ops, accounts, _ = replay.run_rollup_trace(cex, TEST)
    final = cex.states[-1]
    rollup = next(iter(state.rollups.values()))
    assert len(rollup.ghost_cemented) - 1 == final["lcc_j"], lines
    assert (state.ledger.burnt, state.ledger.minted) == (final["burnt"], final["minted"]), lines
    executed_count = sum(v for k, v in final.items() if k.startswith("exec_"))
    assert len(rollup.ghost_executed_outputs) == executed_count, lines
    for i, account in enumerate(accounts):
        assert state.ledger.balance(account) == final[f"bal_{i}"], lines
        assert state.ledger.frozen(account, rollup.address) == final[f"frozen_{i}"], lines
        assert rollup.is_staker(account) == (final[f"index_{i}"] >= 0), lines
    assert state.level == final["level"], lines
