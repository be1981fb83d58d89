"""Commitments: the record, its exact binary encoding, its hash, the genesis commitment.

A commitment claims: starting from the state of ``predecessor`` at tick 0
and consuming every inbox message of the levels after the predecessor's
inbox level up to and including ``inbox_level``, the PVM reaches a state
with hash ``compressed_state`` after exactly ``number_of_ticks`` ticks.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_commitment_repr.ml``,
``sc_rollup_storage.ml`` (``next_commitment_level``).
"""

from __future__ import annotations

import functools
import struct

import attrs

from spec.constants import Constants
from spec.errors import EncodingError
from spec.hashing import CommitmentHash, StateHash, blake2b_256

#: ``Number_of_ticks`` is an int64 bounded to ``[0, Int64.max_int]``.
MAX_NUMBER_OF_TICKS = 2**63 - 1
#: ``Raw_level`` is an int32 ≥ 0.
MAX_LEVEL = 2**31 - 1
#: Binary size of a commitment: 32 + 4 + 32 + 8.
ENCODED_SIZE = 76


def _level(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LEVEL:
        raise EncodingError(
            f"commitment field {attribute.name}: level must be in [0, 2^31-1], got {value!r}"
        )


def _ticks(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= MAX_NUMBER_OF_TICKS
    ):
        raise EncodingError(
            f"commitment field {attribute.name}: must be in [0, 2^63-1], got {value!r}"
        )


@attrs.frozen
class Commitment:
    """``Sc_rollup_commitment_repr.t``.

    Octez: ``sc_rollup_commitment_repr.ml`` (``V1.t``).
    """

    compressed_state: StateHash
    inbox_level: int = attrs.field(validator=_level)
    predecessor: CommitmentHash
    number_of_ticks: int = attrs.field(validator=_ticks)

    def encode(self) -> bytes:
        """76 bytes: state (32) ‖ inbox level (int32 BE) ‖ predecessor (32) ‖ ticks (int64 BE).

        Octez: ``sc_rollup_commitment_repr.ml``, ``V1.encoding``.
        """
        return (
            self.compressed_state.raw
            + struct.pack(">i", self.inbox_level)
            + self.predecessor.raw
            + struct.pack(">q", self.number_of_ticks)
        )

    @classmethod
    def decode(cls, data: bytes) -> Commitment:
        """Inverse of :meth:`encode`; wrong size or out-of-range fields are errors."""
        if len(data) != ENCODED_SIZE:
            raise EncodingError(f"commitment: expected {ENCODED_SIZE} bytes, got {len(data)}")
        (level,) = struct.unpack(">i", data[32:36])
        (ticks,) = struct.unpack(">q", data[68:76])
        return cls(StateHash(data[0:32]), level, CommitmentHash(data[36:68]), ticks)

    def hash(self) -> CommitmentHash:
        """Blake2b-256 of the binary encoding.

        Octez: ``sc_rollup_commitment_repr.ml``, ``hash_uncarbonated``.
        """
        return _hash_of(self)

    def to_json(self) -> dict[str, object]:
        """The RPC JSON form of the commitment (hashes in base58, ticks as a string)."""
        return {
            "compressed_state": str(self.compressed_state),
            "inbox_level": self.inbox_level,
            "predecessor": str(self.predecessor),
            "number_of_ticks": str(self.number_of_ticks),
        }


@functools.lru_cache(maxsize=1 << 16)
def _hash_of(commitment: Commitment) -> CommitmentHash:
    """Commitment hashes, memoised: commitments are immutable and hashed often
    (every invariant check walks the cemented chain)."""
    return CommitmentHash(blake2b_256(commitment.encode()))


#: The predecessor of every genesis commitment (32 zero bytes).
ZERO_COMMITMENT_HASH = CommitmentHash.zero()


def genesis_commitment(genesis_state_hash: StateHash, origination_level: int) -> Commitment:
    """The commitment created at origination: zero ticks, zero predecessor.

    Octez: ``sc_rollup_commitment_repr.ml``, ``genesis_commitment``.
    """
    return Commitment(
        compressed_state=genesis_state_hash,
        inbox_level=origination_level,
        predecessor=ZERO_COMMITMENT_HASH,
        number_of_ticks=0,
    )


def next_commitment_level(level: int, constants: Constants) -> int:
    """The inbox level of the commitment that follows one at ``level``.

    Past commitment periods are scanned in activation order: the first
    ``(p, activation)`` with ``level + p <= activation`` gives ``level + p``;
    otherwise the current period applies.

    Octez: ``sc_rollup_storage.ml``, ``next_commitment_level``.
    """
    for past in constants.past_commitment_periods:
        if level + past.period <= past.activation_level:
            return level + past.period
    return level + constants.commitment_period_in_blocks
