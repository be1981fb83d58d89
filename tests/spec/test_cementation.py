"""Cementation: the challenge window, disputes, deallocation, stored cemented commitments.

Scenario tests named after the Octez tests they reproduce
(``test/integration/operations/test_sc_rollup.ml`` = IT,
``test/unit/test_sc_rollup_storage.ml`` = UST).
"""

from __future__ import annotations

import attrs

from spec import cementation, staking
from spec.cementation import CommitmentTooRecent, Disputed, NoValidCommitmentToCement
from spec.commitment import ZERO_COMMITMENT_HASH
from spec.constants import TEST
from spec.operations import Cement, Publish
from spec.staking import CommitmentTooOld
from tests.spec.test_state_machine import ALICE, BOB, CAROL, DAVE, Scenario

WINDOW = TEST.challenge_window_in_blocks


def test_check_the_challenge_window_period_boundaries() -> None:
    """IT "check the challenge window period boundaries": at ``added + window − 1``
    the cementation fails, at ``added + window`` it succeeds."""
    s = Scenario()
    s.bake(3)
    added = s.level
    h = s.publish(ALICE, s.commitment())
    s.bake_until(added + WINDOW - 1)
    err = s.fails(Cement(DAVE, s.rollup), CommitmentTooRecent)
    assert isinstance(err, CommitmentTooRecent)
    assert (err.current_level, err.min_level) == (added + WINDOW - 1, added + WINDOW)
    s.bake()
    s.cement()
    assert s.r.lcc == h and s.r.lcc_level == 3


def test_cement_deadline_uses_oldest_add_time() -> None:
    """UST "cement deadline uses oldest add time"."""
    s = Scenario()
    s.bake(3)
    added = s.level
    c = s.commitment()
    s.publish(ALICE, c)
    s.bake(2)
    s.publish(BOB, c)
    assert s.r.commitment_added[c.hash()] == added
    s.bake_until(added + WINDOW)
    s.cement()


def test_cement_fails_when_disputed() -> None:
    """IT "cement will fail if commitment is contested"; UST "no cement on conflict"."""
    s = Scenario()
    s.bake(3)
    a = s.publish(ALICE, s.commitment(tag=1))
    b = s.publish(BOB, s.commitment(tag=2))
    s.bake(2 * WINDOW)
    err = s.fails(Cement(DAVE, s.rollup), Disputed)
    assert isinstance(err, Disputed) and {err.first, err.second} == {a, b}


def test_cement_conflicted_branches_once_the_loser_is_removed() -> None:
    """UST "cement conflicted branches": a refuted commitment (no active staker) is
    not a candidate; it is deallocated as dangling when its level is cemented."""
    s = Scenario()
    s.bake(3)
    a = s.publish(ALICE, s.commitment(tag=1))
    b = s.publish(BOB, s.commitment(tag=2))
    s.state = staking.remove_staker(s.state, s.rollup, BOB, TEST)
    s.bake(WINDOW)
    s.cement()
    r = s.r
    assert r.lcc == a
    assert b not in r.commitments and b not in r.commitment_added
    assert b not in r.commitment_stakers and a not in r.commitment_stakers
    assert a not in r.commitment_added and a in r.commitments
    assert 3 not in r.commitments_per_inbox_level
    assert 3 not in r.commitment_first_publication_level


def test_nothing_to_cement() -> None:
    s = Scenario()
    s.bake(2 * WINDOW)
    err = s.fails(Cement(DAVE, s.rollup), NoValidCommitmentToCement)
    assert isinstance(err, NoValidCommitmentToCement) and err.inbox_level == 3
    # A commitment whose stakers were all removed is never a candidate.
    s.publish(ALICE, s.commitment())
    s.state = staking.remove_staker(s.state, s.rollup, ALICE, TEST)
    s.bake(WINDOW)
    s.fails(Cement(DAVE, s.rollup), NoValidCommitmentToCement)


def test_an_offline_staker_does_not_prevent_cementation() -> None:
    """IT "An offline staker should not prevent cementation": one active staker on
    the successor of the LCC is enough, whatever others staked elsewhere."""
    s = Scenario()
    s.bake(5)
    a = s.publish(ALICE, s.commitment(tag=1))
    s.publish(BOB, s.commitment(tag=1))
    s.publish(BOB, s.commitment(a, tag=2))  # BOB goes offline after this
    s.bake(WINDOW)
    s.cement(CAROL)
    assert s.r.lcc == a


def test_a_conflict_between_dangling_commitments_does_not_block() -> None:
    """Only candidates whose predecessor is the LCC count: a dispute among
    dangling commitments does not block cementation (reference §6.2)."""
    s = Scenario()
    s.bake(5)
    a = s.publish(ALICE, s.commitment(tag=1))
    b = s.publish(BOB, s.commitment(tag=2))
    s.publish(CAROL, s.commitment(b, tag=3))
    s.publish(DAVE, s.commitment(b, tag=4))
    s.state = staking.remove_staker(s.state, s.rollup, BOB, TEST)
    s.bake(WINDOW)
    s.cement()
    a2 = s.publish(ALICE, s.commitment(a, tag=5))
    s.bake(WINDOW)
    s.cement()
    assert s.r.lcc == a2
    assert s.r.commitments_per_inbox_level.get(5) is None


def test_descendants_of_a_refuted_commitment_are_never_cemented() -> None:
    """Reference §6.5: descendants of a refuted commitment can be published on but
    never cemented; each is deallocated when its own level is cemented."""
    s = Scenario()
    s.bake(7)
    a = s.publish(ALICE, s.commitment(tag=1))
    b = s.publish(BOB, s.commitment(tag=2))
    b2 = s.publish(CAROL, s.commitment(b, tag=3))
    s.state = staking.remove_staker(s.state, s.rollup, BOB, TEST)
    b3 = s.publish(CAROL, s.commitment(b2, tag=4))
    s.bake(WINDOW)
    s.cement()
    assert b2 in s.r.commitments and b3 in s.r.commitments
    s.fails(Cement(DAVE, s.rollup), NoValidCommitmentToCement)
    a2 = s.publish(ALICE, s.commitment(a, tag=5))
    a3 = s.publish(ALICE, s.commitment(a2, tag=6))
    s.bake(WINDOW)
    s.cement()
    assert s.r.lcc == a2 and b2 not in s.r.commitments and b3 in s.r.commitments
    s.cement()
    assert s.r.lcc == a3 and b3 not in s.r.commitments and not s.r.commitment_stakers


def test_getting_cemented_commitments_keeps_only_the_last_ones() -> None:
    """UST "Getting cemented commitments returns multiple cemented commitments":
    the LCC and its ``max_number_of_stored_cemented_commitments − 1`` predecessors
    keep their contents; the zero hash is never touched."""
    s = Scenario()
    genesis = s.r.lcc
    chain = [genesis]
    for tag in range(1, 6):
        chain.append(s.publish_and_cement(s.commitment(chain[-1], tag=tag)))
        stored = s.r.stored_cemented_commitments()
        keep = min(len(chain), TEST.max_number_of_stored_cemented_commitments)
        assert stored == tuple(reversed(chain[-keep:]))
    assert genesis not in s.r.commitments
    assert s.r.commitment_added[genesis] == 1  # Octez never removes it
    assert [c.hash() for c in s.r.ghost_cemented] == chain


def test_find_commitment_to_deallocate_stops_at_the_zero_hash() -> None:
    s = Scenario()
    genesis = s.r.lcc
    one = attrs.evolve(TEST, max_number_of_stored_cemented_commitments=1)
    two = attrs.evolve(TEST, max_number_of_stored_cemented_commitments=2)
    assert cementation.find_commitment_to_deallocate(s.r, genesis, one) == genesis
    assert cementation.find_commitment_to_deallocate(s.r, genesis, two) == ZERO_COMMITMENT_HASH
    assert cementation.update_saved_cemented_commitments(s.r, genesis, two) == s.r
    assert cementation.find_commitment_to_deallocate(s.r, genesis, TEST) is None


def test_storing_one_cemented_commitment_only() -> None:
    one = attrs.evolve(TEST, max_number_of_stored_cemented_commitments=1)
    s = Scenario(one)
    genesis = s.r.lcc
    h = s.publish_and_cement(s.commitment())
    assert s.r.stored_cemented_commitments() == (h,) and genesis not in s.r.commitments


def test_cementation_makes_older_publications_too_old() -> None:
    s = Scenario()
    c = s.commitment(tag=1)
    s.publish_and_cement(c)
    s.fails(Publish(BOB, s.rollup, s.commitment(c.predecessor, tag=2)), CommitmentTooOld)


def test_no_game_can_start_on_a_cemented_commitment() -> None:
    """IT "cannot start a game on a cemented commitment": stakers lists are dropped."""
    s = Scenario()
    h = s.publish_and_cement(s.commitment())
    assert not s.r.is_staked_on(ALICE, h)
