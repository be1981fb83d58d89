"""Staking: publication rules, bonds, bond recovery, slashing and game outcomes.

Scenario tests named after the Octez tests they reproduce
(``test/integration/operations/test_sc_rollup.ml`` = IT,
``test/unit/test_sc_rollup_storage.ml`` = UST).
"""

from __future__ import annotations

import attrs
import pytest

from spec import staking
from spec.commitment import Commitment, next_commitment_level
from spec.constants import TEST, PastCommitmentPeriod
from spec.game import Draw, Loser
from spec.hashing import CommitmentHash
from spec.operations import Publish, RecoverBond
from spec.staking import (
    BadInboxLevel,
    CommitmentFromFuture,
    CommitmentPastCurfew,
    CommitmentTooOld,
    DoublePublish,
    NotStaked,
    NotStakedOnLccOrAncestor,
    StakerDoubleStake,
    StakerFundsTooLow,
    StakerNotInWhitelist,
    TooFarAhead,
    UnknownCommitment,
    ZeroTickCommitment,
)
from tests.spec.test_state_machine import ALICE, BOB, CAROL, DAVE, POOR, Scenario, state_hash

STAKE = TEST.stake_amount


# -- publication ----------------------------------------------------------------------


def test_publish_deposits_one_bond_and_stakes() -> None:
    s = Scenario()
    s.bake(3)
    c = s.commitment()
    h = s.publish(ALICE, c)
    r = s.r
    assert r.staker_index == {ALICE: 0} and r.stakers == {0: c.inbox_level}
    assert r.commitment_stakers == {h: (0,)}
    assert r.commitments_per_inbox_level[c.inbox_level] == (h,)
    assert r.commitment_added[h] == s.level
    assert r.commitment_first_publication_level[c.inbox_level] == s.level
    assert s.state.ledger.frozen(ALICE, s.rollup) == STAKE
    assert s.state.ledger.balance(ALICE) == 2 * STAKE
    # A second publication reuses the bond.
    s.bake(3)
    s.publish(ALICE, s.commitment(h))
    assert s.state.ledger.frozen(ALICE, s.rollup) == STAKE
    assert s.r.stakers[0] == c.inbox_level + TEST.commitment_period_in_blocks


def test_the_newest_staked_level_is_the_highest_one() -> None:
    """``Stakers[idx] = max(Stakers[idx], inbox_level)``: staking later on a lower
    level does not unlock the bond early."""
    s = Scenario()
    s.bake(5)
    a3 = s.publish(ALICE, s.commitment(tag=1))
    s.publish(BOB, s.commitment(a3, tag=2))
    s.publish(BOB, s.commitment(tag=1))
    assert s.r.stakers[s.r.staker_index[BOB]] == 5
    s.bake(TEST.challenge_window_in_blocks)
    s.cement()
    s.fails(RecoverBond(BOB, s.rollup, BOB), NotStakedOnLccOrAncestor)


def test_zero_tick_commitments_are_forbidden() -> None:
    """IT "0-tick commitments are forbidden"."""
    s = Scenario()
    s.bake(3)
    s.fails(Publish(ALICE, s.rollup, s.commitment(ticks=0)), ZeroTickCommitment)


def test_staker_funds_too_low_and_a_failed_publication_leaves_no_bond() -> None:
    s = Scenario()
    s.bake(3)
    err = s.fails(Publish(POOR, s.rollup, s.commitment()), StakerFundsTooLow)
    assert isinstance(err, StakerFundsTooLow)
    assert (err.staker_balance, err.min_expected_balance) == (1, STAKE)
    # Enough funds but a bad commitment: no bond either (everything rolls back).
    s.fails(Publish(ALICE, s.rollup, s.commitment(level=99)), TooFarAhead)
    assert not s.r.staker_index and not s.state.ledger.frozen_bonds


def test_a_balance_of_exactly_one_bond_is_enough() -> None:
    s = Scenario(balances={ALICE: STAKE})
    s.bake(3)
    s.publish(ALICE, s.commitment())
    assert s.state.ledger.balance(ALICE) == 0


def test_publish_behind_or_at_lcc_is_too_old() -> None:
    """UST "publish behind or at LCC"."""
    s = Scenario()
    genesis = s.r.lcc_commitment
    s.bake(3)
    err = s.fails(
        Publish(ALICE, s.rollup, s.commitment(level=genesis.inbox_level)), CommitmentTooOld
    )
    assert isinstance(err, CommitmentTooOld)
    assert err.last_cemented_inbox_level == genesis.inbox_level


def test_publish_too_far_ahead() -> None:
    s = Scenario()
    lcc_level = s.r.lcc_level
    s.bake_until(lcc_level + TEST.max_lookahead_in_blocks + 5)
    # A chain of commitments up to the lookahead is fine, one more period is not.
    pred = s.r.lcc
    level = lcc_level
    while next_commitment_level(level, TEST) - lcc_level <= TEST.max_lookahead_in_blocks:
        pred = s.publish(ALICE, s.commitment(pred))
        level = next_commitment_level(level, TEST)
    s.fails(Publish(ALICE, s.rollup, s.commitment(pred)), TooFarAhead)


def test_publish_needs_a_predecessor() -> None:
    """UST "publish needs a predecessor"."""
    s = Scenario()
    s.bake(4)
    unknown = CommitmentHash(b"\x99" * 32)
    err = s.fails(Publish(ALICE, s.rollup, s.commitment(unknown, level=3)), UnknownCommitment)
    assert isinstance(err, UnknownCommitment) and err.commitment == unknown


def test_publish_to_wrong_inbox_level() -> None:
    """UST "publish to wrong inbox level"."""
    s = Scenario()
    s.bake(4)
    err = s.fails(Publish(ALICE, s.rollup, s.commitment(level=4)), BadInboxLevel)
    assert isinstance(err, BadInboxLevel) and (err.expected, err.provided) == (3, 4)


def test_publish_from_the_future_is_not_allowed() -> None:
    """UST "publish from the future is not allowed": the earliest publication for
    inbox level L is in the block at L + 1."""
    s = Scenario()
    c = s.commitment()
    s.bake_until(c.inbox_level)
    err = s.fails(Publish(ALICE, s.rollup, c), CommitmentFromFuture)
    assert isinstance(err, CommitmentFromFuture)
    assert (err.current_level, err.inbox_level) == (c.inbox_level, c.inbox_level)
    s.bake()
    s.publish(ALICE, c)


def test_publish_twice_is_a_double_publish() -> None:
    """UST "publish twice"."""
    s = Scenario()
    s.bake(3)
    h = s.publish(ALICE, s.commitment())
    err = s.fails(Publish(ALICE, s.rollup, s.commitment()), DoublePublish)
    assert isinstance(err, DoublePublish) and err.commitment == h


def test_publish_will_fail_if_staker_is_double_staking() -> None:
    """IT "publish will fail if staker is double staking"."""
    s = Scenario()
    s.bake(3)
    s.publish(ALICE, s.commitment(tag=1))
    s.fails(Publish(ALICE, s.rollup, s.commitment(tag=2)), StakerDoubleStake)


def test_publish_to_any_commitment_of_a_branch() -> None:
    """IT "publish to any commitment of a branch": the predecessor need not be the
    staker's; identical commitments share one entry."""
    s = Scenario()
    s.bake(7)
    a1 = s.publish(ALICE, s.commitment(tag=1))
    a2 = s.publish(ALICE, s.commitment(a1, tag=2))
    b2 = s.publish(BOB, s.commitment(a1, tag=2))
    assert a2 == b2 and s.r.commitment_stakers[a2] == (1, 0)
    s.publish(CAROL, s.commitment(a2, tag=3))
    assert s.r.stakers[2] == s.r.commitments[a2].inbox_level + 2


def test_publish_commitment_returns_level_when_commitment_was_first_published() -> None:
    """IT "publish commitment returns level when commitment was first published"."""
    s = Scenario()
    s.bake(3)
    c = s.commitment()
    first = s.level
    s.publish(ALICE, c)
    s.bake(3)
    _, h, published_at = staking.publish_commitment(s.state, Publish(BOB, s.rollup, c), TEST)
    assert h == c.hash() and published_at == first


def test_the_curfew_functionality() -> None:
    """IT "the curfew functionality": no commitment of any hash for an inbox level
    later than ``challenge_window`` blocks after the first one; the bound is
    inclusive."""
    s = Scenario()
    s.bake(3)
    first = s.level
    s.publish(ALICE, s.commitment(tag=1))
    s.bake_until(first + TEST.challenge_window_in_blocks)
    s.publish(BOB, s.commitment(tag=2))
    s.bake()
    err = s.fails(Publish(CAROL, s.rollup, s.commitment(tag=3)), CommitmentPastCurfew)
    assert isinstance(err, CommitmentPastCurfew) and err.first == first
    # Re-publishing an existing hash is refused too.
    s.fails(Publish(CAROL, s.rollup, s.commitment(tag=1)), CommitmentPastCurfew)


def test_a_commitment_can_be_published_after_inbox_level_plus_challenge_window() -> None:
    """IT "a commitment can be published after the inbox_level + challenge window is
    passed": the curfew starts at the first publication."""
    s = Scenario()
    c = s.commitment()
    s.bake_until(c.inbox_level + 3 * TEST.challenge_window_in_blocks)
    s.publish(ALICE, c)


def test_past_commitment_periods_set_the_next_level() -> None:
    """``next_commitment_level`` uses the period of the protocol in force."""
    c = attrs.evolve(TEST, past_commitment_periods=(PastCommitmentPeriod(3, 8),))
    assert [next_commitment_level(x, c) for x in (1, 4, 5, 6)] == [4, 7, 8, 8]
    s = Scenario(c)
    s.bake(7)
    s.fails(Publish(ALICE, s.rollup, s.commitment(level=3)), BadInboxLevel)
    h = s.publish(ALICE, s.commitment(level=4))
    h = s.publish(ALICE, s.commitment(h, level=7))
    s.bake(3)
    s.publish(ALICE, s.commitment(h, level=9))


def test_submit_a_commitment_with_a_non_whitelisted_staker() -> None:
    """IT "Submit a commitment with a (non-)whitelisted staker"."""
    s = Scenario(whitelist=(ALICE,))
    s.bake(3)
    err = s.fails(Publish(BOB, s.rollup, s.commitment()), StakerNotInWhitelist)
    assert isinstance(err, StakerNotInWhitelist) and err.staker == BOB
    s.publish(ALICE, s.commitment())
    # With private rollups disabled, the whitelist is not checked.
    s.c = attrs.evolve(TEST, private_enable=False)
    s.publish(BOB, s.commitment())


# -- recovering the bond ------------------------------------------------------------------


def test_withdraw_fails_when_staked_after_lcc() -> None:
    """UST "withdraw fails when staked after LCC"."""
    s = Scenario()
    s.bake(3)
    c = s.commitment()
    s.publish(ALICE, c)
    err = s.fails(RecoverBond(ALICE, s.rollup, ALICE), NotStakedOnLccOrAncestor)
    assert isinstance(err, NotStakedOnLccOrAncestor)
    assert (err.staked_level, err.lcc_level) == (c.inbox_level, s.r.lcc_level)


def test_withdraw_when_staked_before_or_at_lcc_anyone_may_trigger_it() -> None:
    """UST "withdraw when staked before or at LCC"; IT "can publish a commit, cement
    it and withdraw stake". The operation's source need not be the staker; the
    funds go to the staker."""
    s = Scenario()
    h = s.publish_and_cement(s.commitment())
    assert s.r.lcc == h
    carol_before = s.state.ledger.balance(CAROL)
    s.apply(RecoverBond(CAROL, s.rollup, ALICE))
    assert s.state.ledger.balance(ALICE) == 3 * STAKE
    assert s.state.ledger.balance(CAROL) == carol_before
    assert not s.r.is_staker(ALICE) and not s.r.stakers
    assert s.state.ledger.frozen(ALICE, s.rollup) == 0


def test_withdraw_only_compares_levels() -> None:
    """A staker that only staked on a descendant of a losing commitment is never
    slashed and recovers its bond once the LCC reaches its level (reference §5.5,
    §5.7): which commitments were cemented is not checked."""
    s = Scenario()
    s.bake(5)
    a1 = s.publish(ALICE, s.commitment(tag=1))
    b1 = s.publish(BOB, s.commitment(tag=2))
    c2 = s.publish(CAROL, s.commitment(b1, tag=3))
    s.state = staking.remove_staker(s.state, s.rollup, BOB, TEST)  # BOB lost a game
    s.bake_until(s.r.commitment_added[a1] + TEST.challenge_window_in_blocks)
    s.cement()
    s.publish(ALICE, s.commitment(a1, tag=4))
    s.fails(RecoverBond(DAVE, s.rollup, CAROL), NotStakedOnLccOrAncestor)
    s.bake(TEST.challenge_window_in_blocks)
    s.cement()
    assert c2 not in s.r.commitments  # deallocated as dangling
    s.apply(RecoverBond(DAVE, s.rollup, CAROL))
    assert s.state.ledger.balance(CAROL) == 3 * STAKE


def test_withdraw_twice_fails() -> None:
    """UST "withdraw twice fails"."""
    s = Scenario()
    s.publish_and_cement(s.commitment())
    s.apply(RecoverBond(ALICE, s.rollup, ALICE))
    err = s.fails(RecoverBond(ALICE, s.rollup, ALICE), NotStaked)
    assert isinstance(err, NotStaked) and err.staker == ALICE


def test_removed_staker_can_not_withdraw() -> None:
    """UST "removed staker can not withdraw"."""
    s = Scenario()
    s.publish_and_cement(s.commitment())
    s.state = staking.remove_staker(s.state, s.rollup, ALICE, TEST)
    s.check_invariants()
    s.fails(RecoverBond(ALICE, s.rollup, ALICE), NotStaked)


# -- removal and game outcomes --------------------------------------------------------------


def test_remove_staker_burns_the_whole_bond_and_keeps_commitments() -> None:
    """UST "remove staker"."""
    s = Scenario()
    s.bake(3)
    h = s.publish(ALICE, s.commitment())
    s.state = staking.remove_staker(s.state, s.rollup, ALICE, TEST)
    s.check_invariants()
    assert s.state.ledger.burnt == STAKE and s.state.ledger.frozen(ALICE, s.rollup) == 0
    assert h in s.r.commitments and s.r.commitment_stakers[h] == (0,)
    assert s.r.active_stakers_of(h) == ()
    with pytest.raises(NotStaked):
        staking.remove_staker(s.state, s.rollup, ALICE, TEST)


def test_staker_come_back_after_being_slashed() -> None:
    """UST "staker come back after being slashed": a new index; old commitments are
    not revived."""
    s = Scenario()
    s.bake(3)
    h = s.publish(ALICE, s.commitment(tag=1))
    s.state = staking.remove_staker(s.state, s.rollup, ALICE, TEST)
    s.bake(3)
    h2 = s.publish(ALICE, s.commitment(h, tag=2))
    assert s.r.staker_index[ALICE] == 1 and s.r.staker_index_counter == 2
    assert s.r.active_stakers_of(h) == () and s.r.active_stakers_of(h2) == (1,)
    # The refuted commitment gets support again if re-published before the curfew.
    s.publish(BOB, s.commitment(tag=1))
    assert s.r.active_stakers_of(h) == (2,)


def _two_stakers_in_a_game() -> tuple[Scenario, tuple[CommitmentHash, CommitmentHash]]:
    s = Scenario()
    s.bake(3)
    a = s.publish(ALICE, s.commitment(tag=1))
    b = s.publish(BOB, s.commitment(tag=2))
    return s, (a, b)


def test_loser_still_staked_is_burnt_and_winner_rewarded_half() -> None:
    """Tezt "participant of a refutation game are slashed-rewarded": frozen −stake,
    punishments +stake, rewards −stake/2, winner +stake/2."""
    s, _ = _two_stakers_in_a_game()
    bob_before = s.state.ledger.balance(BOB)
    s.state = staking.apply_game_result(
        s.state, s.rollup, (ALICE, BOB), Loser(ALICE, "conflict_resolved"), TEST
    )
    s.check_invariants()
    ledger = s.state.ledger
    assert ledger.burnt == STAKE and ledger.minted == STAKE // 2
    assert ledger.balance(BOB) == bob_before + STAKE // 2
    assert not s.r.is_staker(ALICE) and s.r.is_staker(BOB)


def test_forfeit_burns_nothing_and_pays_nothing() -> None:
    """IT "win refutation game by forfeit": the loser was already removed."""
    s, _ = _two_stakers_in_a_game()
    s.state = staking.remove_staker(s.state, s.rollup, ALICE, TEST)
    before = s.state.ledger
    s.state = staking.apply_game_result(
        s.state, s.rollup, (ALICE, BOB), Loser(ALICE, "conflict_resolved"), TEST
    )
    assert s.state.ledger == before


def test_draw_burns_every_still_staked_player() -> None:
    """IT "Two invalid final moves end the game in a draw situation", "win
    refutation game by forfeit (with draw)"."""
    s, _ = _two_stakers_in_a_game()
    s.state = staking.apply_game_result(s.state, s.rollup, (ALICE, BOB), Draw(), TEST)
    s.check_invariants()
    assert s.state.ledger.burnt == 2 * STAKE and s.state.ledger.minted == 0
    s2, _ = _two_stakers_in_a_game()
    s2.state = staking.remove_staker(s2.state, s2.rollup, BOB, TEST)
    s2.state = staking.apply_game_result(s2.state, s2.rollup, (ALICE, BOB), Draw(), TEST)
    assert s2.state.ledger.burnt == 2 * STAKE and not s2.r.stakers


def test_game_results_remove_the_game_but_remove_staker_keeps_games() -> None:
    s, (a, b) = _two_stakers_in_a_game()
    s.bake(3)
    from spec.game import Start
    from spec.operations import Refute

    s.apply(Refute(ALICE, s.rollup, BOB, Start(a, b)))
    assert (ALICE, BOB) in s.r.games
    removed = staking.remove_staker(s.state, s.rollup, ALICE, TEST)
    assert (ALICE, BOB) in removed.rollups[s.rollup].games
    settled = staking.apply_game_result(s.state, s.rollup, (ALICE, BOB), Draw(), TEST)
    assert (ALICE, BOB) not in settled.rollups[s.rollup].games


def test_one_bond_per_rollup() -> None:
    s = Scenario()
    from spec import michelson
    from spec.operations import Originate

    s.apply(Originate(BOB, "wasm_2_0_0", b"other", michelson.parse_type("unit")))
    other = next(a for a in s.state.rollups if a != s.rollup)
    s.bake(3)
    s.publish(DAVE, s.commitment())
    genesis = s.state.rollups[other].lcc_commitment
    c = Commitment(
        state_hash(5), next_commitment_level(genesis.inbox_level, TEST), genesis.hash(), 1
    )
    s.apply(Publish(DAVE, other, c))
    assert s.state.ledger.frozen(DAVE, s.rollup) == STAKE == s.state.ledger.frozen(DAVE, other)
    assert s.state.ledger.balance(DAVE) == STAKE
