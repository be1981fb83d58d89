"""The reference PVM in the refutation game: a WASM rollup originated
through :mod:`spec.rollup`, its inbox proven with :mod:`spec.inbox`, and
final moves judged by :func:`spec.proof.valid` and :func:`spec.game.play`."""

from __future__ import annotations

import attrs
import pytest

from executable import kernels
from executable.reference.pvm import ReferencePvm, input_request, step
from executable.reference.state import Machine, Phase
from executable.wasm.limits import Limits
from executable.wasm.pvm import PvmConfig
from spec import game as g
from spec import proof as p
from spec import strategies as s
from spec.constants import TEST
from spec.dissection import Chunk
from spec.hashing import StateHash
from spec.pvm import PVM as PvmProtocol
from spec.pvm import NoInputRequired
from tests.executable.reference.helpers import METADATA

BUDGET = 20_000
CONSTANTS = attrs.evolve(TEST, ticks_per_snapshot=BUDGET)
PVM = ReferencePvm(PvmConfig(metadata=METADATA, limits=Limits(tick_budget=BUDGET)))
_CONFORMS: PvmProtocol[Machine] = PVM  # mypy checks the PVM interface
SCENARIO = s.build_scenario(
    CONSTANTS, kernels.load("counter"), [[b"\x01abc", b"\x01de"], [b"\x01f"]], pvm=PVM
)


def honest_states(ticks: set[int]) -> tuple[dict[int, Machine], int, StateHash]:
    """The honest machine at ``ticks``, its final tick and final hash."""
    m = PVM.install_boot_sector(SCENARIO.boot_sector)
    env = PVM.env(record=False)
    inputs = [
        inp for inp in SCENARIO.honest_inputs() if inp.inbox_level > SCENARIO.origination_level
    ]
    kept: dict[int, Machine] = {}
    while True:
        if m.tick in ticks:
            kept[m.tick] = m.copy()
        request = input_request(m)
        if isinstance(request, NoInputRequired):
            target = min((t for t in ticks if t > m.tick), default=None)
            PVM.advance(m, env, target)
            continue
        if not inputs:
            return kept, m.tick, PVM.state_hash(m)
        step(m, env, inputs.pop(0))


def run_ticks() -> list[int]:
    """Ticks of the first kernel_run (EVAL phase)."""
    m = PVM.install_boot_sector(SCENARIO.boot_sector)
    env = PVM.env(record=False)
    inputs = [
        inp for inp in SCENARIO.honest_inputs() if inp.inbox_level > SCENARIO.origination_level
    ]
    out: list[int] = []
    while len(out) < 400:
        request = input_request(m)
        if isinstance(request, NoInputRequired):
            if m.phase in (Phase.LOAD, Phase.EVAL):
                out.append(m.tick)
            step(m, env, None)
        else:
            step(m, env, inputs.pop(0))
    return out


def final_move_game(start: Chunk, stop: Chunk) -> g.Game:
    return g.Game(
        turn="alice",
        inbox_snapshot=SCENARIO.inbox.snapshot(),
        start_level=SCENARIO.state.level,
        inbox_level=SCENARIO.commit_inbox_level,
        pvm_kind="wasm_2_0_0",
        game_state=g.Dissecting((start, stop), CONSTANTS.number_of_sections_in_dissection),
    )


def produce(state: Machine) -> p.RefutationProof:
    return p.produce(
        PVM,
        state,
        metadata=SCENARIO.metadata,
        inbox=SCENARIO.inbox,
        snapshot=SCENARIO.inbox.snapshot(),
        commit_inbox_level=SCENARIO.commit_inbox_level,
        reveal=lambda _h: None,
    )


def play(game: g.Game, move: g.Move) -> g.Game | g.GameResult:
    stakers = g.Index.make(s.PLAYER_ONE, s.PLAYER_TWO)
    return g.play(game, stakers, move, metadata=SCENARIO.metadata, pvm=PVM, constants=CONSTANTS)


TICKS = run_ticks()


@pytest.mark.parametrize("k", [0, 1, 57, 200, 399])
def test_honest_final_move_wins(k: int) -> None:
    """Alice proves the tick Bob lied about: the proof is valid and Bob loses."""
    t = TICKS[k]
    states, _final, _h = honest_states({t, t + 1})
    start = Chunk(PVM.state_hash(states[t]), t)
    lie = Chunk(StateHash(bytes(32)), t + 1)
    proof = produce(states[t])
    checked = p.valid(
        proof,
        pvm=PVM,
        metadata=SCENARIO.metadata,
        snapshot=SCENARIO.inbox.snapshot(),
        commit_inbox_level=SCENARIO.commit_inbox_level,
        constants=CONSTANTS,
    )
    assert checked.start_state == start.state_hash
    assert checked.stop_state == PVM.state_hash(states[t + 1])
    result = play(final_move_game(start, lie), g.Move(t, g.Proof(proof)))
    stakers = g.Index.make(s.PLAYER_ONE, s.PLAYER_TWO)
    assert result == g.Loser(stakers.bob, "conflict_resolved")


def test_input_ticks_are_proved_against_the_inbox() -> None:
    """The first input (Initial) and a later one (FirstAfter) come with
    inbox proofs; both final moves win against a lie."""
    states, _final, _h = honest_states({0, 1, 2, 3})
    for t in (0, 1, 2):
        proof = produce(states[t])
        assert proof.input_proof is not None
        start = Chunk(PVM.state_hash(states[t]), t)
        result = play(
            final_move_game(start, Chunk(StateHash(bytes(32)), t + 1)), g.Move(t, g.Proof(proof))
        )
        assert isinstance(result, g.Loser)


def test_a_proof_of_the_truth_does_not_refute_it() -> None:
    """Proving the honest stop state against an honest claim is not a win:
    the final move starts (Octez: the proof must disagree with the stop)."""
    t = TICKS[10]
    states, _final, _h = honest_states({t, t + 1})
    start = Chunk(PVM.state_hash(states[t]), t)
    stop = Chunk(PVM.state_hash(states[t + 1]), t + 1)
    result = play(final_move_game(start, stop), g.Move(t, g.Proof(produce(states[t]))))
    assert isinstance(result, g.Game) and isinstance(result.game_state, g.FinalMove)


def test_a_proof_from_another_state_is_invalid() -> None:
    t = TICKS[20]
    states, _final, _h = honest_states({t, t + 1, t + 2})
    start = Chunk(PVM.state_hash(states[t]), t)
    lie = Chunk(StateHash(bytes(32)), t + 1)
    result = play(final_move_game(start, lie), g.Move(t, g.Proof(produce(states[t + 1]))))
    assert isinstance(result, g.Game) and isinstance(result.game_state, g.FinalMove)


def test_commitment_tick_count_is_whole_periods() -> None:
    """A commitment's number of ticks is (inputs + kernel_runs + levels)
    periods of ``ticks_per_snapshot``: every level ends on a boundary."""
    _states, final, _h = honest_states(set())
    assert final % BUDGET == 0
