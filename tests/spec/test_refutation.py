"""Games on layer 1: starting (§7.2), moving (§7.4, §7.5), timeouts (§7.9), money (§7.10)."""

from __future__ import annotations

import attrs
import pytest

from spec import game as g
from spec import refutation as r
from spec import rollup as rollup_
from spec import staking
from spec import strategies as s
from spec.commitment import Commitment
from spec.constants import TEST
from spec.hashing import ImplicitAccount
from spec.operations import Publish, Refute, Timeout
from spec.state import Layer1State

A, B = s.PLAYER_ONE, s.PLAYER_TWO
C = ImplicitAccount(2, bytes([0x44] * 20))
D = ImplicitAccount(2, bytes([0x55] * 20))
STAKE = TEST.stake_amount
SCENARIO = s.build_scenario(
    TEST,
    b"",
    [[b"1 2 + out"], [b"3 4 *"], [b"5"], [b"6"]],
    balances={A: 3 * STAKE, B: 3 * STAKE, C: 3 * STAKE, D: 3 * STAKE, s.OPERATOR: STAKE},
)
ADDRESS = SCENARIO.metadata.address
HONEST = s.honest_view(SCENARIO, 0)
KEEN = s.keen_view(SCENARIO, 0)
GOOD = HONEST.commitment(SCENARIO.genesis)
BAD = KEEN.commitment(SCENARIO.genesis)
STAKERS = g.Index.make(A, B)


def publish(state: Layer1State, staker: ImplicitAccount, commitment: Commitment) -> Layer1State:
    return staking.apply_publish(state, Publish(staker, ADDRESS, commitment), TEST)


def start(
    state: Layer1State,
    refuter: ImplicitAccount,
    mine: Commitment,
    defender: ImplicitAccount,
    theirs: Commitment,
) -> Layer1State:
    op = Refute(refuter, ADDRESS, defender, g.Start(mine.hash(), theirs.hash()))
    return r.refute(state, op, TEST)


PUBLISHED = publish(publish(SCENARIO.state, A, GOOD), B, BAD)
STARTED = start(PUBLISHED, A, GOOD, B, BAD)  # A (honest) refutes B (keen)


def record(state: Layer1State, stakers: g.Index = STAKERS) -> g.GameRecord:
    found = state.rollup(ADDRESS).games[stakers.key()]
    assert isinstance(found, g.GameRecord)
    return found


def move(state: Layer1State, player: ImplicitAccount, m: g.Move) -> r.Outcome:
    other = B if player == A else A
    return r.refute_outcome(state, Refute(player, ADDRESS, other, m), TEST)


def honest_move(state: Layer1State) -> g.Move:
    return s.honest_moves(record(state).game, HONEST)[0]


# -- starting ---------------------------------------------------------------------------


def test_start_creates_the_game() -> None:
    rec = record(STARTED)
    assert STAKERS.staker(rec.game.turn) == A
    assert rec.game.inbox_snapshot == PUBLISHED.inbox.snapshot()
    assert rec.game.inbox_level == SCENARIO.commit_inbox_level
    assert rec.game.start_level == PUBLISHED.level
    assert rec.timeout == g.Timeout(6, 6, PUBLISHED.level)
    assert isinstance(rec.game.game_state, g.Dissecting)
    assert rec.game.game_state.dissection[1].tick == BAD.number_of_ticks


def test_start_refuter_not_staked_on_its_commitment() -> None:
    with pytest.raises(r.WrongStakerForConflictCommitment) as e:
        start(PUBLISHED, A, BAD, B, BAD)
    assert e.value.staker == A


def test_start_defender_not_staked_on_its_commitment() -> None:
    with pytest.raises(r.WrongStakerForConflictCommitment) as e:
        start(PUBLISHED, A, GOOD, B, GOOD)
    assert e.value.staker == B


def test_start_without_conflict() -> None:
    state = publish(PUBLISHED, C, GOOD)
    with pytest.raises(r.NoConflict):
        start(state, A, GOOD, C, GOOD)


def test_start_on_commitments_with_other_predecessors() -> None:
    state = rollup_.advance_level(PUBLISHED, TEST)
    state = rollup_.advance_level(state, TEST)
    child = Commitment(BAD.compressed_state, BAD.inbox_level + 2, BAD.hash(), 3)
    state = publish(state, B, child)
    with pytest.raises(r.NotValidCommitmentsConflict):
        start(state, A, GOOD, B, child)


def test_start_too_early() -> None:
    early = attrs.evolve(SCENARIO.state, level=SCENARIO.state.level - 1)
    early = publish(publish(early, A, GOOD), B, BAD)
    with pytest.raises(r.RefutationGameStartTooEarly) as e:
        start(early, A, GOOD, B, BAD)
    assert e.value.earliest_start_level == SCENARIO.commit_inbox_level + 2


def test_one_game_per_pair() -> None:
    with pytest.raises(r.GameAlreadyStarted):
        start(STARTED, B, BAD, A, GOOD)


def test_max_number_of_parallel_games() -> None:
    state = publish(publish(STARTED, C, BAD), D, BAD)
    state = start(state, A, GOOD, C, BAD)
    with pytest.raises(r.MaxNumberOfParallelGamesReached) as e:
        start(state, A, GOOD, D, BAD)
    assert e.value.staker == A


def test_staker_availability_needs_a_bond() -> None:
    with pytest.raises(staking.NotStaked):
        r.check_staker_availability(PUBLISHED.rollup(ADDRESS), C, TEST)


# -- moves -------------------------------------------------------------------------------


def test_move_without_game() -> None:
    with pytest.raises(r.NoGame):
        move(PUBLISHED, A, g.Move(0, g.Dissection(())))


def test_wrong_turn() -> None:
    with pytest.raises(r.WrongTurn):
        move(STARTED, B, honest_move(STARTED))


def test_rejected_move_leaves_the_state_unchanged() -> None:
    before = STARTED
    bad = g.Move(1, g.Dissection(()))
    with pytest.raises(g.DissectionChoiceNotFound):
        move(before, A, bad)
    assert before.rollup(ADDRESS).games == STARTED.rollup(ADDRESS).games


def test_move_charges_the_clock() -> None:
    state = attrs.evolve(STARTED, level=STARTED.level + 3)
    outcome = move(state, A, honest_move(state))
    assert outcome.result is None
    rec = record(outcome.state)
    player = STAKERS.player(A)
    assert rec.timeout.budget(player) == 6 - 3
    assert rec.timeout.last_turn_level == state.level
    assert STAKERS.staker(rec.game.turn) == B


def test_forfeit_when_the_opponent_is_no_longer_staked() -> None:
    """§7.5: the remaining player wins without its move being looked at; no reward."""
    state = staking.remove_staker(STARTED, ADDRESS, B, TEST)
    before = state.ledger
    outcome = move(state, A, g.Move(12345, g.Dissection(())))
    assert outcome.result == g.Loser(B, "conflict_resolved")
    assert outcome.state.ledger.balance(A) == before.balance(A)
    assert outcome.state.ledger.burnt == before.burnt
    assert STAKERS.key() not in outcome.state.rollup(ADDRESS).games


def test_draw_when_neither_is_staked() -> None:
    state = staking.remove_staker(STARTED, ADDRESS, B, TEST)
    state = staking.remove_staker(state, ADDRESS, A, TEST)
    assert move(state, A, g.Move(0, g.Dissection(()))).result == g.Draw()


# -- timeouts ------------------------------------------------------------------------------


def timeout(state: Layer1State) -> r.Outcome:
    return r.timeout_outcome(state, Timeout(C, ADDRESS, (B, A)), TEST)


def test_timeout_not_reached() -> None:
    at_limit = attrs.evolve(STARTED, level=STARTED.level + 6)
    with pytest.raises(r.TimeoutLevelNotReached) as e:
        timeout(at_limit)
    assert (e.value.blocks_left, e.value.staker) == (0, A)
    with pytest.raises(r.TimeoutLevelNotReached) as e:
        timeout(STARTED)
    assert e.value.blocks_left == 6


def test_timeout_during_dissection_loses_and_pays() -> None:
    """§7.9, §7.10: the player to move loses its bond, the winner gets half of it."""
    late = attrs.evolve(STARTED, level=STARTED.level + 7)
    outcome = timeout(late)
    assert outcome.result == g.Loser(A, "timeout")
    ledger0, ledger1 = late.ledger, outcome.state.ledger
    assert ledger1.frozen(A, ADDRESS) == ledger0.frozen(A, ADDRESS) - STAKE
    assert ledger1.balance(B) == ledger0.balance(B) + STAKE // 2
    assert ledger1.burnt - ledger0.burnt == STAKE
    assert ledger1.minted - ledger0.minted == STAKE // 2
    assert not outcome.state.rollup(ADDRESS).is_staker(A)
    assert STAKERS.key() not in outcome.state.rollup(ADDRESS).games


def test_timeout_during_final_move_is_a_draw() -> None:
    rec = record(STARTED)
    final = attrs.evolve(
        rec,
        game=attrs.evolve(
            rec.game,
            game_state=g.FinalMove(
                g.find_choice(rec.game.game_state.dissection, 0)[0],  # type: ignore[union-attr]
                g.find_choice(rec.game.game_state.dissection, 0)[1],
            ),  # type: ignore[union-attr]
        ),
    )
    rollup = STARTED.rollup(ADDRESS)
    state = STARTED.with_rollup(attrs.evolve(rollup, games=rollup.games.set(STAKERS.key(), final)))
    state = attrs.evolve(state, level=state.level + 7)
    outcome = timeout(state)
    assert outcome.result == g.Draw()
    assert outcome.state.ledger.burnt - state.ledger.burnt == 2 * STAKE
    assert outcome.state.ledger.minted == state.ledger.minted


def test_timeout_of_unknown_game() -> None:
    with pytest.raises(r.NoGame):
        timeout(PUBLISHED)


# -- a whole game ----------------------------------------------------------------------------


def test_honest_refuter_wins_and_is_rewarded() -> None:
    state = STARTED
    result = None
    mover = A
    views = {A: HONEST, B: KEEN}
    for _ in range(30):
        state = attrs.evolve(state, level=state.level + 1)
        game = record(state).game
        mover = STAKERS.staker(game.turn)
        m = s.honest_moves(game, views[mover])[0]
        outcome = move(state, mover, m)
        state = outcome.state
        if outcome.result is not None:
            result = outcome.result
            break
    assert result == g.Loser(B, "conflict_resolved")
    assert state.ledger.balance(A) == PUBLISHED.ledger.balance(A) + STAKE // 2
    assert state.ledger.frozen(B, ADDRESS) == 0
    assert state.ledger.total() == state.ledger.initial_total


# -- every invalid dissection through the operation ----------------------------------------


def _mutations() -> list[tuple[str, type[Exception]]]:
    from spec import dissection as d

    return [
        ("too_few", d.DissectionNumberOfSectionsMismatch),
        ("start_hash", d.DissectionStartHashMismatch),
        ("stop_hash", d.DissectionStopHashMismatch),
        ("edge_ticks", d.DissectionEdgeTicksMismatch),
        ("shape", d.DissectionInvalidSuccessiveStatesShape),
        ("not_increasing", d.DissectionTicksNotIncreasing),
        ("distribution", d.DissectionInvalidDistribution),
        ("choice", g.DissectionChoiceNotFound),
    ]


@pytest.mark.parametrize(("mutation", "error"), _mutations())
def test_invalid_dissections_are_rejected_and_change_nothing(
    mutation: str, error: type[Exception]
) -> None:
    from spec.dissection import Chunk

    good = honest_move(STARTED)
    assert isinstance(good.step, g.Dissection)
    chunks = list(good.step.chunks)
    choice = good.choice
    if mutation == "too_few":
        chunks = [chunks[0], chunks[-1]]
    elif mutation == "start_hash":
        chunks[0] = Chunk(BAD.compressed_state, chunks[0].tick)
    elif mutation == "stop_hash":
        section = g.find_choice(record(STARTED).game.game_state.dissection, choice)  # type: ignore[union-attr]
        chunks[-1] = section[1]
    elif mutation == "edge_ticks":
        chunks[-1] = Chunk(chunks[-1].state_hash, chunks[-1].tick - 1)
    elif mutation == "shape":
        chunks[1] = Chunk(None, chunks[1].tick)
    elif mutation == "not_increasing":
        chunks[2] = Chunk(chunks[2].state_hash, chunks[1].tick)
    elif mutation == "distribution":
        inner = [Chunk(HONEST.hash_at(t), t) for t in (1, 2, 3)]
        chunks = [chunks[0], *inner, chunks[-1]]
    elif mutation == "choice":
        choice += 1
    bad = g.Move(choice, g.Dissection(tuple(chunks)))
    with pytest.raises(error):
        move(STARTED, A, bad)
    assert record(STARTED) == record(PUBLISHED.with_rollup(STARTED.rollup(ADDRESS)))
