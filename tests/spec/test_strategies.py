"""Whole games between the honest player and every cheater.

``intended`` mode: the honest refuter and the honest defender win every game,
in a logarithmic number of moves. ``octez`` mode: the transcripts of the
reference findings — §3.6 (an inbox proof of another level's message wins
against the honest player), §7.12 (a proof on a multi-tick section forces a
draw) and §7.13 (a proof on a one-tick section between two blocked chunks
forces a draw, which the Octez plugin does not prevent).
"""

from __future__ import annotations

import math

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from spec import game as g
from spec import inbox as inbox_
from spec import proof as p
from spec import strategies as s
from spec.constants import TEST
from spec.hashing import RevealHash
from spec.pvm import FirstAfter

CHEATERS = [name for name in s.STRATEGIES if name != "honest"]
HONEST = s.strategy("honest")

PREIMAGE = b"2 3 * out"
REVEAL = RevealHash.of_data(PREIMAGE)
tokens = st.sampled_from(
    [
        b"1",
        b"7",
        b"42",
        b"+",
        b"*",
        b"-",
        b"out",
        b"x",
        b"metadata",
        b"?",
        b"hash:" + REVEAL.raw.hex().encode(),
    ]
)
programs = st.lists(tokens, min_size=1, max_size=10).map(b" ".join)
inboxes = st.lists(st.lists(programs, max_size=3), min_size=2, max_size=4)
boots = st.sampled_from([b"", b"1", b"5 *"])


def scenario_of(boot: bytes, messages: list[list[bytes]], mode: str = "intended") -> s.Scenario:
    return s.build_scenario(TEST.with_mode(mode), boot, messages, preimages={REVEAL: PREIMAGE})


def play(scenario: s.Scenario, cheater: str, role: str, seed: int) -> s.GameRun:
    other = s.strategy(cheater)
    refuter, defender = (other, HONEST) if role == "refuter" else (HONEST, other)
    try:
        return s.play_game(scenario, refuter=refuter, defender=defender, seed=seed)
    except s.StrategyError:
        assume(False)
        raise


def check_honest_wins(run: s.GameRun, cheater_role: str) -> None:
    honest_role = "defender" if cheater_role == "refuter" else "refuter"
    assert run.result is not None
    assert isinstance(run.result, g.Loser), run.result
    assert run.result_role == cheater_role
    honest = run.roles[honest_role]
    address = run.scenario.metadata.address
    stake = run.scenario.constants.stake_amount
    assert run.after.ledger.frozen(honest, address) == stake
    assert run.after.ledger.balance(honest) == run.before.ledger.balance(honest) + stake // 2
    assert run.after.ledger.total() == run.after.ledger.initial_total


def check_move_bound(run: s.GameRun) -> None:
    disputed = run.commitments["defender"].number_of_ticks + 1
    assert len(run.moves) <= math.ceil(math.log2(disputed)) + 2


@pytest.mark.parametrize("role", ["refuter", "defender"])
@pytest.mark.parametrize("cheater", CHEATERS)
@settings(max_examples=25)
@given(boot=boots, messages=inboxes, seed=st.integers(0, 2**16))
def test_honest_player_wins_in_intended_mode(
    cheater: str, role: str, boot: bytes, messages: list[list[bytes]], seed: int
) -> None:
    run = play(scenario_of(boot, messages), cheater, role, seed)
    check_honest_wins(run, role)
    check_move_bound(run)


@pytest.mark.parametrize("role", ["refuter", "defender"])
@pytest.mark.parametrize("cheater", s.PBT_CHEATERS)
@settings(max_examples=8)
@given(boot=boots, messages=inboxes, seed=st.integers(0, 2**16))
def test_pbt_cheaters_also_lose_in_octez_mode(
    cheater: str, role: str, boot: bytes, messages: list[list[bytes]], seed: int
) -> None:
    """Octez's own property (``test_perfect_against_*``) holds in code-faithful mode."""
    run = play(scenario_of(boot, messages, "octez"), cheater, role, seed)
    check_honest_wins(run, role)


@pytest.mark.parametrize("preset_ticks", [(4, 300), (32, 3000)])
def test_rounds_are_logarithmic(preset_ticks: tuple[int, int]) -> None:
    """With ``N`` sections the game needs about ``ceil(log_N(T)) + 1`` rounds."""
    sections, ticks = preset_ticks
    constants = attrs.evolve(TEST, number_of_sections_in_dissection=sections)
    scenario = s.generated_scenario(constants, 1, ticks)
    run = s.play_game(scenario, refuter=HONEST, defender=s.strategy("eager"), seed=1)
    check_honest_wins(run, "defender")
    t = run.commitments["refuter"].number_of_ticks
    dissections = [m for m in run.moves if isinstance(m.move and m.move.step, g.Dissection)]
    assert len(dissections) <= math.ceil(math.log(t + 1, sections)) + 1
    assert len(run.moves) <= math.ceil(math.log(t + 1, sections)) + 3


def test_idle_player_loses_by_timeout() -> None:
    idle = s.Strategy("idle", "never moves", s.keen_view, lambda game, view: ())
    scenario = scenario_of(b"", [[b"1 2 +"], [b"3"]])
    run = s.play_game(scenario, refuter=HONEST, defender=idle)
    assert run.result is not None
    assert isinstance(run.result, g.Loser)
    assert run.result.reason == "timeout"
    assert run.result_role == "defender"
    assert run.turns[-1].role == "timeout"
    check_honest_wins(run, "defender")


# -- the reference findings, as transcripts ------------------------------------------------

FINDINGS = scenario_of(b"", [[b"1 2 + out", b"3 x"], [b"4 5 * out"], [b"6 7 +"], [b"8"]])
FINDINGS_OCTEZ = scenario_of(
    b"", [[b"1 2 + out", b"3 x"], [b"4 5 * out"], [b"6 7 +"], [b"8"]], "octez"
)


def test_finding_3_6_inbox_proof_of_another_level_wins_in_octez_mode() -> None:
    """§3.6 reproduced: the forger steers the game to the input tick it forges and
    proves, with a genuine inbox proof of *another* level's message at the same
    index, a step that refutes the honest defender's true state."""
    run = s.play_game(FINDINGS_OCTEZ, refuter=s.strategy("inbox_forger"), defender=HONEST)
    assert run.result == g.Loser(run.roles["defender"], "conflict_resolved")
    last = run.moves[-1]
    assert last.role == "refuter" and last.move is not None
    assert isinstance(last.move.step, g.Proof)
    input_proof = last.move.step.proof.input_proof
    assert isinstance(input_proof, p.InboxProof)
    # The honest defender's true state at the proven tick asks for exactly this input…
    view = run.views["defender"]
    request = FINDINGS_OCTEZ.pvm.input_request(view.states[last.move.choice])
    assert request == FirstAfter(input_proof.level, input_proof.message_counter)
    # …but the inbox proof proves a message of another level.
    proven = inbox_.decode_proof(input_proof.serialized_proof)
    assert proven.inclusion_proof[-1].content.level != input_proof.level
    # The honest player lost its bond.
    honest = run.roles["defender"]
    assert run.after.ledger.frozen(honest, FINDINGS.metadata.address) == 0


def test_finding_3_6_is_refuted_in_intended_mode() -> None:
    run = s.play_game(FINDINGS, refuter=s.strategy("inbox_forger"), defender=HONEST)
    check_honest_wins(run, "refuter")


def test_finding_7_12_multi_tick_proof_forces_a_draw_in_octez_mode() -> None:
    """§7.12 reproduced: the griefer plays a proof on the multi-tick section of the
    initial dissection; it is judged invalid, the final move is over many ticks,
    the honest defender cannot prove it in one step, and the game is a draw."""
    run = s.play_game(FINDINGS_OCTEZ, refuter=s.strategy("griefer"), defender=HONEST)
    assert run.result == g.Draw()
    first, second = run.moves[0], run.moves[1]
    assert first.section is not None and first.section[1].tick - first.section[0].tick > 1
    assert isinstance(first.game_state, g.FinalMove)
    assert second.role == "defender"
    stake = FINDINGS.constants.stake_amount
    assert run.after.ledger.burnt - run.before.ledger.burnt == 2 * stake
    assert run.after.ledger.frozen(run.roles["defender"], FINDINGS.metadata.address) == 0


def test_finding_7_12_is_refuted_in_intended_mode() -> None:
    run = s.play_game(FINDINGS, refuter=s.strategy("griefer"), defender=HONEST)
    rejected = [t for t in run.turns if t.error is not None]
    assert any(isinstance(t.error, g.ProofOnMultiTickSectionDuringDissecting) for t in rejected)
    check_honest_wins(run, "refuter")


def test_finding_7_13_blocked_section_proof_forces_a_draw_in_octez_mode() -> None:
    """§7.13 reproduced: the keen griefer defends, steers the honest refuter into
    dissecting ``[T, T + 2]`` tick by tick, then proves the one-tick section
    between the two blocked chunks ``None@T+1, None@T+2``. The Octez plugin
    (which only rejects sections of more than one tick) would let it through."""
    run = s.play_game(FINDINGS_OCTEZ, refuter=HONEST, defender=s.strategy("blocked_griefer"))
    assert run.result == g.Draw()
    grief = [m for m in run.moves if m.role == "defender" and isinstance(m.move.step, g.Proof)]  # type: ignore[union-attr]
    assert grief, "the griefer played a proof"
    section = grief[0].section
    assert section is not None
    start, stop = section
    assert start.state_hash is None and stop.state_hash is None
    assert stop.tick - start.tick == 1  # the plugin's d > 1 rule does not apply
    assert start.tick == run.views["refuter"].final_tick + 1
    honest = run.roles["refuter"]
    assert run.after.ledger.frozen(honest, FINDINGS.metadata.address) == 0


def test_finding_7_13_is_refuted_in_intended_mode() -> None:
    run = s.play_game(FINDINGS, refuter=HONEST, defender=s.strategy("blocked_griefer"))
    rejected = [t for t in run.turns if t.error is not None]
    assert any(isinstance(t.error, g.ProofOnBlockedSectionDuringDissecting) for t in rejected)
    check_honest_wins(run, "defender")


def test_strategy_lookup() -> None:
    assert s.strategy("keen").name == "keen"
    with pytest.raises(s.StrategyError):
        s.strategy("nope")
    assert set(s.PBT_CHEATERS) <= set(s.STRATEGIES)


def test_strategies_are_pure() -> None:
    scenario = FINDINGS
    for name in CHEATERS:
        a = s.play_game(scenario, refuter=s.strategy(name), defender=HONEST, seed=5)
        b = s.play_game(scenario, refuter=s.strategy(name), defender=HONEST, seed=5)
        assert [(t.level, t.role, t.move, str(t.error)) for t in a.turns] == [
            (t.level, t.role, t.move, str(t.error)) for t in b.turns
        ]
