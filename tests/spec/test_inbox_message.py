"""Inbox message encodings: real Octez vectors, round trips, limits, malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec import michelson
from spec.errors import EncodingError
from spec.hashing import BlockHash, ContractHash, ImplicitAccount, RollupAddress
from spec.inbox_message import (
    DalAttestedSlots,
    EndOfLevel,
    External,
    InfoPerLevel,
    ProtocolMigration,
    StartOfLevel,
    Transfer,
    decode_n,
    deserialize,
    encode_n,
    hash_serialized,
    serialize,
)

# src/kernel_tx_demo/kernel/src/inbox/mod.rs, test_encode_decode_internal_transfer
# (a port of test_sc_rollup_management_protocol.ml).
TRANSFER_VECTOR = bytes.fromhex(
    "000007070100000024747a344d53665a736e366b4d44637a53687938504d6542363238544e756b6e3968"
    "69324b07070a0000001601d1a37c088a1221b636bb5fccb35e05181038ba7c00070701000000037265"
    "640001246667a931fe0bd2fb1cb604f714601e882845500042ec765f2700134e9e0efe89d0338e2e84"
    "3c53dcf6907ec5484d46cbab922fd2d5e1a58fd4a2b9fb"
)

# src/kernel_sdk/encoding/src/inbox.rs, test_decode_dal_attested_slots_from_ocaml
# (bytes produced by test_sc_rollup_inbox.ml, test_dal_attested_slots_encoding).
DAL_VECTOR = bytes.fromhex(
    "0005" "00000008" "0010" "0001efe0" "1000" "00000016" "00"
    "02298c03ed7d454a101eb7022bc95f7e5f41ac78" "10"
)  # fmt: skip


def test_transfer_vector_from_octez() -> None:
    transfer = Transfer(
        payload=michelson.parse_data(
            'Pair "tz4MSfZsn6kMDczShy8PMeB628TNukn9hi2K" '
            '(Pair 0x01d1a37c088a1221b636bb5fccb35e05181038ba7c00 (Pair "red" 1))'
        ),
        sender=ContractHash.from_b58("KT1BuEZtb68c1Q4yjtckcNjGELqWt56Xyesc"),
        source=ImplicitAccount.from_b58("tz1RjtZUVeLhADFHDL8UwDZA6vjWWhojpu5w"),
        destination=RollupAddress.from_b58("sr1UX4Euo29Fd5bhmZypQffZJwy9M3A1D4Mb"),
    )
    assert serialize(transfer) == TRANSFER_VECTOR
    assert deserialize(TRANSFER_VECTOR) == transfer


def test_dal_attested_slots_vector_from_octez() -> None:
    message = deserialize(DAL_VECTOR)
    assert message == DalAttestedSlots(
        published_level=8,
        number_of_slots=16,
        slot_size=126_944,
        page_size=4_096,
        slots_by_publisher=(
            (ImplicitAccount.from_b58("tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"), 16),
        ),
    )
    assert serialize(message) == DAL_VECTOR


def test_protocol_message_bytes() -> None:
    # src/kernel_sdk/encoding/src/inbox.rs: test_encode_decode_sol / _eol
    assert serialize(StartOfLevel()) == bytes.fromhex("0001")
    assert serialize(EndOfLevel()) == bytes.fromhex("0002")
    ipl = InfoPerLevel(0, BlockHash.zero())
    assert serialize(ipl) == bytes.fromhex("0003") + bytes(40)
    assert serialize(ProtocolMigration("alpha_current")) == (
        bytes.fromhex("0004") + (13).to_bytes(4, "big") + b"alpha_current"
    )


@pytest.mark.parametrize("payload", [b"", b"A", b"0123456789", b"A" * 256])
def test_external_is_tag_then_payload(payload: bytes) -> None:
    # test_sc_rollup_management_protocol.ml, assert_prefix
    assert serialize(External(payload)) == b"\x01" + payload


def test_external_size_limit() -> None:
    assert len(serialize(External(b"x" * 4095))) == 4096
    with pytest.raises(EncodingError, match="4097 bytes serialized; the limit is 4096"):
        serialize(External(b"x" * 4096))
    with pytest.raises(EncodingError, match="limit is 4096"):
        deserialize(b"\x01" + b"x" * 4096)


def test_message_hash_is_blake2b_of_the_bytes() -> None:
    assert hash_serialized(b"\x00\x01").raw.hex() == (
        "01cf79da4945c370c68b265ef70641aaa65eaa8f5953e3900d97724c2c5aa095"
    )


messages = st.one_of(
    st.builds(External, st.binary(max_size=200)),
    st.just(StartOfLevel()),
    st.just(EndOfLevel()),
    st.builds(
        InfoPerLevel,
        st.integers(-(2**63), 2**63 - 1),
        st.builds(BlockHash, st.binary(min_size=32, max_size=32)),
    ),
    st.builds(ProtocolMigration, st.text(max_size=40)),
    st.builds(
        Transfer,
        st.builds(michelson.Int, st.integers(-(10**30), 10**30)),
        st.builds(ContractHash, st.binary(min_size=20, max_size=20)),
        st.builds(ImplicitAccount, st.integers(0, 3), st.binary(min_size=20, max_size=20)),
        st.builds(RollupAddress, st.binary(min_size=20, max_size=20)),
    ),
    st.builds(
        DalAttestedSlots,
        st.integers(0, 2**31 - 1), st.integers(0, 2**16 - 1), st.integers(0, 2**31 - 1),
        st.integers(0, 2**16 - 1),
        st.lists(
            st.tuples(
                st.builds(ImplicitAccount, st.integers(0, 3), st.binary(min_size=20, max_size=20)),
                st.integers(0, 2**64),
            ),
            max_size=4,
        ).map(tuple),
    ),
)  # fmt: skip


@given(messages)
def test_round_trip(message: object) -> None:
    data = serialize(message)  # type: ignore[arg-type]
    assert deserialize(data) == message
    assert serialize(deserialize(data)) == data


@given(st.integers(0, 2**200))
def test_zarith_n_round_trip(value: int) -> None:
    data = encode_n(value)
    assert decode_n(data, 0) == (value, len(data))


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"\x02", "unknown inbox message tag 0x02"),
        (b"\x00", "missing its kind tag"),
        (b"\x00\x09", "unknown internal inbox message tag 0x09"),
        (b"\x00\x01\x00", "start_of_level message must be 2 bytes"),
        (b"\x00\x02\x00", "end_of_level message must be 2 bytes"),
        (b"\x00\x03" + bytes(39), "info_per_level message must be 42 bytes"),
        (b"\x00\x04\x00\x00", "missing its length"),
        (b"\x00\x04\x00\x00\x00\x05ab", "declares 5 name bytes, has 2"),
        (b"\x00\x04\x00\x00\x00\x01\xff", "not valid UTF-8"),
        (b"\x00\x00" + bytes(30), "transfer message is truncated"),
        (b"\x00\x05" + bytes(3), "dal_attested_slots message is truncated"),
        (DAL_VECTOR[:-1], "declares 22 bytes of publishers"),
    ],
)
def test_malformed_messages(data: bytes, needle: str) -> None:
    with pytest.raises(EncodingError, match=needle):
        deserialize(data)


def test_transfer_with_bad_micheline_payload() -> None:
    bad = b"\x00\x00" + b"\xee" + TRANSFER_VECTOR[-61:]
    with pytest.raises(EncodingError):
        deserialize(bad)
