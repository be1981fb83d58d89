"""The PVM interface: what the refutation game and the outbox need from a PVM.

A PVM (proof-generating virtual machine) is a deterministic machine over
opaque states. Layer 1 only ever sees state hashes and tick counts, plus two
kinds of proofs it can check without the state: a *one-step proof* (this
tick turns a state of hash ``start`` into one of hash ``stop``) and an
*output proof* (this output is in the outbox of the state of hash ``h``).
The refutation game is therefore specified once for every PVM; ``arith``
implements the interface in :mod:`spec.arith`, the WASM PVM in ``executable/``.

A state either computes (``NoInputRequired``: :meth:`PVM.eval` runs one
tick) or waits for an input (``Initial``, ``FirstAfter``, ``NeedsReveal``:
:meth:`PVM.set_input` consumes it in one tick). A state waiting for an inbox
message beyond the disputed inbox level is *blocked*: in a game its stop
state is ``None``.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_PVM_sig.ml``,
``sc_rollup_metadata_repr.ml``, ``sc_rollups.ml``.
"""

from __future__ import annotations

import struct
from typing import Protocol, TypeVar

import attrs

from spec.errors import ProtocolError
from spec.hashing import RevealHash, RollupAddress, StateHash
from spec.inbox import InboxInput

# -- inputs --------------------------------------------------------------------


@attrs.frozen
class Metadata:
    """``Sc_rollup_metadata_repr.t``: the rollup's address and origination level.

    Binary: address (20 bytes) ‖ origination level (int32).
    Octez: ``sc_rollup_metadata_repr.ml``.
    """

    address: RollupAddress
    origination_level: int

    def encode(self) -> bytes:
        return self.address.raw + struct.pack(">i", self.origination_level)


@attrs.frozen
class RawData:
    """``Raw_data``: the preimage of a reveal hash (at most 4,096 bytes)."""

    data: bytes


@attrs.frozen
class DalPage:
    """``Dal_page``: a DAL page's content, or None if its slot is not attested."""

    content: bytes | None


@attrs.frozen
class DalParameters:
    """``Dal_parameters``: the DAL parameters at the PVM's current level."""

    number_of_slots: int
    attestation_lag: int
    slot_size: int
    page_size: int


RevealData = RawData | Metadata | DalPage | DalParameters


@attrs.frozen
class RevealInput:
    """``Reveal reveal_data``: data the PVM asked for, given by reference."""

    data: RevealData


#: ``Sc_rollup_PVM_sig.input``: an inbox message (``Inbox_message``, see
#: :class:`spec.inbox.InboxInput`) or revealed data (``Reveal``).
Input = InboxInput | RevealInput

# -- input requests --------------------------------------------------------------


@attrs.frozen
class RevealRawData:
    """``Reveal_raw_data hash``: the PVM needs the preimage of ``hash``."""

    hash: RevealHash


@attrs.frozen
class RevealMetadata:
    """``Reveal_metadata``: the PVM needs the rollup's metadata."""


@attrs.frozen
class DalPageId:
    """``Dal_slot_repr.Page.t``: a page of a slot published at a level."""

    published_level: int
    slot_index: int
    page_index: int


@attrs.frozen
class RequestDalPage:
    """``Request_dal_page page_id``: the PVM needs a DAL page."""

    page_id: DalPageId


@attrs.frozen
class RevealDalParameters:
    """``Reveal_dal_parameters``: the PVM needs the DAL parameters."""


Reveal = RevealRawData | RevealMetadata | RequestDalPage | RevealDalParameters


@attrs.frozen
class NoInputRequired:
    """The machine computes: the next tick is an ``eval``."""

    kind = "no_input_required"


@attrs.frozen
class Initial:
    """The machine has never read an input: it expects the first message, the
    Start_of_level of the level after origination."""

    kind = "initial"


@attrs.frozen
class FirstAfter:
    """The machine expects the inbox message right after ``(level, counter)``."""

    level: int
    counter: int

    kind = "first_after"


@attrs.frozen
class NeedsReveal:
    """The machine expects revealed data."""

    reveal: Reveal

    kind = "needs_reveal"


InputRequest = NoInputRequired | Initial | FirstAfter | NeedsReveal


def requires_input(request: InputRequest) -> bool:
    """Every request but ``NoInputRequired`` waits for an input."""
    return not isinstance(request, NoInputRequired)


# -- outputs -------------------------------------------------------------------


@attrs.frozen
class Output:
    """``Sc_rollup_PVM_sig.output``: an outbox message, identified by the inbox level
    that produced it and its index in that level; ``message`` is the serialized
    outbox message.

    Octez: ``sc_rollup_PVM_sig.ml``, type ``output``.
    """

    outbox_level: int
    message_index: int
    message: bytes


# -- results of proof verification -------------------------------------------------


@attrs.frozen
class StepResult:
    """What a verified one-step proof establishes: the start state hash, the stop
    state hash (None when the machine waited for an input that was not given,
    i.e. is blocked) and the start state's input request.

    Octez: ``sc_rollup_PVM_sig.ml``, ``verify_proof``, ``proof_start_state``,
    ``proof_stop_state``.
    """

    start_state: StateHash
    stop_state: StateHash | None
    request: InputRequest


@attrs.frozen
class VerifiedOutput:
    """What a verified output proof establishes: ``output`` is in the outbox of
    the state of hash ``state``.

    Octez: ``sc_rollup_PVM_sig.ml``, ``state_of_output_proof``,
    ``output_of_output_proof``, ``verify_output_proof``.
    """

    state: StateHash
    output: Output


class PvmProofVerificationFailed(ProtocolError):
    """A one-step proof that does not prove a step for the given input
    (``Arith_proof_verification_failed``, ``WASM_proof_verification_failed``)."""

    octez_error = "smart_rollup_proof_verification_failed"

    def __init__(self, pvm: str, reason: str) -> None:
        super().__init__(f"{pvm} proof verification failed: {reason}")
        self.pvm = pvm
        self.reason = reason


class OutputProofVerificationFailed(ProtocolError):
    """An output proof that does not prove its output
    (``Arith_output_proof_verification_failed``, ``WASM_invalid_claim_about_outbox``)."""

    octez_error = "smart_rollup_output_proof_verification_failed"

    def __init__(self, pvm: str, reason: str) -> None:
        super().__init__(f"{pvm} output proof verification failed: {reason}")
        self.pvm = pvm
        self.reason = reason


class PvmProofProductionFailed(ProtocolError):
    """A proof that cannot be produced (``Arith_proof_production_failed``,
    ``Arith_invalid_claim_about_outbox`` …): a rollup-node error, not layer 1's."""

    octez_error = "smart_rollup_proof_production_failed"

    def __init__(self, pvm: str, reason: str) -> None:
        super().__init__(f"{pvm} proof production failed: {reason}")
        self.pvm = pvm
        self.reason = reason


# -- the interface -------------------------------------------------------------------

S = TypeVar("S")


class PVM(Protocol[S]):
    """A proof-generating virtual machine over states of type ``S``.

    Steps and output proofs are serialized bytes, as in operations: layer 1
    decodes them with the PVM's encoding (:meth:`decode_step`) and never sees a
    state. Every method is deterministic.

    Octez: ``sc_rollup_PVM_sig.ml``, module type ``S``.
    """

    @property
    def name(self) -> str:
        """The PVM kind, as in origination (``"arith"``, ``"wasm_2_0_0"``…)."""
        ...

    def install_boot_sector(self, boot_sector: bytes) -> S:
        """The genesis state: the initial state specialised with the boot sector.

        Octez: ``initial_state``, ``install_boot_sector``.
        """
        ...

    def state_hash(self, state: S) -> StateHash:
        """The state's hash, the only thing commitments and games see."""
        ...

    def input_request(self, state: S) -> InputRequest:
        """What the state expects. Octez: ``is_input_state``."""
        ...

    def set_input(self, state: S, given: Input) -> S:
        """Consume ``given`` in one tick (the state must be waiting for it)."""
        ...

    def eval(self, state: S) -> S:
        """Run exactly one tick of a computing state."""
        ...

    def tick(self, state: S) -> int:
        """The number of ticks the machine has run. Octez: ``get_tick``."""
        ...

    def produce_proof(self, state: S, given: Input | None) -> bytes:
        """A serialized one-step proof from ``state`` with ``given`` as input.

        Octez: ``produce_proof``.
        """
        ...

    def decode_step(self, step: bytes) -> object:
        """Decode a serialized step; raises :class:`spec.errors.EncodingError`.

        Octez: ``proof_encoding`` (used by ``unserialize_pvm_step``).
        """
        ...

    def verify_proof(self, given: Input | None, step: bytes) -> StepResult:
        """Check a one-step proof for input ``given``: raises
        :class:`PvmProofVerificationFailed` (or ``EncodingError``) unless the step
        proves the transition of a state of hash ``start``: ``eval`` when no input
        is required and none given, ``set_input`` when one is required and given,
        no transition (stop None) when one is required and none given.

        Octez: ``verify_proof``.
        """
        ...

    def produce_output_proof(self, state: S, output: Output) -> bytes:
        """A serialized proof that ``output`` is in the state's outbox."""
        ...

    def verify_output_proof(self, proof: bytes) -> VerifiedOutput:
        """Check an output proof; raises :class:`OutputProofVerificationFailed`."""
        ...
