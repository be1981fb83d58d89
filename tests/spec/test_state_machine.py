"""The layer-1 rollup machine end to end: origination, inbox levels, dispatch.

Also the shared scenario harness (:class:`Scenario`) of the staking,
cementation and outbox tests: a chain under the ``TEST`` constants with one
rollup, where each step reads pre-state → operation → post-state or error,
and every error is checked to leave the state unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import attrs
import pytest

from spec import inbox_message, michelson
from spec.commitment import Commitment, next_commitment_level
from spec.constants import TEST, Constants
from spec.errors import ProtocolError
from spec.game import Start
from spec.hashing import CommitmentHash, ContractHash, ImplicitAccount, RollupAddress, StateHash
from spec.inbox import AddZeroMessages, InboxLevelReachedMessagesLimit
from spec.invariants import INVARIANTS, violated
from spec.operations import (
    AddMessages,
    Cement,
    ExecuteOutboxMessage,
    InternalTransfer,
    Operation,
    Originate,
    OutputProof,
    Publish,
    RecoverBond,
    Refute,
    Timeout,
)
from spec.origination import InvalidParametersType, InvalidPvmKind
from spec.outbox import OutputTree
from spec.pvm import Output
from spec.refutation import NoGame, RefutationGameStartTooEarly
from spec.rollup import (
    ErrorEncodeInboxMessage,
    RollupInvalidTransactionAmount,
    advance_level,
    apply,
    genesis_state_hash,
    initial_state,
)
from spec.state import FrozenMap, Layer1State, Ledger, RollupDoesNotExist, RollupState

TEZ = 1_000_000
ALICE = ImplicitAccount(0, b"\x0a" * 20)
BOB = ImplicitAccount(0, b"\x0b" * 20)
CAROL = ImplicitAccount(1, b"\x0c" * 20)
DAVE = ImplicitAccount(2, b"\x0d" * 20)
POOR = ImplicitAccount(0, b"\x0e" * 20)
ACCOUNTS = (ALICE, BOB, CAROL, DAVE)
KT1 = ContractHash(b"\x42" * 20)


def state_hash(tag: int) -> StateHash:
    return StateHash(bytes([tag]) * 32)


class Scenario:
    """A chain with one rollup originated at level 1 (so its genesis commitment is
    at inbox level 1, and commitment levels are 1 + 2k under ``TEST``)."""

    def __init__(
        self,
        constants: Constants = TEST,
        *,
        whitelist: tuple[ImplicitAccount, ...] | None = None,
        balances: Mapping[ImplicitAccount, int] | None = None,
    ) -> None:
        self.c = constants
        funds = balances or {a: 3 * constants.stake_amount for a in ACCOUNTS} | {POOR: 1}
        self.state = initial_state(funds, constants)
        self.state = apply(
            self.state,
            Originate(ALICE, "wasm_2_0_0", b"kernel", michelson.parse_type("unit"), whitelist),
            constants,
        )
        self.rollup: RollupAddress = next(iter(self.state.rollups))
        self.check_invariants()

    # -- reading --------------------------------------------------------------------
    @property
    def r(self) -> RollupState:
        return self.state.rollups[self.rollup]

    @property
    def level(self) -> int:
        return self.state.level

    def check_invariants(self) -> None:
        bad = violated(self.state, self.c)
        assert not bad, [i.id for i in bad]

    # -- acting ---------------------------------------------------------------------
    def bake(self, n: int = 1) -> None:
        for _ in range(n):
            self.state = advance_level(self.state, self.c)
        self.check_invariants()

    def bake_until(self, level: int) -> None:
        assert level >= self.level, (level, self.level)
        self.bake(level - self.level)

    def apply(self, operation: Operation, **kwargs: object) -> Layer1State:
        self.state = apply(self.state, operation, self.c, **kwargs)  # type: ignore[arg-type]
        self.check_invariants()
        return self.state

    def fails(
        self, operation: Operation, error: type[ProtocolError], **kwargs: object
    ) -> ProtocolError:
        before = copy.deepcopy(self.state)
        with pytest.raises(error) as info:
            apply(self.state, operation, self.c, **kwargs)  # type: ignore[arg-type]
        assert self.state == before
        assert str(info.value)
        return info.value

    # -- commitments ------------------------------------------------------------------
    def commitment(
        self,
        predecessor: CommitmentHash | None = None,
        *,
        tag: int = 1,
        ticks: int = 1,
        level: int | None = None,
    ) -> Commitment:
        pred = self.r.lcc if predecessor is None else predecessor
        if level is None:
            pred_level = (
                self.r.commitments[pred].inbox_level
                if pred in self.r.commitments
                else self.r.lcc_level
            )
            level = next_commitment_level(pred_level, self.c)
        return Commitment(state_hash(tag), level, pred, ticks)

    def publish(self, staker: ImplicitAccount, commitment: Commitment) -> CommitmentHash:
        self.apply(Publish(staker, self.rollup, commitment))
        return commitment.hash()

    def cement(self, source: ImplicitAccount = DAVE) -> None:
        self.apply(Cement(source, self.rollup))

    def publish_and_cement(
        self, commitment: Commitment, staker: ImplicitAccount = ALICE
    ) -> CommitmentHash:
        """Publish as soon as possible, then cement when the challenge window is over."""
        self.bake_until(max(self.level, commitment.inbox_level + 1))
        h = self.publish(staker, commitment)
        self.bake_until(self.r.commitment_added[h] + self.c.challenge_window_in_blocks)
        self.cement()
        return h


# -- tests -----------------------------------------------------------------------------


def test_origination_stores_the_genesis_commitment() -> None:
    s = Scenario()
    r = s.r
    genesis = r.lcc_commitment
    assert r.origination_level == 1
    assert genesis.inbox_level == 1 and genesis.number_of_ticks == 0
    assert genesis.compressed_state == genesis_state_hash("wasm_2_0_0", b"kernel")
    assert r.commitment_added == FrozenMap({r.lcc: 1})
    assert r.commitment_first_publication_level == FrozenMap({1: 1})
    assert r.commitments_per_inbox_level == FrozenMap({1: (r.lcc,)})
    assert not r.commitment_stakers and not r.stakers and r.staker_index_counter == 0
    assert r.whitelist == frozenset() and r.last_whitelist_update is None
    assert str(s.rollup).startswith("sr1")


def test_two_originations_get_two_addresses() -> None:
    s = Scenario()
    s.apply(Originate(BOB, "wasm_2_0_0", b"kernel", michelson.parse_type("unit")))
    assert len(s.state.rollups) == 2


def test_origination_checks_kind_and_type() -> None:
    s = Scenario()
    no_arith = attrs.evolve(TEST, arith_pvm_enable=False)
    s.c = no_arith
    s.fails(Originate(ALICE, "arith", b"", michelson.parse_type("unit")), InvalidPvmKind)
    s.c = TEST
    s.fails(
        Originate(ALICE, "wasm_2_0_0", b"", michelson.parse_type("mutez")), InvalidParametersType
    )


def test_arith_origination_uses_the_arith_genesis_state() -> None:
    s = Scenario()
    s.apply(Originate(ALICE, "arith", b"1 2 +", michelson.parse_type("unit")))
    arith = next(r for r in s.state.rollups.values() if r.kind == "arith")
    assert arith.lcc_commitment.compressed_state == genesis_state_hash("arith", b"1 2 +")
    assert arith.lcc_commitment.compressed_state != genesis_state_hash("wasm_2_0_0", b"1 2 +")


def test_levels_start_with_sol_and_ipl_and_end_with_eol() -> None:
    s = Scenario()
    s.apply(AddMessages(BOB, (b"hello", b"world")))
    level = s.level
    s.bake()
    messages = s.state.inbox.messages_of_level(level)
    kinds = [inbox_message.deserialize(m).kind for m in messages]
    assert kinds == [
        "start_of_level",
        "info_per_level",
        "external",
        "external",
        "end_of_level",
    ]
    assert s.state.inbox.level == level and s.level == level + 1
    assert [inbox_message.deserialize(m).kind for m in s.state.witness.messages] == [
        "start_of_level",
        "info_per_level",
    ]


def test_add_messages_needs_a_message_and_4096_bytes_at_most() -> None:
    s = Scenario()
    s.fails(AddMessages(BOB, ()), AddZeroMessages)
    s.fails(AddMessages(BOB, (b"x" * 4096,)), ErrorEncodeInboxMessage)
    s.apply(AddMessages(BOB, (b"x" * 4095,)))


def test_add_messages_respects_the_per_level_limit() -> None:
    c = attrs.evolve(TEST, max_number_of_messages_per_level=3)
    s = Scenario(c)
    s.apply(AddMessages(BOB, (b"a", b"b")))
    s.apply(AddMessages(BOB, (b"c",)))
    s.fails(AddMessages(BOB, (b"d",)), InboxLevelReachedMessagesLimit)


def test_internal_transfer_adds_a_transfer_message() -> None:
    s = Scenario()
    payload = michelson.parse_data('Pair 1 "x"')
    s.apply(InternalTransfer(KT1, BOB, s.rollup, payload))
    decoded = inbox_message.deserialize(s.state.witness.messages[-1])
    assert decoded == inbox_message.Transfer(payload, KT1, BOB, s.rollup)
    s.fails(InternalTransfer(KT1, BOB, s.rollup, payload, amount=1), RollupInvalidTransactionAmount)
    other = RollupAddress(b"\x00" * 20)
    s.fails(InternalTransfer(KT1, BOB, other, payload), RollupDoesNotExist)


def test_every_rollup_operation_needs_an_existing_rollup() -> None:
    s = Scenario()
    other = RollupAddress(b"\x00" * 20)
    proof = OutputProof(state_hash(0), Output(0, 0, b""), b"")
    c = s.commitment()
    for operation in (
        Publish(ALICE, other, c),
        Cement(ALICE, other),
        RecoverBond(ALICE, other, ALICE),
        ExecuteOutboxMessage(ALICE, other, s.r.lcc, proof),
        Refute(ALICE, other, BOB, Start(s.r.lcc, s.r.lcc)),
        Timeout(ALICE, other, (ALICE, BOB)),
    ):
        s.fails(operation, RollupDoesNotExist)


def test_refutation_operations_are_dispatched_to_the_game() -> None:
    s = Scenario()
    s.bake(3)
    mine = s.publish(ALICE, s.commitment(tag=1))
    theirs = s.publish(BOB, s.commitment(tag=2))
    level = s.r.commitments[theirs].inbox_level
    s.bake_until(level + s.c.commitment_period_in_blocks - 1)
    s.fails(Refute(ALICE, s.rollup, BOB, Start(mine, theirs)), RefutationGameStartTooEarly)
    s.bake()
    s.apply(Refute(ALICE, s.rollup, BOB, Start(mine, theirs)))
    assert (ALICE, BOB) in s.r.games
    s.fails(Timeout(CAROL, s.rollup, (ALICE, CAROL)), NoGame)


def test_a_full_life_cycle_conserves_tez() -> None:
    s = Scenario()
    tree = OutputTree(b"\x01" * 32, (Output(2, 0, b"\x03\x00\x00\x00\x00"),))
    c = attrs.evolve(s.commitment(), compressed_state=tree.state_hash())
    h = s.publish_and_cement(c)
    assert s.r.lcc == h
    s.apply(ExecuteOutboxMessage(BOB, s.rollup, h, tree.prove(0)))
    s.apply(RecoverBond(CAROL, s.rollup, ALICE))
    assert s.state.ledger.balance(ALICE) == 3 * s.c.stake_amount
    assert s.state.ledger.total() == s.state.ledger.initial_total


def test_frozen_maps_are_immutable_values() -> None:
    m = FrozenMap({1: "a"})
    with pytest.raises(AttributeError):
        m._data = {}  # type: ignore[misc]
    assert m.set(2, "b") == {1: "a", 2: "b"} and m == {1: "a"}
    assert m.remove(1) == FrozenMap() and m.remove(3) is m
    assert m.remove_all([3]) is m and m.remove_all([1]) == {}
    assert hash(m) == hash(FrozenMap([(1, "a")])) and copy.deepcopy(m) == m


def test_ledgers_refuse_negative_balances() -> None:
    with pytest.raises(ValueError, match="negative"):
        Ledger.of_balances({ALICE: -1})


def test_the_invariant_catalogue_has_unique_ids_and_docstrings() -> None:
    ids = [i.id for i in INVARIANTS]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    for invariant in INVARIANTS:
        assert invariant.predicate.__doc__ and invariant.id in invariant.predicate.__doc__
        assert invariant.severity in ("critical", "high", "medium")
