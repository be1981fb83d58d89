"""Hashes, identifiers and their base58check forms.

Tezos prints every hash and address as base58check: a fixed byte prefix
that makes the text start with a recognisable word (``sr1``, ``src1``…),
the payload, and the first four bytes of ``sha256(sha256(prefix‖payload))``.

Octez: ``src/lib_crypto/base58.ml`` (prefixes, check), ``blake2B.ml``,
``src/lib_crypto/smart_rollup_*.ml``, ``signature_v*.ml`` (implicit accounts),
``src/proto_alpha/lib_protocol/contract_repr.ml`` (contract encoding).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import ClassVar, Self

import attrs
import base58

from spec.errors import EncodingError


def blake2b_256(data: bytes) -> bytes:
    """Blake2b with a 32-byte digest, the hash of every rollup object.

    Octez: ``src/lib_crypto/blake2B.ml``.
    """
    return hashlib.blake2b(data, digest_size=32).digest()


def blake2b_160(data: bytes) -> bytes:
    """Blake2b with a 20-byte digest, used for addresses (``sr1``, ``KT1``, ``tz*``)."""
    return hashlib.blake2b(data, digest_size=20).digest()


def b58check_encode(prefix: bytes, payload: bytes) -> str:
    """``base58(prefix ‖ payload ‖ checksum)``, checksum = first 4 bytes of sha256²."""
    return str(base58.b58encode_check(prefix + payload).decode("ascii"))


def b58check_decode_raw(text: str) -> bytes:
    """Decode base58check text into ``prefix ‖ payload``; checks alphabet and checksum."""
    if not isinstance(text, str) or not text:
        raise EncodingError("base58check: expected a non-empty string")
    try:
        return bytes(base58.b58decode_check(text))
    except ValueError as exc:
        msg = str(exc)
        if "checksum" in msg.lower():
            raise EncodingError(f"base58check: wrong checksum in {text!r}") from None
        raise EncodingError(f"base58check: invalid character in {text!r} ({msg})") from None


@attrs.frozen
class Prefix:
    """A base58check prefix: the bytes and the payload size they go with."""

    name: str
    prefix: bytes
    size: int

    def encode(self, payload: bytes) -> str:
        if len(payload) != self.size:
            raise EncodingError(
                f"{self.name}: payload must be {self.size} bytes, got {len(payload)}"
            )
        return b58check_encode(self.prefix, payload)

    def decode(self, text: str) -> bytes:
        raw = b58check_decode_raw(text)
        if not raw.startswith(self.prefix):
            raise EncodingError(
                f"{text!r} is not a {self.name}: expected prefix {self.name!r}"
                f" ({self.prefix.hex()}), got bytes {raw[: len(self.prefix)].hex()}"
            )
        payload = raw[len(self.prefix) :]
        if len(payload) != self.size:
            raise EncodingError(
                f"{text!r} is not a {self.name}: payload must be {self.size} bytes, "
                f"got {len(payload)}"
            )
        return payload


# Octez: src/lib_crypto/base58.ml, module Prefix (decimal escapes as hex).
P_BLOCK = Prefix("B", bytes.fromhex("0134"), 32)
P_OPERATION = Prefix("o", bytes.fromhex("0574"), 32)
P_PROTOCOL = Prefix("P", bytes.fromhex("02aa"), 32)
P_CONTEXT = Prefix("Co", bytes.fromhex("4fc7"), 32)
P_TZ1 = Prefix("tz1", bytes.fromhex("06a19f"), 20)
P_TZ2 = Prefix("tz2", bytes.fromhex("06a1a1"), 20)
P_TZ3 = Prefix("tz3", bytes.fromhex("06a1a4"), 20)
P_TZ4 = Prefix("tz4", bytes.fromhex("06a1a6"), 20)
P_KT1 = Prefix("KT1", bytes.fromhex("025a79"), 20)
P_SR1 = Prefix("sr1", bytes.fromhex("067c75"), 20)
P_SRC1 = Prefix("src1", bytes.fromhex("11a5868a"), 32)
P_SRS1 = Prefix("srs1", bytes.fromhex("11a5ebf0"), 32)
P_SRIB1 = Prefix("srib1", bytes.fromhex("03ff8a916e"), 32)
P_SRIB2 = Prefix("srib2", bytes.fromhex("03ff8a918c"), 32)
P_SRIB3 = Prefix("srib3", bytes.fromhex("03ff8a91aa"), 32)
P_SCRRH1 = Prefix("scrrh1", bytes.fromhex("e6ce80c8c4"), 32)
P_SCD1 = Prefix("scd1", bytes.fromhex("01767d87"), 20)


def _check_bytes(size: int) -> Callable[[object, attrs.Attribute[bytes], bytes], None]:
    def validate(inst: object, attribute: attrs.Attribute[bytes], value: bytes) -> None:
        if not isinstance(value, bytes):
            raise EncodingError(
                f"{type(inst).__name__}.{attribute.name} must be bytes, got {type(value).__name__}"
            )
        if len(value) != size:
            raise EncodingError(f"{type(inst).__name__} must be {size} bytes, got {len(value)}")

    return validate


@attrs.frozen(order=True)
class _Hash:
    """A fixed-size hash with a base58check text form (``__str__``)."""

    PREFIX: ClassVar[Prefix]
    raw: bytes

    def __attrs_post_init__(self) -> None:
        _check_bytes(self.PREFIX.size)(self, attrs.fields(type(self)).raw, self.raw)

    def __str__(self) -> str:
        return self.PREFIX.encode(self.raw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"

    @classmethod
    def from_b58(cls, text: str) -> Self:
        """Decode the ``b58check`` text form; wrong checksum, prefix or length is an error."""
        return cls(cls.PREFIX.decode(text))

    @classmethod
    def zero(cls) -> Self:
        return cls(bytes(cls.PREFIX.size))

    def to_bytes(self) -> bytes:
        """The binary encoding: the raw bytes, no length prefix."""
        return self.raw


class BlockHash(_Hash):
    """A layer-1 block hash (``B…``)."""

    PREFIX = P_BLOCK


class OperationHash(_Hash):
    """A layer-1 operation hash (``o…``)."""

    PREFIX = P_OPERATION


class ContractHash(_Hash):
    """An originated contract (``KT1…``): Blake2b-160 of its origination nonce."""

    PREFIX = P_KT1


class RollupAddress(_Hash):
    """A smart rollup address (``sr1…``): Blake2b-160 of its origination nonce.

    Octez: ``src/lib_crypto/smart_rollup_address.ml``, ``sc_rollup_repr.ml``.
    """

    PREFIX = P_SR1


class CommitmentHash(_Hash):
    """A commitment hash (``src1…``). Octez: ``smart_rollup_commitment_hash.ml``."""

    PREFIX = P_SRC1


class StateHash(_Hash):
    """A PVM state hash (``srs1…``). Octez: ``smart_rollup_state_hash.ml``."""

    PREFIX = P_SRS1


class InboxHash(_Hash):
    """A hash of an inbox history cell (``srib1…``). Octez: ``sc_rollup_inbox_repr.ml``."""

    PREFIX = P_SRIB1


class PayloadHashesHash(_Hash):
    """A hash of a merkelized payload-hashes cell (``srib2…``).

    Octez: ``sc_rollup_inbox_merkelized_payload_hashes_repr.ml``.
    """

    PREFIX = P_SRIB2


class MessageHash(_Hash):
    """A hash of a serialized inbox message (``srib3…``).

    Octez: ``sc_rollup_inbox_message_repr.ml``, ``Hash``.
    """

    PREFIX = P_SRIB3


class RevealHash(_Hash):
    """A Blake2b reveal-data hash (``scrrh1…``); binary form is ``00 ‖ 32 bytes``.

    Octez: ``sc_rollup_reveal_hash.ml``.
    """

    PREFIX = P_SCRRH1

    def to_bytes(self) -> bytes:
        return b"\x00" + self.raw

    @classmethod
    def of_data(cls, data: bytes) -> RevealHash:
        """The reveal hash of a preimage: Blake2b-256 of the data."""
        return cls(blake2b_256(data))


#: Implicit-account key types in Octez's order (``Signature.Public_key_hash``
#: binary tag = index; the ordering of stakers compares this first).
KEY_TYPES: tuple[tuple[str, Prefix], ...] = (
    ("ed25519", P_TZ1),
    ("secp256k1", P_TZ2),
    ("p256", P_TZ3),
    ("bls", P_TZ4),
)


@attrs.frozen(order=True)
class ImplicitAccount:
    """An implicit account (``tz1``–``tz4``): a key type tag and a 20-byte key hash.

    Binary: one tag byte (0 ed25519, 1 secp256k1, 2 p256, 3 bls) then 20 bytes;
    ordering is by tag then bytes, as ``Signature.Public_key_hash.compare``.
    Octez: ``src/lib_crypto/signature_v*.ml``.
    """

    tag: int
    raw: bytes

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.tag, int) or not 0 <= self.tag < len(KEY_TYPES):
            raise EncodingError(f"implicit account: unknown key type tag {self.tag!r}")
        _check_bytes(20)(self, attrs.fields(ImplicitAccount).raw, self.raw)

    @property
    def key_type(self) -> str:
        return KEY_TYPES[self.tag][0]

    def __str__(self) -> str:
        return KEY_TYPES[self.tag][1].encode(self.raw)

    def __repr__(self) -> str:
        return f"ImplicitAccount({self})"

    @classmethod
    def from_b58(cls, text: str) -> ImplicitAccount:
        """Decode ``tz1…``/``tz2…``/``tz3…``/``tz4…``."""
        raw = b58check_decode_raw(text)
        for tag, (_, prefix) in enumerate(KEY_TYPES):
            if raw.startswith(prefix.prefix) and len(raw) == len(prefix.prefix) + 20:
                return cls(tag, raw[len(prefix.prefix) :])
        raise EncodingError(
            f"{text!r} is not an implicit account: expected a tz1, tz2, tz3 or tz4 address"
        )

    def to_bytes(self) -> bytes:
        """21 bytes: key-type tag then the key hash."""
        return bytes([self.tag]) + self.raw

    @classmethod
    def from_bytes(cls, data: bytes) -> ImplicitAccount:
        if len(data) != 21:
            raise EncodingError(f"implicit account: expected 21 bytes, got {len(data)}")
        return cls(data[0], data[1:])


Contract = ImplicitAccount | ContractHash


def contract_from_b58(text: str) -> Contract:
    """Decode a contract address: implicit (``tz…``) or originated (``KT1…``)."""
    if isinstance(text, str) and text.startswith("KT1"):
        return ContractHash.from_b58(text)
    if isinstance(text, str) and text.startswith("tz"):
        return ImplicitAccount.from_b58(text)
    raise EncodingError(f"{text!r} is not a contract address: expected tz1…tz4 or KT1")


def contract_to_bytes(contract: Contract) -> bytes:
    """22 bytes: ``00 ‖ implicit`` or ``01 ‖ KT1 hash ‖ 00`` (padding).

    Octez: ``contract_repr.ml``, ``encoding`` (``Implicit`` tag 0,
    ``Originated`` tag 1 with ``Padded``).
    """
    if isinstance(contract, ImplicitAccount):
        return b"\x00" + contract.to_bytes()
    return b"\x01" + contract.raw + b"\x00"


def contract_from_bytes(data: bytes) -> Contract:
    """Inverse of :func:`contract_to_bytes`."""
    if len(data) != 22:
        raise EncodingError(f"contract: expected 22 bytes, got {len(data)}")
    if data[0] == 0:
        return ImplicitAccount.from_bytes(data[1:])
    if data[0] == 1:
        if data[21] != 0:
            raise EncodingError("contract: originated contract padding byte must be 00")
        return ContractHash(data[1:21])
    raise EncodingError(f"contract: unknown tag {data[0]:#04x}")
