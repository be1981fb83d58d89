"""Inbox messages: the kinds and their exact binary encoding.

Every serialized message is a union with a 1-byte tag: ``00`` internal (a
second tag byte says which), ``01`` external. The whole serialized message
is at most 4,096 bytes, so an external payload is at most 4,095 bytes.
Kernels parse these bytes, so they are specified to the byte.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_inbox_message_repr.ml``.
"""

from __future__ import annotations

import struct

import attrs

from spec import michelson
from spec.errors import EncodingError
from spec.hashing import (
    BlockHash,
    ContractHash,
    ImplicitAccount,
    MessageHash,
    RollupAddress,
    blake2b_256,
)

#: ``Constants_repr.sc_rollup_message_size_limit``.
MESSAGE_SIZE_LIMIT = 4_096

TAG_INTERNAL = 0x00
TAG_EXTERNAL = 0x01
TAG_TRANSFER = 0x00
TAG_START_OF_LEVEL = 0x01
TAG_END_OF_LEVEL = 0x02
TAG_INFO_PER_LEVEL = 0x03
TAG_PROTOCOL_MIGRATION = 0x04
TAG_DAL_ATTESTED_SLOTS = 0x05


@attrs.frozen
class External:
    """An external message: opaque bytes from ``Smart_rollup_add_messages``.

    Serialized as ``01 ‖ payload`` with no length prefix.
    """

    payload: bytes

    kind = "external"


@attrs.frozen
class Transfer:
    """An internal transfer from a smart contract to a rollup.

    Serialized as ``00 00 ‖ payload (canonical Micheline) ‖ sender (KT1, 20 bytes)
    ‖ source (implicit account, 21 bytes) ‖ destination (sr1, 20 bytes)``.
    """

    payload: michelson.Node
    sender: ContractHash
    source: ImplicitAccount
    destination: RollupAddress

    kind = "transfer"


@attrs.frozen
class StartOfLevel:
    """``00 01``: the first message of every level."""

    kind = "start_of_level"


@attrs.frozen
class EndOfLevel:
    """``00 02``: the last message of every level."""

    kind = "end_of_level"


@attrs.frozen
class InfoPerLevel:
    """``00 03 ‖ timestamp (int64 seconds) ‖ block hash (32)``: the predecessor block's
    timestamp and hash, second message of every level."""

    predecessor_timestamp: int
    predecessor: BlockHash

    kind = "info_per_level"

    def __attrs_post_init__(self) -> None:
        if not -(2**63) <= self.predecessor_timestamp < 2**63:
            raise EncodingError("info_per_level: timestamp must fit an int64")


@attrs.frozen
class ProtocolMigration:
    """``00 04 ‖ uint32 length ‖ name``: added in the first block of a new protocol."""

    name: str

    kind = "protocol_migration"


@attrs.frozen
class DalAttestedSlots:
    """``00 05``: the DAL slots attested for a published level, per publisher.

    Serialized as ``published_level (int32) ‖ number_of_slots (uint16) ‖
    slot_size (int31) ‖ page_size (uint16) ‖ uint32 byte length ‖
    (publisher (implicit account, 21 bytes) ‖ slot bitset (Zarith ``n``))*``.
    Octez: ``sc_rollup_inbox_message_repr.ml`` (alpha, ``Dal_attested_slots``);
    vector from ``test_sc_rollup_inbox.ml``, ``test_dal_attested_slots_encoding``.
    """

    published_level: int
    number_of_slots: int
    slot_size: int
    page_size: int
    slots_by_publisher: tuple[tuple[ImplicitAccount, int], ...]

    kind = "dal_attested_slots"


InboxMessage = (
    External
    | Transfer
    | StartOfLevel
    | EndOfLevel
    | InfoPerLevel
    | ProtocolMigration
    | DalAttestedSlots
)
#: Messages that the protocol adds itself (not counted against the per-level limit,
#: except DAL attestations).
PROTOCOL_MESSAGES = (StartOfLevel, EndOfLevel, InfoPerLevel, ProtocolMigration)


def _body(message: InboxMessage) -> bytes:
    match message:
        case External(payload):
            return bytes([TAG_EXTERNAL]) + payload
        case Transfer(payload, sender, source, destination):
            return (
                bytes([TAG_INTERNAL, TAG_TRANSFER])
                + michelson.encode(payload)
                + sender.raw
                + source.to_bytes()
                + destination.raw
            )
        case StartOfLevel():
            return bytes([TAG_INTERNAL, TAG_START_OF_LEVEL])
        case EndOfLevel():
            return bytes([TAG_INTERNAL, TAG_END_OF_LEVEL])
        case InfoPerLevel(timestamp, predecessor):
            return (
                bytes([TAG_INTERNAL, TAG_INFO_PER_LEVEL])
                + struct.pack(">q", timestamp)
                + predecessor.raw
            )
        case ProtocolMigration(name):
            raw = name.encode("utf-8")
            return bytes([TAG_INTERNAL, TAG_PROTOCOL_MIGRATION]) + struct.pack(">I", len(raw)) + raw
        case DalAttestedSlots(published, slots, slot_size, page_size, by_publisher):
            entries = b"".join(pkh.to_bytes() + encode_n(bits) for pkh, bits in by_publisher)
            return (
                bytes([TAG_INTERNAL, TAG_DAL_ATTESTED_SLOTS])
                + struct.pack(">iHiH", published, slots, slot_size, page_size)
                + struct.pack(">I", len(entries))
                + entries
            )
    raise EncodingError(f"not an inbox message: {message!r}")  # pragma: no cover


def serialize(message: InboxMessage) -> bytes:
    """The serialized message, at most 4,096 bytes.

    Octez: ``sc_rollup_inbox_message_repr.ml``, ``serialize`` (``check_size``).
    """
    data = _body(message)
    if len(data) > MESSAGE_SIZE_LIMIT:
        raise EncodingError(
            f"{message.kind} message is {len(data)} bytes serialized; the limit is "
            f"{MESSAGE_SIZE_LIMIT} bytes (an external payload may have at most "
            f"{MESSAGE_SIZE_LIMIT - 1} bytes)"
        )
    return data


def _exact(data: bytes, size: int, what: str) -> None:
    if len(data) != size:
        raise EncodingError(f"{what} message must be {size} bytes, got {len(data)}")


def deserialize(data: bytes) -> InboxMessage:
    """Decode serialized message bytes; any malformed input is an :class:`EncodingError`.

    Octez: ``sc_rollup_inbox_message_repr.ml``, ``deserialize``.
    """
    if len(data) > MESSAGE_SIZE_LIMIT:
        raise EncodingError(
            f"serialized message is {len(data)} bytes; the limit is {MESSAGE_SIZE_LIMIT}"
        )
    if not data:
        raise EncodingError("serialized message is empty")
    if data[0] == TAG_EXTERNAL:
        return External(bytes(data[1:]))
    if data[0] != TAG_INTERNAL:
        raise EncodingError(f"unknown inbox message tag {data[0]:#04x} (expected 00 or 01)")
    if len(data) < 2:
        raise EncodingError("internal message is truncated: missing its kind tag")
    tag = data[1]
    if tag == TAG_START_OF_LEVEL:
        _exact(data, 2, "start_of_level")
        return StartOfLevel()
    if tag == TAG_END_OF_LEVEL:
        _exact(data, 2, "end_of_level")
        return EndOfLevel()
    if tag == TAG_INFO_PER_LEVEL:
        _exact(data, 42, "info_per_level")
        (timestamp,) = struct.unpack(">q", data[2:10])
        return InfoPerLevel(timestamp, BlockHash(bytes(data[10:42])))
    if tag == TAG_PROTOCOL_MIGRATION:
        if len(data) < 6:
            raise EncodingError("protocol_migration message is truncated: missing its length")
        (length,) = struct.unpack(">I", data[2:6])
        if len(data) != 6 + length:
            raise EncodingError(
                f"protocol_migration message declares {length} name bytes, has {len(data) - 6}"
            )
        try:
            return ProtocolMigration(bytes(data[6:]).decode("utf-8"))
        except UnicodeDecodeError:
            raise EncodingError("protocol_migration name is not valid UTF-8") from None
    if tag == TAG_TRANSFER:
        tail = 20 + 21 + 20
        if len(data) < 2 + 1 + tail:
            raise EncodingError("transfer message is truncated")
        payload = michelson.decode(bytes(data[2:-tail]))
        sender = ContractHash(bytes(data[-tail : -tail + 20]))
        source = ImplicitAccount.from_bytes(bytes(data[-41:-20]))
        destination = RollupAddress(bytes(data[-20:]))
        return Transfer(payload, sender, source, destination)
    if tag == TAG_DAL_ATTESTED_SLOTS:
        return _decode_dal_attested_slots(bytes(data[2:]))
    raise EncodingError(f"unknown internal inbox message tag {tag:#04x}")


def encode_n(value: int) -> bytes:
    """Zarith natural ``n``: 7-bit groups, least significant first, high bit = more.

    Octez: ``data-encoding``, ``n``.
    """
    if value < 0:
        raise EncodingError(f"natural number expected, got {value}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def decode_n(data: bytes, offset: int) -> tuple[int, int]:
    """Decode a Zarith ``n`` at ``offset``; returns the value and the next offset."""
    value = 0
    shift = 0
    while True:
        if offset >= len(data):
            raise EncodingError("truncated natural number (Zarith n)")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if byte == 0 and shift > 7:
                raise EncodingError("non-canonical natural number (trailing zero byte)")
            return value, offset


def _decode_dal_attested_slots(body: bytes) -> DalAttestedSlots:
    if len(body) < 16:
        raise EncodingError("dal_attested_slots message is truncated")
    published, slots, slot_size, page_size = struct.unpack(">iHiH", body[:12])
    (length,) = struct.unpack(">I", body[12:16])
    if len(body) != 16 + length:
        raise EncodingError(
            f"dal_attested_slots declares {length} bytes of publishers, has {len(body) - 16}"
        )
    entries: list[tuple[ImplicitAccount, int]] = []
    offset = 16
    while offset < len(body):
        if offset + 21 > len(body):
            raise EncodingError("dal_attested_slots: truncated publisher")
        pkh = ImplicitAccount.from_bytes(body[offset : offset + 21])
        bits, offset = decode_n(body, offset + 21)
        entries.append((pkh, bits))
    return DalAttestedSlots(published, slots, slot_size, page_size, tuple(entries))


def hash_serialized(serialized: bytes) -> MessageHash:
    """``srib3`` hash of a serialized message: Blake2b-256 of its bytes.

    Octez: ``sc_rollup_inbox_message_repr.ml``, ``hash_serialized_message``.
    """
    return MessageHash(blake2b_256(serialized))
