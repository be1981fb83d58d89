"""The arith PVM: semantics, one-step proofs, output proofs, hostile proofs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec import arith
from spec.errors import EncodingError
from spec.hashing import BlockHash, RevealHash, RollupAddress
from spec.inbox import InboxInput
from spec.inbox_message import EndOfLevel, External, InfoPerLevel, StartOfLevel, serialize
from spec.pvm import (
    FirstAfter,
    Initial,
    Input,
    Metadata,
    NeedsReveal,
    NoInputRequired,
    OutputProofVerificationFailed,
    PvmProofProductionFailed,
    PvmProofVerificationFailed,
    RawData,
    RevealInput,
    RevealMetadata,
    RevealRawData,
)

PVM = arith.PVM
META = Metadata(RollupAddress(bytes(20)), 7)


def level_inputs(level: int, programs: list[bytes]) -> list[InboxInput]:
    messages = [
        serialize(StartOfLevel()),
        serialize(InfoPerLevel(0, BlockHash.zero())),
        *(serialize(External(p)) for p in programs),
        serialize(EndOfLevel()),
    ]
    return [InboxInput(level, i, m) for i, m in enumerate(messages)]


def trace(
    boot: bytes, inputs: list[InboxInput], preimages: dict[RevealHash, bytes] | None = None
) -> Iterator[tuple[arith.ArithState, Input | None, arith.ArithState]]:
    """Every tick: (state, input given, next state)."""
    state = PVM.install_boot_sector(boot)
    feed = iter(inputs)
    for _ in range(10_000):
        request = PVM.input_request(state)
        given: Input | None
        if isinstance(request, NoInputRequired):
            given = None
            after = PVM.eval(state)
        elif isinstance(request, NeedsReveal):
            if isinstance(request.reveal, RevealMetadata):
                given = RevealInput(META)
            else:
                assert isinstance(request.reveal, RevealRawData)
                given = RevealInput(RawData((preimages or {})[request.reveal.hash]))
            after = PVM.set_input(state, given)
        else:
            nxt = next(feed, None)
            if nxt is None:
                return
            given = nxt
            after = PVM.set_input(state, given)
        yield state, given, after
        state = after


def final(boot: bytes, inputs: list[InboxInput], **kw: dict[RevealHash, bytes]) -> arith.ArithState:
    state = PVM.install_boot_sector(boot)
    for _, _, after in trace(boot, inputs, **kw):
        state = after
    return state


def test_genesis_requests_the_first_input() -> None:
    state = PVM.install_boot_sector(b"")
    assert PVM.input_request(state) == Initial()
    assert PVM.tick(state) == 0
    assert PVM.state_hash(state) != PVM.state_hash(PVM.install_boot_sector(b"1"))


def test_program_evaluation() -> None:
    state = final(b"", level_inputs(1, [b"1 2 + 3 * out 10 4 - x"]))
    assert state.stack == (6, 9)
    assert [o.outbox_level for o in state.outputs] == [1]
    assert state.outputs[0].message == arith.output_message(9)
    assert PVM.input_request(state) == FirstAfter(1, 3)


def test_one_token_per_tick() -> None:
    ticks = [PVM.tick(s) for s, _, _ in trace(b"", level_inputs(1, [b"1 2 +"]))]
    # SOL, IPL, the message, 3 tokens, end of program, EOL
    assert len(ticks) == 8


def test_stack_is_emptied_per_message_and_underflow_ends_the_message() -> None:
    state = final(b"", level_inputs(1, [b"5", b"+ 7"]))
    assert state.stack == ()


def test_bad_token_ends_the_message() -> None:
    state = final(b"", level_inputs(1, [b"1 ? 2"]))
    assert state.stack == (1,)


def test_arithmetic_wraps() -> None:
    state = final(b"", level_inputs(1, [b"0 1 -"]))
    assert state.stack == (2**64 - 1,)


def test_boot_sector_prefixes_each_message() -> None:
    state = final(b"100", level_inputs(1, [b"1 +"]))
    assert state.stack == (101,)


def test_metadata_reveal() -> None:
    state = final(b"", level_inputs(1, [b"metadata 1 +"]))
    assert state.stack == (8,)


def test_raw_data_reveal_runs_the_data() -> None:
    data = b"40 2 +"
    h = RevealHash.of_data(data)
    state = final(
        b"", level_inputs(1, [b"hash:" + h.raw.hex().encode() + b" out"]), preimages={h: data}
    )
    assert state.stack == (42,)
    assert len(state.outputs) == 1


def test_outputs_are_indexed_per_level() -> None:
    inputs = level_inputs(1, [b"1 out out"]) + level_inputs(2, [b"2 out"])
    state = final(b"", inputs)
    assert [(o.outbox_level, o.message_index) for o in state.outputs] == [(1, 0), (1, 1), (2, 0)]


def test_eval_and_set_input_refuse_the_wrong_kind_of_state() -> None:
    state = PVM.install_boot_sector(b"")
    with pytest.raises(PvmProofProductionFailed):
        PVM.eval(state)
    running = PVM.set_input(
        PVM.set_input(state, level_inputs(1, [])[0]), level_inputs(1, [b"1"])[2]
    )
    with pytest.raises(PvmProofProductionFailed):
        PVM.set_input(running, level_inputs(1, [])[0])


# -- one-step proofs -----------------------------------------------------------------------

programs = st.lists(
    st.lists(
        st.sampled_from([b"1", b"22", b"+", b"*", b"-", b"out", b"x", b"metadata", b"?"]),
        max_size=8,
    ).map(b" ".join),
    max_size=3,
)


@settings(max_examples=40)
@given(programs=programs, boot=st.sampled_from([b"", b"3"]))
def test_every_tick_has_a_valid_proof(programs: list[bytes], boot: bytes) -> None:
    for state, inp, after in trace(boot, level_inputs(1, programs)):
        step = PVM.produce_proof(state, inp)
        result = PVM.verify_proof(inp, step)
        assert result.start_state == PVM.state_hash(state)
        assert result.stop_state == PVM.state_hash(after)
        assert result.request == PVM.input_request(state)


def test_blocked_proof_has_no_stop() -> None:
    state = final(b"", level_inputs(1, [b"1"]))
    step = PVM.produce_proof(state, None)
    result = PVM.verify_proof(None, step)
    assert result.stop_state is None
    assert result.request == FirstAfter(1, 3)


def test_proof_with_another_input_proves_another_stop() -> None:
    state = final(b"", level_inputs(1, []))
    real = InboxInput(2, 0, serialize(StartOfLevel()))
    other_level = InboxInput(3, 0, serialize(StartOfLevel()))
    step = PVM.produce_proof(state, real)
    assert PVM.verify_proof(real, step).stop_state == PVM.state_hash(PVM.set_input(state, real))
    assert PVM.verify_proof(other_level, step).stop_state != PVM.state_hash(
        PVM.set_input(state, real)
    )
    program = InboxInput(2, 0, serialize(External(b"1")))
    with pytest.raises(PvmProofVerificationFailed):
        PVM.verify_proof(program, step)


def test_proof_of_an_unrevealed_field_fails() -> None:
    state = final(b"", level_inputs(1, []))
    step = PVM.produce_proof(state, None)  # reveals status and last input only
    running = InboxInput(2, 0, serialize(External(b"1")))
    with pytest.raises(PvmProofVerificationFailed):
        PVM.verify_proof(running, step)


@settings(max_examples=60)
@given(data=st.data())
def test_forged_proofs_are_rejected_cleanly(data: st.DataObject) -> None:
    steps = list(trace(b"", level_inputs(1, [b"1 2 + out x"])))
    state, inp, after = data.draw(st.sampled_from(steps))
    step = bytearray(PVM.produce_proof(state, inp))
    kind = data.draw(st.sampled_from(["flip", "truncate", "extend"]))
    if kind == "flip":
        i = data.draw(st.integers(0, len(step) - 1))
        step[i] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        del step[data.draw(st.integers(0, len(step) - 1)) :]
    else:
        step += b"\x00"
    try:
        result = PVM.verify_proof(inp, bytes(step))
    except (EncodingError, PvmProofVerificationFailed):
        return
    # A proof that still verifies proves a transition of another state.
    assert (result.start_state, result.stop_state) != (
        PVM.state_hash(state),
        PVM.state_hash(after),
    ) or bytes(step) == PVM.produce_proof(state, inp)


# -- output proofs ------------------------------------------------------------------------


def test_output_proofs() -> None:
    state = final(b"", level_inputs(1, [b"1 out 2 out"]) + level_inputs(2, [b"3 out"]))
    for output in state.outputs:
        proof = PVM.produce_output_proof(state, output)
        verified = PVM.verify_output_proof(proof)
        assert verified.state == PVM.state_hash(state)
        assert verified.output == output


def test_output_proof_of_a_missing_output_cannot_be_produced() -> None:
    state = final(b"", level_inputs(1, [b"1 out"]))
    forged = state.outputs[0].__class__(1, 5, arith.output_message(7))
    with pytest.raises(PvmProofProductionFailed):
        PVM.produce_output_proof(state, forged)


@settings(max_examples=40)
@given(data=st.data())
def test_forged_output_proofs_are_rejected(data: st.DataObject) -> None:
    state = final(b"", level_inputs(1, [b"1 out 2 out"]))
    proof = bytearray(PVM.produce_output_proof(state, state.outputs[1]))
    i = data.draw(st.integers(0, len(proof) - 1))
    proof[i] ^= data.draw(st.integers(1, 255))
    try:
        verified = PVM.verify_output_proof(bytes(proof))
    except OutputProofVerificationFailed:
        return
    assert verified.state != PVM.state_hash(state) or verified.output == state.outputs[1]
