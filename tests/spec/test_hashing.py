"""base58check identifiers: prefixes, round trips, public examples, typed errors."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec.errors import EncodingError
from spec.hashing import (
    BlockHash,
    CommitmentHash,
    ContractHash,
    ImplicitAccount,
    InboxHash,
    MessageHash,
    OperationHash,
    PayloadHashesHash,
    RevealHash,
    RollupAddress,
    StateHash,
    b58check_encode,
    blake2b_256,
    contract_from_b58,
    contract_from_bytes,
    contract_to_bytes,
)

HASH_CLASSES = [
    BlockHash, OperationHash, ContractHash, RollupAddress, CommitmentHash, StateHash,
    InboxHash, PayloadHashesHash, MessageHash, RevealHash,
]  # fmt: skip
TEXT_PREFIX = {
    BlockHash: "B", OperationHash: "o", ContractHash: "KT1", RollupAddress: "sr1",
    CommitmentHash: "src1", StateHash: "srs1", InboxHash: "srib1",
    PayloadHashesHash: "srib2", MessageHash: "srib3", RevealHash: "scrrh1",
}  # fmt: skip
TEXT_LENGTH = {
    BlockHash: 51, OperationHash: 51, ContractHash: 36, RollupAddress: 36, CommitmentHash: 54,
    StateHash: 54, InboxHash: 55, PayloadHashesHash: 55, MessageHash: 55, RevealHash: 56,
}  # fmt: skip


def test_public_examples_of_the_octez_docs_decode() -> None:
    sr = RollupAddress.from_b58("sr163Lv22CdE8QagCwf48PWDTquk6isQwv57")
    kt = ContractHash.from_b58("KT18amZmM5W7qDWVt2pH6uj7sCEd3kbzLrHT")
    tz = ImplicitAccount.from_b58("tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU")
    assert str(sr) == "sr163Lv22CdE8QagCwf48PWDTquk6isQwv57"
    assert str(kt) == "KT18amZmM5W7qDWVt2pH6uj7sCEd3kbzLrHT"
    assert str(tz) == "tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU"
    assert tz.key_type == "ed25519" and len(tz.to_bytes()) == 21 and tz.to_bytes()[0] == 0
    assert len(sr.raw) == len(kt.raw) == 20


def test_zero_commitment_hash_is_the_genesis_predecessor() -> None:
    # reference/protocol.md §2.1
    assert str(CommitmentHash.zero()) == "src12UJzB8mg7yU6nWPzicH7ofJbFjyJEbHvwtZdfRXi8DQHNp1LY8"


def test_mainnet_canonical_rollup_decodes() -> None:
    assert str(RollupAddress.from_b58("sr1Ghq66tYK9y3r8CC1Tf8i8m5nxh8nTvZEf")).startswith("sr1")


@pytest.mark.parametrize("cls", HASH_CLASSES)
@given(data=st.data())
def test_round_trip_and_text_shape(cls: type, data: st.DataObject) -> None:
    raw = data.draw(st.binary(min_size=cls.PREFIX.size, max_size=cls.PREFIX.size))
    value = cls(raw)
    text = str(value)
    assert text.startswith(TEXT_PREFIX[cls])
    assert len(text) == TEXT_LENGTH[cls]
    assert cls.from_b58(text) == value


@given(tag=st.integers(0, 3), raw=st.binary(min_size=20, max_size=20))
def test_implicit_accounts_round_trip(tag: int, raw: bytes) -> None:
    account = ImplicitAccount(tag, raw)
    assert str(account).startswith(f"tz{tag + 1}")
    assert ImplicitAccount.from_b58(str(account)) == account
    assert ImplicitAccount.from_bytes(account.to_bytes()) == account
    assert contract_from_bytes(contract_to_bytes(account)) == account
    assert contract_from_b58(str(account)) == account


def test_contract_encoding_of_originated_contracts() -> None:
    kt = ContractHash.from_b58("KT18amZmM5W7qDWVt2pH6uj7sCEd3kbzLrHT")
    data = contract_to_bytes(kt)
    assert data[0] == 1 and data[-1] == 0 and len(data) == 22
    assert contract_from_bytes(data) == kt


def test_wrong_checksum_is_named() -> None:
    text = "sr163Lv22CdE8QagCwf48PWDTquk6isQwv58"
    with pytest.raises(EncodingError, match="checksum"):
        RollupAddress.from_b58(text)


def test_wrong_prefix_is_named() -> None:
    with pytest.raises(EncodingError, match="not a sr1"):
        RollupAddress.from_b58("KT18amZmM5W7qDWVt2pH6uj7sCEd3kbzLrHT")
    with pytest.raises(EncodingError, match="not an implicit account"):
        ImplicitAccount.from_b58("sr163Lv22CdE8QagCwf48PWDTquk6isQwv57")
    with pytest.raises(EncodingError, match="not a contract address"):
        contract_from_b58("sr163Lv22CdE8QagCwf48PWDTquk6isQwv57")


def test_wrong_length_is_named() -> None:
    text = b58check_encode(RollupAddress.PREFIX.prefix, bytes(21))
    with pytest.raises(EncodingError, match="payload must be 20 bytes, got 21"):
        RollupAddress.from_b58(text)
    with pytest.raises(EncodingError, match="must be 32 bytes, got 3"):
        StateHash(b"abc")


def test_bad_characters_and_empty_text() -> None:
    with pytest.raises(EncodingError, match="invalid character"):
        RollupAddress.from_b58("sr1O0Il")
    with pytest.raises(EncodingError, match="non-empty"):
        RollupAddress.from_b58("")


def test_blake2b_and_reveal_hash() -> None:
    assert blake2b_256(b"") == hashlib.blake2b(b"", digest_size=32).digest()
    reveal = RevealHash.of_data(b"hello")
    assert reveal.to_bytes()[0] == 0 and len(reveal.to_bytes()) == 33
    assert str(reveal).startswith("scrrh1")


def test_contract_bytes_errors() -> None:
    with pytest.raises(EncodingError, match="expected 22 bytes"):
        contract_from_bytes(b"\x00")
    with pytest.raises(EncodingError, match="unknown tag"):
        contract_from_bytes(b"\x07" + bytes(21))
    with pytest.raises(EncodingError, match="padding"):
        contract_from_bytes(b"\x01" + bytes(20) + b"\x01")
    with pytest.raises(EncodingError, match="unknown key type"):
        ImplicitAccount.from_bytes(b"\x09" + bytes(20))
