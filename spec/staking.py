"""Staking: publishing commitments, bonds, conflicts' money, bond recovery.

A staker's first publication on a rollup freezes one bond (``stake_amount``);
every later publication reuses it. A staker may stake on one commitment per
inbox level, anywhere in the commitment tree. The bond comes back once the
last cemented commitment has reached the staker's newest staked level; a
staker that loses a refutation game is removed and its bond is burnt.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_stake_storage.ml``
(``publish_commitment``, ``refine_stake``, ``deposit_stake``,
``withdraw_stake``, ``remove_staker``), ``sc_rollup_staker_index_storage.ml``,
``sc_rollup_refutation_storage.ml`` (``apply_game_result``),
``sc_rollup_whitelist_storage.ml`` (``check_access_to_private_rollup``).
"""

from __future__ import annotations

import attrs

from spec.commitment import Commitment, next_commitment_level
from spec.constants import Constants
from spec.errors import ProtocolError
from spec.game import GameResult, Loser
from spec.hashing import CommitmentHash, ImplicitAccount, RollupAddress
from spec.operations import Publish, RecoverBond
from spec.state import Layer1State, Ledger, RollupState, StakerIndex, StakerPair

# -- errors ----------------------------------------------------------------------------


class StakerNotInWhitelist(ProtocolError):
    """``Sc_rollup_staker_not_in_whitelist``."""

    octez_error = "smart_rollup_staker_not_in_whitelist"

    def __init__(self, staker: ImplicitAccount, rollup: RollupAddress) -> None:
        super().__init__(
            f"{staker} may not publish on private rollup {rollup}: it is not in the whitelist"
        )
        self.staker = staker
        self.rollup = rollup


class ZeroTickCommitment(ProtocolError):
    """``Sc_rollup_zero_tick_commitment``."""

    octez_error = "smart_rollup_zero_tick_commitment"

    def __init__(self) -> None:
        super().__init__("a commitment must claim at least one tick; this one claims 0")


class StakerFundsTooLow(ProtocolError):
    """``Sc_rollup_staker_funds_too_low``
    ``{staker; sc_rollup; staker_balance; min_expected_balance}``."""

    octez_error = "smart_rollup_staker_funds_too_low"

    def __init__(
        self,
        staker: ImplicitAccount,
        sc_rollup: RollupAddress,
        staker_balance: int,
        min_expected_balance: int,
    ) -> None:
        super().__init__(
            f"{staker} has {staker_balance} mutez but staking on {sc_rollup} needs a bond "
            f"of {min_expected_balance} mutez"
        )
        self.staker = staker
        self.sc_rollup = sc_rollup
        self.staker_balance = staker_balance
        self.min_expected_balance = min_expected_balance


class CommitmentTooOld(ProtocolError):
    """``Sc_rollup_commitment_too_old {last_cemented_inbox_level; commitment_inbox_level}``."""

    octez_error = "smart_rollup_commitment_too_old"

    def __init__(self, last_cemented_inbox_level: int, commitment_inbox_level: int) -> None:
        super().__init__(
            f"a commitment for inbox level {commitment_inbox_level} is too old: the last "
            f"cemented commitment is already at inbox level {last_cemented_inbox_level}"
        )
        self.last_cemented_inbox_level = last_cemented_inbox_level
        self.commitment_inbox_level = commitment_inbox_level


class TooFarAhead(ProtocolError):
    """``Sc_rollup_too_far_ahead``."""

    octez_error = "smart_rollup_too_far_ahead"

    def __init__(self, inbox_level: int, lcc_level: int, max_lookahead: int) -> None:
        super().__init__(
            f"a commitment for inbox level {inbox_level} is too far ahead of the last cemented "
            f"commitment (level {lcc_level}): at most {max_lookahead} levels are allowed"
        )
        self.inbox_level = inbox_level
        self.lcc_level = lcc_level
        self.max_lookahead = max_lookahead


class UnknownCommitment(ProtocolError):
    """``Sc_rollup_unknown_commitment commitment``."""

    octez_error = "smart_rollup_unknown_commitment"

    def __init__(self, commitment: CommitmentHash) -> None:
        super().__init__(f"commitment {commitment} does not exist")
        self.commitment = commitment


class BadInboxLevel(ProtocolError):
    """``Sc_rollup_bad_inbox_level {expected; provided}``."""

    octez_error = "smart_rollup_bad_inbox_level"

    def __init__(self, expected: int, provided: int) -> None:
        super().__init__(
            f"the commitment is for inbox level {provided}, but its predecessor's successor "
            f"must be for inbox level {expected}"
        )
        self.expected = expected
        self.provided = provided


class CommitmentPastCurfew(ProtocolError):
    """``Sc_rollup_commitment_past_curfew``."""

    octez_error = "smart_rollup_commitment_past_curfew"

    def __init__(self, inbox_level: int, first: int, now: int, window: int) -> None:
        super().__init__(
            f"too late to publish for inbox level {inbox_level}: the first commitment for it "
            f"was published at level {first}, more than {window} blocks before level {now}"
        )
        self.inbox_level = inbox_level
        self.first = first
        self.now = now
        self.window = window


class CommitmentFromFuture(ProtocolError):
    """``Sc_rollup_commitment_from_future {current_level; inbox_level}``."""

    octez_error = "smart_rollup_commitment_from_future"

    def __init__(self, current_level: int, inbox_level: int) -> None:
        super().__init__(
            f"a commitment for inbox level {inbox_level} cannot be published at level "
            f"{current_level}: the inbox level must be in the past"
        )
        self.current_level = current_level
        self.inbox_level = inbox_level


class DoublePublish(ProtocolError):
    """``Sc_rollup_double_publish commitment``."""

    octez_error = "smart_rollup_double_publish"

    def __init__(self, commitment: CommitmentHash) -> None:
        super().__init__(f"the staker has already published commitment {commitment}")
        self.commitment = commitment


class StakerDoubleStake(ProtocolError):
    """``Sc_rollup_staker_double_stake``."""

    octez_error = "smart_rollup_staker_double_stake"

    def __init__(self, staker: ImplicitAccount, inbox_level: int) -> None:
        super().__init__(
            f"{staker} already stakes on another commitment for inbox level {inbox_level}"
        )
        self.staker = staker
        self.inbox_level = inbox_level


class NotStaked(ProtocolError):
    """``Sc_rollup_not_staked``."""

    octez_error = "smart_rollup_not_staked"

    def __init__(self, staker: ImplicitAccount, rollup: RollupAddress) -> None:
        super().__init__(f"{staker} is not a staker of rollup {rollup}")
        self.staker = staker
        self.rollup = rollup


class NotStakedOnLccOrAncestor(ProtocolError):
    """``Sc_rollup_not_staked_on_lcc_or_ancestor``."""

    octez_error = "smart_rollup_not_staked_on_lcc_or_ancestor"

    def __init__(self, staker: ImplicitAccount, staked_level: int, lcc_level: int) -> None:
        super().__init__(
            f"{staker} cannot recover its bond yet: it staked on inbox level {staked_level}, "
            f"after the last cemented commitment (inbox level {lcc_level})"
        )
        self.staker = staker
        self.staked_level = staked_level
        self.lcc_level = lcc_level


# -- the ledger moves ------------------------------------------------------------------


def _freeze(ledger: Ledger, staker: ImplicitAccount, rollup: RollupAddress, amount: int) -> Ledger:
    """Spendable balance → ``Frozen_bonds (staker, rollup)``. Octez: ``Token.transfer``."""
    key = (staker, rollup)
    return attrs.evolve(
        ledger,
        balances=ledger.balances.set(staker, ledger.balance(staker) - amount),
        frozen_bonds=ledger.frozen_bonds.set(key, ledger.frozen(staker, rollup) + amount),
    )


def _unfreeze_to(
    ledger: Ledger, staker: ImplicitAccount, rollup: RollupAddress, amount: int
) -> Ledger:
    """``Frozen_bonds (staker, rollup)`` → the staker's spendable balance."""
    left = ledger.frozen(staker, rollup) - amount
    key = (staker, rollup)
    frozen = ledger.frozen_bonds.set(key, left) if left else ledger.frozen_bonds.remove(key)
    return attrs.evolve(
        ledger,
        balances=ledger.balances.set(staker, ledger.balance(staker) + amount),
        frozen_bonds=frozen,
    )


def _burn_frozen(
    ledger: Ledger, staker: ImplicitAccount, rollup: RollupAddress, amount: int
) -> Ledger:
    """``Frozen_bonds (staker, rollup)`` → ``Sc_rollup_refutation_punishments`` (burnt)."""
    left = ledger.frozen(staker, rollup) - amount
    key = (staker, rollup)
    frozen = ledger.frozen_bonds.set(key, left) if left else ledger.frozen_bonds.remove(key)
    return attrs.evolve(ledger, frozen_bonds=frozen, burnt=ledger.burnt + amount)


def _mint_to(ledger: Ledger, account: ImplicitAccount, amount: int) -> Ledger:
    """``Sc_rollup_refutation_rewards`` (minted) → ``account``'s spendable balance."""
    return attrs.evolve(
        ledger,
        balances=ledger.balances.set(account, ledger.balance(account) + amount),
        minted=ledger.minted + amount,
    )


# -- checks of a publication, in Octez's order -----------------------------------------


def check_staker_in_whitelist(
    rollup: RollupState | None,
    address: RollupAddress,
    staker: ImplicitAccount,
    constants: Constants,
) -> None:
    """When private rollups are enabled, only whitelisted stakers publish on a private
    rollup. This runs before the rollup's existence is checked (an unknown rollup has
    an empty whitelist, hence is public).

    Octez: ``sc_rollup_whitelist_storage.ml``, ``check_access_to_private_rollup``
    (called first by ``publish_commitment``).
    """
    if not constants.private_enable or rollup is None:
        return
    if rollup.is_private and staker not in rollup.whitelist:
        raise StakerNotInWhitelist(staker, address)


def check_not_zero_tick(commitment: Commitment) -> None:
    """A commitment claims at least one tick.

    Octez: ``sc_rollup_stake_storage.ml``, ``publish_commitment``
    (``Sc_rollup_zero_tick_commitment``).
    """
    if commitment.number_of_ticks == 0:
        raise ZeroTickCommitment()


def check_funds(
    ledger: Ledger, staker: ImplicitAccount, rollup: RollupAddress, constants: Constants
) -> None:
    """A new staker's spendable balance covers the bond.

    Octez: ``sc_rollup_stake_storage.ml``, ``deposit_stake`` (the traced
    ``Token.transfer``).
    """
    balance = ledger.balance(staker)
    if balance < constants.stake_amount:
        raise StakerFundsTooLow(staker, rollup, balance, constants.stake_amount)


def check_not_too_old(commitment: Commitment, lcc_level: int) -> None:
    """A commitment is for an inbox level after the last cemented commitment's.

    Octez: ``sc_rollup_stake_storage.ml``, ``assert_refine_conditions_met``.
    """
    if commitment.inbox_level <= lcc_level:
        raise CommitmentTooOld(lcc_level, commitment.inbox_level)


def check_not_too_far_ahead(commitment: Commitment, lcc_level: int, constants: Constants) -> None:
    """A commitment is at most ``max_lookahead_in_blocks`` levels after the LCC.

    Octez: ``sc_rollup_stake_storage.ml``, ``assert_commitment_not_too_far_ahead``.
    """
    if commitment.inbox_level - lcc_level > constants.max_lookahead_in_blocks:
        raise TooFarAhead(commitment.inbox_level, lcc_level, constants.max_lookahead_in_blocks)


def check_commitment_period(
    rollup: RollupState, commitment: Commitment, constants: Constants
) -> None:
    """The predecessor is stored, and the commitment is for the next commitment level
    after the predecessor's (past commitment periods included).

    Octez: ``sc_rollup_stake_storage.ml``, ``assert_commitment_period``;
    ``sc_rollup_storage.ml``, ``next_commitment_level``.
    """
    predecessor = rollup.commitments.get(commitment.predecessor)
    if predecessor is None:
        raise UnknownCommitment(commitment.predecessor)
    expected = next_commitment_level(predecessor.inbox_level, constants)
    if commitment.inbox_level != expected:
        raise BadInboxLevel(expected, commitment.inbox_level)


def check_not_past_curfew(
    rollup: RollupState, inbox_level: int, now: int, constants: Constants
) -> None:
    """A commitment for an inbox level may only be published within the challenge
    window that opened with the first commitment (of any hash) for that level.

    Octez: ``sc_rollup_stake_storage.ml``, ``assert_commitment_is_not_past_curfew``.
    """
    first = rollup.commitment_first_publication_level.get(inbox_level)
    if first is not None and now - first > constants.challenge_window_in_blocks:
        raise CommitmentPastCurfew(inbox_level, first, now, constants.challenge_window_in_blocks)


def check_not_from_future(commitment: Commitment, now: int) -> None:
    """A commitment's inbox level is strictly before the current level.

    Octez: ``sc_rollup_stake_storage.ml``, ``assert_refine_conditions_met``.
    """
    if commitment.inbox_level >= now:
        raise CommitmentFromFuture(now, commitment.inbox_level)


def check_not_double_publish(
    rollup: RollupState, index: StakerIndex, commitment: CommitmentHash
) -> None:
    """A staker publishes a given commitment once.

    Octez: ``sc_rollup_stake_storage.ml``, ``set_staker_commitment``
    (``Sc_rollup_double_publish``).
    """
    if index in rollup.commitment_stakers.get(commitment, ()):
        raise DoublePublish(commitment)


def check_no_double_stake(
    rollup: RollupState, staker: ImplicitAccount, index: StakerIndex, inbox_level: int
) -> None:
    """A staker stakes on at most one commitment per inbox level.

    Octez: ``sc_rollup_stake_storage.ml``, ``assert_staker_dont_double_stake``.
    """
    hashes = rollup.commitments_per_inbox_level.get(inbox_level, ())
    staked = [h for h in hashes if index in rollup.commitment_stakers.get(h, ())]
    if len(staked) > 1:
        raise StakerDoubleStake(staker, inbox_level)


# -- updates ---------------------------------------------------------------------------


def _prepend_new(values: tuple[StakerIndex, ...], value: StakerIndex) -> tuple[StakerIndex, ...]:
    return values if value in values else (value, *values)


def deposit_stake(
    state: Layer1State, rollup: RollupState, staker: ImplicitAccount, constants: Constants
) -> tuple[Layer1State, RollupState, StakerIndex]:
    """Freeze the bond of a new staker and give it a fresh index, with newest level 0.

    Octez: ``sc_rollup_stake_storage.ml``, ``deposit_stake``;
    ``sc_rollup_staker_index_storage.ml``, ``fresh_staker_index``.
    """
    check_funds(state.ledger, staker, rollup.address, constants)
    ledger = _freeze(state.ledger, staker, rollup.address, constants.stake_amount)
    index = rollup.staker_index_counter
    rollup = attrs.evolve(
        rollup,
        staker_index_counter=index + 1,
        staker_index=rollup.staker_index.set(staker, index),
        stakers=rollup.stakers.set(index, 0),
    )
    return state.with_ledger(ledger), rollup, index


def refine_stake(
    rollup: RollupState,
    staker: ImplicitAccount,
    index: StakerIndex,
    commitment: Commitment,
    now: int,
    constants: Constants,
) -> tuple[RollupState, CommitmentHash, int]:
    """Check the commitment against the tree and stake ``index`` on it.

    Returns the new rollup state, the commitment hash and the level at which
    that hash was first published (the operation's ``published_at_level``).
    Octez: ``sc_rollup_stake_storage.ml``, ``refine_stake`` and
    ``assert_refine_conditions_met``.
    """
    lcc_level = rollup.lcc_level
    level = commitment.inbox_level
    check_not_too_old(commitment, lcc_level)
    check_not_too_far_ahead(commitment, lcc_level, constants)
    check_commitment_period(rollup, commitment, constants)
    check_not_past_curfew(rollup, level, now, constants)
    check_not_from_future(commitment, now)
    commitment_hash = commitment.hash()
    check_not_double_publish(rollup, index, commitment_hash)
    first_publication = rollup.commitment_first_publication_level
    if level not in first_publication:
        first_publication = first_publication.set(level, now)
    added = rollup.commitment_added.get(commitment_hash)
    commitment_added = rollup.commitment_added
    if added is None:
        added = now
        commitment_added = commitment_added.set(commitment_hash, now)
    per_level = rollup.commitments_per_inbox_level.get(level, ())
    if commitment_hash not in per_level:
        per_level = (commitment_hash, *per_level)
    rollup = attrs.evolve(
        rollup,
        commitment_first_publication_level=first_publication,
        commitments=rollup.commitments.set(commitment_hash, commitment),
        commitment_added=commitment_added,
        stakers=rollup.stakers.set(index, max(rollup.stakers[index], level)),
        commitment_stakers=rollup.commitment_stakers.set(
            commitment_hash,
            _prepend_new(rollup.commitment_stakers.get(commitment_hash, ()), index),
        ),
        commitments_per_inbox_level=rollup.commitments_per_inbox_level.set(level, per_level),
    )
    check_no_double_stake(rollup, staker, index, level)
    return rollup, commitment_hash, added


def publish_commitment(
    state: Layer1State, operation: Publish, constants: Constants
) -> tuple[Layer1State, CommitmentHash, int]:
    """Publish ``operation.commitment`` for staker ``operation.source``.

    Checks, in Octez's order: whitelist, the rollup exists, non-zero ticks,
    the deposit for a new staker (funds), then :func:`refine_stake` (too old,
    too far ahead, predecessor and inbox level, curfew, not from the future,
    double publish, double stake). Returns the state, the commitment hash and
    its first publication level.
    Octez: ``sc_rollup_stake_storage.ml``, ``publish_commitment``.
    """
    staker = operation.source
    check_staker_in_whitelist(
        state.rollups.get(operation.rollup), operation.rollup, staker, constants
    )
    rollup = state.rollup(operation.rollup)
    check_not_zero_tick(operation.commitment)
    index = rollup.staker_index.get(staker)
    if index is None:
        state, rollup, index = deposit_stake(state, rollup, staker, constants)
    rollup, commitment_hash, added = refine_stake(
        rollup, staker, index, operation.commitment, state.level, constants
    )
    return state.with_rollup(rollup), commitment_hash, added


def apply_publish(state: Layer1State, operation: Publish, constants: Constants) -> Layer1State:
    """``Smart_rollup_publish``: :func:`publish_commitment`, keeping only the state."""
    return publish_commitment(state, operation, constants)[0]


# -- recovering a bond -----------------------------------------------------------------


def check_is_staker(rollup: RollupState, staker: ImplicitAccount) -> StakerIndex:
    """The account has a bond on the rollup; returns its index.

    Octez: ``sc_rollup_staker_index_storage.ml``, ``get_staker_index_unsafe``
    (``Sc_rollup_not_staked``).
    """
    index = rollup.staker_index.get(staker)
    if index is None:
        raise NotStaked(staker, rollup.address)
    return index


def check_staked_on_lcc_or_ancestor(
    rollup: RollupState, staker: ImplicitAccount, index: StakerIndex
) -> None:
    """A bond is recoverable only once the LCC's inbox level has reached the staker's
    newest staked level (levels only: which commitments were cemented is not checked).

    Octez: ``sc_rollup_stake_storage.ml``, ``assert_staked_on_lcc_or_ancestor``.
    """
    staked_level = rollup.stakers[index]
    if staked_level > rollup.lcc_level:
        raise NotStakedOnLccOrAncestor(staker, staked_level, rollup.lcc_level)


def _drop_staker(rollup: RollupState, staker: ImplicitAccount) -> RollupState:
    """Delete the staker's index (``Staker_index`` and ``Stakers``); the index is never reused.

    Octez: ``sc_rollup_staker_index_storage.ml``, ``remove_staker``.
    """
    index = rollup.staker_index[staker]
    return attrs.evolve(
        rollup,
        staker_index=rollup.staker_index.remove(staker),
        stakers=rollup.stakers.remove(index),
    )


def apply_recover_bond(
    state: Layer1State, operation: RecoverBond, constants: Constants
) -> Layer1State:
    """``Smart_rollup_recover_bond``: anyone may send it; the bond goes back to the staker.

    Checks, in order: the rollup exists, the account is a staker, it staked
    on the LCC's level or before. Then the bond is unfrozen and the index
    deleted. Ongoing games are not checked.
    Octez: ``sc_rollup_stake_storage.ml``, ``withdraw_stake``.
    """
    rollup = state.rollup(operation.rollup)
    index = check_is_staker(rollup, operation.staker)
    check_staked_on_lcc_or_ancestor(rollup, operation.staker, index)
    ledger = _unfreeze_to(state.ledger, operation.staker, rollup.address, constants.stake_amount)
    return state.with_ledger(ledger).with_rollup(_drop_staker(rollup, operation.staker))


# -- removal (slashing) and game outcomes ----------------------------------------------


def remove_staker(
    state: Layer1State, rollup: RollupAddress, staker: ImplicitAccount, constants: Constants
) -> Layer1State:
    """Slash ``staker``: burn its whole bond and delete its index.

    Its commitments stay, with its (now inactive) index; its games stay too
    (they end through ``check_stakes`` or a timeout).
    Octez: ``sc_rollup_stake_storage.ml``, ``remove_staker``.
    """
    rollup_state = state.rollup(rollup)
    check_is_staker(rollup_state, staker)
    ledger = _burn_frozen(state.ledger, staker, rollup, constants.stake_amount)
    return state.with_ledger(ledger).with_rollup(_drop_staker(rollup_state, staker))


def apply_game_result(
    state: Layer1State,
    rollup: RollupAddress,
    stakers: StakerPair,
    result: GameResult,
    constants: Constants,
) -> Layer1State:
    """Settle a finished game between ``stakers = (alice, bob)``.

    The game is removed. ``Loser {loser}``: if the loser is still a staker
    its bond is burnt and the winner receives ``stake // 2``, minted; if it
    was already removed (forfeit) nothing is burnt and nothing is paid.
    ``Draw``: every player still staked is removed (bond burnt), no reward.
    Octez: ``sc_rollup_refutation_storage.ml``, ``apply_game_result``.
    """
    alice, bob = stakers
    rollup_state = state.rollup(rollup)
    state = state.with_rollup(attrs.evolve(rollup_state, games=rollup_state.games.remove(stakers)))
    if isinstance(result, Loser):
        loser = result.loser
        winner = bob if loser == alice else alice
        if not state.rollup(rollup).is_staker(loser):
            return state
        state = remove_staker(state, rollup, loser, constants)
        return state.with_ledger(_mint_to(state.ledger, winner, constants.stake_amount // 2))
    for player in (alice, bob):
        if state.rollup(rollup).is_staker(player):
            state = remove_staker(state, rollup, player, constants)
    return state
