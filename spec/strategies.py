"""Players of the refutation game: the honest one and the cheaters.

A player has a *view*: the states its PVM goes through from the parent
commitment's state (tick 0) to the state where it is blocked (tick ``T``),
computed from the inputs *it believes in*, and the inbox it proves inputs
with. A *strategy* is a view builder plus a pure function from (game, view)
to the moves to try, best first (a move the protocol rejects leaves the game
unchanged; the driver then tries the next one).

The cheaters of Octez's property-based test (``test_refutation_game.ml``)
play perfectly, but on a wrong view of the inputs:

* ``random``: its own random messages; ``lazy``: drops the last levels;
  ``eager``: corrupts one input; ``keen``: reads extra levels after the
  commitment's; ``sol_hater`` / ``eol_hater``: skips every Start_of_level /
  End_of_level; ``nostalgic``: also reads the origination level.

Added here: ``random_liar`` (true states up to a random tick, random hashes
after it, random choices), ``griefer`` (tries the draw-forcing proofs of
reference §7.13 then §7.12 before playing like ``keen``), ``blocked_griefer``
(§7.13 only: the case the Octez plugin does not cover) and ``inbox_forger``
(substitutes a message of another level at the same index, reference §3.6).

Random choices are seeded: every strategy is a pure function of its inputs.
:func:`play_game` drives a whole game through :mod:`spec.refutation` on a
layer-1 state built by :func:`build_scenario`.

Octez: ``src/proto_alpha/lib_protocol/test/pbt/test_refutation_game.ml``,
``src/lib_smart_rollup_node/refutation_game.ml`` (the honest node's moves).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

import attrs

from spec import game as game_
from spec import inbox as inbox_
from spec import michelson, refutation, staking
from spec import proof as proof_
from spec import rollup as rollup_
from spec.arith import PVM as ARITH_PVM
from spec.commitment import Commitment, next_commitment_level
from spec.constants import Constants
from spec.dissection import Chunk, default_dissection_ticks, wasm_dissection_ticks
from spec.errors import ProtocolError, ScoruError
from spec.game import Dissecting, FinalMove, Game, Move
from spec.hashing import (
    ImplicitAccount,
    RevealHash,
    StateHash,
    blake2b_256,
)
from spec.inbox import Inbox, InboxInput
from spec.inbox_message import EndOfLevel, External, StartOfLevel, serialize
from spec.operations import AddMessages, Originate, Publish, Refute
from spec.operations import Timeout as TimeoutOp
from spec.origination import PvmKind
from spec.pvm import (
    PVM,
    FirstAfter,
    Input,
    Metadata,
    NeedsReveal,
    NoInputRequired,
    RawData,
    RevealInput,
    RevealMetadata,
    RevealRawData,
)
from spec.state import Layer1State

#: A generous bound on the ticks of one view (arith programs are short).
MAX_TICKS = 100_000


class StrategyError(ScoruError):
    """A player cannot find a move (its view does not match the game)."""


# -- views ---------------------------------------------------------------------------


@attrs.frozen
class PlayerView:
    """What one player believes: its states from tick 0 to its blocking tick,
    their hashes (``lies`` override some), the inbox it proves inputs with, and
    forged input proofs it will use at given ticks."""

    pvm: PVM[Any]
    metadata: Metadata
    inbox: Inbox
    commit_inbox_level: int
    states: tuple[object, ...]
    hashes: tuple[StateHash, ...]
    preimages: Mapping[RevealHash, bytes] = attrs.field(factory=dict)
    lies: Mapping[int, StateHash] = attrs.field(factory=dict)
    forged: Mapping[int, tuple[proof_.InputProof, Input]] = attrs.field(factory=dict)
    #: Ticks the strategy treats specially (the griefer's blocking tick, the
    #: forger's forged tick); None if none.
    target_tick: int | None = None
    seed: int = 0
    #: ``ticks_per_snapshot`` of the constants (for WASM dissections).
    ticks_per_snapshot: int = 50_000_000_000_000

    @property
    def final_tick(self) -> int:
        """``T``: the tick at which the player believes the machine is blocked."""
        return len(self.states) - 1

    def hash_at(self, tick: int) -> StateHash | None:
        """The player's claim at ``tick``: its state hash, None after ``T``."""
        if tick in self.lies:
            return self.lies[tick]
        if tick < len(self.hashes):
            return self.hashes[tick]
        return None

    def commitment(self, predecessor: Commitment) -> Commitment:
        """The commitment this player publishes after ``predecessor``."""
        state = self.hash_at(self.final_tick)
        assert state is not None
        return Commitment(
            compressed_state=state,
            inbox_level=self.commit_inbox_level,
            predecessor=predecessor.hash(),
            number_of_ticks=self.final_tick,
        )


def level_inputs(inbox: Inbox, levels: Iterable[int]) -> list[InboxInput]:
    """Every message of ``levels``, in order, as PVM inputs."""
    out = []
    for level in levels:
        for i, message in enumerate(inbox.messages_of_level(level)):
            out.append(InboxInput(level, i, message))
    return out


def run_inputs(
    pvm: PVM[Any],
    boot_sector: bytes,
    inputs: Sequence[Input],
    metadata: Metadata,
    preimages: Mapping[RevealHash, bytes],
    *,
    replace: Mapping[int, Input] | None = None,
) -> tuple[list[object], list[int]]:
    """Run the PVM from genesis, feeding ``inputs`` in order whenever it asks for an
    inbox message and the preimages / metadata when it asks for a reveal, until it
    asks for an inbox message after the last one. Returns the states (one per
    tick) and the ticks at which an inbox input was consumed."""
    state = pvm.install_boot_sector(boot_sector)
    states = [state]
    input_ticks = []
    position = 0
    while len(states) <= MAX_TICKS:
        request = pvm.input_request(state)
        if isinstance(request, NoInputRequired):
            state = pvm.eval(state)
        elif isinstance(request, NeedsReveal):
            if isinstance(request.reveal, RevealRawData):
                data = preimages.get(request.reveal.hash)
                if data is None:
                    break
                state = pvm.set_input(state, RevealInput(RawData(data)))
            elif isinstance(request.reveal, RevealMetadata):
                state = pvm.set_input(state, RevealInput(metadata))
            else:
                break
        else:
            if position >= len(inputs):
                break
            given = inputs[position]
            tick = len(states) - 1
            if replace is not None and tick in replace:
                given = replace[tick]
            input_ticks.append(tick)
            position += 1
            state = pvm.set_input(state, given)
        states.append(state)
    else:
        raise StrategyError(f"the machine ran more than {MAX_TICKS} ticks")
    return states, input_ticks


# -- scenarios -------------------------------------------------------------------------


@attrs.frozen
class Scenario:
    """A rollup to dispute: its origination, its inbox and the layer-1 state at
    the level where the game can start (one period after the commitment level)."""

    constants: Constants
    pvm: PVM[Any]
    boot_sector: bytes
    preimages: Mapping[RevealHash, bytes]
    metadata: Metadata
    genesis: Commitment
    commit_inbox_level: int
    state: Layer1State

    @property
    def inbox(self) -> Inbox:
        return self.state.inbox

    @property
    def origination_level(self) -> int:
        return self.metadata.origination_level

    def honest_inputs(self) -> list[InboxInput]:
        levels = range(self.origination_level + 1, self.commit_inbox_level + 1)
        return level_inputs(self.inbox, levels)

    def view(
        self,
        inputs: Sequence[Input],
        *,
        inbox: Inbox | None = None,
        replace: Mapping[int, Input] | None = None,
        seed: int = 0,
    ) -> PlayerView:
        states, _ = run_inputs(
            self.pvm, self.boot_sector, inputs, self.metadata, self.preimages, replace=replace
        )
        return PlayerView(
            pvm=self.pvm,
            metadata=self.metadata,
            inbox=self.inbox if inbox is None else inbox,
            commit_inbox_level=self.commit_inbox_level,
            states=tuple(states),
            hashes=tuple(self.pvm.state_hash(s) for s in states),
            preimages=self.preimages,
            seed=seed,
            ticks_per_snapshot=self.constants.ticks_per_snapshot,
        )


#: The two players of generated scenarios.
PLAYER_ONE = ImplicitAccount(0, bytes([0x11] * 20))
PLAYER_TWO = ImplicitAccount(0, bytes([0x22] * 20))
#: Who originates and fills the inbox.
OPERATOR = ImplicitAccount(1, bytes([0x33] * 20))


def build_scenario(
    constants: Constants,
    boot_sector: bytes,
    messages: Sequence[Sequence[bytes]],
    *,
    preimages: Mapping[RevealHash, bytes] | None = None,
    origination_level: int = 1,
    pvm: PVM[Any] = ARITH_PVM,
    balances: Mapping[ImplicitAccount, int] | None = None,
) -> Scenario:
    """An arith rollup originated at ``origination_level`` through
    :func:`spec.rollup.apply`, whose inbox holds the external messages
    ``messages[0]``, ``messages[1]``… at the levels after origination (one
    message ``99 out`` at the origination level itself), and the layer-1 state
    at the first level where a game on its first commitment may start (one
    commitment period after the commitment's inbox level).
    """
    funds = balances or {
        PLAYER_ONE: 3 * constants.stake_amount,
        PLAYER_TWO: 3 * constants.stake_amount,
        OPERATOR: constants.stake_amount,
    }
    state = rollup_.initial_state(funds, constants, level=origination_level - 1)
    pvms = {pvm.name: pvm}
    state = rollup_.apply(
        state,
        Originate(OPERATOR, cast(PvmKind, pvm.name), boot_sector, michelson.Prim("unit")),
        constants,
        pvms=pvms,
    )
    address = next(iter(state.rollups))
    state = rollup_.apply(state, AddMessages(OPERATOR, (b"99 out",)), constants)
    commit_level = next_commitment_level(origination_level, constants)
    start_level = commit_level + constants.commitment_period_in_blocks
    while state.level < start_level:
        state = rollup_.advance_level(state, constants)
        index = state.level - origination_level - 1
        batch = tuple(messages[index]) if 0 <= index < len(messages) else ()
        if batch and state.level < start_level:
            state = rollup_.apply(state, AddMessages(OPERATOR, batch), constants)
    rollup = state.rollup(address)
    return Scenario(
        constants=constants,
        pvm=pvm,
        boot_sector=boot_sector,
        preimages=dict(preimages or {}),
        metadata=Metadata(address, rollup.origination_level),
        genesis=rollup.lcc_commitment,
        commit_inbox_level=commit_level,
        state=state,
    )


# -- strategies: views -------------------------------------------------------------------


def _rng(*parts: object) -> random.Random:
    return random.Random(int.from_bytes(blake2b_256(repr(parts).encode())[:8], "big"))


def random_program(rng: random.Random) -> bytes:
    """A short random arith program: numbers, operators, variables and ``out``."""
    tokens = []
    for _ in range(rng.randint(1, 6)):
        tokens.append(
            rng.choice(
                [str(rng.randint(0, 99)), str(rng.randint(0, 99)), "+", "*", "-", "out", "x"]
            )
        )
    return " ".join(tokens).encode()


def honest_view(scenario: Scenario, seed: int) -> PlayerView:
    """The inputs as they are: every message of the levels after origination up to
    the commitment's inbox level."""
    return scenario.view(scenario.honest_inputs(), seed=seed)


def random_view(scenario: Scenario, seed: int) -> PlayerView:
    """``Random``: its own random messages at every level (and its own inbox)."""
    rng = _rng("random", seed)
    own = [
        [random_program(rng) for _ in range(rng.randint(0, 3))]
        for _ in range(
            scenario.commit_inbox_level + 2 * scenario.constants.commitment_period_in_blocks
        )
    ]
    fake = build_scenario(
        scenario.constants,
        scenario.boot_sector,
        own,
        preimages=scenario.preimages,
        origination_level=scenario.origination_level,
        pvm=scenario.pvm,
    )
    return scenario.view(fake.honest_inputs(), inbox=fake.inbox, seed=seed)


def lazy_view(scenario: Scenario, seed: int) -> PlayerView:
    """``Lazy``: does not read the last inputs (whole levels when there are several
    levels, as Octez's lazy player; always reads the first input)."""
    inputs = scenario.honest_inputs()
    levels = sorted({i.inbox_level for i in inputs})
    rng = _rng("lazy", seed)
    if len(levels) > 1:
        keep_levels = set(levels[: len(levels) - rng.randint(1, len(levels) - 1)])
        kept = [i for i in inputs if i.inbox_level in keep_levels]
    else:
        kept = inputs[: rng.randint(1, len(inputs) - 1)]
    return scenario.view(kept, seed=seed)


def eager_view(scenario: Scenario, seed: int) -> PlayerView:
    """``Eager``: reads correctly until one input, replaced by ``foo`` at (42, 42)."""
    inputs = scenario.honest_inputs()
    k = _rng("eager", seed).randrange(len(inputs))
    inputs[k] = InboxInput(42, 42, serialize(External(b"foo")))
    return scenario.view(inputs, seed=seed)


def keen_view(scenario: Scenario, seed: int) -> PlayerView:
    """``Keen``: also reads the 1..k levels after the commitment's inbox level."""
    extra = _rng("keen", seed).randint(1, max(1, scenario.constants.commitment_period_in_blocks))
    last = min(scenario.commit_inbox_level + extra, scenario.inbox.level)
    levels = range(scenario.origination_level + 1, last + 1)
    view = scenario.view(level_inputs(scenario.inbox, levels), seed=seed)
    honest = honest_view(scenario, seed)
    return attrs.evolve(view, target_tick=honest.final_tick)


def griefer_view(scenario: Scenario, seed: int) -> PlayerView:
    """A keen view chosen to set up the §7.13 draw: it reads a prefix of the next
    level's inputs such that, in the honest refuter's even dissection of the
    griefer's claim, the section around the honest blocking tick ``T`` spans more
    than ``N`` ticks and ends at ``T + 2`` or later (the griefer can then ask the
    honest player to dissect ``[T, T + 2]`` tick by tick). Falls back to
    :func:`keen_view`."""
    honest = honest_view(scenario, seed)
    blocked = honest.final_tick
    sections = scenario.constants.number_of_sections_in_dissection
    extra = level_inputs(
        scenario.inbox, range(scenario.commit_inbox_level + 1, scenario.inbox.level + 1)
    )
    for k in range(1, len(extra) + 1):
        view = scenario.view([*scenario.honest_inputs(), *extra[:k]], seed=seed)
        ticks = default_dissection_ticks(0, view.final_tick, sections)
        for a, b in itertools.pairwise(ticks):
            if a <= blocked < b and b >= blocked + 2 and b - a > sections:
                return attrs.evolve(view, target_tick=blocked)
    return keen_view(scenario, seed)


def sol_hater_view(scenario: Scenario, seed: int) -> PlayerView:
    """``SOL_hater``: skips every Start_of_level."""
    sol = serialize(StartOfLevel())
    inputs = [i for i in scenario.honest_inputs() if i.payload != sol]
    return scenario.view(inputs, seed=seed)


def eol_hater_view(scenario: Scenario, seed: int) -> PlayerView:
    """``EOL_hater``: skips every End_of_level."""
    eol = serialize(EndOfLevel())
    inputs = [i for i in scenario.honest_inputs() if i.payload != eol]
    return scenario.view(inputs, seed=seed)


def nostalgic_view(scenario: Scenario, seed: int) -> PlayerView:
    """``Nostalgic``: also reads the messages of the origination level."""
    levels = range(scenario.origination_level, scenario.commit_inbox_level + 1)
    return scenario.view(level_inputs(scenario.inbox, levels), seed=seed)


def random_liar_view(scenario: Scenario, seed: int) -> PlayerView:
    """``random_liar``: the true states up to a random tick, random hashes after it."""
    view = honest_view(scenario, seed)
    rng = _rng("liar", seed)
    start = rng.randint(1, view.final_tick)
    lies = {t: StateHash(rng.randbytes(32)) for t in range(start, view.final_tick + 1)}
    return attrs.evolve(view, lies=lies)


def forger_view(scenario: Scenario, seed: int) -> PlayerView:
    """``inbox_forger``: at an input tick where the next message of level ``l`` at
    index ``n`` runs differently from the message at the same index ``n`` of
    another level of the snapshot, it feeds the other level's message as if it
    were level ``l``'s, with a genuine inbox proof of the other level's message
    (reference §3.6). Falls back to the honest view if no such tick exists."""
    honest = honest_view(scenario, seed)
    inputs = scenario.honest_inputs()
    _, input_ticks = run_inputs(
        scenario.pvm, scenario.boot_sector, inputs, scenario.metadata, scenario.preimages
    )
    snapshot = scenario.inbox.snapshot()
    candidates = []
    for tick, real in zip(input_ticks, inputs, strict=False):
        request = scenario.pvm.input_request(honest.states[tick])
        if not isinstance(request, FirstAfter):
            continue
        for other in range(scenario.origination_level + 1, snapshot.content.level + 1):
            messages = scenario.inbox.messages_of_level(other)
            if other == real.inbox_level or real.message_counter >= len(messages):
                continue
            payload = messages[real.message_counter]
            forged_input = InboxInput(real.inbox_level, real.message_counter, payload)
            if scenario.pvm.state_hash(
                scenario.pvm.set_input(honest.states[tick], forged_input)
            ) == honest.hash_at(tick + 1):
                continue
            candidates.append((tick, other, forged_input, request))
            break
    if not candidates:
        return honest
    tick, other, forged_input, request = _rng("forger", seed).choice(candidates)
    proven = inbox_.produce_proof(
        scenario.inbox, snapshot.index, other, forged_input.message_counter
    )
    input_proof = proof_.InboxProof(request.level, request.counter, inbox_.encode_proof(proven))
    view = scenario.view(inputs, replace={tick: forged_input}, seed=seed)
    return attrs.evolve(view, forged={tick: (input_proof, forged_input)}, target_tick=tick)


# -- strategies: moves --------------------------------------------------------------------


def disputed_sections(dissection: Sequence[Chunk], view: PlayerView) -> list[tuple[Chunk, Chunk]]:
    """The sections whose start the player agrees with and whose stop it does not.

    Octez: ``test_refutation_game.ml``, ``disputed_sections``.
    """
    return [
        (a, b)
        for a, b in itertools.pairwise(dissection)
        if view.hash_at(a.tick) == a.state_hash and view.hash_at(b.tick) != b.state_hash
    ]


def build_dissection(
    game: Game, start: Chunk, stop: Chunk, view: PlayerView, ticks: Sequence[int] | None = None
) -> tuple[Chunk, ...]:
    """A dissection of ``[start, stop]`` with the player's claims at the default
    ticks of the PVM kind (or at ``ticks``)."""
    state = game.game_state
    assert isinstance(state, Dissecting)
    if ticks is None:
        if game.pvm_kind == "wasm_2_0_0":
            ticks = wasm_dissection_ticks(
                start.tick, stop.tick, state.default_number_of_sections, view.ticks_per_snapshot
            )
        else:
            ticks = default_dissection_ticks(
                start.tick, stop.tick, state.default_number_of_sections
            )
    return tuple(Chunk(view.hash_at(t), t) for t in ticks)


def produce_proof(game: Game, tick: int, view: PlayerView) -> proof_.RefutationProof:
    """The player's proof of the step from its state at ``tick`` (a forged one where
    it forges; a no-input step if it cannot prove its input)."""
    if tick in view.forged:
        input_proof, given = view.forged[tick]
        return proof_.RefutationProof(view.pvm.produce_proof(view.states[tick], given), input_proof)
    state = view.states[min(tick, view.final_tick)]
    try:
        return proof_.produce(
            view.pvm,
            state,
            metadata=view.metadata,
            inbox=view.inbox,
            snapshot=game.inbox_snapshot,
            commit_inbox_level=game.inbox_level,
            reveal=view.preimages.get,
        )
    except ProtocolError:
        return proof_.RefutationProof(view.pvm.produce_proof(state, None), None)


def honest_moves(game: Game, view: PlayerView) -> tuple[Move, ...]:
    """Perfect play on the player's view: prove a one-tick disputed section, else
    dissect a disputed section with its own claims; in the final move, prove the
    agreed start's step.

    Octez: ``test_refutation_game.ml``, ``next_move``; ``refutation_game.ml``.
    """
    state = game.game_state
    if isinstance(state, FinalMove):
        start = state.agreed_start_chunk
        return (Move(start.tick, game_.Proof(produce_proof(game, start.tick, view))),)
    disputed = disputed_sections(state.dissection, view)
    if not disputed:
        raise StrategyError("no section of the dissection is disputed by this player")
    for a, b in disputed:
        if b.tick - a.tick == 1:
            return (Move(a.tick, game_.Proof(produce_proof(game, a.tick, view))),)
    a, b = disputed[0]
    return (Move(a.tick, game_.Dissection(build_dissection(game, a, b, view))),)


def random_moves(game: Game, view: PlayerView) -> tuple[Move, ...]:
    """Like :func:`honest_moves` but on a seeded random disputed section."""
    state = game.game_state
    if isinstance(state, FinalMove):
        return honest_moves(game, view)
    disputed = disputed_sections(state.dissection, view)
    if not disputed:
        raise StrategyError("no section of the dissection is disputed by this player")
    rng = _rng("moves", view.seed, state.dissection)
    a, b = rng.choice(disputed)
    if b.tick - a.tick == 1:
        return (Move(a.tick, game_.Proof(produce_proof(game, a.tick, view))),)
    return (Move(a.tick, game_.Dissection(build_dissection(game, a, b, view))),)


def protected_ticks(start: int, stop: int, sections: int, keep: int) -> list[int] | None:
    """Ticks of a dissection of ``[start, stop]`` into ``sections`` sections that
    has ``keep`` and ``keep + 2`` but not ``keep + 1``, every other section split
    evenly; None if impossible (``keep`` not inside, or too few ticks)."""
    if not (start <= keep and keep + 2 <= stop) or stop - start <= sections:
        return None
    ticks = {start, keep, keep + 2, stop}
    while len(ticks) < sections + 1:
        ordered = sorted(ticks)
        gaps = [
            (b - a, a, b)
            for a, b in itertools.pairwise(ordered)
            if (a, b) != (keep, keep + 2) and b - a >= 2
        ]
        if not gaps:
            return None
        _, a, b = max(gaps)
        ticks.add((a + b) // 2)
    ordered = sorted(ticks)
    if (
        len(ordered) != sections + 1
        or max(b - a for a, b in itertools.pairwise(ordered)) > (stop - start) // 2
    ):
        return None
    return ordered


def _steering_moves(game: Game, view: PlayerView) -> tuple[Move, ...]:
    """Dissect the disputed section holding ``target_tick`` so that the section
    ``[target, target + 2]`` appears (the opponent must then dissect it tick by
    tick); otherwise honest moves on the view."""
    state = game.game_state
    target = view.target_tick
    if isinstance(state, Dissecting) and target is not None:
        for a, b in disputed_sections(state.dissection, view):
            ticks = protected_ticks(a.tick, b.tick, state.default_number_of_sections, target)
            if ticks is not None:
                return (Move(a.tick, game_.Dissection(build_dissection(game, a, b, view, ticks))),)
    return honest_moves(game, view)


def _junk_proof(view: PlayerView) -> proof_.RefutationProof:
    """A well-formed proof of some step (judged invalid where it is played)."""
    return proof_.RefutationProof(view.pvm.produce_proof(view.states[0], None), None)


def _blocked_section_proofs(game: Game, view: PlayerView) -> list[Move]:
    state = game.game_state
    if not isinstance(state, Dissecting):
        return []
    return [
        Move(a.tick, game_.Proof(_junk_proof(view)))
        for a, b in zip(state.dissection, state.dissection[1:], strict=False)
        if a.state_hash is None and b.state_hash is None and b.tick - a.tick == 1
    ]


def _multi_tick_proofs(game: Game, view: PlayerView) -> list[Move]:
    state = game.game_state
    if not isinstance(state, Dissecting):
        return []
    sections = [
        (a, b)
        for a, b in zip(state.dissection, state.dissection[1:], strict=False)
        if b.tick - a.tick > 1
    ]
    return [Move(a.tick, game_.Proof(_junk_proof(view))) for a, _ in sections[:1]]


def griefer_moves(game: Game, view: PlayerView) -> tuple[Move, ...]:
    """Try a proof on a one-tick section between two blocked chunks (§7.13), then a
    proof on a multi-tick section (§7.12), then play like a keen player that
    steers towards the honest player's blocking tick."""
    return (
        *_blocked_section_proofs(game, view),
        *_multi_tick_proofs(game, view),
        *_steering_moves(game, view),
    )


def blocked_griefer_moves(game: Game, view: PlayerView) -> tuple[Move, ...]:
    """The §7.13 griefer only (the forced draw the Octez plugin does not prevent)."""
    return (*_blocked_section_proofs(game, view), *_steering_moves(game, view))


def forger_moves(game: Game, view: PlayerView) -> tuple[Move, ...]:
    """Steer towards the forged input tick, then prove the forged step."""
    return _steering_moves(game, view)


@attrs.frozen
class Strategy:
    """A named player: how it sees the inputs and how it moves."""

    name: str
    description: str
    view: Callable[[Scenario, int], PlayerView]
    moves: Callable[[Game, PlayerView], tuple[Move, ...]] = honest_moves


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy("honest", "plays perfectly on the true inputs", honest_view),
        Strategy("random", "plays perfectly on its own random inbox", random_view),
        Strategy("lazy", "does not read the last levels", lazy_view),
        Strategy("eager", "corrupts one input", eager_view),
        Strategy("keen", "reads levels after the commitment's", keen_view),
        Strategy("sol_hater", "skips every Start_of_level", sol_hater_view),
        Strategy("eol_hater", "skips every End_of_level", eol_hater_view),
        Strategy("nostalgic", "also reads the origination level", nostalgic_view),
        Strategy(
            "random_liar",
            "lies from a random tick, picks sections at random",
            random_liar_view,
            random_moves,
        ),
        Strategy(
            "griefer", "tries the forced draws of §7.13 and §7.12", griefer_view, griefer_moves
        ),
        Strategy(
            "blocked_griefer",
            "tries the §7.13 forced draw only",
            griefer_view,
            blocked_griefer_moves,
        ),
        Strategy(
            "inbox_forger", "proves another level's message (§3.6)", forger_view, forger_moves
        ),
    )
}
#: The cheaters of Octez's property-based test.
PBT_CHEATERS = ("random", "lazy", "eager", "keen", "sol_hater", "eol_hater", "nostalgic")


def strategy(name: str) -> Strategy:
    """The strategy called ``name``."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise StrategyError(
            f"unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}"
        ) from None


# -- driving a game ----------------------------------------------------------------------------


@attrs.frozen
class Turn:
    """One move sent to layer 1, accepted or rejected, and the clocks after it."""

    level: int
    role: str
    move: Move | None
    section: tuple[Chunk, Chunk] | None
    error: ProtocolError | None
    clocks: game_.Timeout | None
    game_state: game_.GameState | None


@attrs.frozen
class GameRun:
    """A whole game: the players' views and commitments, every turn, the result,
    and the layer-1 states before the game and after it."""

    scenario: Scenario
    roles: Mapping[str, ImplicitAccount]
    views: Mapping[str, PlayerView]
    commitments: Mapping[str, Commitment]
    turns: tuple[Turn, ...]
    result: game_.GameResult | None
    result_role: str | None
    before: Layer1State
    after: Layer1State

    @property
    def moves(self) -> tuple[Turn, ...]:
        """The accepted moves."""
        return tuple(t for t in self.turns if t.error is None and t.move is not None)


def section_of(game: Game, move: Move) -> tuple[Chunk, Chunk] | None:
    """The section ``move`` acts on: the final section during the final move, else the
    one starting at ``move.choice`` (None if there is none).

    Octez: ``sc_rollup_game_repr.ml``, ``find_choice``.
    """
    state = game.game_state
    if isinstance(state, FinalMove):
        return (state.agreed_start_chunk, state.refuted_stop_chunk)
    try:
        return game_.find_choice(state.dissection, move.choice)
    except ProtocolError:
        return None


def play_game(
    scenario: Scenario,
    *,
    refuter: Strategy,
    defender: Strategy,
    seed: int = 0,
    swap_accounts: bool = False,
    max_turns: int = 200,
) -> GameRun:
    """Publish both players' commitments, start the game (the refuter sends
    ``Start``) and play it through :func:`spec.refutation.refute_outcome`, one
    move per level, until it ends. A player whose moves are all rejected waits;
    its opponent then sends ``Smart_rollup_timeout`` once it is allowed."""
    constants = scenario.constants
    accounts = (PLAYER_TWO, PLAYER_ONE) if swap_accounts else (PLAYER_ONE, PLAYER_TWO)
    roles = {"refuter": accounts[0], "defender": accounts[1]}
    strategies = {"refuter": refuter, "defender": defender}
    views = {
        "refuter": refuter.view(scenario, seed),
        "defender": defender.view(scenario, seed + 1),
    }
    commitments = {role: views[role].commitment(scenario.genesis) for role in roles}
    if commitments["refuter"] == commitments["defender"]:
        raise StrategyError("both players publish the same commitment: there is no game")
    state = scenario.state
    address = scenario.metadata.address
    for role in ("defender", "refuter"):
        state = staking.apply_publish(
            state, Publish(roles[role], address, commitments[role]), constants
        )
    before = state
    state = refutation.refute(
        state,
        Refute(
            roles["refuter"],
            address,
            roles["defender"],
            game_.Start(commitments["refuter"].hash(), commitments["defender"].hash()),
        ),
        constants,
    )
    stakers = game_.Index.make(roles["refuter"], roles["defender"])
    role_of = {roles["refuter"]: "refuter", roles["defender"]: "defender"}
    turns: list[Turn] = []
    result: game_.GameResult | None = None
    for _ in range(max_turns):
        state = attrs.evolve(state, level=state.level + 1)
        record = state.rollup(address).games.get(stakers.key())
        assert isinstance(record, game_.GameRecord)
        mover = stakers.staker(record.game.turn)
        role = role_of[mover]
        other = roles["defender" if role == "refuter" else "refuter"]
        try:
            candidates = strategies[role].moves(record.game, views[role])
        except ScoruError:
            candidates = ()
        outcome = None
        for move in candidates:
            try:
                outcome = refutation.refute_outcome(
                    state, Refute(mover, address, other, move), constants
                )
            except ProtocolError as exc:
                turns.append(
                    Turn(state.level, role, move, section_of(record.game, move), exc, None, None)
                )
                state = attrs.evolve(state, level=state.level + 1)
                continue
            new = outcome.state.rollup(address).games.get(stakers.key())
            turns.append(
                Turn(
                    state.level,
                    role,
                    move,
                    section_of(record.game, move),
                    None,
                    new.timeout if isinstance(new, game_.GameRecord) else None,
                    new.game.game_state if isinstance(new, game_.GameRecord) else None,
                )
            )
            break
        if outcome is None:
            state = attrs.evolve(state, level=game_.timeout_level(record) + 1)
            sender = roles["defender" if role == "refuter" else "refuter"]
            outcome = refutation.timeout_outcome(
                state, TimeoutOp(sender, address, stakers.key()), constants
            )
            turns.append(Turn(state.level, "timeout", None, None, None, None, None))
        state = outcome.state
        if outcome.result is not None:
            result = outcome.result
            break
    result_role = None
    if isinstance(result, game_.Loser):
        result_role = role_of[result.loser]
    return GameRun(
        scenario=scenario,
        roles=roles,
        views=views,
        commitments=commitments,
        turns=tuple(turns),
        result=result,
        result_role=result_role,
        before=before,
        after=state,
    )


# -- generated scenarios -------------------------------------------------------------------------


def valid_program(rng: random.Random, tokens: int) -> bytes:
    """A random arith program of ``tokens`` tokens that never underflows its stack:
    numbers, ``+ - *`` on two values, ``out`` and variables on one."""
    out: list[str] = []
    depth = 0
    for _ in range(tokens):
        choices = (
            ["n"] + (["+", "*", "-"] if depth >= 2 else []) + (["out", "x", "y"] if depth else [])
        )
        token = rng.choice(choices)
        if token == "n":
            out.append(str(rng.randint(0, 999)))
            depth += 1
        else:
            out.append(token)
            depth -= 1 if token in "+*-" else 0
    return " ".join(out).encode()


def generate_messages(constants: Constants, seed: int, ticks: int) -> list[list[bytes]]:
    """Random valid arith programs for the levels of the first commitment period
    such that the honest commitment claims about ``ticks`` ticks (each level costs
    3 ticks for Start_of_level, Info_per_level and End_of_level, each program its
    tokens plus 2), then one program per level after the period."""
    rng = _rng("messages", seed)
    period = constants.commitment_period_in_blocks
    levels: list[list[bytes]] = [[] for _ in range(2 * period)]
    budget = ticks - 3 * period
    while budget >= 3:
        tokens = min(rng.randint(1, 16), budget - 2)
        levels[rng.randrange(period)].append(valid_program(rng, tokens))
        budget -= tokens + 2
    for level in range(period, 2 * period):
        levels[level].append(valid_program(rng, rng.randint(1, 6)))
    return levels


def generated_scenario(constants: Constants, seed: int, ticks: int) -> Scenario:
    """An arith rollup with :func:`generate_messages` in its inbox."""
    return build_scenario(constants, b"", generate_messages(constants, seed, ticks))
