"""The BMC and k-induction engine on small transition systems with known answers."""

from __future__ import annotations

import z3

from model.bmc import bmc
from model.induction import prove
from model.ts import Action, TransitionSystem, Var, unchanged


def counter_system(step_limit: int) -> TransitionSystem:
    """x starts at 0; ``inc`` adds n ∈ [1, 2] while x < step_limit; ``reset`` sets 0."""

    def inc(s: dict, t: dict, p: dict) -> z3.BoolRef:
        return z3.And(s["x"] < step_limit, p["n"] >= 1, p["n"] <= 2, t["x"] == s["x"] + p["n"])

    def reset(s: dict, t: dict, p: dict) -> z3.BoolRef:
        return t["x"] == 0

    return TransitionSystem(
        name="counter",
        variables=[Var("x", z3.Int)],
        init=lambda s: s["x"] == 0,
        actions=[Action("inc", [Var("n", z3.Int)], inc), Action("reset", [], reset)],
    )


def test_bmc_finds_the_shortest_counterexample() -> None:
    ts = counter_system(10)
    result = bmc(ts, lambda s: s["x"] < 5, depth=10)
    assert result.verdict == "violated"
    assert result.depth == 3  # 0 → 2 → 4 → 5 or 6
    cex = result.counterexample
    assert cex is not None and len(cex.steps) == 3
    assert all(step.action == "inc" for step in cex.steps)
    xs = [st["x"] for st in cex.states]
    assert xs[0] == 0 and xs[-1] >= 5
    for before, after, step in zip(xs, xs[1:], cex.steps, strict=False):
        assert after == before + step.params["n"]


def test_bmc_holds_to_depth() -> None:
    ts = counter_system(3)
    result = bmc(ts, lambda s: s["x"] <= 4, depth=8)
    assert result.verdict == "holds" and result.depth == 8
    assert len(result.seconds_per_depth) == 9


def test_k_induction_proves_an_inductive_invariant() -> None:
    ts = counter_system(3)
    result = prove(ts, lambda s: z3.And(s["x"] >= 0, s["x"] <= 4), max_k=3)
    assert result.verdict == "proved" and result.depth == 1


def test_k_induction_reports_why_not() -> None:
    ts = counter_system(3)
    # x != -1 holds in every reachable state but is not k-inductive for any k:
    # the unreachable path -3, -2, -1 keeps it for k steps, then breaks it.
    result = prove(ts, lambda s: s["x"] != -1, max_k=2)
    assert result.verdict == "unknown"
    assert "not 2-inductive" in result.reason


def test_unchanged_helper() -> None:
    a, b = {"x": z3.Int("a"), "y": z3.Int("b")}, {"x": z3.Int("c"), "y": z3.Int("d")}
    solver = z3.Solver()
    solver.add(unchanged(a, b, but=["y"]), a["x"] == 1, b["x"] == 2)
    assert solver.check() == z3.unsat
