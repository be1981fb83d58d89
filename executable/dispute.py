"""Refutation games over real WASM kernels.

Two rollup nodes run the same kernel over the same inbox; one of them runs a
lying PVM. Both publish a commitment for the first commitment period after
origination, the refuter starts a game and both play it to the end on the
layer-1 machine of :mod:`spec` (``Publish`` and ``Start`` through
:func:`spec.rollup.apply`, every move through
:func:`spec.refutation.refute_outcome`, all with
``pvms={"wasm_2_0_0": ReferencePvm(...)}``), until a one-tick section is
proved with a one-step proof of the reference PVM that :mod:`spec.proof`
and :mod:`spec.game` judge.

How a node computes its claims cheaply (a commitment period is about 10^14
ticks: 5·10^13 per top-level period):

* it runs the kernel on wasmtime (:class:`~executable.wasm.pvm.WasmPvm`)
  from genesis to the end of the commitment's inbox level and keeps a
  :class:`~executable.wasm.pvm.BoundaryState` at every period start (every
  reboot decision and level end): there its state hash is the reference
  PVM's (:mod:`executable.wasm.layout`), and the honest WASM dissection puts
  its chunks exactly there when ``ticks_per_snapshot`` is the tick budget;
* for a tick inside a period it converts the boundary state before it into
  a reference machine (:func:`executable.reference.boundary.machine_of_boundary`)
  and runs the reference PVM to that tick (padding is skipped in O(1), only
  the kernel_run is interpreted), keeping machines it computed for the next
  requests (each dissection narrows the section);
* a lying node (:class:`~executable.reference.lying.ByteFlipPvm`: one byte
  of durable storage flipped after the step from tick ``t``) shares the
  honest run up to the period holding ``t``, replays that period with the
  lying reference PVM up to the next boundary, then resumes on wasmtime from
  there (``WasmPvm.from_boundary``).

Both nodes play the honest strategy on their own view (:class:`WasmPlayer`:
prove a disputed one-tick section, else dissect the first disputed section
at the WASM PVM's snapshot ticks), so the liar loses exactly at its lie.

The API, for rollup nodes and commands:

* :func:`setup` — originate a rollup with a kernel and fill its inbox
  (:class:`DisputeSetup`);
* :meth:`Trajectory.compute` / :meth:`Trajectory.with_lie` — a node's view:
  ``hash_at(tick)``, ``state_at(tick)``, the commitment it publishes;
* :class:`WasmPlayer` — the honest strategy on a trajectory:
  ``commitment()``, ``next_move(game)``;
* :func:`play` — publish, start and play a game between two players
  (a :class:`spec.strategies.GameRun`);
* :func:`play_dispute` — all of the above for one lie, returning a
  :class:`Dispute` (moves, chunks, final proof size, outcome, the tick where
  the dispute was resolved, timings), with :meth:`Dispute.to_json`.

Octez: ``src/lib_smart_rollup_node/refutation_game.ml`` (the node's moves),
``src/proto_alpha/lib_sc_rollup_node/refutation_game_helpers.ml``
(``generate_proof``, ``make_dissection``), ``sc_rollup_wasm.ml``
(``new_dissection``, ``check_dissection``), ``sc_rollup_game_repr.ml``.
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from executable.reference.boundary import (
    boundary_of_machine,
    is_boundary,
    machine_of_boundary,
)
from executable.reference.lying import ByteFlip, ByteFlipPvm
from executable.reference.pvm import NAME, ReferencePvm, input_request
from executable.reference.state import Machine
from executable.wasm.layout import Phase
from executable.wasm.limits import Limits
from executable.wasm.pvm import BoundaryDecision, BoundaryState, PvmConfig, Status, WasmPvm
from executable.wasm.reveal import Metadata as FastMetadata
from executable.wasm.reveal import RevealOracle
from spec import game as game_
from spec import proof as proof_
from spec import refutation, strategies
from spec import rollup as rollup_
from spec.commitment import Commitment
from spec.constants import TEST, Constants
from spec.dissection import Chunk, wasm_dissection_ticks
from spec.errors import ProtocolError, ScoruError
from spec.game import Dissecting, FinalMove, Game, Move
from spec.hashing import ImplicitAccount, RevealHash, StateHash
from spec.inbox import InboxInput
from spec.operations import Publish, Refute
from spec.operations import Timeout as TimeoutOp
from spec.pvm import (
    PVM,
    Metadata,
    NeedsReveal,
    NoInputRequired,
    RawData,
    RevealInput,
    RevealMetadata,
    RevealRawData,
)
from spec.state import Layer1State

#: Machines kept per trajectory for the next requests (each about one
#: instance: linear memory and its Merkle tree).
MACHINE_CACHE = 64


class DisputeError(ScoruError):
    """A dispute cannot be set up or played: no conflict between the two
    commitments, a lie outside the disputed period, a missing preimage, a
    request beyond the node's inputs."""


# -- the rollup -------------------------------------------------------------------------------


@attrs.frozen
class DisputeSetup:
    """A WASM rollup to dispute: its scenario (origination, inbox, layer-1
    state when a game on its first commitment may start, see
    :func:`spec.strategies.build_scenario`), the PVM configuration both VMs
    use, and the inputs of the disputed period."""

    scenario: strategies.Scenario
    config: PvmConfig

    @property
    def constants(self) -> Constants:
        return self.scenario.constants

    @property
    def metadata(self) -> Metadata:
        return self.scenario.metadata

    @property
    def inputs(self) -> list[InboxInput]:
        """Every inbox message of the levels after origination up to the
        commitment's inbox level, in order."""
        return self.scenario.honest_inputs()

    @property
    def reference(self) -> ReferencePvm:
        """The honest reference PVM (for ``pvms`` and proofs)."""
        pvm = self.scenario.pvm
        assert isinstance(pvm, ReferencePvm)
        return pvm

    def pvms(self) -> dict[str, PVM[Any]]:
        """``pvms`` for :func:`spec.rollup.apply`: the reference PVM judges
        the game's proofs."""
        return {NAME: self.reference}

    def oracle(self) -> RevealOracle:
        return RevealOracle(self.config.metadata)

    @property
    def tick_budget(self) -> int:
        """Ticks of one top-level period at origination (Octez: 5·10^13)."""
        override = self.config.limits.tick_budget
        return override if override is not None else self.config.revision.tick_budget


def setup(
    kernel: bytes,
    messages: Sequence[Sequence[bytes]],
    *,
    constants: Constants = TEST,
    limits: Limits | None = None,
    preimages: Mapping[RevealHash, bytes] | None = None,
    origination_level: int = 1,
) -> DisputeSetup:
    """Originate a ``wasm_2_0_0`` rollup with ``kernel`` (its genesis state
    hash is the reference PVM's) at ``origination_level`` and put the
    external messages ``messages[i]`` in the inbox at the ``i``-th level
    after it, through :func:`spec.strategies.build_scenario`.

    ``limits`` (default: Octez's, a 5·10^13-tick budget) apply to both VMs;
    keep ``constants.ticks_per_snapshot`` equal to the tick budget so that
    snapshot chunks fall on period starts (other values work, slower)."""
    limits = limits if limits is not None else Limits()
    placeholder = PvmConfig(metadata=FastMetadata(bytes(20), 0), limits=limits)
    reference = ReferencePvm(placeholder)
    scenario = strategies.build_scenario(
        constants,
        kernel,
        messages,
        preimages=preimages,
        origination_level=origination_level,
        pvm=reference,
    )
    meta = scenario.metadata
    config = PvmConfig(
        metadata=FastMetadata(meta.address.raw, meta.origination_level), limits=limits
    )
    return DisputeSetup(scenario, config)


# -- a node's view ----------------------------------------------------------------------------


@attrs.frozen
class Checkpoint:
    """A boundary state of a trajectory and how many inbox inputs were
    consumed before it."""

    tick: int
    state: BoundaryState
    inputs_read: int


class Trajectory:
    """One node's states over the disputed period, from genesis (tick 0) to
    the state waiting for the first input after the commitment's inbox
    level (``final_tick``), computed on wasmtime with boundary checkpoints
    and, inside periods, with the node's reference PVM (``pvm``: the honest
    one or a :class:`ByteFlipPvm`). Build with :meth:`compute` and
    :meth:`with_lie`."""

    def __init__(
        self,
        disputed: DisputeSetup,
        pvm: ReferencePvm,
        checkpoints: list[Checkpoint],
        level_starts: dict[int, int],
        final: BoundaryState,
        lie: ByteFlip | None,
    ) -> None:
        self.setup = disputed
        self.pvm = pvm
        self.checkpoints = checkpoints
        self._ticks = [c.tick for c in checkpoints]
        self.level_starts = level_starts
        """Inbox level → the tick at which its first message is read."""
        self.final = final
        self.final_tick = final.tick
        self.final_hash = StateHash(final.state_hash())
        self.lie = lie
        self.seconds = 0.0
        """Wall time spent building this trajectory."""
        self._cache: dict[int, tuple[Machine, int]] = {}

    # -- building ----------------------------------------------------------------------------

    @classmethod
    def compute(cls, disputed: DisputeSetup) -> Trajectory:
        """The honest node's trajectory: the whole period on wasmtime."""
        started = time.perf_counter()
        fast = WasmPvm(disputed.config, disputed.oracle())
        fast.install(disputed.scenario.boot_sector)
        run = _FastRun(disputed, fast, 0)
        run.record()
        run.run()
        out = cls(
            disputed, disputed.reference, run.checkpoints(), run.level_starts, run.final(), None
        )
        out.seconds = time.perf_counter() - started
        return out

    def with_lie(self, flip: ByteFlip) -> Trajectory:
        """The trajectory of a node whose PVM flips a byte after the step from
        ``flip.at_tick`` (:class:`ByteFlipPvm`): this trajectory's checkpoints
        up to the lie, the lying reference PVM up to the next boundary, then
        wasmtime again from there."""
        if not 0 <= flip.at_tick < self.final_tick:
            raise DisputeError(
                f"the lie at tick {flip.at_tick} is outside the disputed period"
                f" (ticks 0..{self.final_tick - 1})"
            )
        started = time.perf_counter()
        liar = ByteFlipPvm(flip, self.pvm.config)
        k = bisect.bisect_right(self._ticks, flip.at_tick) - 1
        kept = self.checkpoints[: k + 1]
        start = kept[-1]
        m = machine_of_boundary(start.state)
        env = liar.env(record=False)
        read = self._replay(liar, m, start.inputs_read, flip.at_tick + 1)
        if liar.flipped_path is None:
            raise DisputeError(f"the lie at tick {flip.at_tick} did not happen")
        while not is_boundary(m):
            request = input_request(m)
            if isinstance(request, NoInputRequired):
                liar.advance(m, env, m.period_start + env.budget(m))
            elif isinstance(request, NeedsReveal):
                liar.step_in_place(m, self._reveal(request), env)
            else:  # pragma: no cover - an inbox request is a boundary (COLLECT)
                raise DisputeError("unexpected inbox request inside a period")
        resumed = boundary_of_machine(m)
        fast = WasmPvm.from_boundary(self.setup.config, resumed, self.setup.oracle())
        starts = {lvl: t for lvl, t in self.level_starts.items() if t <= flip.at_tick}
        run = _FastRun(self.setup, fast, read, kept, starts)
        run.record()
        run.run()
        out = Trajectory(
            self.setup, liar, run.checkpoints(), run.level_starts, run.final(), liar.flip
        )
        out.seconds = time.perf_counter() - started
        return out

    # -- reading ----------------------------------------------------------------------------

    def level_tick(self, level: int, tick: int) -> int:
        """The absolute tick ``tick`` ticks after level ``level`` starts (its
        Start_of_level is read at its tick 0)."""
        start = self.level_starts.get(level)
        if start is None:
            raise DisputeError(
                f"level {level} is not in the disputed period "
                f"(levels {min(self.level_starts)}..{max(self.level_starts)})"
            )
        return start + tick

    def hash_at(self, tick: int) -> StateHash | None:
        """The node's state hash at ``tick``; None after ``final_tick`` (the
        node claims the machine is blocked there)."""
        if tick > self.final_tick:
            return None
        if tick == self.final_tick:
            return self.final_hash
        k = bisect.bisect_left(self._ticks, tick)
        if k < len(self._ticks) and self._ticks[k] == tick:
            return StateHash(self.checkpoints[k].state.state_hash())
        return StateHash(self._machine(tick).digest())

    def hashes_at(self, ticks: Sequence[int]) -> list[StateHash | None]:
        """:meth:`hash_at` of several ticks (computed in increasing order, so
        each reuses the machine of the one before)."""
        out = {t: self.hash_at(t) for t in sorted(set(ticks))}
        return [out[t] for t in ticks]

    def state_at(self, tick: int) -> Machine:
        """A copy of the node's reference machine at ``tick`` (≤ ``final_tick``)."""
        if not 0 <= tick <= self.final_tick:
            raise DisputeError(f"tick {tick} is outside the trajectory (0..{self.final_tick})")
        return self._machine(tick).copy()

    def _machine(self, tick: int) -> Machine:
        cached = self._cache.get(tick)
        if cached is not None:
            return cached[0]
        k = bisect.bisect_right(self._ticks, tick) - 1
        start = self.checkpoints[k]
        base = max((t for t in self._cache if start.tick <= t <= tick), default=None)
        if base is None:
            m = machine_of_boundary(start.state)
            read = start.inputs_read
        else:
            m0, read = self._cache[base]
            m = m0.copy()
        read = self._replay(self.pvm, m, read, tick)
        self._cache[tick] = (m, read)
        while len(self._cache) > MACHINE_CACHE:
            del self._cache[next(iter(self._cache))]
        return m

    def _replay(self, pvm: ReferencePvm, m: Machine, read: int, target: int) -> int:
        """Run ``m`` to tick ``target`` with ``pvm``, feeding inbox inputs
        from position ``read``; returns the new position."""
        env = pvm.env(record=False)
        inputs = self.setup.inputs
        while m.tick < target:
            request = input_request(m)
            if isinstance(request, NoInputRequired):
                pvm.advance(m, env, target)
            elif isinstance(request, NeedsReveal):
                pvm.step_in_place(m, self._reveal(request), env)
            else:
                if read >= len(inputs):
                    raise DisputeError(f"tick {target} is after the node's last input")
                pvm.step_in_place(m, inputs[read], env)
                read += 1
        return read

    def _reveal(self, request: NeedsReveal) -> RevealInput:
        if isinstance(request.reveal, RevealMetadata):
            return RevealInput(self.setup.metadata)
        if isinstance(request.reveal, RevealRawData):
            data = self.setup.scenario.preimages.get(request.reveal.hash)
            if data is not None:
                return RevealInput(RawData(data))
        raise DisputeError(f"no answer to the reveal request {request.reveal}")

    def commitment(self, predecessor: Commitment) -> Commitment:
        """The commitment this node publishes after ``predecessor``
        (genesis): its final state hash and tick count."""
        return Commitment(
            compressed_state=self.final_hash,
            inbox_level=self.setup.scenario.commit_inbox_level,
            predecessor=predecessor.hash(),
            number_of_ticks=self.final_tick,
        )


class _FastRun:
    """Running inputs on wasmtime from a state, recording checkpoints."""

    def __init__(
        self,
        disputed: DisputeSetup,
        fast: WasmPvm,
        read: int,
        checkpoints: Sequence[Checkpoint] = (),
        level_starts: Mapping[int, int] | None = None,
    ) -> None:
        self.setup = disputed
        self.fast = fast
        self.read = read
        self._checkpoints: dict[int, Checkpoint] = {c.tick: c for c in checkpoints}
        self.level_starts = dict(level_starts or {})
        fast.on_boundary = self._on_boundary

    def _on_boundary(self, _decision: BoundaryDecision) -> None:
        self.record()

    def record(self) -> None:
        tick = self.fast.current_tick
        if tick not in self._checkpoints:
            self._checkpoints[tick] = Checkpoint(tick, self.fast.boundary_state(), self.read)

    def checkpoints(self) -> list[Checkpoint]:
        return [self._checkpoints[t] for t in sorted(self._checkpoints)]

    def final(self) -> BoundaryState:
        return self.fast.boundary_state()

    def run(self) -> None:
        fast = self.fast
        inputs = self.setup.inputs
        if fast.status is Status.EVALUATING:
            self._eval()
        while self.read < len(inputs):
            given = inputs[self.read]
            if given.message_counter == 0:
                self.level_starts.setdefault(given.inbox_level, fast.current_tick)
            fast.set_input(given.inbox_level, given.message_counter, given.payload)
            self.read += 1
            if fast.status is Status.EVALUATING:
                self._eval()
            elif fast.status is Status.STUCK:
                self.record()

    def _eval(self) -> None:
        fast = self.fast
        fast.eval_until_input()
        while fast.is_waiting_for_reveal():
            request = fast.reveal_request()
            assert request is not None
            data = self.setup.scenario.preimages.get(RevealHash(request[2:34]))
            if data is None:
                raise DisputeError(f"no preimage for the reveal request {request.hex()}")
            fast.set_reveal(data)
            fast.eval_until_input()
        if fast.boundary_phase() in (Phase.COLLECT, Phase.STUCK):
            self.record()


# -- the honest strategy -------------------------------------------------------------------------


class WasmPlayer:
    """A rollup node playing the honest strategy on its trajectory (honest or
    not): in a dissection it picks the first section whose start it agrees
    with and whose stop it disputes, proves it if it spans one tick, else
    dissects it at the WASM PVM's snapshot ticks
    (:func:`spec.dissection.wasm_dissection_ticks`) with its own claims; in
    the final move it proves the agreed start's step. Game ticks are the
    trajectory's (the parent commitment is genesis, tick 0).

    Octez: ``refutation_game.ml`` (``next_move``), ``sc_rollup_wasm.ml``
    (``new_dissection``); ``spec.strategies.honest_moves`` for arith."""

    def __init__(self, name: str, trajectory: Trajectory) -> None:
        self.name = name
        self.trajectory = trajectory

    def commitment(self) -> Commitment:
        """The commitment this node publishes on the genesis commitment."""
        return self.trajectory.commitment(self.trajectory.setup.scenario.genesis)

    def disputed_sections(self, dissection: Sequence[Chunk]) -> list[tuple[Chunk, Chunk]]:
        """Octez: ``refutation_game.ml``, ``disputed_sections``."""
        claims = self.trajectory.hashes_at([c.tick for c in dissection])
        return [
            (a, b)
            for (a, ca), (b, cb) in itertools.pairwise(zip(dissection, claims, strict=True))
            if ca == a.state_hash and cb != b.state_hash
        ]

    def dissection(self, game: Game, start: Chunk, stop: Chunk) -> tuple[Chunk, ...]:
        state = game.game_state
        assert isinstance(state, Dissecting)
        ticks = wasm_dissection_ticks(
            start.tick,
            stop.tick,
            state.default_number_of_sections,
            self.trajectory.setup.constants.ticks_per_snapshot,
        )
        hashes = self.trajectory.hashes_at(ticks)
        return tuple(Chunk(h, t) for h, t in zip(hashes, ticks, strict=True))

    def proof(self, game: Game, tick: int) -> proof_.RefutationProof:
        """The one-step proof of the node's state at ``tick`` (reference PVM;
        the input proved against the game's inbox snapshot)."""
        traj = self.trajectory
        disputed = traj.setup
        state = traj.state_at(min(tick, traj.final_tick))
        return proof_.produce(
            disputed.reference,
            state,
            metadata=disputed.metadata,
            inbox=disputed.scenario.inbox,
            snapshot=game.inbox_snapshot,
            commit_inbox_level=game.inbox_level,
            reveal=disputed.scenario.preimages.get,
        )

    def next_move(self, game: Game) -> Move:
        """The move to play (:class:`DisputeError` if the node disputes no section)."""
        state = game.game_state
        if isinstance(state, FinalMove):
            start = state.agreed_start_chunk
            return Move(start.tick, game_.Proof(self.proof(game, start.tick)))
        disputed = self.disputed_sections(state.dissection)
        if not disputed:
            raise DisputeError(f"{self.name} disputes no section of the dissection")
        for a, b in disputed:
            if b.tick - a.tick == 1:
                return Move(a.tick, game_.Proof(self.proof(game, a.tick)))
        a, b = disputed[0]
        return Move(a.tick, game_.Dissection(self.dissection(game, a, b)))


# -- the game ------------------------------------------------------------------------------------


def play(
    disputed: DisputeSetup,
    *,
    refuter: WasmPlayer,
    defender: WasmPlayer,
    accounts: tuple[ImplicitAccount, ImplicitAccount] = (
        strategies.PLAYER_ONE,
        strategies.PLAYER_TWO,
    ),
    max_turns: int = 200,
) -> strategies.GameRun:
    """Both nodes publish their commitment (:func:`spec.rollup.apply`), the
    refuter starts the game, and they play one move per level through
    :func:`spec.refutation.refute_outcome` with the reference PVM until the
    game ends. A node without a move waits; its opponent then sends
    ``Smart_rollup_timeout`` once allowed (as :func:`spec.strategies.play_game`).

    Octez: ``sc_rollup_refutation_storage.ml`` (``start_game``, ``game_move``,
    ``timeout``), ``refutation_game.ml`` (``play``)."""
    scenario = disputed.scenario
    constants = disputed.constants
    pvms = disputed.pvms()
    roles = {"refuter": accounts[0], "defender": accounts[1]}
    players = {"refuter": refuter, "defender": defender}
    commitments = {role: players[role].commitment() for role in roles}
    if commitments["refuter"] == commitments["defender"]:
        raise DisputeError(
            "both nodes publish the same commitment: there is no game"
            " (a lie whose byte is overwritten before the period ends changes nothing)"
        )
    address = scenario.metadata.address
    state: Layer1State = scenario.state
    for role in ("defender", "refuter"):
        state = rollup_.apply(
            state, Publish(roles[role], address, commitments[role]), constants, pvms=pvms
        )
    before = state
    state = rollup_.apply(
        state,
        Refute(
            roles["refuter"],
            address,
            roles["defender"],
            game_.Start(commitments["refuter"].hash(), commitments["defender"].hash()),
        ),
        constants,
        pvms=pvms,
    )
    stakers = game_.Index.make(roles["refuter"], roles["defender"])
    role_of = {roles["refuter"]: "refuter", roles["defender"]: "defender"}
    turns: list[strategies.Turn] = []
    result: game_.GameResult | None = None
    for _ in range(max_turns):
        state = attrs.evolve(state, level=state.level + 1)
        record = state.rollup(address).games.get(stakers.key())
        assert isinstance(record, game_.GameRecord)
        mover = stakers.staker(record.game.turn)
        role = role_of[mover]
        other = roles["defender" if role == "refuter" else "refuter"]
        outcome: refutation.Outcome | None = None
        try:
            move: Move | None = players[role].next_move(record.game)
        except ScoruError:
            move = None
        if move is not None:
            try:
                outcome = refutation.refute_outcome(
                    state, Refute(mover, address, other, move), constants, pvms=pvms
                )
            except ProtocolError as exc:
                turns.append(
                    strategies.Turn(
                        state.level,
                        role,
                        move,
                        strategies.section_of(record.game, move),
                        exc,
                        None,
                        None,
                    )
                )
            else:
                new = outcome.state.rollup(address).games.get(stakers.key())
                turns.append(
                    strategies.Turn(
                        state.level,
                        role,
                        move,
                        strategies.section_of(record.game, move),
                        None,
                        new.timeout if isinstance(new, game_.GameRecord) else None,
                        new.game.game_state if isinstance(new, game_.GameRecord) else None,
                    )
                )
        if outcome is None:
            state = attrs.evolve(state, level=game_.timeout_level(record) + 1)
            outcome = refutation.timeout_outcome(
                state, TimeoutOp(other, address, stakers.key()), constants
            )
            turns.append(strategies.Turn(state.level, "timeout", None, None, None, None, None))
        state = outcome.state
        if outcome.result is not None:
            result = outcome.result
            break
    result_role = role_of[result.loser] if isinstance(result, game_.Loser) else None
    return strategies.GameRun(
        scenario=scenario,
        roles=roles,
        views={},
        commitments=commitments,
        turns=tuple(turns),
        result=result,
        result_role=result_role,
        before=before,
        after=state,
    )


# -- one lie, one game -------------------------------------------------------------------------


@attrs.frozen
class Lie:
    """The lying node's fault, in the terms of the rollup: flip ``byte ^=
    mask`` at ``offset`` of the durable value at ``path`` (None: see
    :class:`ByteFlip`) right after tick ``tick`` of inbox level ``level``
    (tick 0 reads the level's Start_of_level)."""

    level: int
    tick: int = attrs.field(validator=attrs.validators.ge(0))
    path: str | None = None
    offset: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    mask: int = 0x01


def proof_size(proof: proof_.RefutationProof) -> int:
    """Bytes of a refutation proof: the PVM step and the input proof."""
    ip = proof.input_proof
    extra = 0
    if isinstance(ip, proof_.InboxProof):
        extra = 8 + len(ip.serialized_proof)
    elif isinstance(ip, proof_.RawDataProof):
        extra = len(ip.data)
    return len(proof.pvm_step) + extra


@attrs.frozen
class Dispute:
    """A played WASM dispute: the game (``run``: commitments, every turn,
    the result, the layer-1 states before and after), the lie (absolute tick
    and path flipped), who lied, where the game was resolved, the final proof
    and timings."""

    run: strategies.GameRun
    liar_role: str
    lie: ByteFlip
    lie_level: int
    flipped_path: str
    resolved_tick: int | None
    """The start tick of the one-tick section the ending proof proved (game
    ticks = absolute ticks: the parent commitment is genesis)."""
    final_proof: proof_.RefutationProof | None
    seconds: Mapping[str, float]

    @property
    def final_proof_size(self) -> int | None:
        return None if self.final_proof is None else proof_size(self.final_proof)

    @property
    def loser_role(self) -> str | None:
        return self.run.result_role

    @property
    def moves(self) -> tuple[strategies.Turn, ...]:
        return self.run.moves

    def to_json(self) -> dict[str, Any]:
        """A compact transcript: moves (section, chunks or proof size),
        outcome, bonds, the lie and the resolution tick."""
        run = self.run
        moves = []
        for turn in run.turns:
            entry: dict[str, Any] = {"level": turn.level, "player": turn.role}
            if turn.move is None:
                entry["step"] = "timeout"
            else:
                entry["choice"] = turn.move.choice
                step = turn.move.step
                if isinstance(step, game_.Dissection):
                    entry["step"] = "dissection"
                    entry["chunks"] = [c.to_json() for c in step.chunks]
                else:
                    entry["step"] = "proof"
                    entry["proof_size"] = proof_size(step.proof)
                    entry["input_proof"] = (
                        None if step.proof.input_proof is None else step.proof.input_proof.kind
                    )
                entry["accepted"] = turn.error is None
            moves.append(entry)
        result = run.result
        return {
            "pvm": NAME,
            "liar": self.liar_role,
            "lie": {
                "level": self.lie_level,
                "tick": self.lie.at_tick,
                "path": self.flipped_path,
                "offset": self.lie.offset,
                "mask": self.lie.mask,
            },
            "commitments": {
                role: {
                    "state": str(c.compressed_state),
                    "number_of_ticks": c.number_of_ticks,
                }
                for role, c in run.commitments.items()
            },
            "moves": moves,
            "outcome": {
                "kind": "unfinished" if result is None else result.kind,
                "loser": run.result_role,
                "reason": result.reason if isinstance(result, game_.Loser) else None,
            },
            "resolved_tick": self.resolved_tick,
            "final_proof_size": self.final_proof_size,
            "seconds": dict(self.seconds),
        }


def resolution(run: strategies.GameRun) -> tuple[int | None, proof_.RefutationProof | None]:
    """The section start tick and the proof of the move that ended the game
    by a proof (None if it ended otherwise)."""
    if run.result is None or not run.moves:
        return None, None
    last = run.moves[-1]
    if last.move is None or not isinstance(last.move.step, game_.Proof) or last.section is None:
        return None, None
    return last.section[0].tick, last.move.step.proof


def play_dispute(
    disputed: DisputeSetup,
    lie: Lie,
    *,
    liar_role: str = "refuter",
    honest: Trajectory | None = None,
) -> Dispute:
    """An honest node against a node whose PVM flips one byte of durable
    storage after tick ``lie.tick`` of level ``lie.level``; the liar is the
    ``refuter`` (it starts the game) or the ``defender``. ``honest`` reuses
    an honest trajectory already computed for ``disputed``."""
    if liar_role not in ("refuter", "defender"):
        raise DisputeError(f"the liar is the refuter or the defender, not {liar_role!r}")
    if honest is None:
        honest = Trajectory.compute(disputed)
    flip = ByteFlip(honest.level_tick(lie.level, lie.tick), lie.path, lie.offset, lie.mask)
    lying = honest.with_lie(flip)
    t2 = time.perf_counter()
    pvm = lying.pvm
    assert isinstance(pvm, ByteFlipPvm) and pvm.flipped_path is not None
    players = {
        liar_role: WasmPlayer("liar", lying),
        ("defender" if liar_role == "refuter" else "refuter"): WasmPlayer("honest", honest),
    }
    run = play(disputed, refuter=players["refuter"], defender=players["defender"])
    t3 = time.perf_counter()
    tick, final = resolution(run)
    return Dispute(
        run=run,
        liar_role=liar_role,
        lie=flip,
        lie_level=lie.level,
        flipped_path=pvm.flipped_path,
        resolved_tick=tick,
        final_proof=final,
        seconds={"honest_run": honest.seconds, "lying_run": lying.seconds, "game": t3 - t2},
    )


__all__ = [
    "Checkpoint",
    "Dispute",
    "DisputeError",
    "DisputeSetup",
    "Lie",
    "Trajectory",
    "WasmPlayer",
    "play",
    "play_dispute",
    "proof_size",
    "resolution",
    "setup",
]
