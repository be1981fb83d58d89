"""Inbox levels, skip lists, hashes and proofs."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec import inbox as ib
from spec import skip_list
from spec.constants import MAINNET, TEST
from spec.errors import EncodingError
from spec.hashing import BlockHash
from spec.inbox_message import External, StartOfLevel, deserialize, serialize


def build(levels: list[list[bytes]], first: int = 0) -> ib.Inbox:
    inbox = ib.genesis(first, 0, BlockHash.zero(), "alpha_current", MAINNET)
    for messages in levels:
        inbox = ib.add_level(
            inbox, messages, MAINNET, predecessor_timestamp=0, predecessor=BlockHash.zero()
        )
    return inbox


def ext(text: str) -> bytes:
    return serialize(External(text.encode()))


def test_level_structure_sol_ipl_messages_eol() -> None:
    inbox = build([[ext("a"), ext("b")], []])
    kinds = [[deserialize(m).kind for m in w.messages] for w in inbox.witnesses]
    assert kinds[0] == ["start_of_level", "info_per_level", "protocol_migration", "end_of_level"]
    assert kinds[1] == ["start_of_level", "info_per_level", "external", "external", "end_of_level"]
    assert kinds[2] == ["start_of_level", "info_per_level", "end_of_level"]
    assert [w.level for w in inbox.witnesses] == [0, 1, 2]
    assert inbox.level == 2


def test_payload_head_hash_matches_an_independent_computation() -> None:
    # Computed independently (research notes, not an Octez regression value) for the
    # level [SOL, IPL(epoch, zero hash), external "hello", EOL].
    witness = ib.level_witness(1, 0, BlockHash.zero(), [ext("hello")], MAINNET)
    witness = ib.add_protocol_message(witness, deserialize(b"\x00\x02"))
    assert witness.head.index == 3
    assert witness.head_hash.raw.hex() == (
        "5e4ce508f975c08bebde554681f99a2217dc578450bc3dfde9f9ea1abf6cee07"
    )
    assert str(witness.head_hash) == "srib234NMFXSAx8hS8g2Y6G3rLd32oycgYmb6Bju79MXBizaxT1uTeq"


def test_history_cell_hash_uses_the_decimal_level() -> None:
    inbox = build([[]], first=4241)
    cell = inbox.history[-1]
    assert cell.content.level == 4242
    manual = ib.blake2b_256(cell.content.hash.raw + b"4242" + b"".join(cell.back_pointers))
    assert inbox.hash().raw == manual


@given(st.integers(1, 300))
def test_back_pointers_point_where_octez_says(n: int) -> None:
    cells = [skip_list.genesis(0)]
    ptrs = [b"%032d" % 0]
    for i in range(1, n + 1):
        cells.append(skip_list.next_cell(cells[-1], ptrs[-1], i))
        ptrs.append(b"%032d" % i)
    last = cells[-1]
    for i, ptr in enumerate(last.back_pointers):
        assert ptr == ptrs[skip_list.pointed_index(last.index, i)]
    assert len(last.back_pointers) == len([p for p in range(20) if 4**p <= n])


def test_back_path_is_logarithmic() -> None:
    cells = [skip_list.genesis(0)]
    ptrs = [b"%032d" % 0]
    for i in range(1, 5000):
        cells.append(skip_list.next_cell(cells[-1], ptrs[-1], i))
        ptrs.append(b"%032d" % i)
    by_ptr = dict(zip(ptrs, cells, strict=True))
    path = skip_list.back_path(by_ptr.get, ptrs[-1], 17)
    assert path is not None and path[-1] == ptrs[17]
    assert len(path) < 40
    assert skip_list.valid_back_path(by_ptr.get, ptrs[-1], ptrs[17], path)
    # a non-minimal path (one step at a time) is rejected
    one_by_one = [ptrs[i] for i in range(4999, 4899, -1)]
    assert not skip_list.valid_back_path(by_ptr.get, ptrs[-1], ptrs[4900], one_by_one)
    minimal = skip_list.back_path(by_ptr.get, ptrs[-1], 4900)
    assert minimal is not None and len(minimal) < len(one_by_one)
    assert skip_list.valid_back_path(by_ptr.get, ptrs[-1], ptrs[4900], minimal)


def test_messages_limit_per_level() -> None:
    small = attrs.evolve(TEST, max_number_of_messages_per_level=3)
    witness = ib.level_witness(1, 0, BlockHash.zero(), [ext("1"), ext("2"), ext("3")], small)
    assert witness.head.index == 4
    with pytest.raises(ib.InboxLevelReachedMessagesLimit, match="maximum of 3 messages"):
        ib.add_message(witness, ext("4"), small)


def test_every_input_is_provable_and_verifies() -> None:
    inbox = build([[ext(str(i)) for i in range(k)] for k in (0, 3, 17, 1, 6)])
    snapshot_index = len(inbox.history) - 1
    snapshot = inbox.snapshot()
    for witness in inbox.witnesses:
        for counter in range(len(witness.messages) + 1):
            proof = ib.produce_proof(inbox, snapshot_index, witness.level, counter)
            assert ib.decode_proof(ib.encode_proof(proof)) == proof
            for mode in ("intended", "octez"):
                result = ib.verify_proof(witness.level, counter, snapshot, proof, mode)
                if counter < len(witness.messages):
                    assert result == ib.InboxInput(
                        witness.level, counter, witness.messages[counter]
                    )
                elif witness.level == inbox.level:
                    assert result is None
                else:
                    assert result == ib.InboxInput(witness.level + 1, 0, serialize(StartOfLevel()))


def test_tampered_proofs_are_rejected() -> None:
    inbox = build([[ext("a"), ext("b"), ext("c")], [ext("d")]])
    snapshot = inbox.snapshot()
    proof = ib.produce_proof(inbox, 2, 1, 3)
    forged_payload = attrs.evolve(
        proof, message_proof=attrs.evolve(proof.message_proof, payload=ext("x"))
    )
    with pytest.raises(ib.InvalidInboxProof, match="does not hash"):
        ib.verify_proof(1, 3, snapshot, forged_payload, "octez")
    with pytest.raises(ib.InvalidInboxProof, match="ends at index"):
        ib.verify_proof(1, 2, snapshot, proof, "octez")
    no_payload = attrs.evolve(proof, message_proof=attrs.evolve(proof.message_proof, payload=None))
    with pytest.raises(ib.InvalidInboxProof, match="no payload"):
        ib.verify_proof(1, 3, snapshot, no_payload, "octez")
    truncated = attrs.evolve(proof, inclusion_proof=proof.inclusion_proof[1:])
    with pytest.raises(ib.InvalidInboxProof, match="minimal back path from the snapshot"):
        ib.verify_proof(1, 3, snapshot, truncated, "octez")
    with pytest.raises(ib.InvalidInboxProof, match="beyond the end"):
        ib.verify_proof(1, 9, snapshot, proof, "octez")
    with pytest.raises(ib.InvalidInboxProof, match="negative"):
        ib.verify_proof(1, -1, snapshot, proof, "octez")


def test_octez_mode_does_not_check_the_proven_level() -> None:
    """reference §3.6: a proof of level 2's message 1 passes as level 1's message 1 in
    ``octez`` mode (no level check), and is rejected in ``intended`` mode."""
    inbox = build([[ext("level 1")], [ext("level 2")]])
    snapshot = inbox.snapshot()
    other = ib.produce_proof(inbox, 2, 2, 2)  # level 2, message 2 = external "level 2"
    substituted = ib.verify_proof(1, 2, snapshot, other, "octez")
    assert substituted == ib.InboxInput(1, 2, ext("level 2"))
    assert substituted != ib.verify_proof(1, 2, snapshot, ib.produce_proof(inbox, 2, 1, 2), "octez")
    with pytest.raises(ib.InvalidInboxProof, match="not the claimed level 1"):
        ib.verify_proof(1, 2, snapshot, other, "intended")


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "truncated inclusion proof length"),
        (b"\x00\x00\x00\x05", "beyond the end"),
        (b"\x00\x00\x00\x00\x00\x00\x00\x00\x07", "payload tag must be 00 or ff"),
        (b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "1 trailing bytes"),
        (b"\x00\x00\x00\x00\x00\x00\x00\x00\xff\x00\x00\x00\x09ab", "truncated payload"),
    ],
)
def test_malformed_proof_bytes(data: bytes, needle: str) -> None:
    with pytest.raises(EncodingError, match=needle):
        ib.decode_proof(data)


def test_levels_must_follow_each_other() -> None:
    inbox = build([])
    with pytest.raises(EncodingError, match="does not follow"):
        ib.finalize_level(inbox, ib.init_witness(5))
