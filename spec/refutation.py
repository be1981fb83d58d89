"""Refutation games on layer 1: starting, moving, timing out, settling.

``Smart_rollup_refute`` either starts a game (``Start``: the sender is the
refuter, the opponent the defender) or plays a move in it (``Move``);
``Smart_rollup_timeout`` ends a game whose player to move ran out of time.
A finished game is settled by :func:`spec.staking.apply_game_result`
(bonds burnt, winner rewarded). A rejected operation raises and leaves the
state unchanged; an invalid proof is not rejected: it is judged (see
:func:`spec.game.play`).

Validation and application are not separated here: the checks Octez runs at
validation (``check_conflict_point``, the start delay) run first, then the
ones it runs at application, in Octez's order.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_refutation_storage.ml``,
``validate.ml`` (``validate_sc_rollup_refute``), ``apply.ml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from spec import game as game_
from spec import staking
from spec.arith import PVM as ARITH_PVM
from spec.commitment import Commitment
from spec.constants import Constants
from spec.errors import ProtocolError
from spec.game import GameRecord, GameResult, Index, Move, Start
from spec.hashing import CommitmentHash, ImplicitAccount, RollupAddress
from spec.operations import Refute, Timeout
from spec.pvm import PVM, Metadata
from spec.state import Layer1State, RollupState

#: The PVMs the specification knows by kind; ``executable/`` passes the WASM
#: PVM explicitly (``pvms=``).
DEFAULT_PVMS: Mapping[str, PVM[Any]] = {"arith": ARITH_PVM}

# -- errors ---------------------------------------------------------------------


class WrongStakerForConflictCommitment(ProtocolError):
    """``Sc_rollup_wrong_staker_for_conflict_commitment (staker, commitment)``."""

    octez_error = "smart_rollup_wrong_staker_for_conflict_commitment"

    def __init__(self, staker: ImplicitAccount, commitment: CommitmentHash) -> None:
        super().__init__(f"{staker} is not staked on commitment {commitment}")
        self.staker = staker
        self.commitment = commitment


class NoConflict(ProtocolError):
    """``Sc_rollup_no_conflict``: the two commitments are the same."""

    octez_error = "smart_rollup_no_conflict"

    def __init__(self, commitment: CommitmentHash) -> None:
        super().__init__(f"no conflict: both players are staked on commitment {commitment}")
        self.commitment = commitment


class NotValidCommitmentsConflict(ProtocolError):
    """``Sc_rollup_not_valid_commitments_conflict``: the commitments do not share
    their predecessor, so they are not the first conflict."""

    octez_error = "smart_rollup_not_valid_commitments_conflict"

    def __init__(
        self,
        refuter_commitment: CommitmentHash,
        refuter: ImplicitAccount,
        defender_commitment: CommitmentHash,
        defender: ImplicitAccount,
    ) -> None:
        super().__init__(
            f"commitments {refuter_commitment} (of {refuter}) and {defender_commitment} "
            f"(of {defender}) do not have the same predecessor"
        )
        self.refuter_commitment = refuter_commitment
        self.refuter = refuter
        self.defender_commitment = defender_commitment
        self.defender = defender


class RefutationGameStartTooEarly(ProtocolError):
    """``Sc_rollup_refutation_game_start_too_early`` (U025 validation)."""

    octez_error = "smart_rollup_refutation_game_start_too_early"

    def __init__(
        self,
        current_level: int,
        earliest_start_level: int,
        conflict_inbox_level: int,
        commitment_period_in_blocks: int,
    ) -> None:
        super().__init__(
            f"a game on inbox level {conflict_inbox_level} can start at level "
            f"{earliest_start_level} (one commitment period of {commitment_period_in_blocks} "
            f"blocks later), not at level {current_level}"
        )
        self.current_level = current_level
        self.earliest_start_level = earliest_start_level
        self.conflict_inbox_level = conflict_inbox_level
        self.commitment_period_in_blocks = commitment_period_in_blocks


class GameAlreadyStarted(ProtocolError):
    """``Sc_rollup_game_already_started``: one game per pair of stakers."""

    octez_error = "smart_rollup_game_already_started"

    def __init__(self, stakers: Index) -> None:
        super().__init__(f"a game between {stakers.alice} and {stakers.bob} is already going on")
        self.stakers = stakers


class MaxNumberOfParallelGamesReached(ProtocolError):
    """``Sc_rollup_max_number_of_parallel_games_reached staker``."""

    octez_error = "smart_rollup_maximal_number_of_parallel_games_reached"

    def __init__(self, staker: ImplicitAccount, limit: int) -> None:
        super().__init__(f"{staker} already plays the maximum of {limit} games in parallel")
        self.staker = staker
        self.limit = limit


class NoGame(ProtocolError):
    """``Sc_rollup_no_game``."""

    octez_error = "smart_rollup_no_game"

    def __init__(self, stakers: Index) -> None:
        super().__init__(f"there is no game between {stakers.alice} and {stakers.bob}")
        self.stakers = stakers


class WrongTurn(ProtocolError):
    """``Sc_rollup_wrong_turn``."""

    octez_error = "smart_rollup_wrong_turn"

    def __init__(self, player: ImplicitAccount, turn: ImplicitAccount) -> None:
        super().__init__(f"it is {turn}'s turn to move, not {player}'s")
        self.player = player
        self.turn = turn


class TimeoutLevelNotReached(ProtocolError):
    """``Sc_rollup_timeout_level_not_reached (blocks_left, staker)``."""

    octez_error = "smart_rollup_timeout_level_not_reached"

    def __init__(self, blocks_left: int, staker: ImplicitAccount) -> None:
        super().__init__(
            f"{staker} still has {blocks_left} blocks to move before it can be timed out"
        )
        self.blocks_left = blocks_left
        self.staker = staker


class PvmNotModelled(ProtocolError):
    """A move in a game of a PVM kind the caller gave no implementation for."""

    octez_error = "scoru_pvm_not_modelled"

    def __init__(self, kind: str) -> None:
        super().__init__(f"no implementation of the {kind!r} PVM was given to judge this move")
        self.kind = kind


# -- results ------------------------------------------------------------------------


@attrs.frozen
class Outcome:
    """The state after a refutation operation, and the game's result if it ended."""

    state: Layer1State
    result: GameResult | None


# -- checks -------------------------------------------------------------------------


def _commitment(rollup: RollupState, commitment: CommitmentHash) -> Commitment:
    found = rollup.commitments.get(commitment)
    if found is None:
        raise staking.UnknownCommitment(commitment)
    return found


def check_staked_on(
    rollup: RollupState, staker: ImplicitAccount, commitment: CommitmentHash
) -> None:
    """A player must be staked on the commitment it plays for.

    Octez: ``sc_rollup_refutation_storage.ml``, ``check_conflict_point``
    (``fail_unless_staker_is_staked_on_commitment``).
    """
    if not rollup.is_staked_on(staker, commitment):
        raise WrongStakerForConflictCommitment(staker, commitment)


def check_conflict_point(
    rollup: RollupState,
    *,
    refuter: ImplicitAccount,
    refuter_commitment_hash: CommitmentHash,
    defender: ImplicitAccount,
    defender_commitment_hash: CommitmentHash,
) -> Commitment:
    """The refuter and the defender are staked on two different commitments with
    the same predecessor (their first conflict); returns the defender's.

    Octez: ``sc_rollup_refutation_storage.ml``, ``check_conflict_point``.
    """
    check_staked_on(rollup, refuter, refuter_commitment_hash)
    check_staked_on(rollup, defender, defender_commitment_hash)
    refuter_commitment = _commitment(rollup, refuter_commitment_hash)
    defender_commitment = _commitment(rollup, defender_commitment_hash)
    if refuter_commitment_hash == defender_commitment_hash:
        raise NoConflict(refuter_commitment_hash)
    if refuter_commitment.predecessor != defender_commitment.predecessor:
        raise NotValidCommitmentsConflict(
            refuter_commitment_hash, refuter, defender_commitment_hash, defender
        )
    return defender_commitment


def check_start_not_too_early(
    defender_commitment: Commitment, current_level: int, constants: Constants
) -> None:
    """A game may start only one (current) commitment period after the disputed
    inbox level (U025, to allow DAL imports under a dynamic attestation lag).

    Octez: ``validate.ml``, ``validate_sc_rollup_refute``.
    """
    period = constants.commitment_period_in_blocks
    earliest = defender_commitment.inbox_level + period
    if current_level < earliest:
        raise RefutationGameStartTooEarly(
            current_level, earliest, defender_commitment.inbox_level, period
        )


def check_no_game(rollup: RollupState, stakers: Index) -> None:
    """At most one game per pair of stakers.

    Octez: ``sc_rollup_refutation_storage.ml``, ``start_game``.
    """
    if stakers.key() in rollup.games:
        raise GameAlreadyStarted(stakers)


def check_staker_availability(
    rollup: RollupState, staker: ImplicitAccount, constants: Constants
) -> None:
    """A player is a staker with fewer than ``max_number_of_parallel_games`` games.

    Octez: ``sc_rollup_refutation_storage.ml``, ``check_staker_availability``.
    """
    if not rollup.is_staker(staker):
        raise staking.NotStaked(staker, rollup.address)
    if len(rollup.opponents(staker)) >= constants.max_number_of_parallel_games:
        raise MaxNumberOfParallelGamesReached(staker, constants.max_number_of_parallel_games)


def get_game(rollup: RollupState, stakers: Index) -> GameRecord:
    """The game of ``stakers``. Octez: ``sc_rollup_refutation_storage.ml``, ``get_game``."""
    record = rollup.games.get(stakers.key())
    if record is None:
        raise NoGame(stakers)
    assert isinstance(record, GameRecord)
    return record


def check_turn(record: GameRecord, stakers: Index, player: ImplicitAccount) -> None:
    """Only the player whose turn it is may move.

    Octez: ``sc_rollup_refutation_storage.ml``, ``game_move``.
    """
    turn = stakers.staker(record.game.turn)
    if player != turn:
        raise WrongTurn(player, turn)


def check_stakes(rollup: RollupState, stakers: Index) -> GameResult | None:
    """Before a move: if a player is no longer a staker it loses (both gone: draw),
    without the move being looked at.

    Octez: ``sc_rollup_refutation_storage.ml``, ``check_stakes``.
    """
    alice = rollup.is_staker(stakers.alice)
    bob = rollup.is_staker(stakers.bob)
    if alice and bob:
        return None
    if bob:
        return game_.Loser(stakers.alice, "conflict_resolved")
    if alice:
        return game_.Loser(stakers.bob, "conflict_resolved")
    return game_.Draw()


def check_timeout_reached(record: GameRecord, stakers: Index, level: int) -> None:
    """A timeout succeeds strictly after ``last_turn_level + budget`` of the player
    to move.

    Octez: ``sc_rollup_refutation_storage.ml``, ``timeout``.
    """
    limit = game_.timeout_level(record)
    if not level > limit:
        raise TimeoutLevelNotReached(limit - level, stakers.staker(record.game.turn))


# -- transitions ----------------------------------------------------------------------


def metadata_of(rollup: RollupState) -> Metadata:
    """``Sc_rollup_metadata_repr.t`` of a rollup.

    Octez: ``sc_rollup_storage.ml``, ``get_metadata``.
    """
    return Metadata(rollup.address, rollup.origination_level)


def _store(
    state: Layer1State, rollup: RollupState, stakers: Index, record: GameRecord
) -> Layer1State:
    return state.with_rollup(attrs.evolve(rollup, games=rollup.games.set(stakers.key(), record)))


def start_game(
    state: Layer1State,
    rollup_address: RollupAddress,
    *,
    refuter: ImplicitAccount,
    defender: ImplicitAccount,
    start: Start,
    constants: Constants,
) -> Layer1State:
    """Start a game: the conflict point and start delay (validation), then no game
    for the pair, both players available, the conflict point again; the game
    starts on the defender's commitment with the inbox snapshot of the block.

    Octez: ``validate.ml`` (``validate_sc_rollup_refute``),
    ``sc_rollup_refutation_storage.ml``, ``start_game``.
    """
    rollup = state.rollup(rollup_address)

    def conflict_point() -> Commitment:
        return check_conflict_point(
            rollup,
            refuter=refuter,
            refuter_commitment_hash=start.player_commitment_hash,
            defender=defender,
            defender_commitment_hash=start.opponent_commitment_hash,
        )

    defender_commitment = conflict_point()
    check_start_not_too_early(defender_commitment, state.level, constants)
    stakers = Index.make(refuter, defender)
    check_no_game(rollup, stakers)
    check_staker_availability(rollup, stakers.alice, constants)
    check_staker_availability(rollup, stakers.bob, constants)
    defender_commitment = conflict_point()
    parent = _commitment(rollup, defender_commitment.predecessor)
    game = game_.initial(
        inbox_snapshot=state.inbox.snapshot(),
        start_level=state.level,
        pvm_kind=rollup.kind,
        parent=parent,
        child=defender_commitment,
        refuter=refuter,
        defender=defender,
        default_number_of_sections=constants.number_of_sections_in_dissection,
    )
    record = GameRecord(game, game_.initial_timeout(state.level, constants))
    return _store(state, rollup, stakers, record)


def game_move(
    state: Layer1State,
    rollup_address: RollupAddress,
    *,
    player: ImplicitAccount,
    opponent: ImplicitAccount,
    move: Move,
    constants: Constants,
    pvms: Mapping[str, PVM[Any]] = DEFAULT_PVMS,
) -> Outcome:
    """Play a move: the game exists, it is the player's turn, both are still
    stakers (else the game ends), then :func:`spec.game.play`; if the game goes
    on, it is stored and the mover's clock charged.

    Octez: ``sc_rollup_refutation_storage.ml``, ``game_move``.
    """
    rollup = state.rollup(rollup_address)
    stakers = Index.make(player, opponent)
    record = get_game(rollup, stakers)
    check_turn(record, stakers, player)
    ended = check_stakes(rollup, stakers)
    if ended is not None:
        return Outcome(state, ended)
    pvm = pvms.get(record.game.pvm_kind)
    if pvm is None:
        raise PvmNotModelled(record.game.pvm_kind)
    after = game_.play(
        record.game, stakers, move, metadata=metadata_of(rollup), pvm=pvm, constants=constants
    )
    if isinstance(after, game_.Game):
        timeout = game_.update_timeout(record.timeout, record.game.turn, state.level)
        return Outcome(_store(state, rollup, stakers, GameRecord(after, timeout)), None)
    return Outcome(state, after)


def settle(
    state: Layer1State,
    rollup_address: RollupAddress,
    stakers: Index,
    result: GameResult,
    constants: Constants,
) -> Layer1State:
    """Apply a game result: remove the game, burn the losers' bonds, reward the
    winner. Octez: ``sc_rollup_refutation_storage.ml``, ``apply_game_result``."""
    return staking.apply_game_result(state, rollup_address, stakers.key(), result, constants)


def refute_outcome(
    state: Layer1State,
    operation: Refute,
    constants: Constants,
    *,
    pvms: Mapping[str, PVM[Any]] = DEFAULT_PVMS,
) -> Outcome:
    """``Smart_rollup_refute``: start a game or play a move, and settle the game if
    it ended. Octez: ``apply.ml`` (``Sc_rollup_refute``)."""
    refutation = operation.refutation
    if isinstance(refutation, Start):
        after = start_game(
            state,
            operation.rollup,
            refuter=operation.source,
            defender=operation.opponent,
            start=refutation,
            constants=constants,
        )
        return Outcome(after, None)
    if not isinstance(refutation, Move):
        raise TypeError(f"not a refutation: {refutation!r}")
    outcome = game_move(
        state,
        operation.rollup,
        player=operation.source,
        opponent=operation.opponent,
        move=refutation,
        constants=constants,
        pvms=pvms,
    )
    if outcome.result is None:
        return outcome
    stakers = Index.make(operation.source, operation.opponent)
    return Outcome(
        settle(outcome.state, operation.rollup, stakers, outcome.result, constants), outcome.result
    )


def refute(
    state: Layer1State,
    operation: Refute,
    constants: Constants,
    *,
    pvms: Mapping[str, PVM[Any]] = DEFAULT_PVMS,
) -> Layer1State:
    """``Smart_rollup_refute``: the state after :func:`refute_outcome`."""
    return refute_outcome(state, operation, constants, pvms=pvms).state


def timeout_outcome(state: Layer1State, operation: Timeout, constants: Constants) -> Outcome:
    """``Smart_rollup_timeout``: the game exists and the player to move ran out of
    time; the result (:func:`spec.game.timeout_result`) is settled. Stakes are not
    checked first.

    Octez: ``sc_rollup_refutation_storage.ml``, ``timeout``; ``apply.ml``.
    """
    rollup = state.rollup(operation.rollup)
    stakers = Index.make(*operation.stakers)
    record = get_game(rollup, stakers)
    check_timeout_reached(record, stakers, state.level)
    result = game_.timeout_result(record, stakers)
    return Outcome(settle(state, operation.rollup, stakers, result, constants), result)


def timeout(state: Layer1State, operation: Timeout, constants: Constants) -> Layer1State:
    """``Smart_rollup_timeout``: the state after :func:`timeout_outcome`."""
    return timeout_outcome(state, operation, constants).state
