"""Commitments: the 76-byte encoding, the src1 hash, genesis, next_commitment_level."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec.commitment import (
    ZERO_COMMITMENT_HASH,
    Commitment,
    genesis_commitment,
    next_commitment_level,
)
from spec.constants import MAINNET, PastCommitmentPeriod
from spec.errors import EncodingError
from spec.hashing import CommitmentHash, StateHash, blake2b_256

commitments = st.builds(
    Commitment,
    st.builds(StateHash, st.binary(min_size=32, max_size=32)),
    st.integers(0, 2**31 - 1),
    st.builds(CommitmentHash, st.binary(min_size=32, max_size=32)),
    st.integers(0, 2**63 - 1),
)


@given(commitments)
def test_round_trip_and_hash(c: Commitment) -> None:
    data = c.encode()
    assert len(data) == 76
    assert Commitment.decode(data) == c
    assert c.hash().raw == blake2b_256(data)
    assert str(c.hash()).startswith("src1")


def test_field_layout() -> None:
    c = Commitment(StateHash(b"\x11" * 32), 0x01020304, CommitmentHash(b"\x22" * 32), 0x0A0B)
    assert c.encode() == b"\x11" * 32 + bytes.fromhex("01020304") + b"\x22" * 32 + bytes.fromhex(
        "0000000000000a0b"
    )


def test_genesis() -> None:
    g = genesis_commitment(StateHash(b"\x01" * 32), 42)
    assert g.predecessor == ZERO_COMMITMENT_HASH and g.number_of_ticks == 0 and g.inbox_level == 42


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("inbox_level", -1, "level must be in"),
        ("inbox_level", 2**31, "level must be in"),
        ("number_of_ticks", 2**63, "must be in"),
        ("number_of_ticks", -3, "must be in"),
    ],
)
def test_out_of_range_fields(field: str, value: int, needle: str) -> None:
    base = Commitment(StateHash.zero(), 0, CommitmentHash.zero(), 1)
    with pytest.raises(EncodingError, match=needle):
        attrs.evolve(base, **{field: value})


def test_decode_errors() -> None:
    with pytest.raises(EncodingError, match="expected 76 bytes, got 75"):
        Commitment.decode(bytes(75))
    with pytest.raises(EncodingError, match="must be in"):
        Commitment.decode(bytes(32) + b"\xff\xff\xff\xff" + bytes(40))


def test_next_commitment_level_with_past_periods() -> None:
    assert next_commitment_level(1000, MAINNET) == 1150
    # Tallinn activated at level 5000 after 112-block periods (Quebec–Seoul).
    c = attrs.evolve(MAINNET, past_commitment_periods=(PastCommitmentPeriod(112, 5000),))
    assert next_commitment_level(4776, c) == 4888
    assert next_commitment_level(4888, c) == 5000  # lands exactly on the activation
    assert next_commitment_level(4889, c) == 5039  # would overshoot: current period
    assert next_commitment_level(5000, c) == 5150
