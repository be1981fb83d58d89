"""Dissection checks: every Octez error, the WASM override, and honest dissections."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec import dissection as d
from spec.dissection import Chunk
from spec.hashing import StateHash

H = [StateHash(bytes([i]) * 32) for i in range(40)]
START = Chunk(H[0], 0)
STOP = Chunk(H[1], 8)


def chunks(ticks: list[int], hashes: list[StateHash | None]) -> tuple[Chunk, ...]:
    return tuple(Chunk(h, t) for t, h in zip(ticks, hashes, strict=True))


def check(
    dissection: tuple[Chunk, ...], start: Chunk = START, stop: Chunk = STOP, n: int = 4
) -> None:
    d.check_dissection_default(n, start, stop, dissection)


GOOD = chunks([0, 2, 4, 6, 8], [H[0], H[2], H[3], H[4], H[5]])


def test_valid_dissection() -> None:
    check(GOOD)


def test_number_of_sections_mismatch_when_long() -> None:
    with pytest.raises(d.DissectionNumberOfSectionsMismatch) as e:
        check(chunks([0, 4, 8], [H[0], H[2], H[5]]))
    assert (e.value.expected, e.value.given) == (4, 2)
    assert e.value.octez_error == "smart_rollup_dissection_number_of_sections_mismatch"


def test_number_of_sections_mismatch_when_short() -> None:
    stop = Chunk(H[1], 3)
    with pytest.raises(d.DissectionNumberOfSectionsMismatch) as e:
        check(chunks([0, 3], [H[0], H[2]]), stop=stop)
    assert (e.value.expected, e.value.given) == (3, 1)


def test_one_tick_section_cannot_be_dissected() -> None:
    with pytest.raises(d.DissectionInvalidNumberOfSections):
        check(chunks([0, 1], [H[0], H[2]]), stop=Chunk(H[1], 1))


def test_start_hash_mismatch() -> None:
    with pytest.raises(d.DissectionStartHashMismatch):
        check(chunks([0, 2, 4, 6, 8], [H[9], H[2], H[3], H[4], H[5]]))


def test_start_hash_none_is_rejected_even_if_equal() -> None:
    with pytest.raises(d.DissectionStartHashMismatch) as e:
        check(chunks([0, 2, 4, 6, 8], [None, None, None, None, None]), start=Chunk(None, 0))
    assert "must have a state hash" in str(e.value)


def test_stop_hash_must_change() -> None:
    with pytest.raises(d.DissectionStopHashMismatch):
        check(chunks([0, 2, 4, 6, 8], [H[0], H[2], H[3], H[4], H[1]]))


def test_stop_none_equals_none() -> None:
    with pytest.raises(d.DissectionStopHashMismatch):
        check(
            chunks([0, 2, 4, 6, 8], [H[0], H[2], H[3], None, None]),
            stop=Chunk(None, 8),
        )


def test_edge_ticks_mismatch() -> None:
    with pytest.raises(d.DissectionEdgeTicksMismatch) as e:
        check(chunks([0, 2, 4, 6, 7], [H[0], H[2], H[3], H[4], H[5]]))
    assert e.value.dissection_stop_tick == 7


def test_none_then_state_is_invalid_shape() -> None:
    with pytest.raises(d.DissectionInvalidSuccessiveStatesShape):
        check(chunks([0, 2, 4, 6, 8], [H[0], None, H[3], H[4], H[5]]))


def test_none_then_none_is_allowed() -> None:
    check(chunks([0, 2, 4, 6, 8], [H[0], H[3], None, None, None]))


def test_ticks_not_increasing() -> None:
    with pytest.raises(d.DissectionTicksNotIncreasing):
        check(chunks([0, 4, 4, 6, 8], [H[0], H[2], H[3], H[4], H[5]]))


def test_invalid_distribution() -> None:
    with pytest.raises(d.DissectionInvalidDistribution) as e:
        check(chunks([0, 5, 6, 7, 8], [H[0], H[2], H[3], H[4], H[5]]))
    assert e.value.section_maximum_size == 4


def test_errors_render_as_one_sentence() -> None:
    with pytest.raises(d.DissectionInvalidDistribution) as e:
        check(chunks([0, 5, 6, 7, 8], [H[0], H[2], H[3], H[4], H[5]]))
    assert "\n" not in str(e.value)


# -- WASM ------------------------------------------------------------------------------

S = 100


def test_wasm_small_section_uses_default_check() -> None:
    start, stop = Chunk(H[0], 0), Chunk(H[1], 8)
    d.check_dissection_wasm(4, start, stop, GOOD, S)


def test_wasm_aligned_section() -> None:
    start, stop = Chunk(H[0], 0), Chunk(H[1], 8 * S)
    good = chunks([0, 2 * S, 4 * S, 6 * S, 8 * S], [H[0], H[2], H[3], H[4], H[5]])
    d.check_dissection_wasm(4, start, stop, good, S)
    bad = chunks([0, 2 * S + 1, 4 * S, 6 * S, 8 * S], [H[0], H[2], H[3], H[4], H[5]])
    with pytest.raises(d.WasmInvalidDissectionDistribution):
        d.check_dissection_wasm(4, start, stop, bad, S)


def test_wasm_unaligned_section_counts_the_remainder() -> None:
    start, stop = Chunk(H[0], 0), Chunk(H[1], 2 * S + 7)
    with pytest.raises(d.DissectionNumberOfSectionsMismatch) as e:
        d.check_dissection_wasm(32, start, stop, chunks([0, S, 2 * S + 7], [H[0], H[2], H[3]]), S)
    assert e.value.expected == 3
    d.check_dissection_wasm(
        32, start, stop, chunks([0, S, 2 * S, 2 * S + 7], [H[0], H[2], H[3], H[4]]), S
    )


@given(
    start=st.integers(0, 50),
    length=st.integers(1, 60),
    offset=st.integers(0, S - 1),
    n=st.sampled_from([4, 5, 32]),
)
def test_honest_wasm_dissections_are_valid(start: int, length: int, offset: int, n: int) -> None:
    a, b = start * S, (start + length) * S + offset
    if b - a < 2:
        return
    ticks = d.wasm_dissection_ticks(a, b, n, S)
    dissection = (*tuple(Chunk(H[2], t) for t in ticks[:-1]), Chunk(H[3], b))
    d.check_dissection_wasm(n, Chunk(H[2], a), Chunk(H[4], b), dissection, S)


# -- honest default dissections ---------------------------------------------------------------


@given(start=st.integers(0, 1000), dist=st.integers(2, 5000), n=st.integers(3, 64))
def test_honest_default_dissections_are_valid(start: int, dist: int, n: int) -> None:
    ticks = d.default_dissection_ticks(start, start + dist, n)
    dissection = (*tuple(Chunk(H[2], t) for t in ticks[:-1]), Chunk(None, start + dist))
    check(dissection, start=Chunk(H[2], start), stop=Chunk(H[5], start + dist), n=n)
    assert max(b - a for a, b in itertools.pairwise(ticks)) <= dist // 2


def test_two_sections_cannot_split_an_odd_section() -> None:
    """With ``number_of_sections_in_dissection = 2`` an odd section has no valid
    dissection (two sections of at most ``floor(d/2)`` ticks cannot cover ``d``)."""
    with pytest.raises(d.DissectionInvalidDistribution):
        check(chunks([0, 2, 5], [H[0], H[2], H[3]]), stop=Chunk(H[1], 5), n=2)
    with pytest.raises(d.DissectionInvalidDistribution):
        check(chunks([0, 3, 5], [H[0], H[2], H[3]]), stop=Chunk(H[1], 5), n=2)


def test_chunk_json() -> None:
    assert Chunk(None, 3).to_json() == {"tick": "3"}
    assert Chunk(H[1], 3).to_json()["state"] == str(H[1])


def test_wasm_three_sections_can_leave_no_valid_dissection() -> None:
    """With ``N = 3``, a section of 3 snapshots plus a remainder of more than half a
    snapshot has no valid WASM dissection (every choice of two inner snapshot
    ticks leaves a section longer than ``max(S, 3S/2 / ...)``): the Octez check
    assumes ``N`` is large (32 on mainnet)."""
    start, stop = Chunk(H[0], 0), Chunk(H[1], 3 * S + 51)
    for inner in [(S, 2 * S), (S, 3 * S), (2 * S, 3 * S)]:
        ticks = [0, *inner, 3 * S + 51]
        with pytest.raises(d.DissectionInvalidDistribution):
            d.check_dissection_wasm(3, start, stop, chunks(ticks, [H[0], H[2], H[3], H[4]]), S)
