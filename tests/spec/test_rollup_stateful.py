"""Random operation sequences on the layer-1 rollup machine (Hypothesis).

A :class:`~hypothesis.stateful.RuleBasedStateMachine` drives
:func:`spec.rollup.apply` with valid and invalid operations on a public and
a private rollup: publications (right and wrong levels, zero ticks, unknown
predecessors, poor and non-whitelisted stakers), cementations, bond
recoveries, outbox executions (with real and forged reference output
proofs, whitelist updates, signals), refutation games started and timed
out, slashing, messages and level changes. After every step every invariant
of :mod:`spec.invariants` must hold, and every rejected operation must have
left the state unchanged. ``examples × steps ≥ 2,000`` in every profile.
"""

from __future__ import annotations

import collections
import copy
from collections.abc import Callable

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from spec import michelson, staking
from spec.commitment import Commitment, next_commitment_level
from spec.constants import TEST
from spec.errors import ProtocolError
from spec.game import Start
from spec.hashing import CommitmentHash, ContractHash, ImplicitAccount, RollupAddress, StateHash
from spec.invariants import violated
from spec.operations import (
    AddMessages,
    Cement,
    ExecuteOutboxMessage,
    Operation,
    Originate,
    Publish,
    RecoverBond,
    Refute,
    Timeout,
)
from spec.outbox import (
    AtomicTransactionBatch,
    AtomicTransactionBatchTyped,
    CanonicalRollupSignal,
    OutboxMessage,
    OutputTree,
    Transaction,
    TypedTransaction,
    WhitelistUpdate,
    encode_outbox_message,
)
from spec.pvm import Output
from spec.rollup import advance_level, apply, initial_state
from spec.state import Layer1State, RollupState

C = TEST
ALICE = ImplicitAccount(0, b"\x01" * 20)
BOB = ImplicitAccount(0, b"\x02" * 20)
CAROL = ImplicitAccount(1, b"\x03" * 20)
POOR = ImplicitAccount(2, b"\x04" * 20)
ACCOUNTS = (ALICE, BOB, CAROL, POOR)
KT1 = ContractHash(b"\x42" * 20)


def _message(kind: int, n: int) -> OutboxMessage:
    if kind == 0:
        return AtomicTransactionBatch((Transaction(michelson.Int(n), KT1),))
    if kind == 1:
        return WhitelistUpdate((ACCOUNTS[n % 3], ACCOUNTS[(n + 1) % 3]))
    if kind == 2:
        return WhitelistUpdate(None)
    if kind == 3:
        return CanonicalRollupSignal(b"signal %d" % (n % 2))
    return AtomicTransactionBatchTyped(
        (TypedTransaction(michelson.Int(n), michelson.parse_type("mutez"), KT1),)
    )


def _tree(seed: int) -> OutputTree:
    outputs = []
    for i in range(6):
        level = (seed * 7 + i * 5) % 14
        index = (seed + i) % (C.max_outbox_messages_per_level + 1)
        kind = (seed + 2 * i) % 5 if i else 1
        outputs.append(Output(level, index, encode_outbox_message(_message(kind, seed + i))))
    return OutputTree(bytes([seed]) * 32, tuple(outputs))


#: The PVM states commitments claim: reference output trees with a few outputs.
TREES = tuple(_tree(seed) for seed in range(4))
TREE_OF: dict[StateHash, OutputTree] = {t.state_hash(): t for t in TREES}

STATS: collections.Counter[str] = collections.Counter()

ROLLUP_CHOICE = st.sampled_from([0, 0, 0, 1])
STAKER_CHOICE = st.sampled_from([ALICE, BOB, CAROL] * 3 + [POOR])

#: Kinds of steps, repeated by weight.
WEIGHTED_KINDS = (
    ["advance"] * 6
    + ["publish"] * 7
    + ["cement"] * 3
    + ["execute"] * 3
    + ["start_game"] * 2
    + ["timeout"] * 2
    + ["recover_bond", "add_messages", "slash"]
)


class RollupMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        balances = {a: 3 * C.stake_amount for a in ACCOUNTS[:3]} | {POOR: C.stake_amount - 1}
        self.state: Layer1State = initial_state(balances, C)
        self.rollups: list[RollupAddress] = []

    # -- plumbing ---------------------------------------------------------------------
    def _step(self, name: str, operation: Operation | Callable[[Layer1State], Layer1State]) -> None:
        before = self.state
        snapshot = copy.deepcopy(before)
        try:
            after = operation(before) if callable(operation) else apply(before, operation, C)
        except ProtocolError as error:
            assert str(error)
            assert before == snapshot, f"{name} failed with {error!r} but changed the state"
            STATS[f"{name} rejected ({type(error).__name__})"] += 1
            return
        STATS[f"{name} applied"] += 1
        self.state = after

    def _rollup(self, choice: int) -> RollupState:
        return self.state.rollups[self.rollups[choice % len(self.rollups)]]

    @staticmethod
    def _pick(items: list[CommitmentHash], choice: int) -> CommitmentHash:
        return items[choice % len(items)]

    # -- setup ------------------------------------------------------------------------
    @initialize()
    def originate(self) -> None:
        unit = michelson.parse_type("unit")
        self.state = apply(self.state, Originate(ALICE, "wasm_2_0_0", b"public", unit), C)
        self.state = apply(
            self.state, Originate(BOB, "wasm_2_0_0", b"private", unit, (ALICE, BOB)), C
        )
        self.rollups = sorted(self.state.rollups, key=lambda a: a.raw)

    # -- rules ------------------------------------------------------------------------
    # One rule picks the kind of step with fixed weights (Hypothesis's own choice
    # among rules starves the rarer ones), then draws the step's parameters.
    @rule(kind=st.sampled_from(WEIGHTED_KINDS), data=st.data())
    def act(self, kind: str, data: st.DataObject) -> None:
        STATS["steps"] += 1
        getattr(self, f"_{kind}")(data)

    def _advance(self, data: st.DataObject) -> None:
        for _ in range(data.draw(st.integers(1, 3), label="levels")):
            self.state = advance_level(self.state, C)

    def _publish(self, data: st.DataObject) -> None:
        staker = data.draw(STAKER_CHOICE, label="staker")
        r = self._rollup(data.draw(ROLLUP_CHOICE, label="rollup"))
        mode = data.draw(st.sampled_from(["lcc", "lcc", "frontier", "sibling", "any"]))
        # Siblings of uncemented commitments whose predecessor is still stored.
        siblings = sorted(
            h for h in r.commitment_stakers if r.commitments[h].predecessor in r.commitments
        )
        if mode == "sibling" and siblings:  # a conflict with an existing commitment
            sibling = self._pick(siblings, data.draw(st.integers(0, 50), label="sibling"))
            predecessor = r.commitments[sibling].predecessor
        elif mode in ("lcc", "sibling"):  # a successor of the LCC: the next one to cement
            predecessor = r.lcc
        else:
            hashes = sorted(r.commitments, key=lambda h: (r.commitments[h].inbox_level, h.raw))
            if mode == "frontier":
                hashes = hashes[-3:]
            predecessor = self._pick(hashes, data.draw(st.integers(0, 50), label="pred"))
        delta = data.draw(st.sampled_from([0] * 10 + [1, -2]), label="level delta")
        level = next_commitment_level(r.commitments[predecessor].inbox_level, C) + delta
        tree = data.draw(st.integers(0, len(TREES) - 1), label="state")
        ticks = data.draw(st.sampled_from([1] * 8 + [2, 0]), label="ticks")
        commitment = Commitment(TREES[tree].state_hash(), max(level, 0), predecessor, ticks)
        self._step("publish", Publish(staker, r.address, commitment))

    def _cement(self, data: st.DataObject) -> None:
        r = self._rollup(data.draw(ROLLUP_CHOICE, label="rollup"))
        self._step("cement", Cement(data.draw(st.sampled_from(ACCOUNTS)), r.address))

    def _recover_bond(self, data: st.DataObject) -> None:
        r = self._rollup(data.draw(ROLLUP_CHOICE, label="rollup"))
        source = data.draw(st.sampled_from(ACCOUNTS), label="source")
        staker = data.draw(st.sampled_from(ACCOUNTS), label="staker")
        self._step("recover_bond", RecoverBond(source, r.address, staker))

    def _execute(self, data: st.DataObject) -> None:
        r = self._rollup(data.draw(ROLLUP_CHOICE, label="rollup"))
        if len(r.ghost_cemented) == 1:  # only genesis cemented: try the other rollup
            r = min((self._rollup(i) for i in (0, 1)), key=lambda x: -len(x.ghost_cemented))
        stored = data.draw(st.sampled_from([True, True, True, False]), label="stored only")
        pool = list(r.stored_cemented_commitments()) if stored else sorted(r.commitments)
        pool = [h for h in pool if r.commitments[h].compressed_state in TREE_OF] or pool
        target = self._pick(pool, data.draw(st.integers(0, 50), label="commitment"))
        position = data.draw(st.integers(0, 5), label="output")
        tree = TREE_OF.get(r.commitments[target].compressed_state, TREES[position % len(TREES)])
        low, high = r.lcc_level - C.max_active_outbox_levels, r.lcc_level
        active = [i for i, o in enumerate(tree.outputs) if low < o.outbox_level <= high]
        if active and data.draw(st.sampled_from([True, True, True, False]), label="active"):
            position = active[position % len(active)]
        proof = tree.prove(position % len(tree.outputs))
        if data.draw(st.sampled_from([False, False, False, True]), label="forge"):
            other = TREES[(TREES.index(tree) + 1) % len(TREES)]
            proof = type(proof)(proof.output_proof_state, other.outputs[0], proof.proof)
        self._step("execute", ExecuteOutboxMessage(CAROL, r.address, target, proof))

    def _add_messages(self, data: st.DataObject) -> None:
        messages = data.draw(st.lists(st.binary(max_size=8), max_size=2), label="messages")
        self._step("add_messages", AddMessages(BOB, tuple(messages)))

    def _start_game(self, data: st.DataObject) -> None:
        r = self._rollup(data.draw(ROLLUP_CHOICE, label="rollup"))
        choice = data.draw(st.integers(0, 50), label="conflict")
        conflicts = [
            (a, b)
            for level in sorted(r.commitments_per_inbox_level)
            for a in r.commitments_per_inbox_level[level]
            for b in r.commitments_per_inbox_level[level]
            if a != b
            and r.commitments[a].predecessor == r.commitments[b].predecessor
            and r.active_stakers_of(a)
            and r.active_stakers_of(b)
        ]
        by_index = {i: s for s, i in r.staker_index.items()}
        refuter, defender, mine, theirs = ALICE, BOB, r.lcc, r.lcc
        if not conflicts and data.draw(st.sampled_from([True, True, True, False]), label="skip"):
            return self._advance(data)
        if conflicts:
            mine, theirs = conflicts[choice % len(conflicts)]
            mine_by = [by_index[i] for i in r.active_stakers_of(mine)] or [ALICE]
            theirs_by = [by_index[i] for i in r.active_stakers_of(theirs)] or [BOB]
            refuter, defender = mine_by[choice % len(mine_by)], theirs_by[0]
        if data.draw(st.sampled_from([False, False, False, True]), label="swap"):
            refuter, defender = defender, refuter
        self._step("refute start", Refute(refuter, r.address, defender, Start(mine, theirs)))

    def _timeout(self, data: st.DataObject) -> None:
        r = self._rollup(data.draw(ROLLUP_CHOICE, label="rollup"))
        if not r.games and data.draw(st.sampled_from([True, True, True, False]), label="skip"):
            return self._advance(data)
        games = sorted(r.games, key=lambda p: (p[0].raw, p[1].raw)) or [(ALICE, BOB)]
        pair = games[data.draw(st.integers(0, 10), label="game") % len(games)]
        self._step("timeout", Timeout(data.draw(st.sampled_from(ACCOUNTS)), r.address, pair))

    def _slash(self, data: st.DataObject) -> None:
        """A staker loses a game elsewhere: its bond is burnt (``remove_staker``)."""
        address = self._rollup(data.draw(ROLLUP_CHOICE, label="rollup")).address
        staker = data.draw(st.sampled_from(ACCOUNTS), label="staker")
        self._step("remove_staker", lambda state: staking.remove_staker(state, address, staker, C))

    # -- invariants --------------------------------------------------------------------
    @invariant()
    def every_invariant_holds(self) -> None:
        bad = violated(self.state, C)
        assert not bad, [i.id for i in bad]


RollupMachine.TestCase.settings = settings(max_examples=20, stateful_step_count=120, deadline=None)
test_rollup_machine = RollupMachine.TestCase


def teardown_module() -> None:
    for name, count in sorted(STATS.items()):
        print(f"{count:6d}  {name}")
