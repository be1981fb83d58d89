"""Refutation games over a real kernel: an honest rollup node against one
whose PVM flips one byte of durable storage after tick ``t`` of level ``L``.

Done when (issue #8): with the bundled counter kernel, the liar loses at
exactly that tick, with a one-step proof judged by :mod:`spec.refutation`;
the honest node wins and bonds move (the liar's stake burnt, the winner
paid half of it), whether the liar refutes or defends."""

from __future__ import annotations

import attrs
import pytest

from executable import dispute, kernels
from executable.reference.pvm import input_request, step
from executable.reference.state import Machine
from executable.wasm.limits import TICKS_PER_TOP_LEVEL_CALL as S
from spec import game as game_
from spec import proof as proof_
from spec.constants import TEST
from spec.dissection import Chunk
from spec.hashing import StateHash
from spec.pvm import NeedsReveal, NoInputRequired, RevealInput

MESSAGES = [[b"abc", b"de"], [b"f"]]
SETUP = dispute.setup(kernels.load("counter"), MESSAGES)
HONEST = dispute.Trajectory.compute(SETUP)
LEVEL = SETUP.scenario.commit_inbox_level
STAKE = TEST.stake_amount


def ledger_changes(run: object, role: str) -> tuple[int, int]:
    """(spendable balance change, frozen bond change) of a role over the game."""
    from spec.strategies import GameRun

    assert isinstance(run, GameRun)
    account = run.roles[role]
    address = run.scenario.metadata.address
    before, after = run.before.ledger, run.after.ledger
    return (
        after.balance(account) - before.balance(account),
        after.frozen(account, address) - before.frozen(account, address),
    )


@pytest.mark.parametrize("liar", ["refuter", "defender"])
def test_a_byte_flip_loses_exactly_at_its_tick(liar: str) -> None:
    """The counter kernel, a commitment period of two levels (4 + 3 periods
    of 5·10^13 ticks), a lie 10 ticks into the first kernel_run of the last
    level, where it flips the counter's low byte."""
    lie = dispute.Lie(level=LEVEL, tick=S + 10)
    result = dispute.play_dispute(SETUP, lie, liar_role=liar, honest=HONEST)
    run = result.run
    honest = "defender" if liar == "refuter" else "refuter"
    assert result.flipped_path == "/counter"
    assert result.lie.at_tick == HONEST.level_starts[LEVEL] + S + 10

    # the liar loses, by a proof, at exactly the lie's tick
    assert isinstance(run.result, game_.Loser) and run.result.reason == "conflict_resolved"
    assert run.result_role == liar
    assert result.resolved_tick == result.lie.at_tick
    assert all(t.error is None for t in run.turns)

    # the ending proof proves the honest step from the lie's tick, checked
    # again here by spec.proof against the game's inbox snapshot
    assert result.final_proof is not None
    t = result.lie.at_tick
    checked = proof_.valid(
        result.final_proof,
        pvm=SETUP.reference,
        metadata=SETUP.metadata,
        snapshot=SETUP.scenario.inbox.snapshot(),
        commit_inbox_level=LEVEL,
        constants=SETUP.constants,
    )
    liar_view = HONEST.with_lie(result.lie)
    assert checked.start_state == HONEST.hash_at(t) == liar_view.hash_at(t)
    assert checked.stop_state == HONEST.hash_at(t + 1) != liar_view.hash_at(t + 1)
    assert 0 < (result.final_proof_size or 0) < 4096

    # bonds: the liar's stake is burnt, the honest node gets half of it
    assert ledger_changes(run, liar) == (0, -STAKE)
    assert ledger_changes(run, honest) == (STAKE // 2, 0)
    assert run.after.ledger.burnt - run.before.ledger.burnt == STAKE
    assert run.after.ledger.minted - run.before.ledger.minted == STAKE // 2
    rollup = run.after.rollup(run.scenario.metadata.address)
    assert rollup.is_staker(run.roles[honest]) and not rollup.is_staker(run.roles[liar])
    assert not rollup.games


LIES = [
    (LEVEL - 1, 0),  # the first input of the period (First_inbox_message proof)
    (LEVEL - 1, 2),  # an inbox message (inbox proof)
    (LEVEL - 1, S),  # the tick that loads the kernel
    (LEVEL - 1, S + 7),  # inside a kernel_run
    (LEVEL - 1, S + 3_000_000),  # padding
    (LEVEL - 1, 2 * S - 1),  # the reboot decision
    (LEVEL, 3 * S - 1),  # the period's last step: the yield of the last level
]


@pytest.mark.parametrize(("level", "tick"), LIES)
@pytest.mark.parametrize("liar", ["refuter", "defender"])
def test_every_kind_of_tick_is_resolved_exactly(level: int, tick: int, liar: str) -> None:
    result = dispute.play_dispute(SETUP, dispute.Lie(level, tick), liar_role=liar, honest=HONEST)
    assert result.loser_role == liar
    assert result.resolved_tick == result.lie.at_tick


def test_many_sections_dissect_in_fewer_rounds() -> None:
    """With 32 sections per dissection (mainnet) the game takes about
    log32 of the period's ticks rounds, against log4 with the TEST preset."""
    wide = dispute.setup(
        kernels.load("counter"),
        MESSAGES,
        constants=attrs.evolve(TEST, number_of_sections_in_dissection=32),
    )
    lie = dispute.Lie(level=LEVEL, tick=S + 10)
    narrow = dispute.play_dispute(SETUP, lie, honest=HONEST)
    result = dispute.play_dispute(wide, lie)
    assert result.loser_role == "refuter" and result.resolved_tick == narrow.resolved_tick
    assert len(result.moves) < len(narrow.moves) // 2
    dissections = [t.move.step for t in result.moves if t.move is not None]
    first = dissections[0]
    assert isinstance(first, game_.Dissection)
    # the first dissection of the whole period cuts at period starts only
    assert all(c.tick % S == 0 for c in first.chunks[:-1])


def test_trajectory_hashes_are_the_reference_pvms() -> None:
    """The honest node's claims (wasmtime checkpoints, then the reference PVM
    from the checkpoint before) are the states of one straight run of the
    reference PVM from genesis, at boundaries and inside kernel_runs."""
    ref = SETUP.reference
    m = ref.install_boot_sector(SETUP.scenario.boot_sector)
    env = ref.env(record=False)
    inputs = list(SETUP.inputs)
    start = HONEST.level_starts[LEVEL]
    ticks = sorted({0, 1, 4, S, S + 1, S + 2, S + 1000, 2 * S, start + S + 33, HONEST.final_tick})
    seen: dict[int, StateHash] = {}
    for t in ticks:
        while m.tick < t:
            request = input_request(m)
            if isinstance(request, NoInputRequired):
                ref.advance(m, env, t)
            elif isinstance(request, NeedsReveal):  # pragma: no cover - counter never reveals
                step(m, env, RevealInput(SETUP.metadata))
            else:
                step(m, env, inputs.pop(0))
        seen[t] = ref.state_hash(m)
    assert HONEST.hashes_at(ticks) == [seen[t] for t in ticks]
    assert HONEST.hash_at(HONEST.final_tick + 1) is None
    assert HONEST.final_tick == 7 * S
    state = HONEST.state_at(S + 1)
    assert isinstance(state, Machine) and ref.state_hash(state) == seen[S + 1]


def test_the_commitment_is_the_fast_vms() -> None:
    """Number of ticks and state hash of the honest commitment are what a
    rollup node running only wasmtime computes."""
    from executable.wasm.pvm import WasmPvm

    pvm = WasmPvm(SETUP.config)
    pvm.install(SETUP.scenario.boot_sector)
    for given in SETUP.inputs:
        pvm.set_input(given.inbox_level, given.message_counter, given.payload)
        if not pvm.is_waiting_for_input():
            pvm.eval_until_input()
    commitment = dispute.WasmPlayer("honest", HONEST).commitment()
    assert commitment.number_of_ticks == pvm.current_tick
    assert commitment.compressed_state.raw == pvm.state_hash()


def test_an_overwritten_lie_is_no_dispute() -> None:
    """The counter reads its value at the start of a kernel_run and writes it
    back at the end: a flip in between is overwritten, both commitments agree."""
    with pytest.raises(dispute.DisputeError, match="same commitment"):
        dispute.play_dispute(SETUP, dispute.Lie(level=LEVEL, tick=S + 500), honest=HONEST)


@pytest.mark.parametrize(
    ("lie", "match"),
    [
        (dispute.Lie(level=LEVEL + 1, tick=0), "not in the disputed period"),
        (dispute.Lie(level=LEVEL, tick=3 * S), "outside the disputed period"),
        (dispute.Lie(level=LEVEL, tick=S + 10, path="/nothing"), "cannot flip"),
    ],
)
def test_bad_lies_are_typed_errors(lie: dispute.Lie, match: str) -> None:
    with pytest.raises(Exception, match=match) as err:
        dispute.play_dispute(SETUP, lie, honest=HONEST)
    from spec.errors import ScoruError

    assert isinstance(err.value, ScoruError)
    with pytest.raises(dispute.DisputeError, match="refuter or the defender"):
        dispute.play_dispute(SETUP, dispute.Lie(LEVEL, 1), liar_role="judge", honest=HONEST)


def test_a_liar_proving_its_lie_reaches_the_final_move_and_loses() -> None:
    """When the liar must move first on the one-tick section, its proof (the
    honest step: it has no proof of the flip) is judged invalid, the game
    enters the final move, and the honest node's proof of the same step wins."""
    results = [
        dispute.play_dispute(SETUP, dispute.Lie(level, tick), liar_role=role, honest=HONEST)
        for level, tick in LIES[:4]
        for role in ("refuter", "defender")
    ]
    final_moves = [
        r
        for r in results
        if any(t.game_state is not None and t.game_state.kind == "final_move" for t in r.moves)
    ]
    assert final_moves, "no game reached the final move"
    for r in final_moves:
        assert r.loser_role == r.liar_role and r.resolved_tick == r.lie.at_tick


def test_transcript_json() -> None:
    result = dispute.play_dispute(SETUP, dispute.Lie(level=LEVEL, tick=S + 10), honest=HONEST)
    doc = result.to_json()
    assert doc["outcome"] == {"kind": "loser", "loser": "refuter", "reason": "conflict_resolved"}
    assert doc["resolved_tick"] == doc["lie"]["tick"] == result.lie.at_tick
    assert doc["lie"]["path"] == "/counter"
    assert doc["moves"][-1]["step"] == "proof" and doc["moves"][-1]["proof_size"] > 0
    assert doc["final_proof_size"] == doc["moves"][-1]["proof_size"]
    first = doc["moves"][0]
    assert first["player"] == "refuter" and first["step"] == "dissection"
    assert first["chunks"][0] == Chunk(HONEST.hash_at(0), 0).to_json()
    assert set(doc["seconds"]) == {"honest_run", "lying_run", "game"}


@pytest.mark.parametrize("liar", ["refuter", "defender"])
def test_a_lie_that_breaks_the_kernel_changes_the_tick_count(liar: str) -> None:
    """Flipping the kernel's first byte before its first load: the liar's
    PVM finds no valid kernel and no fallback, is stuck, and claims far
    fewer ticks; it still loses exactly at its lie."""
    lie = dispute.Lie(level=LEVEL - 1, tick=1, path="/kernel/boot.wasm")
    result = dispute.play_dispute(SETUP, lie, liar_role=liar, honest=HONEST)
    ticks = {role: c.number_of_ticks for role, c in result.run.commitments.items()}
    assert ticks[liar] < 3 * S < ticks["refuter" if liar == "defender" else "defender"]
    assert result.loser_role == liar and result.resolved_tick == result.lie.at_tick
