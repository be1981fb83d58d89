"""Classification of inbox messages as the PVM sees them.

Octez: src/lib_scoru_wasm/pvm_input_kind.ml (``from_raw_input``),
src/proto_alpha/lib_protocol/sc_rollup_inbox_message_repr.ml (encodings).
"""

from __future__ import annotations

import enum


class InputKind(enum.Enum):
    START_OF_LEVEL = "start_of_level"
    END_OF_LEVEL = "end_of_level"
    INFO_PER_LEVEL = "info_per_level"
    PROTOCOL_MIGRATION = "protocol_migration"
    TRANSFER = "transfer"
    DAL_ATTESTED_SLOTS = "dal_attested_slots"
    EXTERNAL = "external"
    OTHER = "other"


def classify(message: bytes) -> InputKind:
    """Internal messages start ``00`` then a tag (``00`` transfer, ``01``
    Start_of_level, ``02`` End_of_level, ``03`` Info_per_level, ``04``
    Protocol_migration, ``05`` Dal_attested_slots); external ones ``01``.
    Start_of_level and End_of_level are exactly two bytes."""
    if message[:1] == b"\x01":
        return InputKind.EXTERNAL
    if message[:1] != b"\x00" or len(message) < 2:
        return InputKind.OTHER
    tag = message[1]
    if tag == 0x01 and len(message) == 2:
        return InputKind.START_OF_LEVEL
    if tag == 0x02 and len(message) == 2:
        return InputKind.END_OF_LEVEL
    if tag == 0x03:
        return InputKind.INFO_PER_LEVEL
    if tag == 0x04:
        return InputKind.PROTOCOL_MIGRATION
    if tag == 0x00:
        return InputKind.TRANSFER
    if tag == 0x05:
        return InputKind.DAL_ATTESTED_SLOTS
    return InputKind.OTHER


def migration_protocol(message: bytes) -> bytes | None:
    """The protocol name of a ``Protocol_migration`` message
    (``00 04`` ‖ 4-byte big-endian length ‖ name), or ``None`` if malformed."""
    if message[:2] != b"\x00\x04" or len(message) < 6:
        return None
    length = int.from_bytes(message[2:6], "big")
    name = message[6:]
    return name if len(name) == length else None
