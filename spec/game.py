"""The refutation game between two stakers, as pure data and pure transitions.

A game disputes the commitment of the *defender* against the *refuter* who
started it. Players alternately choose a section of the current dissection
that they disagree with and either dissect it further or, on a one-tick
section, prove the PVM step. The game state, the clocks and the result are
frozen values; :func:`play` and :func:`timeout_result` compute the next one.

Properties stated by Octez (``sc_rollup_game_repr.mli``): a player who plays
according to the honest PVM always has a valid move, and an honest player
wins against any opponent (P1/P2). ``intended`` mode adds the checks needed
for this to hold; ``octez`` mode follows the code (reference §7.12, §7.13).

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_game_repr.ml(i)``,
``sc_rollup_refutation_storage.ml`` (clocks).
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

import attrs

from spec import proof as proof_
from spec.commitment import Commitment
from spec.constants import Constants
from spec.dissection import Chunk, check_dissection
from spec.errors import ProtocolError, ScoruError
from spec.hashing import CommitmentHash, ImplicitAccount
from spec.inbox import HistoryCell
from spec.pvm import PVM, Metadata

#: ``Sc_rollup_game_repr.player``: the first (``alice``) or second (``bob``)
#: staker of the normalised pair.
Player = Literal["alice", "bob"]
#: ``Sc_rollup_game_repr.reason``.
Reason = Literal["conflict_resolved", "timeout"]


def opponent(player: Player) -> Player:
    """The other player. Octez: ``sc_rollup_game_repr.ml``, ``opponent``."""
    return "bob" if player == "alice" else "alice"


# -- data ---------------------------------------------------------------------


@attrs.frozen(order=True)
class Index:
    """The unordered pair of stakers of a game, normalised so that ``alice < bob``
    (key type first, then key hash bytes).

    Octez: ``sc_rollup_game_repr.ml``, ``Index.make``.
    """

    alice: ImplicitAccount
    bob: ImplicitAccount

    @classmethod
    def make(cls, a: ImplicitAccount, b: ImplicitAccount) -> Index:
        return cls(a, b) if a <= b else cls(b, a)

    def staker(self, player: Player) -> ImplicitAccount:
        """The staker playing as ``player``. Octez: ``Index.staker``."""
        return self.alice if player == "alice" else self.bob

    def player(self, staker: ImplicitAccount) -> Player:
        """The role of ``staker`` in this pair (it must be one of the two)."""
        if staker == self.alice:
            return "alice"
        if staker == self.bob:
            return "bob"
        raise ValueError(f"{staker} does not play in the game {self}")

    def key(self) -> tuple[ImplicitAccount, ImplicitAccount]:
        """The storage key ``(alice, bob)``."""
        return (self.alice, self.bob)

    def __str__(self) -> str:
        return f"{self.alice}-{self.bob}"


@attrs.frozen
class Dissecting:
    """The game is being dissected: the current dissection and the stored copy
    of ``number_of_sections_in_dissection``.

    Octez: ``sc_rollup_game_repr.ml``, ``game_state.Dissecting``.
    """

    dissection: tuple[Chunk, ...]
    default_number_of_sections: int

    kind = "dissecting"


@attrs.frozen
class FinalMove:
    """A first proof was judged invalid: the other player must now prove the
    section from ``agreed_start_chunk`` to ``refuted_stop_chunk``.

    Octez: ``sc_rollup_game_repr.ml``, ``game_state.Final_move``.
    """

    agreed_start_chunk: Chunk
    refuted_stop_chunk: Chunk

    kind = "final_move"


GameState = Dissecting | FinalMove


@attrs.frozen
class Game:
    """``Sc_rollup_game_repr.t``: whose turn, the inbox snapshot taken when the
    game started, the start level, the disputed inbox level, the PVM kind and
    the game state. (The DAL snapshot is not modelled: no PVM here reads DAL.)

    Octez: ``sc_rollup_game_repr.ml``, type ``t``.
    """

    turn: Player
    inbox_snapshot: HistoryCell
    start_level: int
    inbox_level: int
    pvm_kind: str
    game_state: GameState


@attrs.frozen
class Timeout:
    """``Sc_rollup_game_repr.timeout``: each player's remaining chess-clock budget
    (in levels; may become negative) and the level of the last move.

    Octez: ``sc_rollup_game_repr.ml``, type ``timeout``.
    """

    alice: int
    bob: int
    last_turn_level: int

    def budget(self, player: Player) -> int:
        return self.alice if player == "alice" else self.bob


@attrs.frozen
class GameRecord:
    """What layer 1 stores for one game: ``Game_info`` and ``Game_timeout``.

    Octez: ``storage.ml``, ``Sc_rollup.Game_info`` and ``Sc_rollup.Game_timeout``.
    """

    game: Game
    timeout: Timeout


@attrs.frozen
class Loser:
    """``Loser {loser; reason}``. Octez: ``sc_rollup_game_repr.ml``, ``game_result``."""

    loser: ImplicitAccount
    reason: Reason

    kind = "loser"


@attrs.frozen
class Draw:
    """``Draw``: both players lose. Octez: ``sc_rollup_game_repr.ml``, ``game_result``."""

    kind = "draw"


GameResult = Loser | Draw


# -- move payloads ------------------------------------------------------------------


@attrs.frozen
class Dissection:
    """The step ``Dissection of chunk list`` (tag 0)."""

    chunks: tuple[Chunk, ...]

    kind = "dissection"


@attrs.frozen
class Proof:
    """The step ``Proof of Sc_rollup_proof_repr.t`` (tag 1)."""

    proof: proof_.RefutationProof

    kind = "proof"


Step = Dissection | Proof


@attrs.frozen
class Start:
    """``Start {player_commitment_hash; opponent_commitment_hash}`` (tag 0): the
    sender, the refuter, disputes the opponent's commitment with its own.

    Octez: ``sc_rollup_game_repr.ml``, ``refutation``.
    """

    player_commitment_hash: CommitmentHash
    opponent_commitment_hash: CommitmentHash

    kind = "start"


@attrs.frozen
class Move:
    """``Move {choice; step}`` (tag 1): the section starting at tick ``choice``,
    and a dissection of it or a proof.

    Octez: ``sc_rollup_game_repr.ml``, ``refutation``.
    """

    choice: int
    step: Step

    kind = "move"


Refutation = Start | Move


# -- errors ---------------------------------------------------------------------


class DissectionChoiceNotFound(ProtocolError):
    """``Dissection_choice_not_found tick``."""

    octez_error = "smart_rollup_dissection_choice_not_found"

    def __init__(self, choice: int) -> None:
        super().__init__(f"no section of the current dissection starts at tick {choice}")
        self.choice = choice


class DissectingDuringFinalMove(ProtocolError):
    """``Dissecting_during_final_move``."""

    octez_error = "smart_rollup_dissecting_during_final_move"

    def __init__(self) -> None:
        super().__init__("a dissection cannot be played once the final move has started")


class ProofOnMultiTickSectionDuringDissecting(ProtocolError):
    """``Sc_rollup_proof_on_multi_tick_section_during_dissecting`` (the Octez
    block-validation plugin; a protocol error in ``intended`` mode)."""

    octez_error = "smart_rollup_proof_on_multi_tick_section_during_dissecting"

    def __init__(self, start_tick: int, stop_tick: int) -> None:
        super().__init__(
            f"a proof can only refute a one-tick section, but the chosen section spans "
            f"ticks {start_tick}..{stop_tick}"
        )
        self.start_tick = start_tick
        self.stop_tick = stop_tick


class ProofOnBlockedSectionDuringDissecting(ProtocolError):
    """A proof on a section that starts at a blocked (None) state. Octez has no
    such check (reference §7.13); ``intended`` mode rejects the move."""

    octez_error = "scoru_intended_proof_on_blocked_section_during_dissecting"

    def __init__(self, start_tick: int) -> None:
        super().__init__(
            f"a proof cannot refute the section starting at tick {start_tick}: "
            "both players agree the machine is blocked there"
        )
        self.start_tick = start_tick


# -- the game -----------------------------------------------------------------------


def initial(
    *,
    inbox_snapshot: HistoryCell,
    start_level: int,
    pvm_kind: str,
    parent: Commitment,
    child: Commitment,
    refuter: ImplicitAccount,
    defender: ImplicitAccount,
    default_number_of_sections: int,
) -> Game:
    """The refuter moves first, on the defender's claim
    ``[(parent state, 0), (child state, T), (None, T + 1)]``: the machine ran
    ``T`` ticks and is then blocked (a zero-tick child gives
    ``[(child state, 0), (None, 1)]``).

    Octez: ``sc_rollup_game_repr.ml``, ``initial``.
    """
    index = Index.make(refuter, defender)
    ticks = child.number_of_ticks
    if ticks == 0:
        dissection: tuple[Chunk, ...] = (Chunk(child.compressed_state, 0), Chunk(None, 1))
    else:
        dissection = (
            Chunk(parent.compressed_state, 0),
            Chunk(child.compressed_state, ticks),
            Chunk(None, ticks + 1),
        )
    return Game(
        turn=index.player(refuter),
        inbox_snapshot=inbox_snapshot,
        start_level=start_level,
        inbox_level=child.inbox_level,
        pvm_kind=pvm_kind,
        game_state=Dissecting(dissection, default_number_of_sections),
    )


def initial_timeout(level: int, constants: Constants) -> Timeout:
    """Both clocks start at ``timeout_period_in_blocks``, counted from ``level``.

    Octez: ``sc_rollup_refutation_storage.ml``, ``initial_timeout``.
    """
    period = constants.timeout_period_in_blocks
    return Timeout(alice=period, bob=period, last_turn_level=level)


def find_choice(dissection: tuple[Chunk, ...], choice: int) -> tuple[Chunk, Chunk]:
    """The section ``(start, stop)`` of consecutive chunks whose start tick is
    ``choice``; the last chunk starts no section.

    Octez: ``sc_rollup_game_repr.ml``, ``find_choice``.
    """
    for start, stop in itertools.pairwise(dissection):
        if start.tick == choice:
            return start, stop
    raise DissectionChoiceNotFound(choice)


def check_proof_section(start: Chunk, stop: Chunk, constants: Constants) -> None:
    """In ``intended`` mode, a first proof must refute a one-tick section whose
    start state is not blocked; ``octez`` mode accepts the move and judges the
    proof invalid instead (reference §7.12, §7.13).

    Octez: ``lib_plugin/block_validation.ml`` (multi-tick sections only).
    """
    if constants.mode != "intended":
        return
    if stop.tick - start.tick != 1:
        raise ProofOnMultiTickSectionDuringDissecting(start.tick, stop.tick)
    if start.state_hash is None:
        raise ProofOnBlockedSectionDuringDissecting(start.tick)


def validity_final_move(
    *,
    first_move: bool,
    proof: proof_.RefutationProof,
    game: Game,
    start_chunk: Chunk,
    stop_chunk: Chunk,
    metadata: Metadata,
    pvm: PVM[Any],
    constants: Constants,
) -> bool:
    """Whether a final move is valid; every error counts as ``False``.

    The proof must be valid against the game's snapshot (:func:`spec.proof.valid`),
    span one tick (first move only), start on the agreed start state, and stop
    on a state other than the refuted one (first move) or equal to it (second
    move). There is no distance check in the second move.

    Octez: ``sc_rollup_game_repr.ml``, ``validity_final_move``,
    ``check_proof_distance_is_one``, ``check_proof_start_state``,
    ``check_proof_stop_state``.
    """
    try:
        checked = proof_.valid(
            proof,
            pvm=pvm,
            metadata=metadata,
            snapshot=game.inbox_snapshot,
            commit_inbox_level=game.inbox_level,
            constants=constants,
        )
    except ScoruError:
        return False
    if first_move and stop_chunk.tick - start_chunk.tick != 1:
        return False
    if start_chunk.state_hash != checked.start_state:
        return False
    stop = checked.stop_state
    if first_move:
        return stop != stop_chunk.state_hash
    return stop == stop_chunk.state_hash


def play(
    game: Game,
    stakers: Index,
    move: Move,
    *,
    metadata: Metadata,
    pvm: PVM[Any],
    constants: Constants,
) -> Game | GameResult:
    """Apply a move: a dissection replaces the current one and passes the turn;
    a first proof wins the game if valid and otherwise starts the final move; a
    second proof wins if valid and otherwise the game is a draw.

    Raises (and the operation fails, the game unchanged) on a dissection during
    the final move, an unknown choice, an invalid dissection, an undecodable
    PVM step, or, in ``intended`` mode, a proof on a multi-tick or blocked section.

    Octez: ``sc_rollup_game_repr.ml``, ``play``.
    """
    state = game.game_state
    step = move.step
    mover = game.turn
    if isinstance(step, Dissection):
        if isinstance(state, FinalMove):
            raise DissectingDuringFinalMove()
        start, stop = find_choice(state.dissection, move.choice)
        check_dissection(
            game.pvm_kind,
            state.default_number_of_sections,
            start,
            stop,
            step.chunks,
            constants.ticks_per_snapshot,
        )
        return attrs.evolve(
            game,
            turn=opponent(mover),
            game_state=Dissecting(step.chunks, state.default_number_of_sections),
        )
    if isinstance(state, Dissecting):
        start, stop = find_choice(state.dissection, move.choice)
        check_proof_section(start, stop, constants)
        proof_.check_pvm_step_decodes(step.proof, pvm)
        if validity_final_move(
            first_move=True,
            proof=step.proof,
            game=game,
            start_chunk=start,
            stop_chunk=stop,
            metadata=metadata,
            pvm=pvm,
            constants=constants,
        ):
            return Loser(stakers.staker(opponent(mover)), "conflict_resolved")
        return attrs.evolve(game, turn=opponent(mover), game_state=FinalMove(start, stop))
    proof_.check_pvm_step_decodes(step.proof, pvm)
    if validity_final_move(
        first_move=False,
        proof=step.proof,
        game=game,
        start_chunk=state.agreed_start_chunk,
        stop_chunk=state.refuted_stop_chunk,
        metadata=metadata,
        pvm=pvm,
        constants=constants,
    ):
        return Loser(stakers.staker(opponent(mover)), "conflict_resolved")
    return Draw()


def update_timeout(timeout: Timeout, mover: Player, level: int) -> Timeout:
    """After a move that leaves the game going on, the mover's budget is charged
    the levels since the last move (it may become negative) and the last-move
    level becomes ``level``.

    Octez: ``sc_rollup_refutation_storage.ml``, ``update_timeout``.
    """
    spent = level - timeout.last_turn_level
    if mover == "alice":
        return Timeout(timeout.alice - spent, timeout.bob, level)
    return Timeout(timeout.alice, timeout.bob - spent, level)


def timeout_level(record: GameRecord) -> int:
    """The last level at which the player to move may still move: a timeout
    succeeds strictly after it.

    Octez: ``sc_rollup_refutation_storage.ml``, ``timeout`` (``level_of_timeout``).
    """
    return record.timeout.last_turn_level + record.timeout.budget(record.game.turn)


def timeout_result(record: GameRecord, stakers: Index) -> GameResult:
    """When the player to move ran out of time: it loses during the dissection;
    during the final move the game is a draw (the waiting player made an invalid
    proof and the player to move did not prove the section).

    Octez: ``sc_rollup_refutation_storage.ml``, ``timeout``.
    """
    if isinstance(record.game.game_state, Dissecting):
        return Loser(stakers.staker(record.game.turn), "timeout")
    return Draw()
