"""The refutation game of ``spec.game`` as a Z3 transition system over an abstract PVM.

One game between a *refuter* and a *defender*, from the initial three-chunk
dissection to its result. The PVM is abstract: state hashes are values of an
uninterpreted sort ``StateHash``, one tick is an uninterpreted function
``step`` and ``blocked`` says a state waits for an input beyond the disputed
level, so whatever is proved here holds for every PVM.

The honest run is ``truth(0) = parent state``, ``truth(t + 1) = step(truth(t))``,
blocked exactly at ``true_ticks``; an honest chunk at tick ``t`` claims
``truth(t)`` for ``t ≤ true_ticks`` and ``None`` after. One player (chosen by
``honest``) plays only honest moves and is online (time never passes its
deadline while it is to move); the other plays any move the protocol accepts.

Actions mirror ``spec.game`` / ``spec.refutation`` operations: ``dissect``
(``Move`` with a ``Dissection``), ``prove`` (``Move`` with a ``Proof``: the
prover picks the real state ``x`` it proves a tick from), ``timeout`` and
``advance_level``. Checks follow ``spec.dissection.default_check`` and
``spec.game.play``; ``intended`` mode adds ``check_proof_section``.

Octez: ``sc_rollup_game_repr.ml``, ``sc_rollup_dissection_chunk_repr.ml``,
``sc_rollup_refutation_storage.ml`` (clocks and timeouts).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import z3

from model.ts import Action, Params, State, TransitionSystem, Var, unchanged
from spec.constants import Constants

Role = Literal["refuter", "defender"]

DISSECTING, FINAL, ENDED = 0, 1, 2
NONE, REFUTER_LOST, DEFENDER_LOST, DRAW = 0, 1, 2, 3
RESULT_NAMES = {
    NONE: "ongoing",
    REFUTER_LOST: "refuter lost",
    DEFENDER_LOST: "defender lost",
    DRAW: "draw",
}


class GameSymbols:
    """The rigid (step-independent) symbols of one game model."""

    def __init__(self, max_ticks: int) -> None:
        self.H = z3.DeclareSort("StateHash")
        self.step = z3.Function("step", self.H, self.H)
        self.blocked = z3.Function("blocked", self.H, z3.BoolSort())
        self.max_ticks = max_ticks
        self.truth = [z3.Const(f"truth_{t}", self.H) for t in range(max_ticks + 1)]
        self.true_ticks = z3.Int("true_ticks")
        self.claimed_state = z3.Const("defender_state", self.H)
        self.claimed_ticks = z3.Int("defender_ticks")
        self.nil = z3.Const("nil", self.H)

    def axioms(self) -> Any:
        """The honest run: one tick at a time, blocked exactly at ``true_ticks``."""
        facts = [
            self.true_ticks >= 1,
            self.true_ticks <= self.max_ticks,
            self.claimed_ticks >= 1,
            self.claimed_ticks <= self.max_ticks,
        ]
        for t in range(self.max_ticks):
            facts.append(
                z3.Implies(t < self.true_ticks, self.truth[t + 1] == self.step(self.truth[t]))
            )
            facts.append(z3.Implies(t < self.true_ticks, z3.Not(self.blocked(self.truth[t]))))
        for t in range(self.max_ticks + 1):
            facts.append(z3.Implies(self.true_ticks == t, self.blocked(self.truth[t])))
        return z3.And(*facts)

    def honest_chunk(self, tick: Any) -> tuple[Any, Any]:
        """The honest claim at ``tick``: (is Some, hash)."""
        some = z3.And(tick >= 0, tick <= self.true_ticks)
        value: Any = self.nil
        for t in range(self.max_ticks, -1, -1):
            value = z3.If(tick == t, self.truth[t], value)
        return some, value

    def proof_stop(self, x: Any) -> tuple[Any, Any]:
        """What a one-tick proof from a state ``x`` establishes: None if blocked, else step(x)."""
        return z3.Not(self.blocked(x)), self.step(x)


def opt_eq(a: tuple[Any, Any], b: tuple[Any, Any]) -> Any:
    """Equality of two optional hashes (None = None)."""
    return z3.And(a[0] == b[0], z3.Implies(a[0], a[1] == b[1]))


DEFAULT_MAX_TICKS = 6


def game_system(
    constants: Constants, honest: Role, *, max_ticks: int = DEFAULT_MAX_TICKS
) -> tuple[TransitionSystem, GameSymbols]:
    """The game model with an honest ``honest`` player, under ``constants`` (mode included)."""
    n = constants.number_of_sections_in_dissection
    timeout = constants.timeout_period_in_blocks
    intended = constants.mode == "intended"
    sym = GameSymbols(max_ticks)
    H = sym.H
    chunks = range(n + 1)

    variables = [
        Var("idle", z3.Bool),
        Var("turn_refuter", z3.Bool),
        Var("phase", z3.Int),
        Var("result", z3.Int),
        Var("sections", z3.Int),
        Var("moves", z3.Int),
        Var("level", z3.Int),
        Var("last_turn_level", z3.Int),
        Var("clock_refuter", z3.Int),
        Var("clock_defender", z3.Int),
    ]
    for i in chunks:
        variables += [
            Var(f"some_{i}", z3.Bool),
            Var(f"hash_{i}", lambda nm: z3.Const(nm, H)),
            Var(f"tick_{i}", z3.Int),
        ]
    for side in ("start", "stop"):
        variables += [
            Var(f"final_{side}_some", z3.Bool),
            Var(f"final_{side}_hash", lambda nm: z3.Const(nm, H)),
            Var(f"final_{side}_tick", z3.Int),
        ]
    final_vars = [
        f"final_{side}_{f}" for side in ("start", "stop") for f in ("some", "hash", "tick")
    ]
    chunk_vars = [f"{f}_{i}" for i in chunks for f in ("some", "hash", "tick")]

    def chunk(s: State, i: int) -> tuple[Any, Any, Any]:
        return s[f"some_{i}"], s[f"hash_{i}"], s[f"tick_{i}"]

    def select(s: State, index: Any) -> tuple[Any, Any, Any]:
        some, h, t = chunk(s, n)
        for i in range(n - 1, -1, -1):
            some = z3.If(index == i, s[f"some_{i}"], some)
            h = z3.If(index == i, s[f"hash_{i}"], h)
            t = z3.If(index == i, s[f"tick_{i}"], t)
        return some, h, t

    def init(s: State) -> Any:
        facts = [
            sym.axioms(),
            z3.Not(s["idle"]),
            s["turn_refuter"],
            s["phase"] == DISSECTING,
            s["result"] == NONE,
            s["sections"] == 2,
            s["moves"] == 0,
            s["level"] == 0,
            s["last_turn_level"] == 0,
            s["clock_refuter"] == timeout,
            s["clock_defender"] == timeout,
            s["some_0"],
            s["hash_0"] == sym.truth[0],
            s["tick_0"] == 0,
            s["some_1"],
            s["hash_1"] == sym.claimed_state,
            s["tick_1"] == sym.claimed_ticks,
            z3.Not(s["some_2"]),
            s["hash_2"] == sym.nil,
            s["tick_2"] == sym.claimed_ticks + 1,
        ]
        for i in range(3, n + 1):
            facts += [z3.Not(s[f"some_{i}"]), s[f"hash_{i}"] == sym.nil, s[f"tick_{i}"] == 0]
        for side in ("start", "stop"):
            facts += [
                z3.Not(s[f"final_{side}_some"]),
                s[f"final_{side}_hash"] == sym.nil,
                s[f"final_{side}_tick"] == 0,
            ]
        honest_claim = z3.And(
            sym.claimed_ticks == sym.true_ticks, sym.claimed_state == honest_at(sym.true_ticks)
        )
        facts.append(honest_claim if honest == "defender" else z3.Not(honest_claim))
        return z3.And(*facts)

    def honest_at(tick: Any) -> Any:
        return sym.honest_chunk(tick)[1]

    def mover_is_honest(s: State) -> Any:
        return s["turn_refuter"] if honest == "refuter" else z3.Not(s["turn_refuter"])

    def charge(s: State, t: State) -> Any:
        """The mover's clock pays the levels since the last move; the turn passes."""
        spent = s["level"] - s["last_turn_level"]
        return z3.And(
            t["turn_refuter"] == z3.Not(s["turn_refuter"]),
            t["clock_refuter"]
            == z3.If(s["turn_refuter"], s["clock_refuter"] - spent, s["clock_refuter"]),
            t["clock_defender"]
            == z3.If(s["turn_refuter"], s["clock_defender"], s["clock_defender"] - spent),
            t["last_turn_level"] == s["level"],
            t["moves"] == s["moves"] + 1,
            t["level"] == s["level"],
            z3.Not(t["idle"]),
        )

    def end(s: State, t: State, result: Any) -> Any:
        return z3.And(
            t["phase"] == ENDED,
            t["result"] == result,
            t["moves"] == s["moves"] + 1,
            z3.Not(t["idle"]),
            unchanged(s, t, but=["phase", "result", "moves", "idle"]),
        )

    def mover_loses(s: State) -> Any:
        return z3.If(s["turn_refuter"], REFUTER_LOST, DEFENDER_LOST)

    def opponent_loses(s: State) -> Any:
        return z3.If(s["turn_refuter"], DEFENDER_LOST, REFUTER_LOST)

    # -- dissect --------------------------------------------------------------
    dissect_params = [Var("choice", z3.Int), Var("new_sections", z3.Int)]
    for i in chunks:
        dissect_params += [
            Var(f"some_{i}", z3.Bool),
            Var(f"hash_{i}", lambda nm: z3.Const(nm, H)),
            Var(f"tick_{i}", z3.Int),
        ]

    def dissect(s: State, t: State, p: Params) -> Any:
        c, k = p["choice"], p["new_sections"]
        start = select(s, c)
        stop = select(s, c + 1)
        d = stop[2] - start[2]
        new = [(p[f"some_{i}"], p[f"hash_{i}"], p[f"tick_{i}"]) for i in chunks]
        facts = [
            s["phase"] == DISSECTING,
            c >= 0,
            c < s["sections"],
            # default_check_sections_number
            z3.If(d >= n, k == n, z3.And(d > 1, k == d)),
            # first chunk: same hash as start, and not None
            new[0][0],
            start[0],
            new[0][1] == start[1],
            # edge ticks
            new[0][2] == start[2],
        ]
        for kk in range(2, n + 1):
            last = new[kk]
            facts.append(
                z3.Implies(
                    k == kk,
                    z3.And(
                        z3.Not(
                            opt_eq((last[0], last[1]), (stop[0], stop[1]))
                        ),  # stop hash must differ
                        last[2] == stop[2],
                    ),
                )
            )
        for i in range(n):
            a, b = new[i], new[i + 1]
            facts.append(
                z3.Implies(
                    i < k,
                    z3.And(
                        z3.Not(z3.And(z3.Not(a[0]), b[0])),  # no None followed by Some
                        a[2] < b[2],
                        b[2] - a[2] <= d / 2,
                    ),
                )
            )
        # canonical padding beyond the new last chunk
        for i in chunks:
            facts.append(
                z3.Implies(i > k, z3.And(z3.Not(new[i][0]), new[i][1] == sym.nil, new[i][2] == 0))
            )
        # honest moves: every claim true, and the chosen section disputed
        honest_move = z3.And(
            *[
                z3.Implies(i <= k, opt_eq((new[i][0], new[i][1]), sym.honest_chunk(new[i][2])))
                for i in chunks
            ],
            opt_eq((start[0], start[1]), sym.honest_chunk(start[2])),
        )
        facts.append(z3.Implies(mover_is_honest(s), honest_move))
        update = [
            t["phase"] == DISSECTING,
            t["result"] == NONE,
            t["sections"] == k,
            charge(s, t),
            unchanged(s, t, final_vars),
        ]
        for i in chunks:
            update += [
                t[f"some_{i}"] == new[i][0],
                t[f"hash_{i}"] == new[i][1],
                t[f"tick_{i}"] == new[i][2],
            ]
        return z3.And(*facts, *update)

    # -- prove ------------------------------------------------------------------
    def prove(s: State, t: State, p: Params) -> Any:
        c, x = p["choice"], p["state"]
        stop_proof = sym.proof_stop(x)
        in_dissecting = s["phase"] == DISSECTING
        start = select(s, c)
        stop = select(s, c + 1)
        f_start = (s["final_start_some"], s["final_start_hash"], s["final_start_tick"])
        f_stop = (s["final_stop_some"], s["final_stop_hash"], s["final_stop_tick"])
        first_guard = z3.And(c >= 0, c < s["sections"])
        if intended:
            first_guard = z3.And(first_guard, stop[2] - start[2] == 1, start[0])
        first_ok = z3.And(
            stop[2] - start[2] == 1,
            start[0],
            x == start[1],
            z3.Not(opt_eq(stop_proof, (stop[0], stop[1]))),
        )
        second_ok = z3.And(f_start[0], x == f_start[1], opt_eq(stop_proof, (f_stop[0], f_stop[1])))
        honest_first = z3.And(
            stop[2] - start[2] == 1,
            start[0],
            x == honest_at(start[2]),
            opt_eq((start[0], start[1]), sym.honest_chunk(start[2])),
            z3.Not(opt_eq((stop[0], stop[1]), sym.honest_chunk(stop[2]))),
        )
        honest_second = x == honest_at(f_start[2])
        to_final = z3.And(
            t["phase"] == FINAL,
            t["result"] == NONE,
            charge(s, t),
            t["final_start_some"] == start[0],
            t["final_start_hash"] == start[1],
            t["final_start_tick"] == start[2],
            t["final_stop_some"] == stop[0],
            t["final_stop_hash"] == stop[1],
            t["final_stop_tick"] == stop[2],
            t["sections"] == s["sections"],
            unchanged(s, t, chunk_vars),
        )
        first = z3.And(
            in_dissecting,
            first_guard,
            z3.Implies(mover_is_honest(s), honest_first),
            z3.If(first_ok, end(s, t, opponent_loses(s)), to_final),
        )
        second = z3.And(
            s["phase"] == FINAL,
            z3.Implies(mover_is_honest(s), honest_second),
            z3.If(second_ok, end(s, t, opponent_loses(s)), end(s, t, DRAW)),
        )
        return z3.Or(first, second)

    # -- timeout and time ---------------------------------------------------------
    def clock_of_turn(s: State) -> Any:
        return z3.If(s["turn_refuter"], s["clock_refuter"], s["clock_defender"])

    def timeout_action(s: State, t: State, p: Params) -> Any:
        return z3.And(
            s["phase"] != ENDED,
            s["level"] > s["last_turn_level"] + clock_of_turn(s),
            end(s, t, z3.If(s["phase"] == DISSECTING, mover_loses(s), DRAW)),
        )

    def advance(s: State, t: State, p: Params) -> Any:
        blocks = p["blocks"]
        online = z3.Implies(
            mover_is_honest(s), s["level"] + blocks <= s["last_turn_level"] + clock_of_turn(s)
        )
        # One advance between two moves: consecutive advances are one longer advance.
        return z3.And(
            s["phase"] != ENDED,
            z3.Not(s["idle"]),
            blocks >= 1,
            online,
            t["level"] == s["level"] + blocks,
            t["idle"],
            unchanged(s, t, but=["level", "idle"]),
        )

    def well_formed(s: State) -> Any:
        return z3.And(
            sym.axioms(), s["sections"] >= 1, s["sections"] <= n, s["phase"] >= 0, s["phase"] <= 2
        )

    def extras(model: z3.ModelRef, states: list[State], params: list[Params]) -> dict[str, Any]:
        """Every state hash of the trace with its one-tick successor and blocked flag."""
        terms = [*sym.truth, sym.claimed_state, sym.nil]
        for st in states:
            terms += [st[name] for name in st if "hash" in name]
        for ps in params:
            terms += [term for name, term in ps.items() if name == "state" or "hash" in name]
        table: dict[str, dict[str, Any]] = {}
        for term in terms:
            value = model.eval(term, model_completion=True)
            label = str(value)
            if label not in table:
                table[label] = {
                    "step": str(model.eval(sym.step(value), model_completion=True)),
                    "blocked": z3.is_true(model.eval(sym.blocked(value), model_completion=True)),
                }
        return {
            "table": table,
            "truth": [str(model.eval(t, model_completion=True)) for t in sym.truth],
            "true_ticks": model.eval(sym.true_ticks, model_completion=True).as_long(),
            "claimed_state": str(model.eval(sym.claimed_state, model_completion=True)),
            "claimed_ticks": model.eval(sym.claimed_ticks, model_completion=True).as_long(),
            "honest": honest,
        }

    ts = TransitionSystem(
        name=f"game(honest {honest}, {constants.name}, {constants.mode})",
        extras=extras,
        variables=variables,
        init=init,
        actions=[
            Action("dissect", dissect_params, dissect),
            Action(
                "prove", [Var("choice", z3.Int), Var("state", lambda nm: z3.Const(nm, H))], prove
            ),
            Action("timeout", [], timeout_action),
            Action("advance_level", [Var("blocks", z3.Int)], advance),
        ],
        well_formed=well_formed,
    )
    return ts, sym


def honest_never_loses(honest: Role) -> Any:
    """Symbolic predicate: the honest player neither loses nor draws."""
    bad = REFUTER_LOST if honest == "refuter" else DEFENDER_LOST

    def predicate(s: State) -> Any:
        return z3.And(s["result"] != bad, s["result"] != DRAW)

    return predicate


def move_bound(max_ticks: int) -> int:
    """⌈log₂(max_ticks + 1)⌉ + 2: dissections halve the section, then two proofs."""
    return math.ceil(math.log2(max_ticks + 1)) + 2


def moves_bounded(max_ticks: int) -> Any:
    bound = move_bound(max_ticks)

    def predicate(s: State) -> Any:
        return s["moves"] <= bound

    return predicate
