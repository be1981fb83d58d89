"""Constants presets and Octez's consistency checks."""

from __future__ import annotations

import attrs
import pytest

from spec.constants import HISTORY, MAINNET, SEED, TEST, TEZ, preset
from spec.errors import ConstantsError


def test_mainnet_values_match_octez_alpha() -> None:
    # reference/protocol.md §1.1 (default_parameters.ml, constants_mainnet)
    assert MAINNET.commitment_period_in_blocks == 150
    assert MAINNET.challenge_window_in_blocks == 201_600
    assert MAINNET.timeout_period_in_blocks == 100_800
    assert MAINNET.max_lookahead_in_blocks == 432_000
    assert MAINNET.max_active_outbox_levels == 151_200
    assert MAINNET.stake_amount == 10_000 * TEZ == 10_000_000_000
    assert MAINNET.number_of_sections_in_dissection == 32
    assert MAINNET.max_number_of_stored_cemented_commitments == 5
    assert MAINNET.max_number_of_parallel_games == 32
    assert MAINNET.max_outbox_messages_per_level == 100
    assert MAINNET.origination_size == 6_314
    assert not MAINNET.arith_pvm_enable and not MAINNET.riscv_pvm_enable
    assert MAINNET.canonical_rollup_address == "sr1Ghq66tYK9y3r8CC1Tf8i8m5nxh8nTvZEf"
    assert MAINNET.message_size_limit == 4_096
    assert MAINNET.max_number_of_messages_per_level == 1_000_000
    assert MAINNET.ticks_per_snapshot == 50_000_000_000_000


def test_seed_is_the_developer_docs_figures() -> None:
    assert SEED.commitment_period_in_blocks == 60
    assert SEED.stake_amount == 10_000 * TEZ
    # two weeks of 15-second blocks
    assert SEED.challenge_window_in_blocks * 15 == 14 * 86_400


def test_history_rows_are_consistent_with_block_times() -> None:
    for row in HISTORY:
        # challenge window: two weeks; timeout: one week (rounded down to blocks)
        assert row.challenge_window_in_blocks == 14 * 86_400 // row.block_time_seconds
        assert row.timeout_period_in_blocks == 7 * 86_400 // row.block_time_seconds
        assert row.commitment_period_in_blocks == 900 // row.block_time_seconds
    assert HISTORY[-1].max_active_outbox_levels == 151_200  # frozen at the 8 s value


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"commitment_period_in_blocks": 0}, "commitment_period_in_blocks must be positive"),
        ({"max_lookahead_in_blocks": 2}, "greater than commitment_period_in_blocks"),
        ({"max_lookahead_in_blocks": 3}, "greater than challenge_window_in_blocks"),
        ({"max_number_of_stored_cemented_commitments": 0}, "must be positive"),
        ({"challenge_window_in_blocks": -1}, "must be non-negative"),
        ({"stake_amount": -5}, "must be non-negative"),
        ({"number_of_sections_in_dissection": 256}, "uint8"),
        ({"origination_size": "big"}, "must be an integer"),
    ],
)
def test_check_constants_rejects(change: dict[str, object], needle: str) -> None:
    with pytest.raises(ConstantsError, match=needle):
        attrs.evolve(TEST, **change)


def test_presets_by_name_and_modes() -> None:
    assert preset("test") is TEST
    with pytest.raises(ConstantsError, match="unknown constants preset"):
        preset("nope")
    assert TEST.with_mode("octez").mode == "octez"
    with pytest.raises(ConstantsError, match="unknown mode"):
        TEST.with_mode("lenient")
