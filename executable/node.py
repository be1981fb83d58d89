"""Smart-rollup nodes: follow the layer-1 inbox, run a PVM, publish, refute, cement.

A :class:`RollupNode` acts once per layer-1 block through a :class:`Layer1`
(the simulator of :mod:`executable.chain`), in this order:

1. **follow the inbox**: its PVM back-end (:mod:`executable.nodes.backend`)
   processes every finished inbox level;
2. **play its games**: on its turn, the moves of its strategy — reused from
   :mod:`spec.strategies` (``honest_moves``, ``random_moves``) on a
   :class:`~spec.strategies.PlayerView` whose states are the node's own PVM
   replayed tick by tick over the disputed commitment; when the opponent's
   clock has run out, ``Smart_rollup_timeout``;
3. **start games** against every active staker of a commitment conflicting
   with its own (same predecessor), from one commitment period after the
   commitment's level;
4. **publish** one commitment per commitment period, on its previous one,
   with its PVM's state hash and tick count, as soon as the level is
   finished and within the lookahead of the LCC;
5. **cement** the LCC's successor when its challenge window is over (every
   node: anyone may, and a liar would like its commitments cemented);
6. **execute outbox messages** of newly cemented levels, with output proofs
   produced from the PVM state of the cemented commitment (honest nodes);
7. **recover its bond** once it has stopped publishing (the simulation's end
   is near) and its newest commitment is cemented.

Adversaries are described in :mod:`executable.nodes.behaviour`; a node
whose bond was burnt retires.

Octez: ``src/lib_smart_rollup_node/`` — ``publisher.ml`` (publish, cement,
recover bond), ``refutation_coordinator.ml`` and ``refutation_game.ml``
(conflicts, game start, moves, timeouts), ``outbox_execution.ml``,
``interpreter.ml``.
"""

from __future__ import annotations

import random
from typing import Protocol, cast

from executable.nodes.backend import Backend, LazySequence, NodeError, Trace
from executable.nodes.behaviour import BEHAVIOURS, Behaviour, NodeSpec, parse_nodes
from spec import game as game_
from spec import strategies
from spec.commitment import Commitment, next_commitment_level
from spec.constants import Constants
from spec.errors import EncodingError
from spec.game import Index, Start
from spec.hashing import CommitmentHash, ImplicitAccount, RollupAddress, StateHash, blake2b_256
from spec.operations import (
    Cement,
    ExecuteOutboxMessage,
    Operation,
    OutputProof,
    Publish,
    RecoverBond,
    Refute,
    Timeout,
)
from spec.outbox import decode_outbox_message, outbox_slot
from spec.pvm import Metadata, Output
from spec.state import Layer1State, RollupState

__all__ = [
    "BEHAVIOURS",
    "Behaviour",
    "Layer1",
    "NodeError",
    "NodeSpec",
    "RollupNode",
    "account_of_name",
    "parse_nodes",
]

GameKey = tuple[ImplicitAccount, ImplicitAccount]


class Layer1(Protocol):
    """What a node sees of and sends to layer 1 (implemented by the simulator)."""

    @property
    def state(self) -> Layer1State:
        """The layer-1 state of the block being built, after the operations so far."""
        ...

    @property
    def constants(self) -> Constants: ...

    @property
    def address(self) -> RollupAddress: ...

    @property
    def metadata(self) -> Metadata: ...

    @property
    def last_commitment_level(self) -> int | None:
        """Nodes publish no commitment above this inbox level (None: no limit)."""
        ...

    def submit(self, operation: Operation, node: RollupNode, *, quiet: bool = False) -> bool:
        """Apply ``operation`` in the current block; False if layer 1 rejects it
        (recorded in the timeline unless ``quiet``)."""
        ...

    def moved_this_block(self, game: GameKey) -> bool:
        """A ``Smart_rollup_refute`` was already included for this game in this
        block (the block-validation plugin accepts one per game per block)."""
        ...


def account_of_name(name: str) -> ImplicitAccount:
    """A deterministic ``tz1`` account for a node or user name."""
    return ImplicitAccount(0, blake2b_256(b"scoru-simulate account " + name.encode())[:20])


def already_executed(rollup: RollupState, output: Output, constants: Constants) -> bool:
    """The message's bit is set in ``Applied_outbox_messages`` (Octez:
    ``sc_rollup_outbox_storage.ml``, ``record_applied_message``)."""
    slot = rollup.applied_outbox_messages.get(outbox_slot(output.outbox_level, constants))
    return (
        slot is not None
        and slot[0] == output.outbox_level
        and bool(slot[1] >> output.message_index & 1)
    )


def executable_output(output: Output, constants: Constants) -> bool:
    """An output layer 1 can execute: it decodes as an outbox message and its index
    is below ``max_outbox_messages_per_level``."""
    if output.message_index >= constants.max_outbox_messages_per_level:
        return False
    try:
        decode_outbox_message(output.message)
    except EncodingError:
        return False
    return True


class RollupNode:
    """One rollup node; see the module documentation.

    ``from_level`` is the inbox level its adversarial behaviour starts at;
    ``seed`` seeds its random choices.
    """

    def __init__(
        self,
        name: str,
        behaviour: Behaviour,
        backend: Backend,
        *,
        from_level: int,
        seed: int,
    ) -> None:
        self.name = name
        self.account = account_of_name(name)
        self.behaviour = behaviour
        self.backend = backend
        self.from_level = from_level
        self.seed = seed
        #: Own uncemented commitments by inbox level, with their predecessor's level.
        self.published: dict[int, tuple[Commitment, int]] = {}
        self.commitments_published = 0
        self.head: tuple[int, CommitmentHash] | None = None
        self.staked = False
        self.finished_publishing = False
        self.recovered = False
        self.retired: str | None = None
        self.executed_up_to = -1
        self.skipped_outputs = 0
        self._views: dict[tuple[GameKey, int, int], strategies.PlayerView] = {}
        self._lie_tick: int | None = None

    def __repr__(self) -> str:
        return f"RollupNode({self.name!r}, {self.behaviour.kind})"

    # -- claims ---------------------------------------------------------------

    def lie_tick(self) -> int | None:
        """The absolute tick from which this node's state hashes are lies (None:
        it tells the truth so far). ``liar``: the first tick of level ``L``;
        ``random_liar``: a seeded random tick of level ``L``."""
        if self._lie_tick is not None or self.behaviour.lie not in ("state", "random"):
            return self._lie_tick
        ticks = self.backend.level_ticks.get(self.from_level)
        if ticks is None:
            return None
        start, end = ticks
        self._lie_tick = start + 1
        if self.behaviour.lie == "random":
            self._lie_tick += random.Random(self.seed).randrange(max(1, end - start))
        return self._lie_tick

    def claim(self, tick: int, real: StateHash) -> StateHash:
        """The hash this node claims for its PVM's state ``real`` at absolute ``tick``."""
        lie_from = self.lie_tick()
        if lie_from is None or tick < lie_from:
            return real
        if self.behaviour.lie == "state":
            return StateHash(blake2b_256(b"lie " + self.name.encode() + real.raw))
        return StateHash(
            blake2b_256(b"random " + self.seed.to_bytes(8, "big") + tick.to_bytes(16, "big"))
        )

    def extra_ticks(self, inbox_level: int) -> int:
        """Ticks the node adds to its commitment at ``inbox_level`` (``wrong_ticks``)."""
        return 1 if self.behaviour.lie == "ticks" and inbox_level >= self.from_level else 0

    def commitment(self, predecessor: tuple[int, CommitmentHash], inbox_level: int) -> Commitment:
        """The commitment this node publishes at ``inbox_level`` after ``predecessor``."""
        pred_level, pred_hash = predecessor
        mark = self.backend.marks[inbox_level]
        ticks = mark.tick - self.backend.marks[pred_level].tick
        return Commitment(
            compressed_state=self.claim(mark.tick, mark.state_hash),
            inbox_level=inbox_level,
            predecessor=pred_hash,
            number_of_ticks=ticks + self.extra_ticks(inbox_level),
        )

    def view(self, game: game_.Game, chain: Layer1) -> strategies.PlayerView:
        """The node's view of the commitment disputed in ``game``: its own PVM
        replayed over the commitment's levels, with its claims."""
        own, pred_level = self.published[game.inbox_level]
        trace: Trace = self.backend.trace(pred_level, game.inbox_level, chain.state.inbox)
        final = trace.final_tick
        length = final + 1 + self.extra_ticks(game.inbox_level)
        origin = trace.origin

        def hash_at(tick: int) -> StateHash:
            tick = min(tick, final)
            return self.claim(origin + tick, trace.hash_at(tick))

        view = strategies.PlayerView(
            pvm=self.backend.pvm,
            metadata=chain.metadata,
            inbox=chain.state.inbox,
            commit_inbox_level=game.inbox_level,
            states=cast("tuple[object, ...]", LazySequence(length, trace.state_at)),
            hashes=cast("tuple[StateHash, ...]", LazySequence(length, hash_at)),
            seed=self.seed,
            ticks_per_snapshot=chain.constants.ticks_per_snapshot,
        )
        if view.hash_at(view.final_tick) != own.compressed_state:
            raise NodeError(f"{self.name}: its view does not end on its own commitment")
        return view

    # -- acting ---------------------------------------------------------------

    def act(self, chain: Layer1) -> None:
        """Everything the node does in the current block (see the module doc)."""
        if self.retired is not None:
            return
        self.backend.sync(chain.state.inbox)
        rollup = chain.state.rollup(chain.address)
        if self.staked and not self.recovered and not rollup.is_staker(self.account):
            self.retired = "its bond was burnt"
            return
        self.published = {k: v for k, v in self.published.items() if k > rollup.lcc_level}
        if self.behaviour.plays != "never":
            self._play(chain)
        if self.behaviour.starts_games:
            self._start_games(chain)
        self._publish(chain)
        self._cement(chain)
        if self.behaviour.honest:
            self._execute(chain)
        self._recover(chain)

    def _rollup(self, chain: Layer1) -> RollupState:
        return chain.state.rollup(chain.address)

    def _play(self, chain: Layer1) -> None:
        for key, record in list(self._rollup(chain).games.items()):
            if self.account not in key:
                continue
            stakers = Index.make(*key)
            opponent = key[1] if key[0] == self.account else key[0]
            deadline = game_.timeout_level(record)
            if stakers.staker(record.game.turn) != self.account:
                if chain.state.level > deadline:
                    chain.submit(Timeout(self.account, chain.address, key), self)
                continue
            if self.behaviour.plays == "late" and chain.state.level < deadline:
                continue
            if chain.moved_this_block(key):
                continue
            view_key = (key, record.game.inbox_level, record.game.start_level)
            view = self._views.get(view_key)
            if view is None:
                view = self._views[view_key] = self.view(record.game, chain)
            moves = strategies.random_moves if self.behaviour.random_choices else None
            try:
                candidates = (moves or strategies.honest_moves)(record.game, view)
            except strategies.StrategyError:
                candidates = ()
            for move in candidates:
                if chain.submit(Refute(self.account, chain.address, opponent, move), self):
                    break
        live = set(self._rollup(chain).games)
        self._views = {k: v for k, v in self._views.items() if k[0] in live}

    def _start_games(self, chain: Layer1) -> None:
        constants = chain.constants
        for inbox_level, (own, _) in sorted(self.published.items()):
            rollup = self._rollup(chain)
            own_hash = own.hash()
            if not rollup.is_staked_on(self.account, own_hash):
                continue
            if chain.state.level < inbox_level + constants.commitment_period_in_blocks:
                continue
            accounts = {index: account for account, index in rollup.staker_index.items()}
            for other in rollup.commitments_per_inbox_level.get(inbox_level, ()):
                found = rollup.commitments.get(other)
                if other == own_hash or found is None or found.predecessor != own.predecessor:
                    continue
                for index in rollup.active_stakers_of(other):
                    opponent = accounts[index]
                    rollup = self._rollup(chain)
                    limit = constants.max_number_of_parallel_games
                    if (
                        opponent == self.account
                        or Index.make(self.account, opponent).key() in rollup.games
                        or len(rollup.opponents(self.account)) >= limit
                        or len(rollup.opponents(opponent)) >= limit
                    ):
                        continue
                    start = Start(own_hash, other)
                    chain.submit(Refute(self.account, chain.address, opponent, start), self)

    def _publish(self, chain: Layer1) -> None:
        constants = chain.constants
        while True:
            rollup = self._rollup(chain)
            if self.head is None:
                self.head = (rollup.lcc_level, rollup.lcc)
            inbox_level = next_commitment_level(self.head[0], constants)
            limit = chain.last_commitment_level
            if limit is not None and inbox_level > limit:
                self.finished_publishing = True
                return
            if inbox_level >= chain.state.level or inbox_level > self.backend.synced:
                return
            if inbox_level - rollup.lcc_level > constants.max_lookahead_in_blocks:
                return
            commitment = self.commitment(self.head, inbox_level)
            if not chain.submit(Publish(self.account, chain.address, commitment), self):
                if not self.behaviour.honest:
                    self.retired = "its commitment was rejected"
                return
            self.staked = True
            self.commitments_published += 1
            self.published[inbox_level] = (commitment, self.head[0])
            self.head = (inbox_level, commitment.hash())

    def _cement(self, chain: Layer1) -> None:
        chain.submit(Cement(self.account, chain.address), self, quiet=True)

    def _execute(self, chain: Layer1) -> None:
        constants = chain.constants
        rollup = self._rollup(chain)
        lcc_level = rollup.lcc_level
        if lcc_level <= self.executed_up_to:
            return
        first = max(self.executed_up_to + 1, lcc_level - constants.max_active_outbox_levels + 1)
        for level in range(first, lcc_level + 1):
            for output in self.backend.outputs.get(level, ()):
                if not executable_output(output, constants):
                    self.skipped_outputs += 1
                    continue
                if already_executed(self._rollup(chain), output, constants):
                    continue
                proof = OutputProof(
                    rollup.lcc_commitment.compressed_state,
                    output,
                    self.backend.output_proof(lcc_level, output),
                )
                chain.submit(
                    ExecuteOutboxMessage(self.account, chain.address, rollup.lcc, proof), self
                )
        self.executed_up_to = lcc_level
        self.backend.prune(lcc_level, lcc_level - constants.max_active_outbox_levels)

    def _recover(self, chain: Layer1) -> None:
        if not self.finished_publishing or self.recovered:
            return
        rollup = self._rollup(chain)
        index = rollup.staker_index.get(self.account)
        if index is None or rollup.stakers[index] > rollup.lcc_level:
            return
        if rollup.opponents(self.account):
            return
        if chain.submit(RecoverBond(self.account, chain.address, self.account), self):
            self.recovered = True
