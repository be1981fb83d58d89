"""The outbox: outbox messages, output proofs, executing a message at most once.

A rollup talks to layer 1 through outbox messages its PVM emits at some
inbox level (the *outbox level*, with a *message index*). Once a commitment
covering that level is cemented, anyone may execute a message by proving it
is in the outbox of a stored cemented commitment's state. Layer 1 records
each execution in a bitset per outbox level, in a ring of
``max_active_outbox_levels`` slots, so a message executes at most once and
expires with its level.

This module has three parts:

1. the binary encoding of outbox messages, byte for byte as
   ``sc_rollup_outbox_message_repr.ml`` (tags 0–3);
2. a small *reference output tree*: a Merkle tree of outputs under a state
   hash, with real inclusion proofs, the default ``verify_output_proof``
   until a PVM supplies its own (the arith and WASM PVMs override it);
3. ``Smart_rollup_execute_outbox_message``: every check in Octez's order,
   whitelist updates (private rollups) and canonical-rollup signals.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_outbox_message_repr.ml``,
``sc_rollup_outbox_storage.ml`` (``record_applied_message``),
``sc_rollup_operations.ml`` (``execute_outbox_message``,
``validate_outbox_level``, ``validate_and_decode_output_proof``),
``sc_rollup_management_protocol.ml``, ``sc_rollup_whitelist_storage.ml``,
``sc_rollup_commitment_storage.ml`` (``check_if_commitments_are_related``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import attrs

from spec import michelson
from spec.constants import Constants
from spec.errors import EncodingError, ProtocolError
from spec.hashing import (
    CommitmentHash,
    ContractHash,
    ImplicitAccount,
    RollupAddress,
    StateHash,
    blake2b_256,
)
from spec.operations import ExecuteOutboxMessage, OutputProof
from spec.origination import (
    DuplicatedKeyInWhitelist,
    EmptyWhitelist,
    WhitelistDisabled,
    validate_parameters_type,
)
from spec.pvm import PVM, Output, OutputProofVerificationFailed
from spec.staking import UnknownCommitment
from spec.state import ExecutedOutput, Layer1State, RollupState, WhitelistUpdateInfo

#: ``Constants_repr.sc_rollup_message_size_limit``: an outbox message's binary size bound.
OUTBOX_MESSAGE_SIZE_LIMIT = 4_096
#: Entrypoint names have at most 31 bytes. Octez: ``entrypoint_repr.ml``.
MAX_ENTRYPOINT_LENGTH = 31
_MAX_UINT30 = (1 << 30) - 1

TAG_ATOMIC_TRANSACTION_BATCH = 0
TAG_ATOMIC_TRANSACTION_BATCH_TYPED = 1
TAG_WHITELIST_UPDATE = 2
TAG_CANONICAL_ROLLUP_SIGNAL = 3


# -- outbox messages -------------------------------------------------------------------


def _check_entrypoint(_inst: object, _attribute: object, value: str) -> None:
    if len(value.encode("utf-8")) > MAX_ENTRYPOINT_LENGTH:
        raise EncodingError(
            f"entrypoint {value[:40]!r} is longer than {MAX_ENTRYPOINT_LENGTH} bytes"
        )


@attrs.frozen
class Transaction:
    """``{parameters; destination; entrypoint}`` of an untyped batch.

    Octez: ``sc_rollup_outbox_message_repr.ml``, ``transaction``.
    """

    parameters: michelson.Node
    destination: ContractHash
    entrypoint: str = attrs.field(default="default", validator=_check_entrypoint)


@attrs.frozen
class TypedTransaction:
    """``{parameters; parameters_ty; destination; entrypoint}`` of a typed batch.

    Octez: ``sc_rollup_outbox_message_repr.ml``, ``typed_transaction``.
    """

    parameters: michelson.Node
    parameters_ty: michelson.Node
    destination: ContractHash
    entrypoint: str = attrs.field(default="default", validator=_check_entrypoint)


@attrs.frozen
class AtomicTransactionBatch:
    """Tag 0: transactions whose parameter types come from the destinations' scripts."""

    transactions: tuple[Transaction, ...]


@attrs.frozen
class AtomicTransactionBatchTyped:
    """Tag 1: transactions that carry their parameter types."""

    transactions: tuple[TypedTransaction, ...]


@attrs.frozen
class WhitelistUpdate:
    """Tag 2: replace the whitelist (``Some list``) or make the rollup public (``None``)."""

    whitelist: tuple[ImplicitAccount, ...] | None


@attrs.frozen
class CanonicalRollupSignal:
    """Tag 3: a signal, recorded only when emitted by the canonical rollup."""

    signal: bytes


OutboxMessage = (
    AtomicTransactionBatch | AtomicTransactionBatchTyped | WhitelistUpdate | CanonicalRollupSignal
)


def _dynamic(body: bytes) -> bytes:
    """data-encoding ``dynamic_size``: a 4-byte big-endian ``uint30`` length, then ``body``
    (the 4,096-byte bound of the whole message keeps lengths far below 2^30)."""
    return struct.pack(">I", len(body)) + body


def _encode_contract(destination: ContractHash) -> bytes:
    """``Contract_repr.originated_encoding``: ``01 ‖ 20-byte KT1 hash ‖ 00``."""
    return b"\x01" + destination.raw + b"\x00"


def _encode_entrypoint(entrypoint: str) -> bytes:
    """``Entrypoint_repr.simple_encoding``: a length-prefixed string."""
    return _dynamic(entrypoint.encode("utf-8"))


def encode_outbox_message(message: OutboxMessage) -> bytes:
    """The binary form: a 1-byte tag then the case's fields; at most 4,096 bytes.

    * tag 0: ``uint30 length ‖ (expr ‖ destination (22) ‖ entrypoint)*``;
    * tag 1: ``uint30 length ‖ (expr ‖ type expr ‖ destination (22) ‖ entrypoint)*``;
    * tag 2: ``00`` (``None``) or ``ff ‖ uint30 length ‖ (implicit account (21))*``;
    * tag 3: ``uint30 length ‖ signal bytes``.

    Micheline expressions are canonical binary (self-delimiting); the
    ``"kind"`` constants of the JSON form take no bytes.
    Octez: ``sc_rollup_outbox_message_repr.ml``, ``encoding`` (``check_size``).
    """
    match message:
        case AtomicTransactionBatch(transactions):
            items = b"".join(
                michelson.encode(t.parameters)
                + _encode_contract(t.destination)
                + _encode_entrypoint(t.entrypoint)
                for t in transactions
            )
            data = bytes([TAG_ATOMIC_TRANSACTION_BATCH]) + _dynamic(items)
        case AtomicTransactionBatchTyped(typed):
            items = b"".join(
                michelson.encode(t.parameters)
                + michelson.encode(t.parameters_ty)
                + _encode_contract(t.destination)
                + _encode_entrypoint(t.entrypoint)
                for t in typed
            )
            data = bytes([TAG_ATOMIC_TRANSACTION_BATCH_TYPED]) + _dynamic(items)
        case WhitelistUpdate(None):
            data = bytes([TAG_WHITELIST_UPDATE, 0x00])
        case WhitelistUpdate(whitelist):
            assert whitelist is not None
            keys = b"".join(key.to_bytes() for key in whitelist)
            data = bytes([TAG_WHITELIST_UPDATE, 0xFF]) + _dynamic(keys)
        case CanonicalRollupSignal(signal):
            data = bytes([TAG_CANONICAL_ROLLUP_SIGNAL]) + _dynamic(signal)
        case _:
            raise EncodingError(f"not an outbox message: {message!r}")
    if len(data) > OUTBOX_MESSAGE_SIZE_LIMIT:
        raise EncodingError(
            f"outbox message is {len(data)} bytes; the limit is {OUTBOX_MESSAGE_SIZE_LIMIT}"
        )
    return data


class _Reader:
    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end

    def take(self, size: int, what: str) -> bytes:
        if self.pos + size > self.end:
            raise EncodingError(f"outbox message: truncated {what} at byte {self.pos}")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def uint30(self, what: str) -> int:
        (value,) = struct.unpack(">I", self.take(4, f"{what} length"))
        if value > _MAX_UINT30:
            raise EncodingError(f"outbox message: {what} length {value} exceeds uint30")
        return int(value)

    def dynamic(self, what: str) -> _Reader:
        size = self.uint30(what)
        start = self.pos
        self.take(size, what)
        return _Reader(self.data, start, start + size)

    def take_all(self) -> bytes:
        return self.take(self.end - self.pos, "field")

    def done(self) -> bool:
        return self.pos >= self.end


def _micheline_end(data: bytes, start: int, end: int) -> int:
    """Where the binary Micheline expression at ``start`` ends (its shape only;
    :func:`spec.michelson.decode` validates the contents)."""
    pos = start
    pending = ["expr"]

    def need(size: int) -> None:
        if pos + size > end:
            raise EncodingError(f"outbox message: truncated Micheline expression at byte {pos}")

    def skip_length_prefixed() -> int:
        need(4)
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        need(4 + size)
        return pos + 4 + int(size)

    while pending:
        item = pending.pop()
        if item == "annots":
            pos = skip_length_prefixed()
            continue
        need(1)
        tag = data[pos]
        pos += 1
        if tag == 0x00:  # int: Zarith z, continuation bit 0x80
            while True:
                need(1)
                pos += 1
                if not data[pos - 1] & 0x80:
                    break
        elif tag in (0x01, 0x02, 0x0A):  # string, sequence, bytes
            pos = skip_length_prefixed()
        elif 0x03 <= tag <= 0x08:
            need(1)
            pos += 1  # primitive code
            nargs, with_annots = divmod(tag - 0x03, 2)
            if with_annots:
                pending.append("annots")
            pending.extend(["expr"] * nargs)
        elif tag == 0x09:
            need(1)
            pos += 1
            pos = skip_length_prefixed()
            pending.append("annots")
        else:
            raise EncodingError(
                f"outbox message: unknown Micheline tag {tag:#04x} at byte {pos - 1}"
            )
    return pos


def _read_expr(reader: _Reader, what: str) -> michelson.Node:
    stop = _micheline_end(reader.data, reader.pos, reader.end)
    raw = reader.data[reader.pos : stop]
    reader.pos = stop
    try:
        return michelson.decode(raw)
    except EncodingError as exc:
        raise EncodingError(f"outbox message: invalid {what}: {exc}") from None


def _read_destination(reader: _Reader) -> ContractHash:
    raw = reader.take(22, "destination")
    if raw[0] != 0x01:
        raise EncodingError(
            "outbox message: the destination must be an originated contract (KT1), "
            f"got contract tag {raw[0]:#04x}"
        )
    if raw[21] != 0x00:
        raise EncodingError("outbox message: the destination's padding byte must be 00")
    return ContractHash(raw[1:21])


def _read_entrypoint(reader: _Reader) -> str:
    raw = reader.dynamic("entrypoint").take_all()
    if len(raw) > MAX_ENTRYPOINT_LENGTH:
        raise EncodingError(
            f"outbox message: entrypoint of {len(raw)} bytes exceeds {MAX_ENTRYPOINT_LENGTH}"
        )
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EncodingError("outbox message: entrypoint is not valid UTF-8") from None
    return name or "default"


def decode_outbox_message(data: bytes) -> OutboxMessage:
    """Inverse of :func:`encode_outbox_message`; malformed bytes raise
    :class:`~spec.errors.EncodingError` naming the problem (unknown tag,
    truncation, implicit destination, trailing bytes, oversize…).

    Octez: ``sc_rollup_outbox_message_repr.ml``, ``deserialize``.
    """
    if len(data) > OUTBOX_MESSAGE_SIZE_LIMIT:
        raise EncodingError(
            f"outbox message is {len(data)} bytes; the limit is {OUTBOX_MESSAGE_SIZE_LIMIT}"
        )
    reader = _Reader(bytes(data))
    tag = reader.take(1, "tag")[0]
    message: OutboxMessage
    if tag == TAG_ATOMIC_TRANSACTION_BATCH:
        items = reader.dynamic("transactions")
        transactions: list[Transaction] = []
        while not items.done():
            parameters = _read_expr(items, "transaction parameters")
            destination = _read_destination(items)
            transactions.append(Transaction(parameters, destination, _read_entrypoint(items)))
        message = AtomicTransactionBatch(tuple(transactions))
    elif tag == TAG_ATOMIC_TRANSACTION_BATCH_TYPED:
        items = reader.dynamic("transactions")
        typed: list[TypedTransaction] = []
        while not items.done():
            parameters = _read_expr(items, "transaction parameters")
            parameters_ty = _read_expr(items, "transaction parameters type")
            destination = _read_destination(items)
            typed.append(
                TypedTransaction(parameters, parameters_ty, destination, _read_entrypoint(items))
            )
        message = AtomicTransactionBatchTyped(tuple(typed))
    elif tag == TAG_WHITELIST_UPDATE:
        flag = reader.take(1, "whitelist option tag")[0]
        if flag == 0x00:
            message = WhitelistUpdate(None)
        elif flag == 0xFF:
            keys = reader.dynamic("whitelist")
            size = keys.end - keys.pos
            if size % 21:
                raise EncodingError(
                    f"outbox message: whitelist of {size} bytes is not a list of 21-byte accounts"
                )
            accounts = tuple(
                ImplicitAccount.from_bytes(keys.take(21, "implicit account"))
                for _ in range(size // 21)
            )
            message = WhitelistUpdate(accounts)
        else:
            raise EncodingError(
                f"outbox message: whitelist option tag must be 00 or ff, got {flag:#04x}"
            )
    elif tag == TAG_CANONICAL_ROLLUP_SIGNAL:
        message = CanonicalRollupSignal(reader.dynamic("signal").take_all())
    else:
        raise EncodingError(f"outbox message: unknown tag {tag} (expected 0, 1, 2 or 3)")
    if not reader.done():
        raise EncodingError(f"outbox message: {reader.end - reader.pos} trailing byte(s)")
    return message


# -- the reference output tree and its proofs ------------------------------------------

#: Signature of a PVM's output-proof verifier: does the proof hold?
VerifyOutputProof = Callable[[OutputProof], bool]

_LEAF = b"\x00"
_NODE = b"\x01"
_STATE = b"\x02"
_EMPTY = blake2b_256(b"\x03")
_MAX_DEPTH = 32


def output_leaf_hash(output: Output) -> bytes:
    """Leaf of the reference output tree: ``H(00 ‖ int64 outbox_level ‖ int64 index ‖ message)``."""
    return blake2b_256(
        _LEAF + struct.pack(">qq", output.outbox_level, output.message_index) + output.message
    )


def _node_hash(left: bytes, right: bytes) -> bytes:
    return blake2b_256(_NODE + left + right)


def reference_state_hash(rest: bytes, outbox_root: bytes) -> StateHash:
    """A reference PVM state hash: ``H(02 ‖ rest of the state (32) ‖ outbox root (32))``."""
    return StateHash(blake2b_256(_STATE + rest + outbox_root))


@attrs.frozen
class OutputTree:
    """A reference PVM state reduced to what output proofs need: the hash of the
    rest of the state and the outbox, a perfect Merkle tree of outputs padded
    with empty leaves.

    Proof payload: ``rest (32) ‖ uint32 leaf position ‖ uint8 depth ‖ siblings
    (32 each, leaf to root)``. Not an Octez structure: the default
    ``verify_output_proof`` of the specification, which a PVM overrides.
    """

    rest: bytes
    outputs: tuple[Output, ...]

    def __attrs_post_init__(self) -> None:
        if len(self.rest) != 32:
            raise EncodingError("output tree: the rest-of-state hash must be 32 bytes")

    def _levels(self) -> list[list[bytes]]:
        leaves = [output_leaf_hash(o) for o in self.outputs] or [_EMPTY]
        width = 1
        while width < len(leaves):
            width *= 2
        layer = leaves + [_EMPTY] * (width - len(leaves))
        layers = [layer]
        while len(layer) > 1:
            layer = [_node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer), 2)]
            layers.append(layer)
        return layers

    def root(self) -> bytes:
        return self._levels()[-1][0]

    def state_hash(self) -> StateHash:
        return reference_state_hash(self.rest, self.root())

    def prove(self, position: int) -> OutputProof:
        """The output proof of ``outputs[position]`` against :meth:`state_hash`."""
        layers = self._levels()
        siblings = []
        index = position
        for layer in layers[:-1]:
            siblings.append(layer[index ^ 1])
            index //= 2
        payload = self.rest + struct.pack(">IB", position, len(siblings)) + b"".join(siblings)
        return OutputProof(self.state_hash(), self.outputs[position], payload)


def verifier_of_pvm(pvm: PVM[Any]) -> VerifyOutputProof:
    """The ``verify_output_proof`` of a PVM whose output proofs are opaque bytes:
    the proof holds iff the PVM verifies ``proof.proof`` and it establishes
    exactly ``proof.output`` in the state ``proof.output_proof_state``.

    Octez: ``sc_rollup_PVM_sig.ml`` (``verify_output_proof``,
    ``state_of_output_proof``, ``output_of_output_proof``).
    """

    def verify(proof: OutputProof) -> bool:
        try:
            verified = pvm.verify_output_proof(proof.proof)
        except (OutputProofVerificationFailed, EncodingError):
            return False
        return verified.state == proof.output_proof_state and verified.output == proof.output

    return verify


def verify_reference_output_proof(proof: OutputProof) -> bool:
    """Recompute the state hash from the output's leaf and the Merkle path; the
    proof holds iff it equals ``proof.output_proof_state``. Malformed payloads fail.
    """
    payload = proof.proof
    if len(payload) < 37:
        return False
    rest = payload[:32]
    position, depth = struct.unpack(">IB", payload[32:37])
    if depth > _MAX_DEPTH or len(payload) != 37 + 32 * depth or position >= 1 << depth:
        return False
    output = proof.output
    if not (-(2**63) <= output.outbox_level < 2**63 and -(2**63) <= output.message_index < 2**63):
        return False
    node = output_leaf_hash(output)
    for i in range(depth):
        sibling = payload[37 + 32 * i : 69 + 32 * i]
        node = _node_hash(sibling, node) if (position >> i) & 1 else _node_hash(node, sibling)
    return reference_state_hash(rest, node) == proof.output_proof_state


# -- errors ----------------------------------------------------------------------------


class InvalidLastCementedCommitment(ProtocolError):
    """``Sc_rollup_invalid_last_cemented_commitment``."""

    octez_error = "smart_rollup_invalid_last_cemented_commitment"

    def __init__(self, commitment: CommitmentHash, lcc: CommitmentHash) -> None:
        super().__init__(
            f"commitment {commitment} is not the last cemented commitment {lcc} nor one of "
            f"its stored ancestors"
        )
        self.commitment = commitment
        self.lcc = lcc


class InvalidOutputProof(ProtocolError):
    """``Sc_rollup_invalid_output_proof``."""

    octez_error = "smart_rollup_invalid_output_proof"

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid output proof: {reason}")
        self.reason = reason


class InvalidOutboxLevel(ProtocolError):
    """``Sc_rollup_invalid_outbox_level``."""

    octez_error = "smart_rollup_invalid_outbox_level"

    def __init__(self, outbox_level: int, lcc_level: int, max_active: int) -> None:
        super().__init__(
            f"outbox level {outbox_level} is not active: it must be in "
            f"({lcc_level - max_active}, {lcc_level}] (last cemented inbox level {lcc_level})"
        )
        self.outbox_level = outbox_level
        self.lcc_level = lcc_level
        self.max_active = max_active


class InvalidOutboxMessageIndex(ProtocolError):
    """``Sc_rollup_invalid_outbox_message_index``."""

    octez_error = "smart_rollup_invalid_outbox_message_index"

    def __init__(self, message_index: int, limit: int) -> None:
        super().__init__(
            f"outbox message index {message_index} is out of range: it must be in [0, {limit})"
        )
        self.message_index = message_index
        self.limit = limit


class OutboxMessageAlreadyApplied(ProtocolError):
    """``Sc_rollup_outbox_message_already_applied``."""

    octez_error = "smart_rollup_outbox_message_already_applied"

    def __init__(self, outbox_level: int, message_index: int) -> None:
        super().__init__(
            f"outbox message {message_index} of outbox level {outbox_level} was already executed"
        )
        self.outbox_level = outbox_level
        self.message_index = message_index


class OutboxLevelExpired(ProtocolError):
    """``Sc_rollup_outbox_level_expired``."""

    octez_error = "smart_rollup_outbox_level_expired"

    def __init__(self, outbox_level: int, newer_level: int) -> None:
        super().__init__(
            f"outbox level {outbox_level} has expired: its slot already records the newer "
            f"outbox level {newer_level}"
        )
        self.outbox_level = outbox_level
        self.newer_level = newer_level


class IsPublic(ProtocolError):
    """``Sc_rollup_is_public``: whitelist updates need a private rollup."""

    octez_error = "smart_rollup_rollup_is_public"

    def __init__(self, rollup: RollupAddress) -> None:
        super().__init__(
            f"rollup {rollup} is public: its whitelist cannot be updated (public is final)"
        )
        self.rollup = rollup


class OutdatedWhitelistUpdate(ProtocolError):
    """``Sc_rollup_outdated_whitelist_update``."""

    octez_error = "smart_rollup_outdated_whitelist_update"

    def __init__(self, outbox_level: int, message_index: int, last: WhitelistUpdateInfo) -> None:
        super().__init__(
            f"whitelist update ({outbox_level}, {message_index}) is outdated: the last applied "
            f"update was ({last.outbox_level}, {last.message_index})"
        )
        self.outbox_level = outbox_level
        self.message_index = message_index
        self.last = last


class InvalidParametersTypeInOutbox(ProtocolError):
    """``Sc_rollup_invalid_parameters_type`` raised by a typed outbox transaction."""

    octez_error = "smart_rollup_invalid_parameters_type"

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid outbox transaction parameters type: {reason}")
        self.reason = reason


# -- the checks, in Octez's order ------------------------------------------------------


def check_commitments_are_related(rollup: RollupState, cemented: CommitmentHash) -> None:
    """The commitment is the LCC or one of its ancestors reachable through stored
    commitments. As in Octez, the hash is compared before its contents are looked
    up, so the predecessor of the oldest stored commitment passes here (and fails
    later as unknown).

    Octez: ``sc_rollup_commitment_storage.ml``, ``check_if_commitments_are_related``.
    """
    current = rollup.last_cemented_commitment
    while current != cemented:
        commitment = rollup.commitments.get(current)
        if commitment is None:
            raise InvalidLastCementedCommitment(cemented, rollup.last_cemented_commitment)
        current = commitment.predecessor


def validate_and_decode_output_proof(
    rollup: RollupState,
    cemented: CommitmentHash,
    proof: OutputProof,
    verify_output_proof: VerifyOutputProof,
) -> OutboxMessage:
    """Decode the output; its proof state is the cemented commitment's state;
    the PVM verifies the proof.

    Octez: ``sc_rollup_operations.ml``, ``validate_and_decode_output_proof``.
    """
    try:
        message = decode_outbox_message(proof.output.message)
    except EncodingError as exc:
        raise InvalidOutputProof(f"the output does not decode ({exc})") from None
    commitment = rollup.commitments.get(cemented)
    if commitment is None:
        raise UnknownCommitment(cemented)
    if proof.output_proof_state != commitment.compressed_state:
        raise InvalidOutputProof(
            f"the proof is about state {proof.output_proof_state}, but commitment {cemented} "
            f"has state {commitment.compressed_state}"
        )
    if not verify_output_proof(proof):
        raise InvalidOutputProof("the PVM rejects the proof")
    return message


def check_outbox_level(outbox_level: int, lcc_level: int, constants: Constants) -> None:
    """The outbox level is active: ``lcc_level − max_active_outbox_levels < outbox_level
    ≤ lcc_level`` (relative to the LCC, not to the commitment given).

    Octez: ``sc_rollup_operations.ml``, ``validate_outbox_level``.
    """
    max_active = constants.max_active_outbox_levels
    if not (lcc_level - max_active < outbox_level <= lcc_level):
        raise InvalidOutboxLevel(outbox_level, lcc_level, max_active)


def check_outbox_message(message: OutboxMessage) -> None:
    """Turning the message into layer-1 effects: a typed transaction's type must be
    a type allowed in rollups; a new whitelist is non-empty without duplicates.

    Destinations' scripts (untyped batches) and tickets are not modelled.
    Octez: ``sc_rollup_management_protocol.ml``,
    ``outbox_message_of_outbox_message_repr``; ``sc_rollup_operations.ml``,
    ``to_transaction_operation`` (``validate_parameters_ty``).
    """
    if isinstance(message, AtomicTransactionBatchTyped):
        for transaction in message.transactions:
            try:
                validate_parameters_type(transaction.parameters_ty)
            except ProtocolError as exc:
                raise InvalidParametersTypeInOutbox(str(exc)) from None
    if isinstance(message, WhitelistUpdate) and message.whitelist is not None:
        if not message.whitelist:
            raise EmptyWhitelist()
        seen: set[ImplicitAccount] = set()
        for key in message.whitelist:
            if key in seen:
                raise DuplicatedKeyInWhitelist(key)
            seen.add(key)


def outbox_slot(outbox_level: int, constants: Constants) -> int:
    """The ``Applied_outbox_messages`` slot of a level: ``level mod max_active_outbox_levels``.

    Octez: ``sc_rollup_outbox_storage.ml``, ``level_index``.
    """
    return outbox_level % constants.max_active_outbox_levels


def record_applied_message(
    rollup: RollupState, outbox_level: int, message_index: int, constants: Constants
) -> RollupState:
    """Record that a message was executed; each executes at most once.

    The index is in ``[0, max_outbox_messages_per_level)``. In the level's
    slot: same level and bit set → already applied; a newer level → expired;
    an older level or nothing → the bitset restarts empty. Then the bit is set.
    Octez: ``sc_rollup_outbox_storage.ml``, ``record_applied_message``.
    """
    limit = constants.max_outbox_messages_per_level
    if not 0 <= message_index < limit:
        raise InvalidOutboxMessageIndex(message_index, limit)
    slot = outbox_slot(outbox_level, constants)
    bitset = 0
    existing = rollup.applied_outbox_messages.get(slot)
    if existing is not None:
        existing_level, existing_bitset = existing
        if existing_level == outbox_level:
            if existing_bitset >> message_index & 1:
                raise OutboxMessageAlreadyApplied(outbox_level, message_index)
            bitset = existing_bitset
        elif outbox_level < existing_level:
            raise OutboxLevelExpired(outbox_level, existing_level)
    return attrs.evolve(
        rollup,
        applied_outbox_messages=rollup.applied_outbox_messages.set(
            slot, (outbox_level, bitset | 1 << message_index)
        ),
    )


def execute_whitelist_update(
    rollup: RollupState,
    update: WhitelistUpdate,
    outbox_level: int,
    message_index: int,
    constants: Constants,
) -> RollupState:
    """Apply a whitelist update: private rollups must be enabled and the rollup
    private (public is final); ``Some list`` must come strictly after the last
    update in ``(outbox_level, message_index)`` order and replaces the whitelist;
    ``None`` makes the rollup public, without ordering check or record.

    Octez: ``sc_rollup_operations.ml``, ``execute_outbox_message``
    (whitelist case); ``sc_rollup_whitelist_storage.ml`` (``replace``,
    ``make_public``, ``set_last_whitelist_update``).
    """
    if not constants.private_enable:
        raise WhitelistDisabled()
    if not rollup.is_private:
        raise IsPublic(rollup.address)
    if update.whitelist is None:
        return attrs.evolve(rollup, whitelist=frozenset())
    last = rollup.last_whitelist_update
    if last is not None and (
        outbox_level < last.outbox_level
        or (outbox_level == last.outbox_level and message_index <= last.message_index)
    ):
        raise OutdatedWhitelistUpdate(outbox_level, message_index, last)
    return attrs.evolve(
        rollup,
        whitelist=frozenset(update.whitelist),
        last_whitelist_update=WhitelistUpdateInfo(outbox_level, message_index),
    )


def execute_signal(
    state: Layer1State, rollup: RollupAddress, signal: CanonicalRollupSignal, constants: Constants
) -> Layer1State:
    """Record a signal of the canonical rollup (first occurrence only); from any
    other rollup the message is consumed and does nothing.

    Octez: ``sc_rollup_operations.ml``, ``execute_outbox_message``
    (``Canonical_rollup_signal`` case).
    """
    if str(rollup) != constants.canonical_rollup_address or signal.signal in state.signals:
        return state
    return attrs.evolve(state, signals=state.signals.set(signal.signal, state.level))


def apply_execute_outbox_message(
    state: Layer1State,
    operation: ExecuteOutboxMessage,
    constants: Constants,
    verify_output_proof: VerifyOutputProof = verify_reference_output_proof,
) -> Layer1State:
    """``Smart_rollup_execute_outbox_message``: anyone may send it.

    Checks, in Octez's order: the rollup exists; the commitment is the LCC
    or a stored ancestor; the output proof (decoding, state, PVM check); the
    outbox level is active; the message's layer-1 form; the execution record
    (index, at most once, expiry). Then the message takes effect: transaction
    batches (destination contracts are not modelled), whitelist updates,
    signals. ``verify_output_proof`` is the rollup PVM's verifier.
    Octez: ``sc_rollup_operations.ml``, ``execute_outbox_message``.
    """
    rollup = state.rollup(operation.rollup)
    lcc_level = rollup.lcc_level
    check_commitments_are_related(rollup, operation.cemented_commitment)
    proof = operation.output_proof
    message = validate_and_decode_output_proof(
        rollup, operation.cemented_commitment, proof, verify_output_proof
    )
    output = proof.output
    check_outbox_level(output.outbox_level, lcc_level, constants)
    check_outbox_message(message)
    rollup = record_applied_message(rollup, output.outbox_level, output.message_index, constants)
    if isinstance(message, WhitelistUpdate):
        rollup = execute_whitelist_update(
            rollup, message, output.outbox_level, output.message_index, constants
        )
    rollup = attrs.evolve(
        rollup,
        ghost_executed_outputs=(
            *rollup.ghost_executed_outputs,
            ExecutedOutput(
                outbox_level=output.outbox_level,
                message_index=output.message_index,
                cemented_commitment=operation.cemented_commitment,
                lcc=rollup.last_cemented_commitment,
                lcc_level=lcc_level,
                level=state.level,
                message=output.message,
            ),
        ),
    )
    state = state.with_rollup(rollup)
    if isinstance(message, CanonicalRollupSignal):
        state = execute_signal(state, operation.rollup, message, constants)
    return state
