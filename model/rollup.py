"""The layer-1 rollup machine of ``spec.rollup`` as a bounded Z3 transition system.

One public rollup, originated at level ``ORIGINATION_LEVEL``, with ``stakers``
implicit accounts (staker 0 is honest: it only publishes commitments of the
true chain), commitment levels ``origination + j·period`` for ``j = 1…levels``
and at most ``branches`` distinct commitments per level. Commitments are
*slots* ``(j, b)``: two publications with the same content land in the same
slot, distinct contents in distinct slots — the hash is injective. State hashes
are values of the uninterpreted sort ``StateHash``; whether an output is in the
outbox of a state is the uninterpreted predicate ``has_output``.

Actions mirror ``spec`` operations with the same parameters:
``publish`` (``Publish``), ``cement`` (``Cement``), ``recover_bond``
(``RecoverBond``), ``start_game`` (``Refute`` with ``Start``),
``conclude_game`` (the game's result, applied with
``spec.staking.apply_game_result``; the result is constrained by the game
theorems SR-013/SR-014, which ``model.game`` proves: the staker of a wrong
commitment loses a game against a true one), ``execute_outbox_message``
(``ExecuteOutboxMessage``) and ``advance_level`` (``spec.rollup.advance_level``,
any number of times). Guards follow ``spec.staking``, ``spec.cementation``,
``spec.refutation`` and ``spec.outbox`` in Octez's order; a failing check
disables the action, as a failing operation leaves the state unchanged.

Bounds of the model (not of the protocol): a publication of a new commitment
at a level whose ``branches`` slots are full is not modelled; staker indices
on a commitment are kept per staker (the latest one), which is all the
guards read; a new commitment takes the lowest free slot, so successors are
unique.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from model.ts import Action, Params, State, TransitionSystem, Var, unchanged
from spec.constants import Constants

ORIGINATION_LEVEL = 1
NONE = -1


@attrs.frozen
class Shape:
    """The size of the bounded instance."""

    stakers: int = 2
    levels: int = 3
    branches: int = 2
    #: Initial spendable balance of each staker, in stakes.
    balance_in_stakes: int = 2


class RollupSymbols:
    """Rigid symbols: the sort of state hashes, the honest PVM's commitments, outputs.

    ``succ_state(j, h)`` and ``succ_ticks(j, h)`` are the state hash and tick
    count an honest node commits at level ``j`` on a predecessor whose state
    is ``h`` (the PVM is deterministic: they are functions of the predecessor
    state). A commitment is *correct* when it says exactly that. Building the
    symbols twice gives the same Z3 terms (they are identified by name).
    """

    def __init__(self, shape: Shape) -> None:
        self.H = z3.DeclareSort("StateHash")
        self.genesis_state = z3.Const("genesis_state", self.H)
        self.nil = z3.Const("nil_state", self.H)
        self.succ_state = z3.Function("succ_state", z3.IntSort(), self.H, self.H)
        self.succ_ticks = z3.Function("succ_ticks", z3.IntSort(), self.H, z3.IntSort())
        self.has_output = z3.Function(
            "has_output", self.H, z3.IntSort(), z3.IntSort(), z3.BoolSort()
        )

    def axioms(self, shape: Shape) -> Any:
        """The genesis state's outbox is empty (for any PVM)."""
        ol, i = z3.Ints("ol i")
        return z3.ForAll([ol, i], z3.Not(self.has_output(self.genesis_state, ol, i)))


def level_of(j: int, constants: Constants) -> int:
    """Inbox level of commitment level ``j`` (``j = 0`` is genesis)."""
    return ORIGINATION_LEVEL + j * constants.commitment_period_in_blocks


def rollup_system(constants: Constants, shape: Shape = Shape()) -> TransitionSystem:
    """The bounded rollup machine under ``constants``."""
    return build(constants, shape)[0]


def build(constants: Constants, shape: Shape = Shape()) -> tuple[TransitionSystem, RollupSymbols]:
    S, J, B = shape.stakers, shape.levels, shape.branches
    P = constants.commitment_period_in_blocks
    W = constants.challenge_window_in_blocks
    LA = constants.max_lookahead_in_blocks
    STAKE = constants.stake_amount
    A = constants.max_active_outbox_levels
    MO = constants.max_outbox_messages_per_level
    KEEP = constants.max_number_of_stored_cemented_commitments
    GAMES = constants.max_number_of_parallel_games
    K = MO + 1  # outbox indices tracked: every valid one, and the first invalid one
    MAX_OL = level_of(J, constants)
    BALANCE = shape.balance_in_stakes * STAKE
    sym = RollupSymbols(shape)
    H = sym.H
    stakers, levels, branches = range(S), range(1, J + 1), range(B)

    def hvar(name: str) -> Any:
        return z3.Const(name, H)

    v: list[Var] = [
        Var("level", z3.Int),
        Var("counter", z3.Int),
        Var("burnt", z3.Int),
        Var("minted", z3.Int),
        Var("lcc_j", z3.Int),
        Var("lcc_b", z3.Int),
        Var("genesis_stored", z3.Bool),
        Var("bad_exec", z3.Bool),
        Var("game_on", z3.Bool),
        Var("game_refuter", z3.Int),
        Var("game_j", z3.Int),
        Var("game_b_refuter", z3.Int),
        Var("game_b_defender", z3.Int),
    ]
    for s in stakers:
        v += [
            Var(f"bal_{s}", z3.Int),
            Var(f"frozen_{s}", z3.Int),
            Var(f"index_{s}", z3.Int),
            Var(f"newest_{s}", z3.Int),
        ]
    for j in levels:
        v += [
            Var(f"first_pub_{j}", z3.Int),
            Var(f"cem_count_{j}", z3.Int),
            Var(f"cem_b_{j}", z3.Int),
            Var(f"cem_pred_{j}", z3.Int),
        ]
        for b in branches:
            v += [
                Var(f"ex_{j}_{b}", z3.Bool),
                Var(f"pred_{j}_{b}", z3.Int),
                Var(f"pst_{j}_{b}", hvar),
                Var(f"st_{j}_{b}", hvar),
                Var(f"tk_{j}_{b}", z3.Int),
                Var(f"lvl_{j}_{b}", z3.Int),
                Var(f"added_{j}_{b}", z3.Int),
            ]
            v += [Var(f"on_{j}_{b}_{s}", z3.Int) for s in stakers]
    for q in range(A):
        v += [Var(f"app_lvl_{q}", z3.Int)] + [Var(f"app_bit_{q}_{i}", z3.Bool) for i in range(K)]
    for ol in range(MAX_OL + 1):
        v += [Var(f"exec_{ol}_{i}", z3.Int) for i in range(K)]

    # -- derived terms -----------------------------------------------------------
    def lcc_level(s: State) -> Any:
        return ORIGINATION_LEVEL + s["lcc_j"] * P

    def active(s: State, staker: int, j: int, b: int) -> Any:
        return z3.And(s[f"index_{staker}"] >= 0, s[f"on_{j}_{b}_{staker}"] == s[f"index_{staker}"])

    def supported(s: State, j: int, b: int) -> Any:
        return z3.Or(*[active(s, st, j, b) for st in stakers])

    def correct(s: State, j: int, b: int) -> Any:
        return correct_slot(sym, s, j, b)

    def clear_slot(s: State, t: State, j: int, b: int) -> list[Any]:
        return [
            z3.Not(t[f"ex_{j}_{b}"]),
            t[f"pred_{j}_{b}"] == 0,
            t[f"st_{j}_{b}"] == sym.nil,
            t[f"pst_{j}_{b}"] == sym.nil,
            t[f"tk_{j}_{b}"] == 0,
            t[f"lvl_{j}_{b}"] == 0,
            t[f"added_{j}_{b}"] == NONE,
            *[t[f"on_{j}_{b}_{st}"] == NONE for st in stakers],
        ]

    def slot_vars(j: int, b: int) -> list[str]:
        return [
            f"ex_{j}_{b}",
            f"pred_{j}_{b}",
            f"pst_{j}_{b}",
            f"st_{j}_{b}",
            f"tk_{j}_{b}",
            f"lvl_{j}_{b}",
            f"added_{j}_{b}",
            *[f"on_{j}_{b}_{st}" for st in stakers],
        ]

    # -- init ------------------------------------------------------------------------
    def init(s: State) -> Any:
        facts = [
            sym.axioms(shape),
            s["level"] == ORIGINATION_LEVEL + 1,
            s["counter"] == 0,
            s["burnt"] == 0,
            s["minted"] == 0,
            s["lcc_j"] == 0,
            s["lcc_b"] == 0,
            s["genesis_stored"],
            z3.Not(s["bad_exec"]),
            z3.Not(s["game_on"]),
            s["game_refuter"] == 0,
            s["game_j"] == 0,
            s["game_b_refuter"] == 0,
            s["game_b_defender"] == 0,
        ]
        for st in stakers:
            facts += [
                s[f"bal_{st}"] == BALANCE,
                s[f"frozen_{st}"] == 0,
                s[f"index_{st}"] == NONE,
                s[f"newest_{st}"] == 0,
            ]
        for j in levels:
            facts += [
                s[f"first_pub_{j}"] == NONE,
                s[f"cem_count_{j}"] == 0,
                s[f"cem_b_{j}"] == NONE,
                s[f"cem_pred_{j}"] == NONE,
            ]
            for b in branches:
                facts += clear_slot(s, s, j, b)
        for q in range(A):
            facts += [s[f"app_lvl_{q}"] == NONE] + [z3.Not(s[f"app_bit_{q}_{i}"]) for i in range(K)]
        for ol in range(MAX_OL + 1):
            facts += [s[f"exec_{ol}_{i}"] == 0 for i in range(K)]
        return z3.And(*facts)

    # -- publish -----------------------------------------------------------------------
    publish_params = [
        Var("staker", z3.Int),
        Var("inbox_level", z3.Int),
        Var("pred_j", z3.Int),
        Var("pred_b", z3.Int),
        Var("state", hvar),
        Var("ticks", z3.Int),
    ]

    def publish(s: State, t: State, p: Params) -> Any:
        cases = []
        for st in stakers:
            for pj in range(J):
                j = pj + 1
                for b in branches:
                    cases.append(publish_case(s, t, p, st, pj, j, b))
        return z3.Or(*cases)

    def publish_case(s: State, t: State, p: Params, st: int, pj: int, j: int, b: int) -> Any:
        has_index = s[f"index_{st}"] >= 0
        idx = z3.If(has_index, s[f"index_{st}"], s["counter"])
        lvl, pb, state, ticks = p["inbox_level"], p["pred_b"], p["state"], p["ticks"]
        if pj == 0:
            pred_exists = z3.And(pb == 0, s["genesis_stored"])
        else:
            pred_exists = z3.And(
                pb >= 0, pb < B, z3.Or(*[z3.And(pb == x, s[f"ex_{pj}_{x}"]) for x in branches])
            )
        same = [
            z3.And(
                s[f"ex_{j}_{x}"],
                s[f"pred_{j}_{x}"] == pb,
                s[f"st_{j}_{x}"] == state,
                s[f"tk_{j}_{x}"] == ticks,
            )
            for x in branches
        ]
        join = same[b]
        new = z3.And(
            z3.Not(z3.Or(*same)),
            z3.Not(s[f"ex_{j}_{b}"]),
            *[s[f"ex_{j}_{x}"] for x in branches if x < b],
        )
        first = s[f"first_pub_{j}"]
        if pj == 0:
            honest_pred: Any = z3.BoolVal(True)
            pred_state: Any = sym.genesis_state
        else:
            # The honest node builds on a commitment that is itself correct (it may be
            # dangling if a wrong one was cemented while the honest node was offline).
            honest_pred = z3.Or(
                *[z3.And(pb == x, s[f"ex_{pj}_{x}"], correct(s, pj, x)) for x in branches]
            )
            pred_state = sym.nil
            for x in branches:
                pred_state = z3.If(pb == x, s[f"st_{pj}_{x}"], pred_state)
        honest = z3.And(
            honest_pred,
            state == sym.succ_state(j, pred_state),
            ticks == sym.succ_ticks(j, pred_state),
        )
        guards = [
            p["staker"] == st,
            p["pred_j"] == pj,
            ticks >= 0,  # Number_of_ticks is unsigned
            ticks != 0,  # Sc_rollup_zero_tick_commitment
            z3.Or(has_index, s[f"bal_{st}"] >= STAKE),  # Sc_rollup_staker_funds_too_low
            lvl > lcc_level(s),  # Sc_rollup_commitment_too_old
            lvl - lcc_level(s) <= LA,  # Sc_rollup_too_far_ahead
            pred_exists,  # Sc_rollup_unknown_commitment
            lvl == level_of(pj, constants) + P,  # Sc_rollup_bad_inbox_level
            z3.Or(first == NONE, s["level"] - first <= W),  # Sc_rollup_commitment_past_curfew
            lvl < s["level"],  # Sc_rollup_commitment_from_future
            z3.Or(join, new),
            s[f"on_{j}_{b}_{st}"] != idx,  # Sc_rollup_double_publish
            *[
                s[f"on_{j}_{x}_{st}"] != idx for x in branches if x != b
            ],  # Sc_rollup_staker_double_stake
            z3.Implies(st == 0, honest),
        ]
        newest = z3.If(has_index, s[f"newest_{st}"], 0)
        updates = [
            t[f"bal_{st}"] == s[f"bal_{st}"] - z3.If(has_index, 0, STAKE),
            t[f"frozen_{st}"] == s[f"frozen_{st}"] + z3.If(has_index, 0, STAKE),
            t[f"index_{st}"] == idx,
            t["counter"] == s["counter"] + z3.If(has_index, 0, 1),
            t[f"newest_{st}"] == z3.If(newest > lvl, newest, lvl),
            t[f"ex_{j}_{b}"],
            t[f"pred_{j}_{b}"] == pb,
            t[f"st_{j}_{b}"] == state,
            t[f"pst_{j}_{b}"] == pred_state,
            t[f"tk_{j}_{b}"] == ticks,
            t[f"lvl_{j}_{b}"] == lvl,
            t[f"added_{j}_{b}"] == z3.If(s[f"ex_{j}_{b}"], s[f"added_{j}_{b}"], s["level"]),
            t[f"on_{j}_{b}_{st}"] == idx,
            t[f"first_pub_{j}"] == z3.If(first == NONE, s["level"], first),
        ]
        touched = [
            f"bal_{st}",
            f"frozen_{st}",
            f"index_{st}",
            "counter",
            f"newest_{st}",
            f"ex_{j}_{b}",
            f"pred_{j}_{b}",
            f"pst_{j}_{b}",
            f"st_{j}_{b}",
            f"tk_{j}_{b}",
            f"lvl_{j}_{b}",
            f"added_{j}_{b}",
            f"on_{j}_{b}_{st}",
            f"first_pub_{j}",
        ]
        return z3.And(*guards, *updates, unchanged(s, t, but=touched))

    # -- cement ------------------------------------------------------------------------
    def cement(s: State, t: State, p: Params) -> Any:
        cases = []
        for jl in range(J):
            j = jl + 1
            for c in branches:
                lcc_pred = 0 if jl == 0 else s["lcc_b"]
                cand = [
                    z3.And(s[f"ex_{j}_{b}"], s[f"pred_{j}_{b}"] == lcc_pred, supported(s, j, b))
                    for b in branches
                ]
                guards = [
                    s["lcc_j"] == jl,
                    cand[c],
                    *[z3.Not(cand[b]) for b in branches if b != c],
                    s["level"] >= s[f"added_{j}_{c}"] + W,
                ]
                updates: list[Any] = [
                    t["lcc_j"] == j,
                    t["lcc_b"] == c,
                    t[f"first_pub_{j}"] == NONE,
                    t[f"cem_count_{j}"] == s[f"cem_count_{j}"] + 1,
                    t[f"cem_b_{j}"] == c,
                    t[f"cem_pred_{j}"] == s[f"pred_{j}_{c}"],
                ]
                touched = [
                    "lcc_j",
                    "lcc_b",
                    f"first_pub_{j}",
                    f"cem_count_{j}",
                    f"cem_b_{j}",
                    f"cem_pred_{j}",
                ]
                for b in branches:
                    touched += slot_vars(j, b)
                    if b == c:
                        keep = [
                            f"ex_{j}_{b}",
                            f"pred_{j}_{b}",
                            f"pst_{j}_{b}",
                            f"st_{j}_{b}",
                            f"tk_{j}_{b}",
                            f"lvl_{j}_{b}",
                        ]
                        updates.append(unchanged(s, t, keep))
                        updates += [t[f"added_{j}_{b}"] == NONE] + [
                            t[f"on_{j}_{b}_{st}"] == NONE for st in stakers
                        ]
                    else:
                        updates += clear_slot(s, t, j, b)
                # prune the cemented commitment KEEP levels behind the new LCC
                gone = j - KEEP
                if gone == 0:
                    updates.append(z3.Not(t["genesis_stored"]))
                    touched.append("genesis_stored")
                elif gone >= 1:
                    for b in branches:
                        name = f"ex_{gone}_{b}"
                        updates.append(t[name] == z3.And(s[name], s[f"cem_b_{gone}"] != b))
                        touched.append(name)
                cases.append(z3.And(*guards, *updates, unchanged(s, t, but=touched)))
        return z3.Or(*cases)

    # -- recover bond ---------------------------------------------------------------------
    def recover(s: State, t: State, p: Params) -> Any:
        cases = []
        for st in stakers:
            cases.append(
                z3.And(
                    p["staker"] == st,
                    s[f"index_{st}"] >= 0,  # Sc_rollup_not_staked
                    s[f"newest_{st}"] <= lcc_level(s),  # ..._not_staked_on_lcc_or_ancestor
                    t[f"bal_{st}"] == s[f"bal_{st}"] + STAKE,
                    t[f"frozen_{st}"] == s[f"frozen_{st}"] - STAKE,
                    t[f"index_{st}"] == NONE,
                    t[f"newest_{st}"] == 0,
                    unchanged(
                        s, t, but=[f"bal_{st}", f"frozen_{st}", f"index_{st}", f"newest_{st}"]
                    ),
                )
            )
        return z3.Or(*cases)

    # -- refutation games -------------------------------------------------------------------
    game_vars = ["game_on", "game_refuter", "game_j", "game_b_refuter", "game_b_defender"]

    def parent_stored(s: State, j: int, b: int) -> Any:
        """The disputed commitments' predecessor is still stored: the game starts from
        its state (``Sc_rollup_unknown_commitment`` otherwise)."""
        if j == 1:
            return s["genesis_stored"]
        return z3.Or(*[z3.And(s[f"pred_{j}_{b}"] == x, s[f"ex_{j - 1}_{x}"]) for x in branches])

    def start_game(s: State, t: State, p: Params) -> Any:
        cases = []
        for r in stakers:
            for d in stakers:
                if d == r:
                    continue
                for j in levels:
                    for br in branches:
                        for bd in branches:
                            if br == bd:
                                continue  # Sc_rollup_no_conflict
                            cases.append(
                                z3.And(
                                    p["refuter"] == r,
                                    p["defender"] == d,
                                    p["j"] == j,
                                    p["b_refuter"] == br,
                                    p["b_defender"] == bd,
                                    active(s, r, j, br),
                                    active(s, d, j, bd),  # wrong staker for conflict
                                    s[f"pred_{j}_{br}"]
                                    == s[f"pred_{j}_{bd}"],  # not a valid conflict
                                    s["level"]
                                    >= level_of(j, constants) + P,  # game start too early
                                    z3.Not(s["game_on"]),  # game already started
                                    GAMES >= 1,  # parallel games
                                    parent_stored(s, j, br),  # unknown commitment (parent)
                                    t["game_on"],
                                    t["game_refuter"] == r,
                                    t["game_j"] == j,
                                    t["game_b_refuter"] == br,
                                    t["game_b_defender"] == bd,
                                    unchanged(s, t, but=game_vars),
                                )
                            )
        return z3.Or(*cases)

    def conclude(s: State, t: State, p: Params) -> Any:
        """result: 0 the refuter loses, 1 the defender loses, 2 draw."""
        cases = []
        result = p["result"]
        for r in stakers:
            for j in levels:
                for br in branches:
                    for bd in branches:
                        if br == bd:
                            continue
                        d = 1 - r if S == 2 else None
                        assert d is not None, "conclude_game supports two stakers"
                        tr, td = correct(s, j, br), correct(s, j, bd)
                        allowed = z3.If(
                            z3.And(tr, z3.Not(td)),
                            result == 1,
                            z3.If(
                                z3.And(td, z3.Not(tr)),
                                result == 0,
                                z3.And(result >= 0, result <= 2),
                            ),
                        )
                        here = z3.And(
                            s["game_on"],
                            s["game_refuter"] == r,
                            s["game_j"] == j,
                            s["game_b_refuter"] == br,
                            s["game_b_defender"] == bd,
                            allowed,
                        )
                        cases.append(z3.And(here, settle(s, t, result, r, d)))
        return z3.Or(*cases)

    def settle(s: State, t: State, result: Any, r: int, d: int) -> Any:
        """``spec.staking.apply_game_result``: the game is removed, then the loser (if still
        staked) is slashed and the winner rewarded with half a stake; a draw slashes both."""

        def slashed(x: int, burn: Any) -> list[Any]:
            return [
                t[f"frozen_{x}"] == s[f"frozen_{x}"] - z3.If(burn, STAKE, 0),
                t[f"index_{x}"] == z3.If(burn, NONE, s[f"index_{x}"]),
                t[f"newest_{x}"] == z3.If(burn, 0, s[f"newest_{x}"]),
            ]

        staked_r, staked_d = s[f"index_{r}"] >= 0, s[f"index_{d}"] >= 0
        burn_r = z3.And(staked_r, z3.Or(result == 0, result == 2))
        burn_d = z3.And(staked_d, z3.Or(result == 1, result == 2))
        reward_d = z3.And(result == 0, staked_r)
        reward_r = z3.And(result == 1, staked_d)
        half = STAKE // 2
        facts = [
            z3.Not(t["game_on"]),
            t["game_refuter"] == 0,
            t["game_j"] == 0,
            t["game_b_refuter"] == 0,
            t["game_b_defender"] == 0,
            *slashed(r, burn_r),
            *slashed(d, burn_d),
            t["burnt"] == s["burnt"] + z3.If(burn_r, STAKE, 0) + z3.If(burn_d, STAKE, 0),
            t["minted"] == s["minted"] + z3.If(z3.Or(reward_r, reward_d), half, 0),
            t[f"bal_{r}"] == s[f"bal_{r}"] + z3.If(reward_r, half, 0),
            t[f"bal_{d}"] == s[f"bal_{d}"] + z3.If(reward_d, half, 0),
        ]
        touched = [*game_vars, "burnt", "minted", f"bal_{r}", f"bal_{d}"]
        for x in (r, d):
            touched += [f"frozen_{x}", f"index_{x}", f"newest_{x}"]
        return z3.And(*facts, unchanged(s, t, but=touched))

    # -- outbox ------------------------------------------------------------------------------
    def execute(s: State, t: State, p: Params) -> Any:
        j, ol, idx = p["j"], p["outbox_level"], p["message_index"]
        q = ol % A
        state_of: Any = sym.genesis_state
        stored: Any = s["genesis_stored"]
        for jj in levels:
            here_state: Any = sym.nil
            for b in branches:
                here_state = z3.If(s[f"cem_b_{jj}"] == b, s[f"st_{jj}_{b}"], here_state)
            here_stored = z3.Or(
                *[z3.And(s[f"cem_b_{jj}"] == b, s[f"ex_{jj}_{b}"]) for b in branches]
            )
            state_of = z3.If(j == jj, here_state, state_of)
            stored = z3.If(j == jj, here_stored, stored)
        related = z3.And(j >= 0, j <= s["lcc_j"], stored)
        window = z3.And(lcc_level(s) - A < ol, ol <= lcc_level(s))
        slot_level: Any = NONE
        bit: Any = z3.BoolVal(False)
        for qq in range(A):
            slot_level = z3.If(q == qq, s[f"app_lvl_{qq}"], slot_level)
            for i in range(K):
                bit = z3.If(z3.And(q == qq, idx == i), s[f"app_bit_{qq}_{i}"], bit)
        guards = [
            ol >= 0,
            idx >= 0,
            idx < K,  # model bounds (raw levels are ≥ 0)
            related,  # invalid last cemented commitment
            sym.has_output(state_of, ol, idx),  # invalid output proof
            window,  # invalid outbox level
            idx < MO,  # invalid outbox message index
            z3.Not(z3.And(slot_level == ol, bit)),  # outbox message already applied
            z3.Not(slot_level > ol),  # outbox level expired
        ]
        # Ghost, computed apart from the guards: was this output proven against a stored
        # cemented commitment, at an active outbox level?
        cemented_and_active = z3.And(
            j >= 0, j <= s["lcc_j"], stored, lcc_level(s) - A < ol, ol <= lcc_level(s)
        )
        updates = [t["bad_exec"] == z3.Or(s["bad_exec"], z3.Not(cemented_and_active))]
        for qq in range(A):
            updates.append(t[f"app_lvl_{qq}"] == z3.If(q == qq, ol, s[f"app_lvl_{qq}"]))
            for i in range(K):
                kept = z3.And(s[f"app_lvl_{qq}"] == ol, s[f"app_bit_{qq}_{i}"])
                updates.append(
                    t[f"app_bit_{qq}_{i}"]
                    == z3.If(q == qq, z3.Or(kept, idx == i), s[f"app_bit_{qq}_{i}"])
                )
        for o in range(MAX_OL + 1):
            for i in range(K):
                hit = z3.And(ol == o, idx == i)
                updates.append(t[f"exec_{o}_{i}"] == s[f"exec_{o}_{i}"] + z3.If(hit, 1, 0))
        touched = ["bad_exec"] + [f"app_lvl_{qq}" for qq in range(A)]
        touched += [f"app_bit_{qq}_{i}" for qq in range(A) for i in range(K)]
        touched += [f"exec_{o}_{i}" for o in range(MAX_OL + 1) for i in range(K)]
        return z3.And(*guards, *updates, unchanged(s, t, but=touched))

    # -- time ----------------------------------------------------------------------------------
    def advance(s: State, t: State, p: Params) -> Any:
        return z3.And(
            p["blocks"] >= 1, t["level"] == s["level"] + p["blocks"], unchanged(s, t, but=["level"])
        )

    def well_formed(s: State) -> Any:
        facts = [sym.axioms(shape), s["counter"] >= 0, s["lcc_j"] >= 0, s["lcc_j"] <= J]
        for st in stakers:
            facts += [
                s[f"index_{st}"] >= NONE,
                s[f"index_{st}"] < s["counter"],
                s[f"bal_{st}"] >= 0,
                s[f"frozen_{st}"] >= 0,
            ]
        return z3.And(*facts)

    def extras(model: z3.ModelRef, states: list[State], params: list[Params]) -> dict[str, Any]:
        return {"genesis_state": str(model.eval(sym.genesis_state, model_completion=True))}

    ts = TransitionSystem(
        name=f"rollup({constants.name}, {S} stakers, {J} levels, {B} branches)",
        extras=extras,
        variables=v,
        init=init,
        actions=[
            Action("publish", publish_params, publish),
            Action("cement", [], cement),
            Action("recover_bond", [Var("staker", z3.Int)], recover),
            Action(
                "start_game",
                [
                    Var("refuter", z3.Int),
                    Var("defender", z3.Int),
                    Var("j", z3.Int),
                    Var("b_refuter", z3.Int),
                    Var("b_defender", z3.Int),
                ],
                start_game,
            ),
            Action("conclude_game", [Var("result", z3.Int)], conclude),
            Action(
                "execute_outbox_message",
                [Var("j", z3.Int), Var("outbox_level", z3.Int), Var("message_index", z3.Int)],
                execute,
            ),
            Action("advance_level", [Var("blocks", z3.Int)], advance),
        ],
        well_formed=well_formed,
    )
    return ts, sym


# -- symbolic predicates (the catalogue's, over this model's states) -------------------------


def _shape_of(s: State) -> tuple[int, int, int]:
    stakers = sum(1 for k in s if k.startswith("bal_"))
    levels = sum(1 for k in s if k.startswith("first_pub_"))
    branches = sum(1 for k in s if k.startswith("ex_1_"))
    return stakers, levels, branches


def tez_conserved(stake: int, total: int) -> Callable[[State], Any]:
    def predicate(s: State) -> Any:
        S, _, _ = _shape_of(s)
        return (
            sum(s[f"bal_{x}"] + s[f"frozen_{x}"] for x in range(S)) + s["burnt"] - s["minted"]
            == total
        )

    return predicate


def one_cemented_per_level(s: State) -> Any:
    _, J, _ = _shape_of(s)
    return z3.And(*[s[f"cem_count_{j}"] <= 1 for j in range(1, J + 1)])


def cemented_chain_linear(s: State) -> Any:
    _, J, _ = _shape_of(s)
    facts = []
    for j in range(1, J + 1):
        expected_pred = 0 if j == 1 else s[f"cem_b_{j - 1}"]
        facts.append(
            z3.Implies(
                j <= s["lcc_j"],
                z3.And(s[f"cem_pred_{j}"] == expected_pred, s[f"cem_count_{j}"] >= 1),
            )
        )
    return z3.And(*facts)


def on_period_grid(period: int) -> Callable[[State], Any]:
    def predicate(s: State) -> Any:
        _, J, B = _shape_of(s)
        return z3.And(
            *[
                z3.Implies(s[f"ex_{j}_{b}"], s[f"lvl_{j}_{b}"] == ORIGINATION_LEVEL + j * period)
                for j in range(1, J + 1)
                for b in range(B)
            ]
        )

    return predicate


def one_stake_per_level(s: State) -> Any:
    S, J, B = _shape_of(s)
    facts = []
    for x in range(S):
        for j in range(1, J + 1):
            on = [
                z3.If(z3.And(s[f"index_{x}"] >= 0, s[f"on_{j}_{b}_{x}"] == s[f"index_{x}"]), 1, 0)
                for b in range(B)
            ]
            facts.append(z3.Sum(on) <= 1)
    return z3.And(*facts)


def executed_at_most_once(s: State) -> Any:
    return z3.And(*[term <= 1 for name, term in s.items() if name.startswith("exec_")])


def executed_from_cemented(s: State) -> Any:
    return z3.Not(s["bad_exec"])


def frozen_matches_stakers(stake: int) -> Callable[[State], Any]:
    def predicate(s: State) -> Any:
        S, _, _ = _shape_of(s)
        return z3.And(
            *[s[f"frozen_{x}"] == z3.If(s[f"index_{x}"] >= 0, stake, 0) for x in range(S)]
        )

    return predicate


def staker_tables_consistent(s: State) -> Any:
    S, J, B = _shape_of(s)
    facts = []
    for x in range(S):
        facts.append(z3.Implies(s[f"index_{x}"] >= 0, s[f"index_{x}"] < s["counter"]))
        for y in range(x + 1, S):
            facts.append(z3.Implies(s[f"index_{x}"] >= 0, s[f"index_{x}"] != s[f"index_{y}"]))
        for j in range(1, J + 1):
            for b in range(B):
                facts.append(s[f"on_{j}_{b}_{x}"] < s["counter"])
    return z3.And(*facts)


def commitment_tables_consistent(s: State) -> Any:
    S, J, B = _shape_of(s)
    facts = []
    for j in range(1, J + 1):
        uncemented = j > s["lcc_j"]
        for b in range(B):
            ex = s[f"ex_{j}_{b}"]
            facts.append(
                z3.Implies(
                    z3.And(uncemented, ex),
                    z3.And(
                        s[f"added_{j}_{b}"] != NONE,
                        s[f"first_pub_{j}"] != NONE,
                        s[f"first_pub_{j}"] <= s[f"added_{j}_{b}"],
                    ),
                )
            )
            for x in range(S):
                facts.append(z3.Implies(s[f"on_{j}_{b}_{x}"] != NONE, z3.And(ex, uncemented)))
    return z3.And(*facts)


def within_curfew(window: int) -> Callable[[State], Any]:
    def predicate(s: State) -> Any:
        _, J, B = _shape_of(s)
        return z3.And(
            *[
                z3.Implies(
                    z3.And(j > s["lcc_j"], s[f"ex_{j}_{b}"]),
                    s[f"added_{j}_{b}"] - s[f"first_pub_{j}"] <= window,
                )
                for j in range(1, J + 1)
                for b in range(B)
            ]
        )

    return predicate


def minting_bounded(s: State) -> Any:
    return s["minted"] * 2 <= s["burnt"]


def honest_bond_kept(balance: int) -> Callable[[State], Any]:
    def predicate(s: State) -> Any:
        return s["bal_0"] + s["frozen_0"] >= balance

    return predicate


def symbolic_predicates(
    constants: Constants, shape: Shape = Shape()
) -> dict[str, Callable[[State], Any]]:
    """The catalogue's symbolic predicates over this model, by property id."""
    balance = shape.balance_in_stakes * constants.stake_amount
    return {
        "SR-001": tez_conserved(constants.stake_amount, shape.stakers * balance),
        "SR-002": one_cemented_per_level,
        "SR-003": cemented_chain_linear,
        "SR-004": on_period_grid(constants.commitment_period_in_blocks),
        "SR-005": one_stake_per_level,
        "SR-006": executed_at_most_once,
        "SR-007": executed_from_cemented,
        "SR-008": frozen_matches_stakers(constants.stake_amount),
        "SR-009": staker_tables_consistent,
        "SR-010": commitment_tables_consistent,
        "SR-012": honest_bond_kept(balance),
        "SR-016": within_curfew(constants.challenge_window_in_blocks),
        "SR-017": minting_bounded,
    }


def lemmas(constants: Constants, shape: Shape = Shape()) -> Callable[[State], Any]:
    """Auxiliary invariants of the model that make the catalogue's properties inductive.

    They are never assumed: :func:`checks.runner` proves ``property ∧ lemmas``
    by k-induction (base case included), which proves the property.
    """
    S, J, B = shape.stakers, shape.levels, shape.branches
    P = constants.commitment_period_in_blocks
    STAKE = constants.stake_amount
    A = constants.max_active_outbox_levels
    K = constants.max_outbox_messages_per_level + 1
    KEEP = constants.max_number_of_stored_cemented_commitments
    MAX_OL = level_of(J, constants)
    BALANCE = shape.balance_in_stakes * STAKE

    def predicate(s: State) -> Any:
        sym = RollupSymbols(shape)
        facts: list[Any] = [
            s["level"] >= ORIGINATION_LEVEL + 1,
            s["burnt"] >= 0,
            s["minted"] >= 0,
            s["minted"] * 2 <= s["burnt"],
            s["lcc_j"] >= 0,
            s["lcc_j"] <= J,
            s["genesis_stored"] == (s["lcc_j"] < KEEP),
            z3.Implies(s["lcc_j"] == 0, s["lcc_b"] == 0),
        ]
        for x in range(S):
            staked = s[f"index_{x}"] >= 0
            facts += [
                s[f"bal_{x}"] >= 0,
                s[f"frozen_{x}"] == z3.If(staked, STAKE, 0),
                z3.Implies(z3.Not(staked), z3.And(s[f"index_{x}"] == NONE, s[f"newest_{x}"] == 0)),
                s[f"index_{x}"] < s["counter"],
                s[f"newest_{x}"] >= 0,
                s[f"newest_{x}"] < s["level"],
            ]
            for y in range(x + 1, S):
                facts.append(z3.Implies(staked, s[f"index_{x}"] != s[f"index_{y}"]))
        for j in range(1, J + 1):
            cemented = j <= s["lcc_j"]
            facts += [
                s[f"cem_count_{j}"] == z3.If(cemented, 1, 0),
                z3.Implies(
                    z3.Not(cemented), z3.And(s[f"cem_b_{j}"] == NONE, s[f"cem_pred_{j}"] == NONE)
                ),
                z3.Implies(
                    cemented,
                    z3.And(s[f"cem_b_{j}"] >= 0, s[f"cem_b_{j}"] < B, s[f"first_pub_{j}"] == NONE),
                ),
                z3.Implies(s["lcc_j"] == j, s["lcc_b"] == s[f"cem_b_{j}"]),
                z3.Implies(cemented, s[f"cem_pred_{j}"] == (0 if j == 1 else s[f"cem_b_{j - 1}"])),
                s[f"first_pub_{j}"] <= s["level"],
                z3.Implies(
                    z3.Not(cemented),
                    (s[f"first_pub_{j}"] == NONE)
                    == z3.Not(z3.Or(*[s[f"ex_{j}_{b}"] for b in range(B)])),
                ),
            ]
            for b in range(B):
                ex = s[f"ex_{j}_{b}"]
                is_cem = z3.And(cemented, s[f"cem_b_{j}"] == b)
                canonical = z3.And(
                    s[f"pred_{j}_{b}"] == 0,
                    s[f"tk_{j}_{b}"] == 0,
                    s[f"lvl_{j}_{b}"] == 0,
                    s[f"added_{j}_{b}"] == NONE,
                    *[s[f"on_{j}_{b}_{x}"] == NONE for x in range(S)],
                )
                facts += [
                    z3.Implies(z3.And(cemented, z3.Not(is_cem)), z3.And(z3.Not(ex), canonical)),
                    z3.Implies(
                        is_cem,
                        z3.And(
                            ex == (j > s["lcc_j"] - KEEP),
                            s[f"added_{j}_{b}"] == NONE,
                            *[s[f"on_{j}_{b}_{x}"] == NONE for x in range(S)],
                        ),
                    ),
                    z3.Implies(z3.And(z3.Not(cemented), z3.Not(ex)), canonical),
                    z3.Implies(
                        ex,
                        z3.And(
                            s[f"lvl_{j}_{b}"] == ORIGINATION_LEVEL + j * P,
                            s[f"tk_{j}_{b}"] != 0,
                            s[f"pred_{j}_{b}"] >= 0,
                            s[f"pred_{j}_{b}"] < B,
                            s[f"lvl_{j}_{b}"] < s["level"],
                        ),
                    ),
                    z3.Implies(
                        z3.And(z3.Not(cemented), ex),
                        z3.And(
                            s[f"first_pub_{j}"] != NONE,
                            s[f"added_{j}_{b}"] >= s[f"first_pub_{j}"],
                            s[f"added_{j}_{b}"] - s[f"first_pub_{j}"]
                            <= constants.challenge_window_in_blocks,
                            s[f"added_{j}_{b}"] <= s["level"],
                        ),
                    ),
                ]
                if j > 1:
                    facts.append(
                        z3.Implies(
                            z3.And(z3.Not(cemented), ex),
                            z3.Or(
                                *[
                                    z3.And(s[f"pred_{j}_{b}"] == pb, s[f"ex_{j - 1}_{pb}"])
                                    for pb in range(B)
                                ],
                                j - 1 <= s["lcc_j"],
                            ),
                        )
                    )
                if j == 1:
                    facts.append(
                        z3.Implies(
                            ex,
                            z3.And(s[f"pred_{j}_{b}"] == 0, s[f"pst_{j}_{b}"] == sym.genesis_state),
                        )
                    )
                else:
                    facts += [
                        z3.Implies(
                            z3.And(
                                ex,
                                z3.Not(cemented),
                                s[f"pred_{j}_{b}"] == pb,
                                s[f"ex_{j - 1}_{pb}"],
                            ),
                            s[f"pst_{j}_{b}"] == s[f"st_{j - 1}_{pb}"],
                        )
                        for pb in range(B)
                    ]
                for x in range(S):
                    on = s[f"on_{j}_{b}_{x}"]
                    facts += [
                        on >= NONE,
                        on < s["counter"],
                        z3.Implies(
                            z3.And(on != NONE, on == s[f"index_{x}"]),
                            s[f"newest_{x}"] >= ORIGINATION_LEVEL + j * P,
                        ),
                    ]
                    if x == 0:  # the honest staker stakes only on correct commitments
                        facts.append(
                            z3.Implies(
                                z3.And(on != NONE, on == s["index_0"]), correct_slot(sym, s, j, b)
                            )
                        )
                for c in range(b + 1, B):
                    facts.append(
                        z3.Implies(
                            z3.And(ex, s[f"ex_{j}_{c}"], s[f"pred_{j}_{b}"] == s[f"pred_{j}_{c}"]),
                            s[f"pst_{j}_{b}"] == s[f"pst_{j}_{c}"],
                        )
                    )
                    facts.append(
                        z3.Not(
                            z3.And(
                                ex,
                                s[f"ex_{j}_{c}"],
                                s[f"pred_{j}_{b}"] == s[f"pred_{j}_{c}"],
                                s[f"st_{j}_{b}"] == s[f"st_{j}_{c}"],
                                s[f"tk_{j}_{b}"] == s[f"tk_{j}_{c}"],
                            )
                        )
                    )
        # games: the players were staked on the two conflicting slots when it started
        facts.append(
            z3.Implies(
                s["game_on"],
                z3.And(
                    s["game_refuter"] >= 0,
                    s["game_refuter"] < S,
                    s["game_j"] >= 1,
                    s["game_j"] <= J,
                    s["game_b_refuter"] >= 0,
                    s["game_b_refuter"] < B,
                    s["game_b_defender"] >= 0,
                    s["game_b_defender"] < B,
                    s["game_b_refuter"] != s["game_b_defender"],
                ),
            )
        )
        for j in range(1, J + 1):
            for br in range(B):
                for bd in range(B):
                    if br == bd:
                        continue
                    here = z3.And(
                        s["game_on"],
                        s["game_j"] == j,
                        s["game_b_refuter"] == br,
                        s["game_b_defender"] == bd,
                    )
                    facts.append(
                        z3.Implies(
                            here,
                            z3.And(
                                s[f"ex_{j}_{br}"],
                                s[f"ex_{j}_{bd}"],
                                j > s["lcc_j"],
                                s[f"pred_{j}_{br}"] == s[f"pred_{j}_{bd}"],
                                # the honest player's side of a game is true
                                s[f"pst_{j}_{br}"] == s[f"pst_{j}_{bd}"],
                                # two stakers: both players stay staked on their sides to the end
                                *[
                                    z3.Implies(
                                        s["game_refuter"] == r,
                                        z3.And(
                                            s[f"index_{r}"] >= 0,
                                            s[f"on_{j}_{br}_{r}"] == s[f"index_{r}"],
                                            s[f"index_{1 - r}"] >= 0,
                                            s[f"on_{j}_{bd}_{1 - r}"] == s[f"index_{1 - r}"],
                                        ),
                                    )
                                    for r in range(S)
                                    if S == 2
                                ],
                                z3.Implies(s["game_refuter"] == 0, correct_slot(sym, s, j, br)),
                                z3.Implies(s["game_refuter"] != 0, correct_slot(sym, s, j, bd)),
                            ),
                        )
                    )
        facts.append(
            z3.Implies(
                z3.Not(s["game_on"]),
                z3.And(
                    s["game_refuter"] == 0,
                    s["game_j"] == 0,
                    s["game_b_refuter"] == 0,
                    s["game_b_defender"] == 0,
                ),
            )
        )
        # honest bond: never slashed, possibly rewarded
        facts.append(s["bal_0"] + s["frozen_0"] >= BALANCE)
        # outbox: executed messages are recorded (or their slot moved on), never twice
        for q in range(A):
            slot = s[f"app_lvl_{q}"]
            facts += [
                slot >= NONE,
                z3.Implies(
                    slot == NONE, z3.And(*[z3.Not(s[f"app_bit_{q}_{i}"]) for i in range(K)])
                ),
            ]
            facts.append(z3.Implies(slot != NONE, slot % A == q))
            for i in range(K):
                facts.append(
                    z3.Implies(s[f"app_bit_{q}_{i}"], i < constants.max_outbox_messages_per_level)
                )
        for o in range(MAX_OL + 1):
            q = o % A
            for i in range(K):
                count = s[f"exec_{o}_{i}"]
                facts += [
                    count >= 0,
                    count <= 1,
                    z3.Implies(
                        count == 1,
                        z3.Or(
                            s[f"app_lvl_{q}"] > o,
                            z3.And(s[f"app_lvl_{q}"] == o, s[f"app_bit_{q}_{i}"]),
                        ),
                    ),
                ]
        facts.append(z3.Not(s["bad_exec"]))
        return z3.And(*facts)

    return predicate


def correct_slot(sym: RollupSymbols, s: State, j: int, b: int) -> Any:
    """Slot (j, b) says what an honest node would commit on its predecessor's state."""
    pst = s[f"pst_{j}_{b}"]
    return z3.And(
        s[f"st_{j}_{b}"] == sym.succ_state(j, pst), s[f"tk_{j}_{b}"] == sym.succ_ticks(j, pst)
    )


#: Rollup invariants of ``spec.invariants`` that this model checks, with their severity.
#: SR-011 (whitelists) is not modelled: the model's rollup is public.
CHECKED_INVARIANTS: dict[str, str] = {
    "SR-001": "critical",
    "SR-002": "critical",
    "SR-003": "critical",
    "SR-004": "high",
    "SR-005": "critical",
    "SR-006": "critical",
    "SR-007": "critical",
    "SR-008": "critical",
    "SR-009": "high",
    "SR-010": "high",
    "SR-016": "critical",
    "SR-017": "critical",
}


def symbolic_predicate(prop_id: str) -> Callable[[Constants], Callable[[State], Any]]:
    """The symbolic predicate of ``prop_id`` as a function of the constants."""

    def make(constants: Constants) -> Callable[[State], Any]:
        return symbolic_predicates(constants)[prop_id]

    return make
