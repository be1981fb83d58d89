"""The pure game: initial state, choices, dissections, final moves, clocks."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec import game as g
from spec import proof as p
from spec import strategies as s
from spec.constants import TEST
from spec.dissection import Chunk, DissectionStopHashMismatch
from spec.errors import ScoruError
from spec.hashing import RevealHash, StateHash

DATA = b"7 out"
HASH = RevealHash.of_data(DATA)
SCENARIO = s.build_scenario(
    TEST,
    b"",
    [[b"1 2 + out", b"metadata 1 +"], [b"hash:" + HASH.raw.hex().encode() + b" x"]],
    preimages={HASH: DATA},
)
VIEW = s.honest_view(SCENARIO, 0)
T = VIEW.final_tick
ALICE, BOB = s.PLAYER_ONE, s.PLAYER_TWO
STAKERS = g.Index.make(ALICE, BOB)
INTENDED = TEST
OCTEZ = TEST.with_mode("octez")
JUNK = StateHash(b"\x99" * 32)


def make_game(dissection: tuple[Chunk, ...], turn: g.Player = "alice") -> g.Game:
    return g.Game(
        turn=turn,
        inbox_snapshot=SCENARIO.inbox.snapshot(),
        start_level=SCENARIO.state.level,
        inbox_level=SCENARIO.commit_inbox_level,
        pvm_kind="arith",
        game_state=g.Dissecting(dissection, TEST.number_of_sections_in_dissection),
    )


def chunk(tick: int) -> Chunk:
    return Chunk(VIEW.hash_at(tick), tick)


def play(game: g.Game, move: g.Move, constants=INTENDED) -> g.Game | g.GameResult:  # type: ignore[no-untyped-def]
    return g.play(
        game, STAKERS, move, metadata=SCENARIO.metadata, pvm=SCENARIO.pvm, constants=constants
    )


def proof_at(game: g.Game, tick: int) -> g.Proof:
    return g.Proof(s.produce_proof(game, tick, VIEW))


def test_index_is_normalised() -> None:
    assert g.Index.make(BOB, ALICE) == g.Index.make(ALICE, BOB)
    index = g.Index.make(BOB, ALICE)
    assert index.alice < index.bob
    assert index.staker(index.player(BOB)) == BOB


def test_initial_game() -> None:
    child = VIEW.commitment(SCENARIO.genesis)
    game = g.initial(
        inbox_snapshot=SCENARIO.inbox.snapshot(),
        start_level=10,
        pvm_kind="arith",
        parent=SCENARIO.genesis,
        child=child,
        refuter=BOB,
        defender=ALICE,
        default_number_of_sections=4,
    )
    assert game.turn == STAKERS.player(BOB)
    assert isinstance(game.game_state, g.Dissecting)
    assert game.game_state.dissection == (
        Chunk(SCENARIO.genesis.compressed_state, 0),
        Chunk(child.compressed_state, T),
        Chunk(None, T + 1),
    )
    zero = attrs.evolve(child, number_of_ticks=0)
    game0 = g.initial(
        inbox_snapshot=SCENARIO.inbox.snapshot(),
        start_level=10,
        pvm_kind="arith",
        parent=SCENARIO.genesis,
        child=zero,
        refuter=BOB,
        defender=ALICE,
        default_number_of_sections=4,
    )
    assert isinstance(game0.game_state, g.Dissecting)
    assert game0.game_state.dissection == (Chunk(child.compressed_state, 0), Chunk(None, 1))


def test_find_choice() -> None:
    d = (chunk(0), chunk(4), chunk(8))
    assert g.find_choice(d, 4) == (chunk(4), chunk(8))
    with pytest.raises(g.DissectionChoiceNotFound):
        g.find_choice(d, 8)
    with pytest.raises(g.DissectionChoiceNotFound):
        g.find_choice(d, 3)


def test_dissection_move_flips_the_turn() -> None:
    game = make_game((chunk(0), Chunk(JUNK, 8), Chunk(None, 9)))
    new = s.build_dissection(game, chunk(0), Chunk(JUNK, 8), VIEW)
    after = play(game, g.Move(0, g.Dissection(new)))
    assert isinstance(after, g.Game)
    assert after.turn == "bob"
    assert after.game_state == g.Dissecting(new, 4)


def test_invalid_dissection_is_an_error_and_the_game_is_unchanged() -> None:
    game = make_game((chunk(0), Chunk(JUNK, 8), Chunk(None, 9)))
    before = attrs.evolve(game)
    bad = s.build_dissection(game, chunk(0), Chunk(JUNK, 8), VIEW)
    bad = (*bad[:-1], Chunk(JUNK, 8))
    with pytest.raises(DissectionStopHashMismatch):
        play(game, g.Move(0, g.Dissection(bad)))
    assert game == before


def test_dissecting_during_final_move() -> None:
    game = attrs.evolve(make_game(()), game_state=g.FinalMove(chunk(0), chunk(1)))
    with pytest.raises(g.DissectingDuringFinalMove):
        play(game, g.Move(0, g.Dissection((chunk(0), chunk(1)))))


def test_valid_first_proof_wins() -> None:
    game = make_game((chunk(0), Chunk(JUNK, 1), Chunk(None, 2)))
    result = play(game, g.Move(0, proof_at(game, 0)))
    assert result == g.Loser(STAKERS.bob, "conflict_resolved")


def test_honest_proofs_of_every_tick() -> None:
    """Every tick's honest proof refutes a wrong stop and validates the right one
    (inbox messages, the first input, metadata and raw-data reveals, evaluation)."""
    for tick in range(T + 1):
        check_tick(tick)


def check_tick(tick: int) -> None:
    game = make_game((chunk(tick), Chunk(JUNK, tick + 1)))
    assert play(game, g.Move(tick, proof_at(game, tick))) == g.Loser(
        STAKERS.bob, "conflict_resolved"
    )
    final = attrs.evolve(game, game_state=g.FinalMove(chunk(tick), chunk(tick + 1)))
    assert play(final, g.Move(tick, proof_at(game, tick))) == g.Loser(
        STAKERS.bob, "conflict_resolved"
    )


def test_blocked_tick_proof_refutes_a_state_and_validates_none() -> None:
    game = make_game((chunk(T), Chunk(JUNK, T + 1)))
    assert play(game, g.Move(T, proof_at(game, T))) == g.Loser(STAKERS.bob, "conflict_resolved")
    final = attrs.evolve(game, game_state=g.FinalMove(chunk(T), Chunk(None, T + 1)))
    assert play(final, g.Move(T, proof_at(game, T))) == g.Loser(STAKERS.bob, "conflict_resolved")


def test_invalid_first_proof_starts_the_final_move() -> None:
    game = make_game((chunk(0), chunk(1), Chunk(None, 2)))
    after = play(game, g.Move(0, proof_at(game, 0)))
    assert isinstance(after, g.Game)
    assert after.turn == "bob"
    assert after.game_state == g.FinalMove(chunk(0), chunk(1))


def test_invalid_second_proof_is_a_draw() -> None:
    game = attrs.evolve(make_game(()), game_state=g.FinalMove(chunk(0), Chunk(JUNK, 1)))
    assert play(game, g.Move(0, proof_at(game, 0))) == g.Draw()


def test_undecodable_pvm_step_is_an_operation_error() -> None:
    game = make_game((chunk(0), Chunk(JUNK, 1)))
    with pytest.raises(p.ProofCheck):
        play(game, g.Move(0, g.Proof(p.RefutationProof(b"\x07garbage", None))))


def test_multi_tick_proof_rejected_in_intended_mode_accepted_in_octez() -> None:
    game = make_game((chunk(0), Chunk(JUNK, 4), Chunk(None, 5)))
    move = g.Move(0, proof_at(game, 0))
    with pytest.raises(g.ProofOnMultiTickSectionDuringDissecting):
        play(game, move, INTENDED)
    after = play(game, move, OCTEZ)
    assert isinstance(after, g.Game)
    assert after.game_state == g.FinalMove(chunk(0), Chunk(JUNK, 4))
    # §7.12: the honest opponent cannot prove a multi-tick section in one step.
    assert play(after, g.Move(0, proof_at(game, 0)), OCTEZ) == g.Draw()


def test_blocked_section_proof_rejected_in_intended_mode_accepted_in_octez() -> None:
    game = make_game((chunk(T), Chunk(None, T + 1), Chunk(None, T + 2)))
    move = g.Move(T + 1, proof_at(game, 0))
    with pytest.raises(g.ProofOnBlockedSectionDuringDissecting):
        play(game, move, INTENDED)
    after = play(game, move, OCTEZ)
    assert isinstance(after, g.Game)
    # §7.13: nobody can prove a step from a blocked (None) start.
    assert play(after, g.Move(T + 1, proof_at(game, T)), OCTEZ) == g.Draw()


# -- clocks -------------------------------------------------------------------------


def test_clocks() -> None:
    t0 = g.initial_timeout(100, TEST)
    assert t0 == g.Timeout(TEST.timeout_period_in_blocks, TEST.timeout_period_in_blocks, 100)
    t1 = g.update_timeout(t0, "alice", 103)
    assert t1 == g.Timeout(t0.alice - 3, t0.bob, 103)
    t2 = g.update_timeout(t1, "bob", 120)
    assert t2.bob == t0.bob - 17 < 0
    record = g.GameRecord(make_game((chunk(0), chunk(1))), t1)
    assert g.timeout_level(record) == 103 + t1.alice


def test_timeout_results() -> None:
    timeout = g.initial_timeout(0, TEST)
    dissecting = g.GameRecord(make_game((chunk(0), chunk(1)), turn="bob"), timeout)
    assert g.timeout_result(dissecting, STAKERS) == g.Loser(STAKERS.bob, "timeout")
    final = g.GameRecord(
        attrs.evolve(dissecting.game, game_state=g.FinalMove(chunk(0), chunk(1))), timeout
    )
    assert g.timeout_result(final, STAKERS) == g.Draw()


# -- hostile proofs ------------------------------------------------------------------------


input_proofs = st.one_of(
    st.none(),
    st.builds(p.FirstInboxMessage),
    st.builds(p.MetadataProof),
    st.builds(p.RawDataProof, st.binary(max_size=40)),
    st.builds(
        p.InboxProof,
        st.integers(-5, 2**40),
        st.integers(-5, 2**70),
        st.binary(max_size=200),
    ),
)


@settings(max_examples=150)
@given(
    data=st.data(),
    tick=st.integers(0, 30),
    input_proof=input_proofs,
    final=st.booleans(),
)
def test_hostile_proofs_are_judged_or_rejected_never_crash(
    data: st.DataObject, tick: int, input_proof: p.InputProof | None, final: bool
) -> None:
    """Untrusted proofs (random, truncated, bit-flipped, with any input proof) are
    either rejected with a typed error or judged; nothing else escapes."""
    tick = min(tick, T)
    game = make_game((chunk(tick), Chunk(JUNK, tick + 1)))
    if final:
        game = attrs.evolve(game, game_state=g.FinalMove(chunk(tick), Chunk(JUNK, tick + 1)))
    honest = s.produce_proof(game, tick, VIEW).pvm_step
    kind = data.draw(st.sampled_from(["random", "flip", "truncate", "honest"]))
    if kind == "random":
        step = data.draw(st.binary(max_size=300))
    elif kind == "flip":
        i = data.draw(st.integers(0, len(honest) - 1))
        step = honest[:i] + bytes([honest[i] ^ data.draw(st.integers(1, 255))]) + honest[i + 1 :]
    elif kind == "truncate":
        step = honest[: data.draw(st.integers(0, len(honest) - 1))]
    else:
        step = honest
    move = g.Move(tick, g.Proof(p.RefutationProof(step, input_proof)))
    for constants in (INTENDED, OCTEZ):
        try:
            result = play(game, move, constants)
        except ScoruError:
            continue
        assert isinstance(result, (g.Game, g.Loser, g.Draw))
