"""Cementation: making the last cemented commitment's successor final.

``Smart_rollup_cement {rollup}`` names no commitment: it cements the unique
commitment, at the next commitment level after the LCC, whose predecessor is
the LCC and which at least one active staker supports, once the challenge
window that opened with the *first* publication of that hash has passed.
Cementing deallocates the level: the other (dangling) commitments there are
deleted, stakers lists and metadata of the level are dropped, and only the
last ``max_number_of_stored_cemented_commitments`` cemented commitments keep
their contents (for outbox execution).

Refuted commitments and their dependants (§6.5 of the reference): a
commitment whose stakers were all removed is never a candidate; it stays
stored until its level is cemented and is then deallocated as dangling; its
descendants can still be published on but never cemented (their predecessor
never becomes the LCC), and are deallocated when their own level is cemented.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_stake_storage.ml``
(``cement_commitment``, ``find_commitment_to_cement``,
``cementable_candidate_commitment_of_inbox_level``,
``deallocate_inbox_level``, ``update_saved_cemented_commitments``,
``find_commitment_to_deallocate``).
"""

from __future__ import annotations

import attrs

from spec.commitment import ZERO_COMMITMENT_HASH, Commitment, next_commitment_level
from spec.constants import Constants
from spec.errors import ProtocolError
from spec.hashing import CommitmentHash, RollupAddress
from spec.operations import Cement
from spec.state import Layer1State, RollupState

# -- errors ----------------------------------------------------------------------------


class Disputed(ProtocolError):
    """``Sc_rollup_disputed``: two active candidates at the level to cement."""

    octez_error = "smart_rollup_disputed"

    def __init__(self, inbox_level: int, first: CommitmentHash, second: CommitmentHash) -> None:
        super().__init__(
            f"inbox level {inbox_level} is disputed: commitments {first} and {second} both "
            f"follow the last cemented commitment and have active stakers"
        )
        self.inbox_level = inbox_level
        self.first = first
        self.second = second


class NoValidCommitmentToCement(ProtocolError):
    """``Sc_rollup_no_valid_commitment_to_cement``."""

    octez_error = "smart_rollup_no_valid_commitment_to_cement"

    def __init__(self, rollup: RollupAddress, inbox_level: int) -> None:
        super().__init__(
            f"rollup {rollup} has no commitment to cement at inbox level {inbox_level}: none "
            f"follows the last cemented commitment with an active staker"
        )
        self.rollup = rollup
        self.inbox_level = inbox_level


class CommitmentTooRecent(ProtocolError):
    """``Sc_rollup_commitment_too_recent {current_level; min_level}``."""

    octez_error = "smart_rollup_commitment_too_recent"

    def __init__(self, current_level: int, min_level: int) -> None:
        super().__init__(
            f"the commitment cannot be cemented at level {current_level}: its challenge "
            f"window ends at level {min_level}"
        )
        self.current_level = current_level
        self.min_level = min_level


# -- the rule --------------------------------------------------------------------------


def is_cementable_candidate(rollup: RollupState, commitment_hash: CommitmentHash) -> bool:
    """A commitment is a candidate iff its predecessor is the LCC and at least one
    active staker supports it.

    Octez: ``sc_rollup_stake_storage.ml``, ``is_cementable_candidate_commitment``.
    """
    commitment = rollup.commitments[commitment_hash]
    if commitment.predecessor != rollup.last_cemented_commitment:
        return False
    return len(rollup.active_stakers_of(commitment_hash)) > 0


def find_commitment_to_cement(
    rollup: RollupState, inbox_level: int
) -> tuple[CommitmentHash, tuple[CommitmentHash, ...]]:
    """The unique candidate at ``inbox_level``, and the other (dangling) commitments there.

    A second candidate fails with ``Sc_rollup_disputed``; none with
    ``Sc_rollup_no_valid_commitment_to_cement``.
    Octez: ``sc_rollup_stake_storage.ml``,
    ``cementable_candidate_commitment_of_inbox_level``.
    """
    candidate: CommitmentHash | None = None
    dangling: list[CommitmentHash] = []
    for commitment_hash in rollup.commitments_per_inbox_level.get(inbox_level, ()):
        if is_cementable_candidate(rollup, commitment_hash):
            if candidate is not None:
                raise Disputed(inbox_level, candidate, commitment_hash)
            candidate = commitment_hash
        else:
            dangling.append(commitment_hash)
    if candidate is None:
        raise NoValidCommitmentToCement(rollup.address, inbox_level)
    return candidate, tuple(dangling)


def check_challenge_window_over(
    rollup: RollupState, commitment_hash: CommitmentHash, now: int, constants: Constants
) -> None:
    """A commitment is cemented only once ``challenge_window_in_blocks`` levels have
    passed since the first publication of its hash (inclusive bound).

    Octez: ``sc_rollup_stake_storage.ml``, ``find_commitment_to_cement``
    (``Sc_rollup_commitment_too_recent``).
    """
    min_level = rollup.commitment_added[commitment_hash] + constants.challenge_window_in_blocks
    if now < min_level:
        raise CommitmentTooRecent(now, min_level)


def deallocate_inbox_level(
    rollup: RollupState,
    inbox_level: int,
    new_lcc: CommitmentHash,
    dangling: tuple[CommitmentHash, ...],
) -> RollupState:
    """Forget the cemented level: its per-level list, the dangling commitments
    (contents and ``Commitment_added``), the stakers lists of every commitment
    there, the new LCC's ``Commitment_added`` and the level's first publication.
    The new LCC's contents stay.

    Octez: ``sc_rollup_stake_storage.ml``, ``deallocate_inbox_level``.
    """
    return attrs.evolve(
        rollup,
        commitments_per_inbox_level=rollup.commitments_per_inbox_level.remove(inbox_level),
        commitments=rollup.commitments.remove_all(dangling),
        commitment_added=rollup.commitment_added.remove_all((*dangling, new_lcc)),
        commitment_stakers=rollup.commitment_stakers.remove_all((new_lcc, *dangling)),
        commitment_first_publication_level=rollup.commitment_first_publication_level.remove(
            inbox_level
        ),
    )


def find_commitment_to_deallocate(
    rollup: RollupState, old_lcc: CommitmentHash, constants: Constants
) -> CommitmentHash | None:
    """The cemented commitment ``max_number_of_stored_cemented_commitments − 1``
    predecessors behind the old LCC, if the walk reaches it.

    Octez: ``sc_rollup_stake_storage.ml``, ``find_commitment_to_deallocate``.
    """
    current = old_lcc
    for _ in range(constants.max_number_of_stored_cemented_commitments - 1):
        commitment = rollup.commitments.get(current)
        if commitment is None:
            return None
        current = commitment.predecessor
    return current


def update_saved_cemented_commitments(
    rollup: RollupState, old_lcc: CommitmentHash, constants: Constants
) -> RollupState:
    """Keep the contents of the LCC and its ``max_number_of_stored_cemented_commitments
    − 1`` predecessors only; the zero hash is never deleted.

    Octez: ``sc_rollup_stake_storage.ml``, ``update_saved_cemented_commitments``.
    """
    too_old = find_commitment_to_deallocate(rollup, old_lcc, constants)
    if too_old is None or too_old == ZERO_COMMITMENT_HASH:
        return rollup
    # Octez deletes with ``remove_existing``: the commitment must be stored.
    assert too_old in rollup.commitments, f"cemented commitment {too_old} is not stored"
    return attrs.evolve(rollup, commitments=rollup.commitments.remove(too_old))


def cement_commitment(
    state: Layer1State, rollup_address: RollupAddress, constants: Constants
) -> tuple[Layer1State, Commitment, CommitmentHash]:
    """Cement the LCC's successor.

    Checks, in order: the rollup exists; at ``next_commitment_level(LCC)``
    exactly one candidate (else disputed / nothing to cement); its challenge
    window is over. Then the LCC moves, the level is deallocated and the
    stored cemented commitments are pruned.
    Octez: ``sc_rollup_stake_storage.ml``, ``cement_commitment``.
    """
    rollup = state.rollup(rollup_address)
    old_lcc = rollup.last_cemented_commitment
    new_level = next_commitment_level(rollup.lcc_level, constants)
    new_lcc, dangling = find_commitment_to_cement(rollup, new_level)
    check_challenge_window_over(rollup, new_lcc, state.level, constants)
    commitment = rollup.commitments[new_lcc]
    rollup = attrs.evolve(
        rollup,
        last_cemented_commitment=new_lcc,
        ghost_cemented=(*rollup.ghost_cemented, commitment),
    )
    rollup = deallocate_inbox_level(rollup, commitment.inbox_level, new_lcc, dangling)
    rollup = update_saved_cemented_commitments(rollup, old_lcc, constants)
    return state.with_rollup(rollup), commitment, new_lcc


def apply_cement(state: Layer1State, operation: Cement, constants: Constants) -> Layer1State:
    """``Smart_rollup_cement``: :func:`cement_commitment`, keeping only the state."""
    return cement_commitment(state, operation.rollup, constants)[0]
