"""Refutation proofs: one PVM step plus the proof of the input it consumes.

A proof is a serialized PVM step and, when the step consumes an input, an
*input proof*: an inbox proof against the game's inbox snapshot, the first
inbox message, or revealed data. :func:`valid` computes the input the
input proof establishes, cuts inputs outside the disputed levels, checks the
PVM step for that input, and matches the step's input request with the
input proof. :func:`produce` is the honest rollup node's side.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_proof_repr.ml``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from spec import inbox as inbox_
from spec.constants import Constants
from spec.errors import EncodingError, ProtocolError
from spec.hashing import RevealHash, StateHash
from spec.inbox import HistoryCell, InboxInput
from spec.inbox_message import StartOfLevel, serialize
from spec.pvm import (
    PVM,
    FirstAfter,
    Initial,
    Input,
    InputRequest,
    Metadata,
    NeedsReveal,
    NoInputRequired,
    PvmProofProductionFailed,
    RawData,
    RevealInput,
    RevealMetadata,
    RevealRawData,
)

#: ``Constants_repr.sc_rollup_message_size_limit``: the largest reveal preimage.
MAX_RAW_DATA_SIZE = 4_096

# -- input proofs ----------------------------------------------------------------


@attrs.frozen
class InboxProof:
    """``Inbox_proof {level; message_counter; proof}`` (tag 0): the serialized
    inbox proof of the message after ``(level, message_counter)``."""

    level: int
    message_counter: int
    serialized_proof: bytes

    kind = "inbox_proof"


@attrs.frozen
class RawDataProof:
    """``Reveal_proof (Raw_data_proof data)``: a preimage (≤ 4,096 bytes)."""

    data: bytes

    kind = "raw_data_proof"


@attrs.frozen
class MetadataProof:
    """``Reveal_proof Metadata_proof``: the rollup's metadata, known to layer 1."""

    kind = "metadata_proof"


@attrs.frozen
class DalPageProof:
    """``Reveal_proof (Dal_page_proof {page_id; proof})``. Not modelled: always
    judged invalid here (no PVM of this specification reads DAL pages)."""

    published_level: int
    slot_index: int
    page_index: int
    proof: bytes

    kind = "dal_page_proof"


@attrs.frozen
class DalParametersProof:
    """``Reveal_proof Dal_parameters_proof``. Not modelled, as :class:`DalPageProof`."""

    kind = "dal_parameters_proof"


@attrs.frozen
class FirstInboxMessage:
    """``First_inbox_message`` (tag 2): the Start_of_level after origination."""

    kind = "first_input"


InputProof = (
    InboxProof
    | RawDataProof
    | MetadataProof
    | DalPageProof
    | DalParametersProof
    | FirstInboxMessage
)


@attrs.frozen
class RefutationProof:
    """``Sc_rollup_proof_repr.t = {pvm_step; input_proof}``.

    Octez: ``sc_rollup_proof_repr.ml``, type ``'proof t``.
    """

    pvm_step: bytes
    input_proof: InputProof | None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"pvm_step": self.pvm_step.hex()}
        if self.input_proof is not None:
            ip: dict[str, object] = {"input_proof_kind": self.input_proof.kind}
            if isinstance(self.input_proof, InboxProof):
                ip.update(
                    level=self.input_proof.level,
                    message_counter=str(self.input_proof.message_counter),
                    serialized_proof=self.input_proof.serialized_proof.hex(),
                )
            elif isinstance(self.input_proof, RawDataProof):
                ip["raw_data"] = self.input_proof.data.hex()
            out["input_proof"] = ip
        return out


@attrs.frozen
class ValidProof:
    """What a valid proof establishes: the input given (after :func:`cut_at_level`),
    the start state's request, the start state, and the stop state (None when
    the machine waited for an input that was not given: it is blocked).

    Octez: ``sc_rollup_proof_repr.ml``, result of ``valid``;
    ``sc_rollup_game_repr.ml``, ``check_proof_stop_state``.
    """

    input: Input | None
    request: InputRequest
    start_state: StateHash
    stop_state: StateHash | None


# -- errors ------------------------------------------------------------------------


class ProofCheck(ProtocolError):
    """``Sc_rollup_proof_check reason``: an invalid proof."""

    octez_error = "smart_rollup_proof_check"

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid proof: {reason}")
        self.reason = reason


class InvalidSerializedInboxProof(ProtocolError):
    """``Sc_rollup_invalid_serialized_inbox_proof``."""

    octez_error = "smart_rollup_invalid_serialized_inbox_proof"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the serialized inbox proof cannot be decoded: {reason}")
        self.reason = reason


# -- checking ----------------------------------------------------------------------


def check_pvm_step_decodes(proof: RefutationProof, pvm: PVM[Any]) -> None:
    """The PVM step must decode with the PVM's encoding; otherwise the operation
    fails (it is not a judged-invalid proof).

    Octez: ``sc_rollup_proof_repr.ml``, ``unserialize_pvm_step``
    (``Sc_rollup_proof_check "Cannot unserialize proof"``).
    """
    try:
        pvm.decode_step(proof.pvm_step)
    except EncodingError:
        raise ProofCheck("cannot unserialize proof") from None


def cut_at_level(
    given: Input | None, *, origination_level: int, commit_inbox_level: int
) -> Input | None:
    """An inbox message at or before the origination level, or after the disputed
    inbox level, is no input at all; revealed data is kept.

    Octez: ``sc_rollup_proof_repr.ml``, ``cut_at_level``.
    """
    if isinstance(given, InboxInput) and (
        given.inbox_level <= origination_level or commit_inbox_level < given.inbox_level
    ):
        return None
    return given


def first_input(metadata: Metadata) -> InboxInput:
    """The first input of every rollup: Start_of_level at ``(origination + 1, 0)``."""
    return InboxInput(metadata.origination_level + 1, 0, serialize(StartOfLevel()))


def input_of_proof(
    input_proof: InputProof | None,
    *,
    metadata: Metadata,
    snapshot: HistoryCell,
    constants: Constants,
) -> Input | None:
    """The input an input proof establishes: the message after ``(l, n)`` proven
    against the snapshot (``verify_proof (l, n + 1)``), the first inbox message,
    the revealed data, or the metadata.

    Octez: ``sc_rollup_proof_repr.ml``, ``valid`` (first step), ``check_inbox_proof``.
    """
    if input_proof is None:
        return None
    if isinstance(input_proof, InboxProof):
        try:
            decoded = inbox_.decode_proof(input_proof.serialized_proof)
        except EncodingError as exc:
            raise InvalidSerializedInboxProof(str(exc)) from None
        return inbox_.verify_proof(
            input_proof.level, input_proof.message_counter + 1, snapshot, decoded, constants.mode
        )
    if isinstance(input_proof, FirstInboxMessage):
        return first_input(metadata)
    if isinstance(input_proof, RawDataProof):
        if len(input_proof.data) > MAX_RAW_DATA_SIZE:
            raise ProofCheck(
                f"raw data of {len(input_proof.data)} bytes exceeds {MAX_RAW_DATA_SIZE}"
            )
        return RevealInput(RawData(input_proof.data))
    if isinstance(input_proof, MetadataProof):
        return RevealInput(metadata)
    raise ProofCheck("DAL reveals are not modelled by this specification")


def check_request_matches(input_proof: InputProof | None, request: InputRequest) -> None:
    """The input proof must be the one the start state asks for: none when no input
    is required, the first inbox message for ``Initial``, an inbox proof at the
    same ``(level, counter)`` for ``FirstAfter``, the preimage of the requested
    hash, or the metadata.

    Octez: ``sc_rollup_proof_repr.ml``, ``valid`` (third step).
    """
    match input_proof, request:
        case None, NoInputRequired():
            return
        case FirstInboxMessage(), Initial():
            return
        case InboxProof(level, counter, _), FirstAfter(l, n):
            if level != l or counter != n:
                raise ProofCheck(
                    "level and index of inbox proof are not equal to the one expected in "
                    f"input request: proof ({level}, {counter}), request ({l}, {n})"
                )
            return
        case RawDataProof(data), NeedsReveal(RevealRawData(expected)):
            if RevealHash.of_data(data) != expected:
                raise ProofCheck("invalid reveal: the data does not hash to the requested hash")
            return
        case MetadataProof(), NeedsReveal(RevealMetadata()):
            return
    raise ProofCheck("inbox proof and input request are dissociated")


def stop_of_step(
    given: Input | None, request: InputRequest, after: StateHash | None
) -> StateHash | None:
    """The stop state a proof claims: the state after the step when no input is
    required and none given, or an input is required and given; None (blocked)
    otherwise.

    Octez: ``sc_rollup_game_repr.ml``, ``check_proof_stop_state``.
    """
    if (given is None) == isinstance(request, NoInputRequired):
        return after
    return None


def valid(
    proof: RefutationProof,
    *,
    pvm: PVM[Any],
    metadata: Metadata,
    snapshot: HistoryCell,
    commit_inbox_level: int,
    constants: Constants,
) -> ValidProof:
    """Check a proof against the game's inbox snapshot and disputed inbox level:
    compute the input, cut it at the disputed levels, verify the PVM step for
    it, and match the step's request with the input proof. Raises a
    :class:`ProtocolError` when the proof is invalid.

    Octez: ``sc_rollup_proof_repr.ml``, ``valid``.
    """
    given = input_of_proof(
        proof.input_proof, metadata=metadata, snapshot=snapshot, constants=constants
    )
    given = cut_at_level(
        given,
        origination_level=metadata.origination_level,
        commit_inbox_level=commit_inbox_level,
    )
    step = pvm.verify_proof(given, proof.pvm_step)
    check_request_matches(proof.input_proof, step.request)
    return ValidProof(
        given, step.request, step.start_state, stop_of_step(given, step.request, step.stop_state)
    )


# -- producing (rollup node side) ---------------------------------------------------

Revealer = Callable[[RevealHash], bytes | None]


def produce(
    pvm: PVM[Any],
    state: object,
    *,
    metadata: Metadata,
    inbox: inbox_.Inbox,
    snapshot: HistoryCell,
    commit_inbox_level: int,
    reveal: Revealer,
) -> RefutationProof:
    """The proof of the step from ``state``: the input its request asks for, proven
    against ``snapshot`` with the node's own ``inbox`` history, cut at the
    disputed levels, and the PVM step for it.

    Octez: ``sc_rollup_proof_repr.ml``, ``produce``.
    """
    request = pvm.input_request(state)
    input_proof: InputProof | None
    given: Input | None
    if isinstance(request, NoInputRequired):
        input_proof, given = None, None
    elif isinstance(request, Initial):
        input_proof, given = FirstInboxMessage(), first_input(metadata)
    elif isinstance(request, FirstAfter):
        if snapshot.index >= len(inbox.history):
            raise PvmProofProductionFailed(pvm.name, "the inbox does not reach the snapshot")
        proven = inbox_.produce_proof(inbox, snapshot.index, request.level, request.counter + 1)
        input_proof = InboxProof(request.level, request.counter, inbox_.encode_proof(proven))
        given = inbox_.verify_proof(
            request.level, request.counter + 1, inbox.history[snapshot.index], proven, "octez"
        )
    elif isinstance(request.reveal, RevealRawData):
        data = reveal(request.reveal.hash)
        if data is None:
            raise PvmProofProductionFailed(pvm.name, f"no preimage for {request.reveal.hash}")
        input_proof, given = RawDataProof(data), RevealInput(RawData(data))
    elif isinstance(request.reveal, RevealMetadata):
        input_proof, given = MetadataProof(), RevealInput(metadata)
    else:
        raise PvmProofProductionFailed(pvm.name, "DAL reveals are not modelled")
    given = cut_at_level(
        given,
        origination_level=metadata.origination_level,
        commit_inbox_level=commit_inbox_level,
    )
    return RefutationProof(pvm.produce_proof(state, given), input_proof)
