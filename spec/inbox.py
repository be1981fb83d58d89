"""The rollup inbox: one shared inbox for every rollup, hashed as two skip lists.

Each level is a list of serialized messages (Start_of_level, Info_per_level,
[Protocol_migration], external and internal messages, End_of_level), hashed
as a *merkelized payload-hashes* skip list. Each finished level becomes a
cell ``{hash of the level's last payload cell; level}`` of the *history*
skip list, whose head is the inbox snapshot that refutation games use.

This module keeps the whole history (layer 1 keeps only the head; rollup
nodes keep the rest) so that it can both check and produce inbox proofs.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_inbox_repr.ml``,
``sc_rollup_inbox_merkelized_payload_hashes_repr.ml``,
``sc_rollup_inbox_storage.ml``, ``src/lib_base/skip_list.ml``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

from spec import skip_list
from spec.constants import Constants
from spec.errors import EncodingError, ProtocolError
from spec.hashing import BlockHash, InboxHash, MessageHash, PayloadHashesHash, blake2b_256
from spec.inbox_message import (
    EndOfLevel,
    InboxMessage,
    InfoPerLevel,
    ProtocolMigration,
    StartOfLevel,
    decode_n,
    encode_n,
    hash_serialized,
    serialize,
)

T = TypeVar("T")

# -- errors -------------------------------------------------------------------


class InboxLevelReachedMessagesLimit(ProtocolError):
    """``Sc_rollup_inbox_repr.Inbox_level_reached_messages_limit``."""

    octez_error = "smart_rollup_inbox_level_reached_message_limit"

    def __init__(self, level: int, limit: int) -> None:
        super().__init__(f"inbox level {level} already holds the maximum of {limit} messages")
        self.level = level
        self.limit = limit


class AddZeroMessages(ProtocolError):
    """``Sc_rollup_errors.Sc_rollup_add_zero_messages``: an empty message batch."""

    octez_error = "smart_rollup_add_zero_messages"

    def __init__(self) -> None:
        super().__init__("Smart_rollup_add_messages must carry at least one message")


class InvalidInboxProof(ProtocolError):
    """An inbox proof that does not verify against the snapshot
    (``Inbox_proof_error`` in ``sc_rollup_inbox_repr.ml``)."""

    octez_error = "smart_rollup_inbox_proof_error"

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid inbox proof: {reason}")
        self.reason = reason


# -- the per-level payload list -------------------------------------------------

PayloadCell = skip_list.Cell[MessageHash]


def hash_payload_cell(cell: PayloadCell) -> PayloadHashesHash:
    """``srib2`` hash: Blake2b-256 of the message hash then every back pointer.

    Octez: ``sc_rollup_inbox_merkelized_payload_hashes_repr.ml``, ``hash``.
    """
    return PayloadHashesHash(blake2b_256(cell.content.raw + b"".join(cell.back_pointers)))


@attrs.frozen
class LevelWitness:
    """The messages of the level being built and their payload cells.

    ``cells[i]`` is the cell of message ``i``; the head is the last one.
    Octez: the in-memory witness of ``Raw_context.Sc_rollup_in_memory_inbox``.
    """

    level: int
    messages: tuple[bytes, ...]
    cells: tuple[PayloadCell, ...]
    hashes: tuple[PayloadHashesHash, ...]

    @property
    def head(self) -> PayloadCell:
        return self.cells[-1]

    @property
    def head_hash(self) -> PayloadHashesHash:
        return self.hashes[-1]


def _append(witness: LevelWitness, serialized: bytes) -> LevelWitness:
    content = hash_serialized(serialized)
    cell = skip_list.next_cell(witness.head, witness.head_hash.raw, content)
    return attrs.evolve(
        witness,
        messages=(*witness.messages, serialized),
        cells=(*witness.cells, cell),
        hashes=(*witness.hashes, hash_payload_cell(cell)),
    )


def init_witness(level: int) -> LevelWitness:
    """A new level starts with Start_of_level at index 0.

    Octez: ``sc_rollup_inbox_repr.ml``, ``init_witness_no_history``.
    """
    sol = serialize(StartOfLevel())
    cell = skip_list.genesis(hash_serialized(sol))
    return LevelWitness(level, (sol,), (cell,), (hash_payload_cell(cell),))


def add_protocol_message(witness: LevelWitness, message: InboxMessage) -> LevelWitness:
    """Append a message added by the protocol itself (IPL, migration, EOL): no limit check.

    Octez: ``add_info_per_level_no_history``, ``add_protocol_internal_message``,
    ``finalize_inbox_level_no_history``.
    """
    return _append(witness, serialize(message))


def add_message(witness: LevelWitness, serialized: bytes, constants: Constants) -> LevelWitness:
    """Append an external or internal message, if the level is not full.

    The append fails when the head's index already exceeds the per-level
    limit (1,000,000).
    Octez: ``sc_rollup_inbox_repr.ml``, ``add_message``.
    """
    if witness.head.index > constants.max_number_of_messages_per_level:
        raise InboxLevelReachedMessagesLimit(
            witness.level, constants.max_number_of_messages_per_level
        )
    return _append(witness, serialized)


# -- the history list ----------------------------------------------------------


@attrs.frozen
class LevelProof:
    """Content of a history cell: the level's last payload-cell hash and the level.

    Octez: ``sc_rollup_inbox_repr.ml``, ``level_proof``.
    """

    hash: PayloadHashesHash
    level: int


HistoryCell = skip_list.Cell[LevelProof]


def hash_history_cell(cell: HistoryCell) -> InboxHash:
    """``srib1`` hash: Blake2b-256 of the level's payload hash, the level as
    decimal ASCII text, then every back pointer.

    Octez: ``sc_rollup_inbox_repr.ml``, ``hash_history_proof``.
    """
    return InboxHash(
        blake2b_256(
            cell.content.hash.raw
            + str(cell.content.level).encode("ascii")
            + b"".join(cell.back_pointers)
        )
    )


@attrs.frozen
class Inbox:
    """The inbox after the last finished level, with its full history.

    ``level`` is the last finished level; ``history[i]`` is history cell ``i``
    and ``witnesses[i]`` the payload list of that level.
    Octez: ``sc_rollup_inbox_repr.ml``, type ``t = {level; old_levels_messages}``.
    """

    level: int
    history: tuple[HistoryCell, ...]
    history_hashes: tuple[InboxHash, ...]
    witnesses: tuple[LevelWitness, ...]

    @property
    def old_levels_messages(self) -> HistoryCell:
        """The head history cell, i.e. the snapshot."""
        return self.history[-1]

    def hash(self) -> InboxHash:
        """The inbox hash: hash of the head history cell.

        Octez: ``sc_rollup_inbox_repr.ml``, ``hash``.
        """
        return self.history_hashes[-1]

    def snapshot(self) -> HistoryCell:
        """``take_snapshot``: the head history cell. Octez: ``sc_rollup_inbox_repr.ml``."""
        return self.history[-1]

    def witness_of_level(self, level: int) -> LevelWitness | None:
        for witness in self.witnesses:
            if witness.level == level:
                return witness
        return None

    def messages_of_level(self, level: int) -> tuple[bytes, ...]:
        witness = self.witness_of_level(level)
        return () if witness is None else witness.messages


def finalize_level(inbox: Inbox | None, witness: LevelWitness) -> Inbox:
    """End the level: append End_of_level and archive the level as a history cell.

    Octez: ``sc_rollup_inbox_repr.ml``, ``finalize_inbox_level_no_history``,
    ``archive_no_history``.
    """
    witness = add_protocol_message(witness, EndOfLevel())
    content = LevelProof(witness.head_hash, witness.level)
    if inbox is None:
        cell: HistoryCell = skip_list.genesis(content)
        return Inbox(witness.level, (cell,), (hash_history_cell(cell),), (witness,))
    if witness.level != inbox.level + 1:
        raise EncodingError(
            f"inbox: level {witness.level} does not follow the last finished level {inbox.level}"
        )
    cell = skip_list.next_cell(inbox.history[-1], inbox.hash().raw, content)
    return Inbox(
        witness.level,
        (*inbox.history, cell),
        (*inbox.history_hashes, hash_history_cell(cell)),
        (*inbox.witnesses, witness),
    )


def level_witness(
    level: int,
    predecessor_timestamp: int,
    predecessor: BlockHash,
    messages: Sequence[bytes],
    constants: Constants,
    protocol_migration: str | None = None,
) -> LevelWitness:
    """The witness of a whole level before End_of_level: SOL, IPL, [migration], messages.

    Octez: ``apply.ml`` (block begin and finalisation), ``sc_rollup_inbox_storage.ml``.
    """
    witness = init_witness(level)
    witness = add_protocol_message(witness, InfoPerLevel(predecessor_timestamp, predecessor))
    if protocol_migration is not None:
        witness = add_protocol_message(witness, ProtocolMigration(protocol_migration))
    for serialized in messages:
        witness = add_message(witness, serialized, constants)
    return witness


def genesis(
    level: int,
    predecessor_timestamp: int,
    predecessor: BlockHash,
    protocol_migration: str,
    constants: Constants,
) -> Inbox:
    """The inbox created with the chain: one level of SOL, IPL, Protocol_migration, EOL.

    Octez: ``sc_rollup_inbox_repr.ml``, ``genesis``.
    """
    witness = level_witness(
        level, predecessor_timestamp, predecessor, (), constants, protocol_migration
    )
    return finalize_level(None, witness)


def add_level(
    inbox: Inbox,
    messages: Sequence[bytes],
    constants: Constants,
    *,
    predecessor_timestamp: int,
    predecessor: BlockHash,
    protocol_migration: str | None = None,
) -> Inbox:
    """Add the whole next level to the inbox and finalise it."""
    witness = level_witness(
        inbox.level + 1, predecessor_timestamp, predecessor, messages, constants, protocol_migration
    )
    return finalize_level(inbox, witness)


# -- inbox proofs --------------------------------------------------------------


@attrs.frozen
class MessageProof:
    """Payload cells from the level's head back to the message, plus the payload.

    Octez: ``sc_rollup_inbox_repr.ml``, ``payloads_proof``.
    """

    cells: tuple[PayloadCell, ...]
    payload: bytes | None


@attrs.frozen
class InboxProof:
    """A history back path to a level's cell and a payload back path inside that level.

    Octez: ``sc_rollup_inbox_repr.ml``, type ``proof``.
    """

    inclusion_proof: tuple[HistoryCell, ...]
    message_proof: MessageProof


@attrs.frozen
class InboxInput:
    """An inbox message as given to the PVM: ``(inbox_level, message_counter, payload)``.

    Octez: ``sc_rollup_PVM_sig.ml``, ``inbox_message``.
    """

    inbox_level: int
    message_counter: int
    payload: bytes


def _history_deref(cells: Sequence[HistoryCell]) -> dict[bytes, HistoryCell]:
    return {hash_history_cell(c).raw: c for c in cells}


def _payload_deref(cells: Sequence[PayloadCell]) -> dict[bytes, PayloadCell]:
    return {hash_payload_cell(c).raw: c for c in cells}


def verify_proof(
    level: int,
    counter: int,
    snapshot: HistoryCell,
    proof: InboxProof,
    mode: str,
) -> InboxInput | None:
    """The input at ``(level, counter)`` that ``proof`` proves against ``snapshot``.

    1. The inclusion path starts at the snapshot and is the minimal back path
       to its last cell, the *target*.
    2. The payload path starts at the target's level hash and is the minimal
       back path to its last cell.
    3. ``counter ≤ head index``: the payload must be given, hash to the cell
       content, and the cell index must be ``counter``.
    4. ``counter = head index + 1``: no payload; the path is just the head;
       the result is ``None`` if the target is the snapshot (no further input),
       else Start_of_level of ``level + 1``.
    5. Larger counters fail.

    ``intended`` mode also requires the target cell's level to be ``level``;
    ``octez`` mode does not check it (reference §3.6).
    Octez: ``sc_rollup_inbox_repr.ml``, ``verify_proof``,
    ``verify_inclusion_proof``, ``verify_payloads_proof``.
    """
    if counter < 0:
        raise InvalidInboxProof(f"negative message counter {counter}")
    history = proof.inclusion_proof
    if not history:
        raise InvalidInboxProof("empty inclusion proof")
    snapshot_ptr = hash_history_cell(snapshot).raw
    deref_h = _history_deref(history)
    target = history[-1]
    target_ptr = hash_history_cell(target).raw
    path = [hash_history_cell(c).raw for c in history]
    if not skip_list.valid_back_path(deref_h.get, snapshot_ptr, target_ptr, path):
        raise InvalidInboxProof(
            "the inclusion proof is not the minimal back path from the snapshot"
        )
    if mode == "intended" and target.content.level != level:
        raise InvalidInboxProof(
            f"the proven level cell is level {target.content.level}, not the claimed level {level}"
        )
    cells = proof.message_proof.cells
    if not cells:
        raise InvalidInboxProof("empty message proof")
    head, last = cells[0], cells[-1]
    head_ptr = hash_payload_cell(head).raw
    if head_ptr != target.content.hash.raw:
        raise InvalidInboxProof("the message proof does not start at the level's last payload cell")
    deref_p = _payload_deref(cells)
    ppath = [hash_payload_cell(c).raw for c in cells]
    if not skip_list.valid_back_path(deref_p.get, head_ptr, ppath[-1], ppath):
        raise InvalidInboxProof("the message proof is not a minimal back path")
    payload = proof.message_proof.payload
    if counter <= head.index:
        if payload is None:
            raise InvalidInboxProof(f"message {counter} exists but no payload was given")
        if last.index != counter:
            raise InvalidInboxProof(f"the message proof ends at index {last.index}, not {counter}")
        if hash_serialized(payload) != last.content:
            raise InvalidInboxProof("the payload does not hash to the proven message hash")
        return InboxInput(level, counter, payload)
    if counter == head.index + 1:
        if payload is not None:
            raise InvalidInboxProof(f"no message {counter} exists but a payload was given")
        if len(cells) != 1:
            raise InvalidInboxProof("past the end of a level, the message proof is the head only")
        if target_ptr == snapshot_ptr:
            return None
        return InboxInput(level + 1, 0, serialize(StartOfLevel()))
    raise InvalidInboxProof(
        f"message counter {counter} is beyond the end of the level ({head.index + 1} messages)"
    )


def produce_proof(inbox: Inbox, snapshot_index: int, level: int, counter: int) -> InboxProof:
    """The proof of the input at ``(level, counter)`` against history cell ``snapshot_index``.

    Octez: ``sc_rollup_inbox_repr.ml``, ``produce_proof``.
    """
    by_hash = {h.raw: c for h, c in zip(inbox.history_hashes, inbox.history, strict=True)}
    target_index = next(
        (i for i, c in enumerate(inbox.history[: snapshot_index + 1]) if c.content.level == level),
        None,
    )
    if target_index is None:
        raise InvalidInboxProof(f"level {level} is not in the inbox snapshot")
    hpath = skip_list.back_path(by_hash.get, inbox.history_hashes[snapshot_index].raw, target_index)
    assert hpath is not None
    witness = inbox.witnesses[target_index]
    head = witness.head
    by_phash = {h.raw: c for h, c in zip(witness.hashes, witness.cells, strict=True)}
    if counter <= head.index:
        ppath = skip_list.back_path(by_phash.get, witness.head_hash.raw, counter)
        assert ppath is not None
        payload: bytes | None = witness.messages[counter]
    else:
        ppath = [witness.head_hash.raw]
        payload = None
    return InboxProof(
        tuple(by_hash[p] for p in hpath),
        MessageProof(tuple(by_phash[p] for p in ppath), payload),
    )


# -- binary encoding of proofs ---------------------------------------------------


def _encode_cell(index: int, content: bytes, back_pointers: Sequence[bytes]) -> bytes:
    pointers = b"".join(back_pointers)
    return encode_n(index) + content + struct.pack(">I", len(pointers)) + pointers


def encode_payload_cell(cell: PayloadCell) -> bytes:
    """``index (n) ‖ message hash (32) ‖ uint32 length ‖ back pointers (32 each)``.

    Octez: ``skip_list.ml`` (``encoding``), ``sc_rollup_inbox_merkelized_payload_hashes_repr.ml``.
    """
    return _encode_cell(cell.index, cell.content.raw, cell.back_pointers)


def encode_history_cell(cell: HistoryCell) -> bytes:
    """``index (n) ‖ level hash (32) ‖ level (int32) ‖ uint32 length ‖ back pointers``.

    Octez: ``sc_rollup_inbox_repr.ml``, ``history_proof_encoding``.
    """
    content = cell.content.hash.raw + struct.pack(">i", cell.content.level)
    return _encode_cell(cell.index, content, cell.back_pointers)


def encode_proof(proof: InboxProof) -> bytes:
    """``uint32 length ‖ history cells ‖ uint32 length ‖ payload cells ‖ optional payload``
    (``00``, or ``ff ‖ uint32 length ‖ bytes``).

    Octez: ``sc_rollup_inbox_repr.ml``, ``proof_encoding``.
    """
    history = b"".join(encode_history_cell(c) for c in proof.inclusion_proof)
    payloads = b"".join(encode_payload_cell(c) for c in proof.message_proof.cells)
    payload = proof.message_proof.payload
    tail = b"\x00" if payload is None else b"\xff" + struct.pack(">I", len(payload)) + payload
    return (
        struct.pack(">I", len(history))
        + history
        + struct.pack(">I", len(payloads))
        + payloads
        + tail
    )


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: int, what: str) -> bytes:
        if size < 0 or self.offset + size > len(self.data):
            raise EncodingError(f"inbox proof: truncated {what} at byte {self.offset}")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def u32(self, what: str) -> int:
        (value,) = struct.unpack(">I", self.take(4, what))
        return int(value)

    def n(self) -> int:
        value, self.offset = decode_n(self.data, self.offset)
        return value


def _decode_pointers(reader: _Reader) -> tuple[bytes, ...]:
    size = reader.u32("back-pointer list length")
    if size % 32:
        raise EncodingError(f"inbox proof: back-pointer list of {size} bytes is not 32-byte hashes")
    raw = reader.take(size, "back pointers")
    return tuple(raw[i : i + 32] for i in range(0, size, 32))


def _decode_list(reader: _Reader, what: str, item: Callable[[_Reader], T]) -> tuple[T, ...]:
    size = reader.u32(f"{what} length")
    end = reader.offset + size
    if end > len(reader.data):
        raise EncodingError(f"inbox proof: {what} declares {size} bytes beyond the end")
    items = []
    while reader.offset < end:
        items.append(item(reader))
    if reader.offset != end:
        raise EncodingError(f"inbox proof: {what} overruns its declared length")
    return tuple(items)


def _history_cell(reader: _Reader) -> HistoryCell:
    index = reader.n()
    level_hash = PayloadHashesHash(reader.take(32, "level hash"))
    (level,) = struct.unpack(">i", reader.take(4, "level"))
    return skip_list.Cell(LevelProof(level_hash, level), index, _decode_pointers(reader))


def _payload_cell(reader: _Reader) -> PayloadCell:
    index = reader.n()
    content = MessageHash(reader.take(32, "message hash"))
    return skip_list.Cell(content, index, _decode_pointers(reader))


def decode_proof(data: bytes) -> InboxProof:
    """Inverse of :func:`encode_proof`; malformed bytes are an :class:`EncodingError`."""
    reader = _Reader(data)
    history = _decode_list(reader, "inclusion proof", _history_cell)
    cells = _decode_list(reader, "message proof", _payload_cell)
    tag = reader.take(1, "payload tag")[0]
    payload: bytes | None
    if tag == 0x00:
        payload = None
    elif tag == 0xFF:
        payload = reader.take(reader.u32("payload length"), "payload")
    else:
        raise EncodingError(f"inbox proof: payload tag must be 00 or ff, got {tag:02x}")
    if reader.offset != len(data):
        raise EncodingError(f"inbox proof: {len(data) - reader.offset} trailing bytes")
    return InboxProof(history, MessageProof(cells, payload))
