"""The PVM interface: requests, inputs, and the arith PVM as an implementation."""

from __future__ import annotations

from spec import arith
from spec.hashing import RevealHash, RollupAddress
from spec.pvm import (
    PVM,
    FirstAfter,
    Initial,
    Metadata,
    NeedsReveal,
    NoInputRequired,
    RevealMetadata,
    RevealRawData,
    requires_input,
)


def test_arith_implements_the_interface() -> None:
    pvm: PVM[arith.ArithState] = arith.PVM
    state = pvm.install_boot_sector(b"")
    assert pvm.name == "arith"
    assert pvm.tick(state) == 0
    assert pvm.input_request(state) == Initial()


def test_requests() -> None:
    assert not requires_input(NoInputRequired())
    for request in (
        Initial(),
        FirstAfter(3, 4),
        NeedsReveal(RevealMetadata()),
        NeedsReveal(RevealRawData(RevealHash.of_data(b"x"))),
    ):
        assert requires_input(request)
    assert FirstAfter(3, 4) != FirstAfter(3, 5)


def test_metadata_encoding() -> None:
    meta = Metadata(RollupAddress(bytes(range(20))), 258)
    assert meta.encode() == bytes(range(20)) + b"\x00\x00\x01\x02"


def test_arith_output_proofs_pass_the_layer1_verifier() -> None:
    """The outbox's verifier (``spec.outbox.verifier_of_pvm``) accepts arith output
    proofs and decodes arith outbox messages."""
    from spec import outbox
    from spec.inbox import InboxInput
    from spec.inbox_message import External, StartOfLevel, serialize
    from spec.operations import OutputProof

    pvm = arith.PVM
    state = pvm.install_boot_sector(b"")
    state = pvm.set_input(state, InboxInput(2, 0, serialize(StartOfLevel())))
    state = pvm.set_input(state, InboxInput(2, 1, serialize(External(b"5 out"))))
    while isinstance(pvm.input_request(state), NoInputRequired):
        state = pvm.eval(state)
    (output,) = state.outputs
    assert isinstance(outbox.decode_outbox_message(output.message), outbox.AtomicTransactionBatch)
    proof = OutputProof(pvm.state_hash(state), output, pvm.produce_output_proof(state, output))
    verify = outbox.verifier_of_pvm(pvm)
    assert verify(proof)
    other = pvm.state_hash(pvm.install_boot_sector(b""))
    assert not verify(OutputProof(other, output, proof.proof))
