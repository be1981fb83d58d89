"""The whole layer-1 rollup machine: one ``apply`` for every operation, and ``advance_level``.

A trace is an initial state (:func:`initial_state`) followed by operations
and level boundaries: :func:`apply` applies one operation in the current
block and either returns the next state or raises a
:class:`~spec.errors.ProtocolError` (the operation fails and changes
nothing: every function here is pure); :func:`advance_level` ends the block
(End_of_level, a new inbox history cell) and starts the next one
(Start_of_level, Info_per_level).

Octez: ``src/proto_alpha/lib_protocol/apply.ml`` (manager operations,
block begin and finalisation), ``sc_rollup_operations.ml``,
``sc_rollup_storage.ml``, ``sc_rollup_inbox_storage.ml``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import attrs

from spec import cementation, outbox, refutation, staking
from spec import inbox as inbox_
from spec.commitment import next_commitment_level
from spec.constants import Constants
from spec.errors import EncodingError, ProtocolError
from spec.hashing import BlockHash, ImplicitAccount, OperationHash, StateHash, blake2b_256
from spec.inbox_message import External, InboxMessage, InfoPerLevel, Transfer, serialize
from spec.operations import (
    AddMessages,
    Cement,
    ExecuteOutboxMessage,
    InternalTransfer,
    Operation,
    Originate,
    Publish,
    RecoverBond,
    Refute,
    Timeout,
)
from spec.origination import OriginationNonce, PvmKind, originate
from spec.pvm import PVM
from spec.state import FrozenMap, Layer1State, Ledger, RollupState, WhitelistUpdateInfo

__all__ = [
    "DEFAULT_BLOCK_TIME",
    "DEFAULT_PVMS",
    "ErrorEncodeInboxMessage",
    "RollupInvalidTransactionAmount",
    "advance_level",
    "apply",
    "genesis_state_hash",
    "initial_state",
    "next_commitment_level",
]

#: Seconds between blocks when :func:`advance_level` is not given a timestamp
#: (mainnet ``minimal_block_delay`` since Tallinn).
DEFAULT_BLOCK_TIME = 6
#: Name of the protocol in the genesis inbox level's ``Protocol_migration``.
GENESIS_PROTOCOL = "alpha_current"
#: PVMs the specification runs, by kind (others use the reference output tree).
DEFAULT_PVMS: Mapping[str, PVM[Any]] = refutation.DEFAULT_PVMS


# -- errors ----------------------------------------------------------------------------


class ErrorEncodeInboxMessage(ProtocolError):
    """``Sc_rollup_inbox_message_repr.Error_encode_inbox_message``: a message too
    large to serialize (more than 4,096 bytes)."""

    octez_error = "smart_rollup_inbox_message_repr.error_encoding_inbox_message"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the message cannot be added to the inbox: {reason}")
        self.reason = reason


class RollupInvalidTransactionAmount(ProtocolError):
    """``Rollup_invalid_transaction_amount``: transfers to rollups carry 0 tez."""

    octez_error = "operation.rollup_invalid_transaction_amount"

    def __init__(self, amount: int) -> None:
        super().__init__(f"a transfer to a smart rollup must carry 0 tez, not {amount} mutez")
        self.amount = amount


# -- genesis ---------------------------------------------------------------------------


def _block_hash(level: int, inbox: inbox_.Inbox) -> BlockHash:
    """A deterministic hash for the finished block at ``level`` (block hashes are
    outside this specification; only their presence in Info_per_level matters)."""
    return BlockHash(blake2b_256(b"scoru-spec block" + struct.pack(">i", level) + inbox.hash().raw))


def _start_level(
    level: int, predecessor_timestamp: int, predecessor: BlockHash
) -> inbox_.LevelWitness:
    """A new level's witness: Start_of_level, then Info_per_level of the predecessor block.

    Octez: ``sc_rollup_inbox_repr.ml`` (``init_witness_no_history``,
    ``add_info_per_level_no_history``); ``apply.ml``.
    """
    witness = inbox_.init_witness(level)
    return inbox_.add_protocol_message(witness, InfoPerLevel(predecessor_timestamp, predecessor))


def initial_state(
    balances: Mapping[ImplicitAccount, int],
    constants: Constants,
    *,
    level: int = 0,
    timestamp: int = 0,
) -> Layer1State:
    """A chain whose genesis block is at ``level``, now building block ``level + 1``.

    The genesis inbox level holds Start_of_level, Info_per_level,
    Protocol_migration and End_of_level; ``balances`` are the spendable
    balances (mutez) of implicit accounts.
    Octez: ``sc_rollup_inbox_repr.ml``, ``genesis``.
    """
    inbox = inbox_.genesis(level, timestamp, BlockHash.zero(), GENESIS_PROTOCOL, constants)
    return Layer1State(
        level=level + 1,
        timestamp=timestamp + DEFAULT_BLOCK_TIME,
        inbox=inbox,
        witness=_start_level(level + 1, timestamp, _block_hash(level, inbox)),
        ledger=Ledger.of_balances(balances),
    )


def advance_level(
    state: Layer1State, constants: Constants, *, timestamp: int | None = None
) -> Layer1State:
    """End the current block and start the next one.

    The level's witness gets End_of_level and becomes a new history cell of
    the inbox; the next level starts with Start_of_level and Info_per_level
    (the finished block's timestamp and hash). ``timestamp`` is the new
    block's (default: :data:`DEFAULT_BLOCK_TIME` seconds later).
    Octez: ``apply.ml`` (``finalize_block``, block begin),
    ``sc_rollup_inbox_repr.ml`` (``finalize_inbox_level_no_history``).
    """
    finished = inbox_.finalize_level(state.inbox, state.witness)
    next_timestamp = state.timestamp + DEFAULT_BLOCK_TIME if timestamp is None else timestamp
    return attrs.evolve(
        state,
        level=state.level + 1,
        timestamp=next_timestamp,
        inbox=finished,
        witness=_start_level(state.level + 1, state.timestamp, _block_hash(state.level, finished)),
    )


# -- origination -----------------------------------------------------------------------


def genesis_state_hash(
    kind: PvmKind, boot_sector: bytes, pvms: Mapping[str, PVM[Any]] = DEFAULT_PVMS
) -> StateHash:
    """The state hash after installing the boot sector.

    A kind with a PVM in ``pvms`` computes it; any other kind gets the
    reference output tree's state with no output and ``H(kind ‖ boot sector)``
    as the rest of its state (see :class:`spec.outbox.OutputTree`).
    Octez: ``sc_rollups.ml``, ``genesis_state_hash_of``.
    """
    pvm = pvms.get(kind)
    if pvm is not None:
        return pvm.state_hash(pvm.install_boot_sector(boot_sector))
    rest = blake2b_256(kind.encode("ascii") + b"\x00" + boot_sector)
    return outbox.OutputTree(rest, ()).state_hash()


def origination_nonce(state: Layer1State) -> OriginationNonce:
    """A unique origination nonce. Octez derives it from the operation hash; the
    specification has no operation hashes, so it hashes the level and a counter.

    Octez: ``origination_nonce.ml``.
    """
    seed = b"scoru-spec origination" + struct.pack(">ii", state.level, state.origination_counter)
    return OriginationNonce(OperationHash(blake2b_256(seed)), 0)


def apply_originate(
    state: Layer1State,
    operation: Originate,
    constants: Constants,
    pvms: Mapping[str, PVM[Any]] = DEFAULT_PVMS,
) -> Layer1State:
    """``Smart_rollup_originate``: checks the PVM kind, the parameters type and the
    whitelist (:func:`spec.origination.originate`), then stores the genesis
    commitment as the LCC, its ``Commitment_added`` and first publication at the
    origination level, the level's commitment list, and the whitelist with
    ``Last_whitelist_update = (origination level, 0)``. The genesis commitment
    has no stakers. Storage fees are not modelled.

    Octez: ``sc_rollup_operations.ml``, ``originate``; ``sc_rollup_storage.ml``,
    ``raw_originate``, ``init_genesis_info``, ``init_commitment_storage``.
    """
    origination = originate(
        kind=operation.kind,
        boot_sector=operation.boot_sector,
        parameters_ty=operation.parameters_ty,
        genesis_state_hash=genesis_state_hash(operation.kind, operation.boot_sector, pvms),
        nonce=origination_nonce(state),
        level=state.level,
        constants=constants,
        whitelist=operation.whitelist,
    )
    genesis = origination.genesis_commitment
    genesis_hash = origination.genesis_info.commitment_hash
    level = state.level
    rollup = RollupState(
        address=origination.address,
        kind=origination.kind,
        boot_sector=origination.boot_sector,
        parameters_ty=origination.parameters_ty,
        genesis_info=origination.genesis_info,
        last_cemented_commitment=genesis_hash,
        commitments=FrozenMap({genesis_hash: genesis}),
        commitment_added=FrozenMap({genesis_hash: level}),
        commitment_first_publication_level=FrozenMap({level: level}),
        commitments_per_inbox_level=FrozenMap({level: (genesis_hash,)}),
        whitelist=frozenset(origination.whitelist or ()),
        last_whitelist_update=(
            None if origination.whitelist is None else WhitelistUpdateInfo(level, 0)
        ),
        ghost_cemented=(genesis,),
    )
    state = attrs.evolve(state, origination_counter=state.origination_counter + 1)
    return state.with_rollup(rollup)


# -- the inbox -------------------------------------------------------------------------


def _add_to_inbox(state: Layer1State, message: InboxMessage, constants: Constants) -> Layer1State:
    try:
        serialized = serialize(message)
    except EncodingError as exc:
        raise ErrorEncodeInboxMessage(str(exc)) from None
    return attrs.evolve(state, witness=inbox_.add_message(state.witness, serialized, constants))


def apply_add_messages(
    state: Layer1State, operation: AddMessages, constants: Constants
) -> Layer1State:
    """``Smart_rollup_add_messages``: the list is non-empty (validation); each
    message becomes an External inbox message of at most 4,096 serialized
    bytes, appended while the level has room.

    Octez: ``validate.ml`` (``Sc_rollup_add_zero_messages``),
    ``sc_rollup_inbox_storage.ml`` (``add_external_messages``),
    ``sc_rollup_inbox_repr.ml`` (``add_message``).
    """
    if not operation.messages:
        raise inbox_.AddZeroMessages()
    for payload in operation.messages:
        state = _add_to_inbox(state, External(payload), constants)
    return state


def apply_internal_transfer(
    state: Layer1State, operation: InternalTransfer, constants: Constants
) -> Layer1State:
    """A smart contract's transfer to a rollup: the rollup exists and the amount is
    zero; the payload becomes an internal Transfer message. (Type-checking the
    payload against the rollup's parameters type and crediting tickets are not
    modelled: the specification has no Michelson type checker.)

    Octez: ``script_interpreter_defs.ml``, ``apply.ml`` (transactions to smart
    rollups), ``sc_rollup_inbox_storage.ml`` (``add_internal_message``).
    """
    state.rollup(operation.destination)
    if operation.amount != 0:
        raise RollupInvalidTransactionAmount(operation.amount)
    message = Transfer(operation.payload, operation.sender, operation.source, operation.destination)
    return _add_to_inbox(state, message, constants)


# -- dispatch --------------------------------------------------------------------------


def _output_verifier(
    state: Layer1State,
    operation: ExecuteOutboxMessage,
    pvms: Mapping[str, PVM[Any]],
) -> outbox.VerifyOutputProof:
    rollup = state.rollups.get(operation.rollup)
    pvm = None if rollup is None else pvms.get(rollup.kind)
    return outbox.verify_reference_output_proof if pvm is None else outbox.verifier_of_pvm(pvm)


def apply(
    state: Layer1State,
    operation: Operation,
    constants: Constants,
    *,
    pvms: Mapping[str, PVM[Any]] = DEFAULT_PVMS,
    verify_output_proof: outbox.VerifyOutputProof | None = None,
) -> Layer1State:
    """Apply one layer-1 operation in the current block.

    ``pvms`` gives the PVM of each kind the specification can run (games and
    output proofs); ``verify_output_proof`` overrides the output-proof
    verifier (default: the rollup's PVM if ``pvms`` has it, else the
    reference output tree of :mod:`spec.outbox`).
    Raises the :class:`~spec.errors.ProtocolError` of the first failing
    check; the given state is never modified.
    Octez: ``apply.ml``, ``apply_manager_operation``.
    """
    match operation:
        case Originate():
            return apply_originate(state, operation, constants, pvms)
        case AddMessages():
            return apply_add_messages(state, operation, constants)
        case InternalTransfer():
            return apply_internal_transfer(state, operation, constants)
        case Publish():
            return staking.apply_publish(state, operation, constants)
        case Cement():
            return cementation.apply_cement(state, operation, constants)
        case RecoverBond():
            return staking.apply_recover_bond(state, operation, constants)
        case ExecuteOutboxMessage():
            verifier = verify_output_proof or _output_verifier(state, operation, pvms)
            return outbox.apply_execute_outbox_message(state, operation, constants, verifier)
        case Refute():
            return refutation.refute(state, operation, constants, pvms=pvms)
        case Timeout():
            return refutation.timeout(state, operation, constants)
    raise TypeError(f"not a layer-1 rollup operation: {operation!r}")
