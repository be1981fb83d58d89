"""Outbox messages, output proofs and outbox execution; whitelists and signals.

Scenario tests named after the Octez tests they reproduce
(``test/integration/operations/test_sc_rollup.ml`` = IT); byte vectors from
the kernel SDK's tests of ``sc_rollup_outbox_message_repr`` encodings
(``src/kernel_sdk/encoding/src/outbox.rs``).
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec import michelson
from spec.constants import TEST
from spec.errors import EncodingError
from spec.hashing import CommitmentHash, ContractHash, ImplicitAccount, StateHash
from spec.operations import ExecuteOutboxMessage, OutputProof, Publish
from spec.origination import DuplicatedKeyInWhitelist, EmptyWhitelist, WhitelistDisabled
from spec.outbox import (
    AtomicTransactionBatch,
    AtomicTransactionBatchTyped,
    CanonicalRollupSignal,
    InvalidLastCementedCommitment,
    InvalidOutboxLevel,
    InvalidOutboxMessageIndex,
    InvalidOutputProof,
    InvalidParametersTypeInOutbox,
    IsPublic,
    OutboxLevelExpired,
    OutboxMessage,
    OutboxMessageAlreadyApplied,
    OutdatedWhitelistUpdate,
    OutputTree,
    Transaction,
    TypedTransaction,
    WhitelistUpdate,
    decode_outbox_message,
    encode_outbox_message,
    record_applied_message,
    verifier_of_pvm,
    verify_reference_output_proof,
)
from spec.pvm import Output, OutputProofVerificationFailed, VerifiedOutput
from spec.staking import StakerNotInWhitelist, UnknownCommitment
from spec.state import WhitelistUpdateInfo
from tests.spec.test_state_machine import ALICE, BOB, CAROL, KT1, Scenario

# -- encodings ---------------------------------------------------------------------------

# 74 bytes: Pair (ticketer as bytes) (Pair "red" 1), KT1BuEZ…, "default".
TX_ONE = bytes.fromhex(
    "07070a0000001601d1a37c088a1221b636bb5fccb35e05181038ba7c00070701"
    "00000003726564000101246667a931fe0bd2fb1cb604f714601e882845500000"
    "00000764656661756c74"
)
# 78 bytes: Pair (ticketer as bytes) (Pair "yellow" 329), KT1AaiU…, "another".
TX_TWO = bytes.fromhex(
    "07070a0000001601246667a931fe0bd2fb1cb604f714601e8828455000070701"
    "0000000679656c6c6f770089050115edad279f55e2fe4011de6d2c24fdf51bf2"
    "25c50000000007616e6f74686572"
)
WHITELIST_UPDATE = bytes.fromhex(
    "02ff0000002a"
    "0002298c03ed7d454a101eb7022bc95f7e5f41ac78"
    "00e7670f32038107a59a2b9cfefae36ea21f5aa63c"
)


def _ticket(ticketer: str, contents: str, amount: int) -> michelson.Node:
    raw = b"\x01" + ContractHash.from_b58(ticketer).raw + b"\x00"
    return michelson.Prim(
        "Pair",
        (
            michelson.Bytes(raw),
            michelson.Prim("Pair", (michelson.String(contents), michelson.Int(amount))),
        ),
    )


def test_transaction_batch_vector() -> None:
    one = Transaction(
        _ticket("KT1ThEdxfUcWUwqsdergy3QnbCWGHSUHeHJq", "red", 1),
        ContractHash.from_b58("KT1BuEZtb68c1Q4yjtckcNjGELqWt56Xyesc"),
    )
    two = Transaction(
        _ticket("KT1BuEZtb68c1Q4yjtckcNjGELqWt56Xyesc", "yellow", 329),
        ContractHash.from_b58("KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y"),
        "another",
    )
    encoded = b"\x00\x00\x00\x00\x98" + TX_ONE + TX_TWO
    assert len(TX_ONE) == 74 and len(TX_TWO) == 78
    assert encode_outbox_message(AtomicTransactionBatch((one, two))) == encoded
    assert decode_outbox_message(encoded) == AtomicTransactionBatch((one, two))


def test_whitelist_update_vector() -> None:
    update = WhitelistUpdate(
        (
            ImplicitAccount.from_b58("tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"),
            ImplicitAccount.from_b58("tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN"),
        )
    )
    assert encode_outbox_message(update) == WHITELIST_UPDATE
    assert decode_outbox_message(WHITELIST_UPDATE) == update
    assert encode_outbox_message(WhitelistUpdate(None)) == b"\x02\x00"
    assert encode_outbox_message(CanonicalRollupSignal(b"hi")) == b"\x03\x00\x00\x00\x02hi"


def test_empty_entrypoint_means_default() -> None:
    data = bytearray(
        encode_outbox_message(AtomicTransactionBatch((Transaction(michelson.Int(1), KT1),)))
    )
    # Replace "default" (4-byte length 7) by the empty string.
    body = bytes(data[5:-11]) + b"\x00\x00\x00\x00"
    raw = b"\x00" + len(body).to_bytes(4, "big") + body
    assert decode_outbox_message(raw) == AtomicTransactionBatch(
        (Transaction(michelson.Int(1), KT1, "default"),)
    )


_nodes = st.recursive(
    st.one_of(
        st.integers(-(2**70), 2**70).map(michelson.Int),
        st.text(max_size=5).map(michelson.String),
        st.binary(max_size=5).map(michelson.Bytes),
        st.sampled_from(["Unit", "None", "True"]).map(michelson.Prim),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda xs: michelson.Seq(tuple(xs))),
        st.tuples(st.sampled_from(["Pair", "Some", "Left"]), st.lists(children, max_size=3)).map(
            lambda t: michelson.Prim(t[0], tuple(t[1]))
        ),
        st.tuples(children, children).map(lambda t: michelson.Prim("Pair", (t[0], t[1]), ("@x",))),
    ),
    max_leaves=6,
)
_contracts = st.binary(min_size=20, max_size=20).map(ContractHash)
_entrypoints = st.sampled_from(["default", "mint", "a" * 31])
_accounts = st.builds(ImplicitAccount, st.integers(0, 3), st.binary(min_size=20, max_size=20))
_messages: st.SearchStrategy[OutboxMessage] = st.one_of(
    st.lists(st.builds(Transaction, _nodes, _contracts, _entrypoints), max_size=3).map(
        lambda xs: AtomicTransactionBatch(tuple(xs))
    ),
    st.lists(st.builds(TypedTransaction, _nodes, _nodes, _contracts, _entrypoints), max_size=2).map(
        lambda xs: AtomicTransactionBatchTyped(tuple(xs))
    ),
    st.none().map(WhitelistUpdate),
    st.lists(_accounts, max_size=4).map(lambda xs: WhitelistUpdate(tuple(xs))),
    st.binary(max_size=20).map(CanonicalRollupSignal),
)


@given(_messages)
def test_outbox_messages_round_trip(message: OutboxMessage) -> None:
    encoded = encode_outbox_message(message)
    assert decode_outbox_message(encoded) == message


@given(_messages, st.data())
def test_truncated_or_extended_messages_are_rejected(
    message: OutboxMessage, data: st.DataObject
) -> None:
    encoded = encode_outbox_message(message)
    cut = data.draw(st.integers(0, len(encoded) - 1))
    with pytest.raises(EncodingError):
        decode_outbox_message(encoded[:cut])
    with pytest.raises(EncodingError):
        decode_outbox_message(encoded + b"\x00")


@given(st.binary(max_size=60))
def test_decoding_is_total(data: bytes) -> None:
    try:
        decode_outbox_message(data)
    except EncodingError as exc:
        assert str(exc)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"\x04", "unknown tag"),
        (b"", "truncated tag"),
        (b"\x00\x00\x00", "truncated"),
        (b"\x02\x07", "option tag"),
        (b"\x02\xff\x00\x00\x00\x02\x00\x00", "21-byte"),
        (b"\x00\x00\x00\x00\x00\x00", "trailing"),
        (b"\x03" + b"\x00" * 4097, "limit"),
        (b"\x00\x00\x00\x00\x02\x0b\x00", "Micheline tag"),
        (b"\x00\x40\x00\x00\x00", "uint30"),
        (b"\x00\x00\x00\x00\x01\x07", "truncated Micheline"),
        (b"\x00\x00\x00\x00\x02\x03\xff", "invalid transaction parameters"),
    ],
)
def test_malformed_outbox_messages_name_the_problem(raw: bytes, problem: str) -> None:
    with pytest.raises(EncodingError, match=problem):
        decode_outbox_message(raw)


def _batch_bytes(destination: bytes, entrypoint: bytes = b"default") -> bytes:
    body = (
        michelson.encode(michelson.Int(1))
        + destination
        + len(entrypoint).to_bytes(4, "big")
        + entrypoint
    )
    return b"\x00" + len(body).to_bytes(4, "big") + body


def test_destinations_are_originated_contracts() -> None:
    decode_outbox_message(_batch_bytes(b"\x01" + b"\x11" * 20 + b"\x00"))
    with pytest.raises(EncodingError, match="originated contract"):
        decode_outbox_message(_batch_bytes(b"\x00" + b"\x00" + b"\x11" * 20))
    with pytest.raises(EncodingError, match="padding"):
        decode_outbox_message(_batch_bytes(b"\x01" + b"\x11" * 20 + b"\x01"))
    with pytest.raises(EncodingError, match="entrypoint of 32 bytes"):
        decode_outbox_message(_batch_bytes(b"\x01" + b"\x11" * 20 + b"\x00", b"e" * 32))
    with pytest.raises(EncodingError, match="UTF-8"):
        decode_outbox_message(_batch_bytes(b"\x01" + b"\x11" * 20 + b"\x00", b"\xff"))
    with pytest.raises(EncodingError):
        Transaction(michelson.Int(1), KT1, "e" * 32)


def test_only_outbox_messages_encode() -> None:
    with pytest.raises(EncodingError, match="not an outbox message"):
        encode_outbox_message(object())  # type: ignore[arg-type]


def test_encoding_is_bounded() -> None:
    with pytest.raises(EncodingError, match="limit"):
        encode_outbox_message(CanonicalRollupSignal(b"x" * 4092))
    assert len(encode_outbox_message(CanonicalRollupSignal(b"x" * 4091))) == 4096


# -- the reference output tree ------------------------------------------------------------


def _out(level: int, index: int, message: OutboxMessage | None = None) -> Output:
    msg = message or AtomicTransactionBatch((Transaction(michelson.Int(level * 10 + index), KT1),))
    return Output(level, index, encode_outbox_message(msg))


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 9)), min_size=1, max_size=9))
def test_reference_output_proofs_verify_exactly_their_output(keys: list[tuple[int, int]]) -> None:
    tree = OutputTree(b"\x05" * 32, tuple(_out(level, index) for level, index in keys))
    for position in range(len(keys)):
        proof = tree.prove(position)
        assert verify_reference_output_proof(proof)
        other = Output(proof.output.outbox_level + 1, proof.output.message_index, b"\x02\x00")
        assert not verify_reference_output_proof(attrs.evolve(proof, output=other))
        assert not verify_reference_output_proof(
            attrs.evolve(proof, output_proof_state=StateHash(b"\x00" * 32))
        )
        assert not verify_reference_output_proof(attrs.evolve(proof, proof=proof.proof[:-1]))
        tampered = bytearray(proof.proof)
        tampered[0] ^= 1
        assert not verify_reference_output_proof(attrs.evolve(proof, proof=bytes(tampered)))


def test_reference_proofs_reject_bad_shapes() -> None:
    tree = OutputTree(b"\x05" * 32, (_out(1, 0), _out(1, 1)))
    proof = tree.prove(1)
    assert verify_reference_output_proof(proof)
    # position beyond the tree's width, huge depth, huge index
    bad_position = proof.proof[:32] + (2).to_bytes(4, "big") + proof.proof[36:]
    assert not verify_reference_output_proof(attrs.evolve(proof, proof=bad_position))
    deep = proof.proof[:36] + bytes([33]) + proof.proof[37:]
    assert not verify_reference_output_proof(attrs.evolve(proof, proof=deep))
    huge = attrs.evolve(proof, output=attrs.evolve(proof.output, message_index=2**63))
    assert not verify_reference_output_proof(huge)
    with pytest.raises(EncodingError):
        OutputTree(b"\x05", ())


class _FakePvm:
    def __init__(self, result: VerifiedOutput | None) -> None:
        self.result = result

    def verify_output_proof(self, proof: bytes) -> VerifiedOutput:
        if self.result is None:
            raise OutputProofVerificationFailed("fake", "no")
        return self.result


def test_verifier_of_pvm_checks_state_and_output() -> None:
    output = _out(1, 0)
    proof = OutputProof(StateHash(b"\x01" * 32), output, b"opaque")
    ok = VerifiedOutput(StateHash(b"\x01" * 32), output)
    assert verifier_of_pvm(_FakePvm(ok))(proof)  # type: ignore[arg-type]
    assert not verifier_of_pvm(_FakePvm(None))(proof)  # type: ignore[arg-type]
    wrong_state = VerifiedOutput(StateHash(b"\x02" * 32), output)
    assert not verifier_of_pvm(_FakePvm(wrong_state))(proof)  # type: ignore[arg-type]
    wrong_output = VerifiedOutput(StateHash(b"\x01" * 32), _out(1, 1))
    assert not verifier_of_pvm(_FakePvm(wrong_output))(proof)  # type: ignore[arg-type]


# -- execution scenarios --------------------------------------------------------------------


class OutboxScenario(Scenario):
    """A scenario whose commitments' states are reference output trees."""

    trees: dict[CommitmentHash, OutputTree]

    def cement_outputs(self, *outputs: Output, staker: ImplicitAccount = ALICE) -> CommitmentHash:
        if not hasattr(self, "trees"):
            self.trees = {}
        tree = OutputTree(bytes([len(self.trees)]) * 32, outputs)
        c = attrs.evolve(self.commitment(), compressed_state=tree.state_hash())
        h = self.publish_and_cement(c, staker)
        self.trees[h] = tree
        return h

    def execute_op(
        self, commitment: CommitmentHash, position: int, tree: OutputTree | None = None
    ) -> ExecuteOutboxMessage:
        proof = (tree or self.trees[commitment]).prove(position)
        return ExecuteOutboxMessage(CAROL, self.rollup, commitment, proof)

    def execute(self, commitment: CommitmentHash, position: int) -> None:
        self.apply(self.execute_op(commitment, position))


def test_execute_and_replay_is_rejected() -> None:
    """IT "execute same message twice"."""
    s = OutboxScenario()
    h = s.cement_outputs(_out(2, 0), _out(3, 1))
    s.execute(h, 0)
    s.execute(h, 1)
    r = s.r
    assert r.applied_outbox_messages == {2: (2, 0b1), 3: (3, 0b10)}
    assert [(e.outbox_level, e.message_index) for e in r.ghost_executed_outputs] == [(2, 0), (3, 1)]
    err = s.fails(s.execute_op(h, 0), OutboxMessageAlreadyApplied)
    assert isinstance(err, OutboxMessageAlreadyApplied)
    assert (err.outbox_level, err.message_index) == (2, 0)


def test_execute_same_message_twice_against_different_cemented_commitments() -> None:
    """IT "execute same message twice against different cemented commitments"."""
    s = OutboxScenario()
    h1 = s.cement_outputs(_out(3, 0))
    h2 = s.cement_outputs(_out(3, 0), _out(4, 0))
    s.execute(h1, 0)
    s.fails(s.execute_op(h2, 0), OutboxMessageAlreadyApplied)
    s.execute(h2, 1)


def test_execute_outbox_message_against_older_cemented_commitment() -> None:
    """IT "execute outbox message against older cemented commitment": any stored
    cemented commitment works; pruned or uncemented ones do not."""
    s = OutboxScenario()
    genesis = s.r.lcc
    hashes = [s.cement_outputs(_out(2 * i + 3, 0)) for i in range(4)]
    stored = s.r.stored_cemented_commitments()
    assert stored == tuple(reversed(hashes[1:]))
    s.execute(hashes[1], 0)  # the oldest stored
    # The predecessor of the oldest stored commitment passes the ancestry walk
    # (Octez compares hashes first) but is unknown.
    s.fails(s.execute_op(hashes[0], 0), UnknownCommitment)
    s.fails(
        s.execute_op(genesis, 0, OutputTree(b"\x00" * 32, (_out(1, 0),))),
        InvalidLastCementedCommitment,
    )
    # An uncemented commitment is not related to the LCC.
    tree = OutputTree(b"\x77" * 32, (_out(3, 1),))
    c = attrs.evolve(s.commitment(), compressed_state=tree.state_hash())
    s.bake(1)
    pending = s.publish(BOB, c)
    err = s.fails(s.execute_op(pending, 0, tree), InvalidLastCementedCommitment)
    assert isinstance(err, InvalidLastCementedCommitment) and err.lcc == s.r.lcc


def test_invalid_output_proof() -> None:
    """IT "invalid output proof"."""
    s = OutboxScenario()
    h = s.cement_outputs(_out(2, 0))
    good = s.execute_op(h, 0)
    # the proof is about another state
    other = OutputTree(b"\x09" * 32, (_out(2, 0),))
    s.fails(s.execute_op(h, 0, other), InvalidOutputProof)
    # the PVM rejects the proof: a claimed output that is not in the tree
    forged = attrs.evolve(good.output_proof, output=_out(2, 1))
    s.fails(attrs.evolve(good, output_proof=forged), InvalidOutputProof)
    # the message does not decode
    undecodable = attrs.evolve(good.output_proof, output=Output(2, 0, b"\x09"))
    err = s.fails(attrs.evolve(good, output_proof=undecodable), InvalidOutputProof)
    assert "does not decode" in str(err)
    # a verifier supplied by the PVM is used, never a trusted flag
    s.fails(good, InvalidOutputProof, verify_output_proof=lambda proof: False)
    s.apply(good)


def test_outbox_level_must_be_active() -> None:
    s = OutboxScenario()
    h = s.cement_outputs(_out(4, 0), _out(3, 0), _out(0, 0))
    assert s.r.lcc_level == 3
    err = s.fails(s.execute_op(h, 0), InvalidOutboxLevel)
    assert isinstance(err, InvalidOutboxLevel) and (err.outbox_level, err.lcc_level) == (4, 3)
    s.execute(h, 1)
    s.execute(h, 2)  # 3 - 8 < 0 <= 3
    h2 = s.cement_outputs(_out(5, 0))
    for _ in range(4):
        s.cement_outputs(_out(5, 1))
    assert s.r.lcc_level == 13
    s.fails(s.execute_op(h2, 0), InvalidLastCementedCommitment)
    late = s.cement_outputs(_out(5, 0), _out(7, 0), _out(8, 0))
    assert s.r.lcc_level == 15
    s.fails(s.execute_op(late, 0), InvalidOutboxLevel)  # 15 - 8 = 7 >= 5
    s.fails(s.execute_op(late, 1), InvalidOutboxLevel)  # the bound is exclusive
    s.execute(late, 2)
    late2 = s.cement_outputs(_out(10, 0))
    assert s.r.lcc_level == 17
    s.execute(late2, 0)


def test_outbox_message_index_is_bounded() -> None:
    s = OutboxScenario()
    h = s.cement_outputs(_out(2, TEST.max_outbox_messages_per_level), _out(2, -1), _out(2, 3))
    err = s.fails(s.execute_op(h, 0), InvalidOutboxMessageIndex)
    assert isinstance(err, InvalidOutboxMessageIndex) and err.limit == 4
    s.fails(s.execute_op(h, 1), InvalidOutboxMessageIndex)
    s.execute(h, 2)


def test_outbox_message_that_overrides_an_old_slot() -> None:
    """IT "outbox message that overrides an old slot": level ``L + max_active`` reuses
    the slot of ``L`` with a fresh bitset; ``L`` can no longer be executed."""
    s = OutboxScenario()
    first = s.cement_outputs(_out(2, 0))
    s.execute(first, 0)
    assert s.r.applied_outbox_messages[2] == (2, 0b1)
    while s.r.lcc_level < 10:
        s.cement_outputs(_out(10, 1), _out(2, 0))
    last = s.r.lcc
    s.execute(last, 0)
    assert s.r.applied_outbox_messages[2] == (10, 0b10)
    s.fails(s.execute_op(last, 1), InvalidOutboxLevel)


def test_record_applied_message_expiry() -> None:
    """Unit "Record messages in storage outbox": a slot holding a newer level makes
    the older level expired (unreachable through execution, whose window check
    comes first)."""
    s = Scenario()
    r = record_applied_message(s.r, 10, 0, TEST)
    with pytest.raises(OutboxLevelExpired) as info:
        record_applied_message(r, 2, 0, TEST)
    assert info.value.newer_level == 10
    r = record_applied_message(r, 18, 3, TEST)
    assert r.applied_outbox_messages[2] == (18, 0b1000)
    with pytest.raises(InvalidOutboxMessageIndex):
        record_applied_message(r, 18, 4, TEST)


def test_typed_transactions_need_rollup_types() -> None:
    s = OutboxScenario()
    bad = AtomicTransactionBatchTyped(
        (TypedTransaction(michelson.Int(1), michelson.parse_type("mutez"), KT1),)
    )
    good = AtomicTransactionBatchTyped(
        (TypedTransaction(michelson.Int(1), michelson.parse_type("nat"), KT1),)
    )
    h = s.cement_outputs(_out(2, 0, bad), _out(2, 1, good))
    s.fails(s.execute_op(h, 0), InvalidParametersTypeInOutbox)
    s.execute(h, 1)


# -- private rollups --------------------------------------------------------------------------


def test_update_the_whitelist() -> None:
    """IT "Update the whitelist …": only the new whitelist publishes; updates are
    strictly ordered by (outbox level, message index)."""
    s = OutboxScenario(whitelist=(ALICE,))
    assert s.r.last_whitelist_update == WhitelistUpdateInfo(1, 0)
    h = s.cement_outputs(
        _out(1, 0, WhitelistUpdate((BOB,))),
        _out(2, 1, WhitelistUpdate((ALICE, BOB))),
        _out(2, 0, WhitelistUpdate((CAROL,))),
        _out(1, 1, WhitelistUpdate((CAROL,))),
        _out(3, 0, WhitelistUpdate((CAROL, CAROL))),
        _out(3, 1, WhitelistUpdate(())),
        _out(3, 2, WhitelistUpdate((BOB,))),
    )
    err = s.fails(s.execute_op(h, 0), OutdatedWhitelistUpdate)  # (1, 0) = origination
    assert isinstance(err, OutdatedWhitelistUpdate) and err.last == WhitelistUpdateInfo(1, 0)
    s.execute(h, 1)
    assert s.r.whitelist == {ALICE, BOB}
    assert s.r.last_whitelist_update == WhitelistUpdateInfo(2, 1)
    s.fails(s.execute_op(h, 2), OutdatedWhitelistUpdate)  # same level, lower index
    s.fails(s.execute_op(h, 3), OutdatedWhitelistUpdate)  # lower level
    s.fails(s.execute_op(h, 4), DuplicatedKeyInWhitelist)
    s.fails(s.execute_op(h, 5), EmptyWhitelist)
    s.execute(h, 6)
    assert s.r.whitelist == {BOB}
    s.bake(3)
    s.fails(Publish(ALICE, s.rollup, s.commitment()), StakerNotInWhitelist)
    s.publish(BOB, s.commitment())


def test_update_the_whitelist_to_make_the_rollup_public() -> None:
    """IT "Update the whitelist to make the rollup public": ``None`` clears it, with
    no ordering check and no record; public is final."""
    s = OutboxScenario(whitelist=(ALICE,))
    h = s.cement_outputs(_out(1, 0, WhitelistUpdate(None)), _out(2, 0, WhitelistUpdate((ALICE,))))
    s.execute(h, 0)  # (1, 0) is not after the last update, but None is not ordered
    assert not s.r.is_private and s.r.last_whitelist_update == WhitelistUpdateInfo(1, 0)
    err = s.fails(s.execute_op(h, 1), IsPublic)
    assert isinstance(err, IsPublic)
    s.bake(3)
    s.publish(CAROL, s.commitment())


def test_public_rollups_never_become_private() -> None:
    s = OutboxScenario()
    h = s.cement_outputs(_out(2, 0, WhitelistUpdate((ALICE,))), _out(2, 1, WhitelistUpdate(None)))
    s.fails(s.execute_op(h, 0), IsPublic)
    s.fails(s.execute_op(h, 1), IsPublic)


def test_whitelist_updates_need_private_rollups_enabled() -> None:
    s = OutboxScenario(whitelist=(ALICE,))
    h = s.cement_outputs(_out(2, 0, WhitelistUpdate((BOB,))))
    s.c = attrs.evolve(TEST, private_enable=False)
    s.fails(s.execute_op(h, 0), WhitelistDisabled)


# -- signals ----------------------------------------------------------------------------------


def test_canonical_rollup_signals() -> None:
    s = OutboxScenario()
    h = s.cement_outputs(
        _out(2, 0, CanonicalRollupSignal(b"ENABLE")),
        _out(2, 1, CanonicalRollupSignal(b"ENABLE")),
        _out(3, 0, CanonicalRollupSignal(b"OTHER")),
        _out(3, 1, CanonicalRollupSignal(b"ENABLE")),
    )
    s.execute(h, 0)  # not the canonical rollup: consumed, no signal
    assert not s.state.signals and s.r.applied_outbox_messages[2] == (2, 1)
    s.c = attrs.evolve(TEST, canonical_rollup_address=str(s.rollup))
    level = s.level
    s.execute(h, 1)
    s.bake()
    s.execute(h, 2)
    s.execute(h, 3)  # a signal is recorded once, at its first level
    assert s.state.signals == {b"ENABLE": level, b"OTHER": level + 1}
    s.fails(s.execute_op(h, 1), OutboxMessageAlreadyApplied)


def test_commitment_states_are_checked_before_the_level() -> None:
    """Order of checks: a bad proof wins over an inactive level."""
    s = OutboxScenario()
    h = s.cement_outputs(_out(9, 0))
    good = s.execute_op(h, 0)
    forged = attrs.evolve(good.output_proof, output_proof_state=StateHash(b"\x01" * 32))
    s.fails(attrs.evolve(good, output_proof=forged), InvalidOutputProof)
    s.fails(good, InvalidOutboxLevel)


def test_unknown_commitment_hash_is_not_related() -> None:
    s = OutboxScenario()
    s.cement_outputs(_out(2, 0))
    op = s.execute_op(s.r.lcc, 0)
    unknown = attrs.evolve(op, cemented_commitment=CommitmentHash(b"\x55" * 32))
    s.fails(unknown, InvalidLastCementedCommitment)
