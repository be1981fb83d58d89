"""Layer-1 smart-rollup operations as frozen data: a trace is a list of these.

Each class mirrors one Octez manager operation (``operation_repr.ml``,
tags 200–207) or the layer-1 event that adds an internal message to the
inbox (a smart contract's transfer to a rollup). ``source`` is the implicit
account that signs the operation; Octez checks nothing about it except for
``Publish`` (the staker) and ``Refute`` (the player).

Octez: ``src/proto_alpha/lib_protocol/operation_repr.ml``,
``sc_rollup_PVM_sig.ml`` (``output``, ``output_proof``).
"""

from __future__ import annotations

import attrs

from spec import michelson
from spec.commitment import Commitment
from spec.game import Refutation
from spec.hashing import CommitmentHash, ContractHash, ImplicitAccount, RollupAddress, StateHash
from spec.origination import PvmKind
from spec.pvm import Output

StakerPair = tuple[ImplicitAccount, ImplicitAccount]


# -- output proofs (the PVM's business, carried by the operation) ----------------------


@attrs.frozen
class OutputProof:
    """A proof that ``output`` is in the outbox of the PVM state ``output_proof_state``.

    ``output`` is :class:`spec.pvm.Output` (``{outbox_level; message_index;
    message}``, the message serialized as in :mod:`spec.outbox`). ``proof`` is
    PVM-specific; layer 1 hands the whole record to the PVM's
    ``verify_output_proof`` and never trusts it otherwise.
    Octez: ``sc_rollup_PVM_sig.ml`` (``output_proof``, ``state_of_output_proof``,
    ``output_of_output_proof``, ``verify_output_proof``).
    """

    output_proof_state: StateHash
    output: Output
    proof: bytes


# -- operations ------------------------------------------------------------------------


@attrs.frozen
class Originate:
    """``Smart_rollup_originate {pvm_kind; kernel; parameters_ty; whitelist}`` (tag 200)."""

    source: ImplicitAccount
    kind: PvmKind
    boot_sector: bytes
    parameters_ty: michelson.Node
    whitelist: tuple[ImplicitAccount, ...] | None = None


@attrs.frozen
class AddMessages:
    """``Smart_rollup_add_messages {message}`` (tag 201): external messages for every rollup."""

    source: ImplicitAccount
    messages: tuple[bytes, ...]


@attrs.frozen
class InternalTransfer:
    """A smart contract ``sender`` (KT1) calling rollup ``destination`` with ``payload``.

    ``source`` is the implicit account that paid for the operation; ``amount``
    must be zero. Octez: ``apply.ml`` / ``script_interpreter_defs.ml``
    (transactions to smart rollups), ``sc_rollup_inbox_message_repr.ml``
    (``Transfer``).
    """

    sender: ContractHash
    source: ImplicitAccount
    destination: RollupAddress
    payload: michelson.Node
    amount: int = 0


@attrs.frozen
class Publish:
    """``Smart_rollup_publish {rollup; commitment}`` (tag 203); the source is the staker."""

    source: ImplicitAccount
    rollup: RollupAddress
    commitment: Commitment


@attrs.frozen
class Cement:
    """``Smart_rollup_cement {rollup}`` (tag 202): cement the LCC's successor; anyone."""

    source: ImplicitAccount
    rollup: RollupAddress


@attrs.frozen
class RecoverBond:
    """``Smart_rollup_recover_bond {rollup; staker}`` (tag 207): anyone; funds go to ``staker``."""

    source: ImplicitAccount
    rollup: RollupAddress
    staker: ImplicitAccount


@attrs.frozen
class ExecuteOutboxMessage:
    """``Smart_rollup_execute_outbox_message {rollup; cemented_commitment; output_proof}``
    (tag 206); anyone."""

    source: ImplicitAccount
    rollup: RollupAddress
    cemented_commitment: CommitmentHash
    output_proof: OutputProof


@attrs.frozen
class Refute:
    """``Smart_rollup_refute {rollup; opponent; refutation}`` (tag 204); the source plays.

    ``refutation`` is ``Start`` or ``Move`` from :mod:`spec.game`.
    """

    source: ImplicitAccount
    rollup: RollupAddress
    opponent: ImplicitAccount
    refutation: Refutation


@attrs.frozen
class Timeout:
    """``Smart_rollup_timeout {rollup; stakers = {alice; bob}}`` (tag 205); anyone."""

    source: ImplicitAccount
    rollup: RollupAddress
    stakers: StakerPair


Operation = (
    Originate
    | AddMessages
    | InternalTransfer
    | Publish
    | Cement
    | RecoverBond
    | ExecuteOutboxMessage
    | Refute
    | Timeout
)
