"""The abstraction function: a concrete ``spec`` state as a state of ``model.rollup``.

Conformance testing (``tests/conformance``) runs the concrete machine and,
after every step, checks that the model's transition relation admits exactly
the abstract successor. This module computes the abstract values.

Some model variables are not functions of the concrete state alone: which
slot ``(j, b)`` a commitment occupies (the model puts a new commitment in the
lowest free slot, so slots depend on publication order), which staker owns an
old, inactive index, and who started the current game. A :class:`Tracker`
follows the concrete trace and records them.
"""

from __future__ import annotations

from typing import Any

import attrs
import z3

from model.rollup import NONE, ORIGINATION_LEVEL, RollupSymbols, Shape, level_of
from spec.commitment import Commitment
from spec.constants import Constants
from spec.hashing import CommitmentHash, ImplicitAccount, RollupAddress, StateHash
from spec.state import Layer1State, RollupState


@attrs.define
class Tracker:
    """What the abstraction needs to remember along a concrete trace."""

    accounts: list[ImplicitAccount]
    address: RollupAddress
    shape: Shape = attrs.field(factory=Shape)
    #: The slot of every commitment ever stored (slots at cemented levels are never reused).
    slots: dict[CommitmentHash, tuple[int, int]] = attrs.field(factory=dict)
    #: Every commitment ever stored, by hash (predecessors may leave storage).
    seen: dict[CommitmentHash, Commitment] = attrs.field(factory=dict)
    owners: dict[int, int] = attrs.field(factory=dict)
    game: tuple[int, int, int, int] | None = None  # refuter, j, b_refuter, b_defender

    def staker_of(self, account: ImplicitAccount) -> int:
        return self.accounts.index(account)

    def after_publish(
        self,
        after: Layer1State,
        staker: int,
        commitment_hash: CommitmentHash,
        constants: Constants,
    ) -> None:
        """Record the slot of a newly stored commitment and the owner of a new index."""
        rollup = after.rollup(self.address)
        index = rollup.staker_index[self.accounts[staker]]
        self.owners[index] = staker
        self.seen[commitment_hash] = rollup.commitments[commitment_hash]
        if commitment_hash in self.slots:
            return
        level = rollup.commitments[commitment_hash].inbox_level
        j = (level - ORIGINATION_LEVEL) // constants.commitment_period_in_blocks
        taken = {b for h, (jj, b) in self.slots.items() if jj == j and h in rollup.commitments}
        b = min(x for x in range(self.shape.branches + 1) if x not in taken)
        self.slots[commitment_hash] = (j, b)

    def fits(
        self, rollup: RollupState, commitment_hash: CommitmentHash, level: int, constants: Constants
    ) -> bool:
        """Whether a publication stays inside the model's bounds (levels, branches)."""
        j, r = divmod(level - ORIGINATION_LEVEL, constants.commitment_period_in_blocks)
        if r != 0 or not 1 <= j <= self.shape.levels:
            return False
        if commitment_hash in self.slots:
            return True
        taken = [h for h, (jj, _) in self.slots.items() if jj == j and h in rollup.commitments]
        return len(taken) < self.shape.branches


class Abstraction:
    """Maps concrete state hashes to constants of the model's ``StateHash`` sort."""

    def __init__(self, shape: Shape) -> None:
        self.sym = RollupSymbols(shape)
        self.hashes: dict[StateHash, Any] = {}

    def h(self, state_hash: StateHash) -> Any:
        if state_hash not in self.hashes:
            self.hashes[state_hash] = z3.Const(f"concrete_{state_hash.raw.hex()[:16]}", self.sym.H)
        return self.hashes[state_hash]

    def distinct(self) -> Any:
        """All concrete hashes are distinct values, and distinct from ``nil``."""
        consts = [*self.hashes.values(), self.sym.nil]
        return z3.Distinct(*consts) if len(consts) > 1 else z3.BoolVal(True)

    def values(self, state: Layer1State, tracker: Tracker, constants: Constants) -> dict[str, Any]:
        """The model variables' values for ``state`` (ints, bools, or ``StateHash`` terms)."""
        S, J, B = tracker.shape.stakers, tracker.shape.levels, tracker.shape.branches
        P = constants.commitment_period_in_blocks
        rollup = state.rollup(tracker.address)
        ledger = state.ledger
        out: dict[str, Any] = {
            "level": state.level,
            "counter": rollup.staker_index_counter,
            "burnt": ledger.burnt,
            "minted": ledger.minted,
            "lcc_j": (rollup.lcc_level - ORIGINATION_LEVEL) // P,
            "lcc_b": tracker.slots.get(rollup.lcc, (0, 0))[1],
            "genesis_stored": rollup.genesis_info.commitment_hash in rollup.commitments,
        }
        for x, account in enumerate(tracker.accounts[:S]):
            index = rollup.staker_index.get(account)
            out[f"bal_{x}"] = ledger.balance(account)
            out[f"frozen_{x}"] = ledger.frozen(account, tracker.address)
            out[f"index_{x}"] = NONE if index is None else index
            out[f"newest_{x}"] = 0 if index is None else rollup.stakers[index]
        cemented = {c.inbox_level: c for c in rollup.ghost_cemented}
        for j in range(1, J + 1):
            level = level_of(j, constants)
            out[f"first_pub_{j}"] = rollup.commitment_first_publication_level.get(level, NONE)
            count = sum(1 for c in rollup.ghost_cemented if c.inbox_level == level)
            out[f"cem_count_{j}"] = count
            if level in cemented:
                h = cemented[level].hash()
                out[f"cem_b_{j}"] = tracker.slots[h][1]
                pred = cemented[level].predecessor
                out[f"cem_pred_{j}"] = 0 if j == 1 else tracker.slots[pred][1]
            else:
                out[f"cem_b_{j}"] = NONE
                out[f"cem_pred_{j}"] = NONE
            for b in range(B):
                out.update(self._slot(rollup, tracker, j, b))
        game = tracker.game if rollup.games else None
        out["game_on"] = game is not None
        out["game_refuter"], out["game_j"], out["game_b_refuter"], out["game_b_defender"] = (
            game if game is not None else (0, 0, 0, 0)
        )
        A = constants.max_active_outbox_levels
        K = constants.max_outbox_messages_per_level + 1
        for q in range(A):
            level_bits = rollup.applied_outbox_messages.get(q)
            out[f"app_lvl_{q}"] = NONE if level_bits is None else level_bits[0]
            for i in range(K):
                out[f"app_bit_{q}_{i}"] = level_bits is not None and bool(level_bits[1] >> i & 1)
        for o in range(level_of(J, constants) + 1):
            for i in range(K):
                out[f"exec_{o}_{i}"] = sum(
                    1
                    for e in rollup.ghost_executed_outputs
                    if (e.outbox_level, e.message_index) == (o, i)
                )
        out["bad_exec"] = any(
            not (e.lcc_level - A < e.outbox_level <= e.lcc_level)
            for e in rollup.ghost_executed_outputs
        )
        return out

    def _slot(self, rollup: RollupState, tracker: Tracker, j: int, b: int) -> dict[str, Any]:
        S = tracker.shape.stakers
        found = [
            h
            for h, (jj, bb) in tracker.slots.items()
            if (jj, bb) == (j, b) and h in rollup.commitments
        ]
        if not found:
            return {
                f"ex_{j}_{b}": False,
                f"pred_{j}_{b}": 0,
                f"pst_{j}_{b}": self.sym.nil,
                f"st_{j}_{b}": self.sym.nil,
                f"tk_{j}_{b}": 0,
                f"lvl_{j}_{b}": 0,
                f"added_{j}_{b}": NONE,
                **{f"on_{j}_{b}_{x}": NONE for x in range(S)},
            }
        h = found[0]
        c = rollup.commitments[h]
        if j == 1:
            pred_slot, pred_state = 0, self.sym.genesis_state
        else:
            pred_slot = tracker.slots[c.predecessor][1]
            pred_state = self.h(tracker.seen[c.predecessor].compressed_state)
        indices = rollup.commitment_stakers.get(h, ())
        out: dict[str, Any] = {
            f"ex_{j}_{b}": True,
            f"pred_{j}_{b}": pred_slot,
            f"pst_{j}_{b}": pred_state,
            f"st_{j}_{b}": self.h(c.compressed_state),
            f"tk_{j}_{b}": c.number_of_ticks,
            f"lvl_{j}_{b}": c.inbox_level,
            f"added_{j}_{b}": rollup.commitment_added.get(h, NONE),
        }
        for x in range(S):
            mine = [i for i in indices if tracker.owners.get(i) == x]
            out[f"on_{j}_{b}_{x}"] = max(mine) if mine else NONE
        return out

    def bind(self, state_vars: dict[str, Any], values: dict[str, Any]) -> Any:
        """The constraint that a symbolic state equals the given values."""
        return z3.And(*[state_vars[k] == v for k, v in values.items()])
