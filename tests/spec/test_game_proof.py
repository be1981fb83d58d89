"""Refutation proofs (``Sc_rollup_proof_repr.valid``): inputs, cuts, request matching."""

from __future__ import annotations

import attrs
import pytest

from spec import game as g
from spec import inbox as inbox_
from spec import proof as p
from spec import strategies as s
from spec.constants import TEST
from spec.hashing import RevealHash
from spec.inbox import InboxInput, InvalidInboxProof
from spec.inbox_message import StartOfLevel, serialize
from spec.pvm import FirstAfter, Initial, NeedsReveal, NoInputRequired, RevealMetadata

DATA = b"7 out"
HASH = RevealHash.of_data(DATA)
SCENARIO = s.build_scenario(
    TEST,
    b"",
    [[b"1 2 + out", b"metadata 1 +"], [b"hash:" + HASH.raw.hex().encode() + b" x"]],
    preimages={HASH: DATA},
)
VIEW = s.honest_view(SCENARIO, 0)


def make_game(dissection: tuple[()] = ()) -> g.Game:
    return g.Game(
        turn="alice",
        inbox_snapshot=SCENARIO.inbox.snapshot(),
        start_level=SCENARIO.state.level,
        inbox_level=SCENARIO.commit_inbox_level,
        pvm_kind="arith",
        game_state=g.Dissecting(dissection, TEST.number_of_sections_in_dissection),
    )


SNAPSHOT = SCENARIO.inbox.snapshot()
OCTEZ = TEST.with_mode("octez")


def valid(proof: p.RefutationProof, constants=TEST) -> p.ValidProof:  # type: ignore[no-untyped-def]
    return p.valid(
        proof,
        pvm=SCENARIO.pvm,
        metadata=SCENARIO.metadata,
        snapshot=SNAPSHOT,
        commit_inbox_level=SCENARIO.commit_inbox_level,
        constants=constants,
    )


def tick_with(request_type: type) -> int:
    for t, state in enumerate(VIEW.states):
        if isinstance(SCENARIO.pvm.input_request(state), request_type):
            return t
    raise AssertionError(request_type)


def honest(tick: int) -> p.RefutationProof:
    return s.produce_proof(make_game(()), tick, VIEW)


def test_first_input() -> None:
    t = tick_with(Initial)
    checked = valid(honest(t))
    assert isinstance(checked.request, Initial)
    assert checked.input == InboxInput(SCENARIO.origination_level + 1, 0, serialize(StartOfLevel()))
    assert checked.stop_state == VIEW.hash_at(t + 1)


def test_inbox_input() -> None:
    t = tick_with(FirstAfter)
    checked = valid(honest(t))
    assert checked.start_state == VIEW.hash_at(t)
    assert checked.stop_state == VIEW.hash_at(t + 1)


def test_no_input() -> None:
    t = tick_with(NoInputRequired)
    proof = honest(t)
    assert proof.input_proof is None
    assert valid(proof).stop_state == VIEW.hash_at(t + 1)


def test_metadata_reveal() -> None:
    t = next(
        i
        for i, st in enumerate(VIEW.states)
        if SCENARIO.pvm.input_request(st) == NeedsReveal(RevealMetadata())
    )
    proof = honest(t)
    assert isinstance(proof.input_proof, p.MetadataProof)
    assert valid(proof).stop_state == VIEW.hash_at(t + 1)


def test_raw_data_reveal_must_hash_to_the_request() -> None:
    t = next(
        i
        for i, st in enumerate(VIEW.states)
        if isinstance(SCENARIO.pvm.input_request(st), NeedsReveal)
        and not isinstance(SCENARIO.pvm.input_request(st).reveal, RevealMetadata)  # type: ignore[union-attr]
    )
    proof = honest(t)
    assert isinstance(proof.input_proof, p.RawDataProof)
    assert valid(proof).stop_state == VIEW.hash_at(t + 1)
    wrong = attrs.evolve(proof, input_proof=p.RawDataProof(b"1 1 +"))
    with pytest.raises(p.ProofCheck, match="invalid reveal"):
        valid(wrong)


def test_blocked_state_proves_none() -> None:
    checked = valid(honest(VIEW.final_tick))
    assert checked.stop_state is None
    assert checked.input is None  # the next message is after the disputed level: cut


def test_missing_input_proof_is_dissociated() -> None:
    t = tick_with(FirstAfter)
    proof = attrs.evolve(honest(t), input_proof=None)
    with pytest.raises(p.ProofCheck, match="dissociated"):
        valid(proof)


def test_input_proof_for_a_computing_state_is_dissociated() -> None:
    t = tick_with(NoInputRequired)
    proof = attrs.evolve(honest(t), input_proof=p.MetadataProof())
    with pytest.raises(p.ProofCheck, match="dissociated"):
        valid(proof)


def test_inbox_proof_at_another_position_is_rejected() -> None:
    t = tick_with(FirstAfter)
    proof = honest(t)
    assert isinstance(proof.input_proof, p.InboxProof)
    shifted = attrs.evolve(
        proof,
        input_proof=attrs.evolve(
            proof.input_proof, message_counter=proof.input_proof.message_counter + 1
        ),
    )
    with pytest.raises((p.ProofCheck, InvalidInboxProof)):
        valid(shifted)


def test_undecodable_inbox_proof() -> None:
    t = tick_with(FirstAfter)
    proof = honest(t)
    assert isinstance(proof.input_proof, p.InboxProof)
    broken = attrs.evolve(
        proof, input_proof=attrs.evolve(proof.input_proof, serialized_proof=b"\x01")
    )
    with pytest.raises(p.InvalidSerializedInboxProof):
        valid(broken)


def test_dal_reveals_are_not_modelled() -> None:
    proof = attrs.evolve(honest(0), input_proof=p.DalParametersProof())
    with pytest.raises(p.ProofCheck):
        valid(proof)


def test_cut_at_level() -> None:
    msg = InboxInput(5, 0, b"x")
    assert p.cut_at_level(msg, origination_level=5, commit_inbox_level=9) is None
    assert p.cut_at_level(msg, origination_level=4, commit_inbox_level=5) == msg
    assert p.cut_at_level(msg, origination_level=1, commit_inbox_level=4) is None


def test_inbox_proof_of_another_level_is_only_rejected_in_intended_mode() -> None:
    """Reference §3.6: the message at the same index of another level."""
    forger = s.forger_view(SCENARIO, 0)
    assert forger.forged, "the scenario has a forgeable input"
    (tick, (input_proof, forged)) = next(iter(forger.forged.items()))
    proof = p.RefutationProof(SCENARIO.pvm.produce_proof(VIEW.states[tick], forged), input_proof)
    with pytest.raises(InvalidInboxProof, match="not the claimed level"):
        valid(proof)
    checked = valid(proof, OCTEZ)
    assert checked.input == forged
    assert checked.start_state == VIEW.hash_at(tick)
    assert checked.stop_state != VIEW.hash_at(tick + 1)


def test_produced_inbox_proofs_decode() -> None:
    t = tick_with(FirstAfter)
    proof = honest(t)
    assert isinstance(proof.input_proof, p.InboxProof)
    decoded = inbox_.decode_proof(proof.input_proof.serialized_proof)
    assert inbox_.encode_proof(decoded) == proof.input_proof.serialized_proof
    assert proof.to_json()["input_proof"]["input_proof_kind"] == "inbox_proof"  # type: ignore[index]
