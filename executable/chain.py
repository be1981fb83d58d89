"""A layer-1 simulator: one smart rollup, its users and its nodes, level by level.

:class:`Simulation` builds a chain with :func:`spec.rollup.initial_state`,
originates a rollup (a WASM kernel or an arith boot sector) in the first
block and then, for every block:

1. users post external messages (``Smart_rollup_add_messages``) on a seeded
   schedule;
2. every node acts in turn (:meth:`executable.node.RollupNode.act`), each
   operation applied at once with :func:`spec.rollup.apply` (games through
   :func:`spec.refutation.refute_outcome` and ``timeout_outcome``, to see
   their results);
3. every invariant of :data:`spec.invariants.INVARIANTS` is checked on the
   state at the end of the block, and so are two properties of the run
   itself: no wrong commitment is cemented while an honest node takes part,
   and no honest node loses its bond (``SIM-1``, ``SIM-2``);
4. :func:`spec.rollup.advance_level` ends the block.

Everything that happens is recorded as an :class:`Event` of the timeline
(commitments published and how they compare with the honest PVM's,
games with their moves and outcomes, bond movements, cementations, executed
outbox messages, rejected operations, violations). The run is a function of
its :class:`SimulationConfig`: the same seed gives the same timeline.

WASM disputes are played tick by tick with the reference WASM PVM
(:mod:`executable.reference`): nodes follow the inbox with the fast PVM on
wasmtime and commit to the reference PVM's state hashes, so every move of a
WASM game is checked by layer 1 against real one-step WASM proofs.

Octez: ``src/proto_alpha/lib_protocol/apply.ml`` (operations in a block),
``sc_rollup_*.ml`` (through :mod:`spec`); ``lib_plugin/block_validation.ml``
(one refutation move per game per block).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from executable.node import RollupNode, account_of_name
from executable.nodes.backend import ArithBackend, Backend, WasmBackend
from executable.nodes.behaviour import BEHAVIOURS, NodeSpec
from executable.reference import ReferencePvm
from spec import game as game_
from spec import michelson, refutation
from spec import outbox as outbox_
from spec import proof as proof_
from spec import rollup as rollup_
from spec.arith import PVM as ARITH_PVM
from spec.commitment import Commitment, next_commitment_level
from spec.constants import TEZ, Constants
from spec.errors import ProtocolError, ScoruError
from spec.hashing import (
    CommitmentHash,
    ContractHash,
    ImplicitAccount,
    RollupAddress,
    blake2b_160,
)
from spec.invariants import INVARIANTS
from spec.operations import (
    AddMessages,
    Cement,
    ExecuteOutboxMessage,
    Operation,
    Originate,
    Publish,
    Refute,
    Timeout,
)
from spec.origination import PvmKind
from spec.pvm import PVM, Metadata
from spec.state import Layer1State, RollupState

PvmChoice = Literal["wasm", "arith"]
MessageStyle = Literal["outbox", "text", "arith"]

#: The account that originates the rollup.
OPERATOR = account_of_name("operator")
#: Where the users' outbox messages send their transactions.
DESTINATION = ContractHash(blake2b_160(b"scoru-simulate destination"))
#: Blocks after the last commitment level: enough to cement it and recover bonds.
WIND_DOWN_MARGIN = 4


class SimulationError(ScoruError):
    """A simulation that cannot be set up as asked."""


# -- configuration -------------------------------------------------------------------


@attrs.frozen
class SimulationConfig:
    """Everything a run depends on.

    ``constants`` is the preset; the run adapts it (:func:`prepare_constants`).
    ``boot_sector`` is the WASM kernel (``pvm="wasm"``) or the arith boot
    sector; ``levels`` counts blocks, the origination block included;
    ``messages`` is what users post: encoded outbox messages (for kernels that
    echo them, like ``echo``), text, or arith programs.
    """

    constants: Constants
    nodes: tuple[NodeSpec, ...]
    pvm: PvmChoice = "wasm"
    boot_sector: bytes = b""
    kernel_name: str = "echo"
    messages: MessageStyle = "outbox"
    levels: int = 2_000
    seed: int = 0
    users: int = 3

    def __attrs_post_init__(self) -> None:
        if self.levels < 2:
            raise SimulationError("a simulation needs at least 2 levels")
        if not self.nodes:
            raise SimulationError("a simulation needs at least one node")


def prepare_constants(constants: Constants, pvm: PvmChoice) -> tuple[Constants, list[str]]:
    """The constants a run uses, and a note for every change made to the preset:
    the arith PVM enabled for arith runs; for WASM runs, a timeout period long
    enough for a game over up to 2^63 ticks (one move per level per player,
    ``ceil(63 / log2(sections)) + 4`` blocks)."""
    notes = []
    if pvm == "arith" and not constants.arith_pvm_enable:
        constants = attrs.evolve(constants, arith_pvm_enable=True)
        notes.append(f"arith PVM enabled (the {constants.name} preset disables it)")
    if pvm == "wasm":
        sections = constants.number_of_sections_in_dissection
        needed = math.ceil(63 / math.log2(max(2, sections))) + 4
        if constants.timeout_period_in_blocks < needed:
            notes.append(
                f"timeout_period_in_blocks raised from {constants.timeout_period_in_blocks} to "
                f"{needed}: a WASM game over ~10^14 ticks with {sections} sections per "
                f"dissection takes up to {needed - 4} moves, one block each"
            )
            constants = attrs.evolve(constants, timeout_period_in_blocks=needed)
    return constants, notes


# -- the timeline ----------------------------------------------------------------------


EventKind = Literal[
    "originated",
    "messages",
    "published",
    "game_started",
    "move",
    "game_ended",
    "bond",
    "cemented",
    "executed",
    "rejected",
    "retired",
    "violation",
]


@attrs.frozen
class Event:
    """One thing that happened at ``level``: a one-line ``text`` and its data."""

    level: int
    kind: EventKind
    actor: str | None
    text: str
    data: Mapping[str, Any] = attrs.field(factory=dict, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "kind": self.kind, "actor": self.actor, **self.data}


@attrs.frozen
class MoveRecord:
    """One refutation move (or timeout) sent in a game."""

    level: int
    player: str
    step: str
    choice: int | None
    section: tuple[int, int] | None
    sections: int | None
    accepted: bool
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class GameReport:
    """A refutation game: its players, moves and outcome."""

    refuter: str
    defender: str
    inbox_level: int
    started: int
    pvm: str
    moves: tuple[MoveRecord, ...]
    ended: int | None
    winner: str | None
    loser: str | None
    result: str
    why: str

    def to_json(self) -> dict[str, Any]:
        out = attrs.asdict(self, recurse=False)
        out["moves"] = [m.to_json() for m in self.moves]
        return out


@attrs.define
class _GameLog:
    refuter: str
    defender: str
    inbox_level: int
    started: int
    moves: list[MoveRecord] = attrs.field(factory=list)
    ended: int | None = None
    winner: str | None = None
    loser: str | None = None
    result: str = "unfinished"
    why: str = "the game was still going on when the simulation ended"


@attrs.frozen
class NodeReport:
    """A node at the end of a run."""

    name: str
    kind: str
    account: str
    from_level: int | None
    balance_change: int
    frozen: int
    commitments: int
    status: str

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Violation:
    """An invariant (``SR-…``) or a property of the run (``SIM-…``) that failed."""

    level: int
    id: str
    statement: str

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class SimulationResult:
    """The outcome of a run: the timeline and what it adds up to."""

    config: SimulationConfig
    constants: Constants
    notes: tuple[str, ...]
    dispute_pvm: str
    rollup: str
    origination_level: int
    final_level: int
    events: tuple[Event, ...]
    games: tuple[GameReport, ...]
    nodes: tuple[NodeReport, ...]
    cemented: tuple[tuple[int, int, str, bool], ...]
    executed: tuple[tuple[int, int, int, str], ...]
    skipped_outputs: int
    messages_posted: int
    invariant_checks: int
    levels_checked: int
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        """No invariant and no property of the run failed."""
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        c = self.config
        return {
            "pvm": c.pvm,
            "kernel": c.kernel_name,
            "preset": self.constants.name,
            "mode": self.constants.mode,
            "seed": c.seed,
            "levels": c.levels,
            "nodes_spec": [
                spec.kind + ("" if spec.from_level is None else f"@{spec.from_level}")
                for spec in c.nodes
            ],
            "constants": attrs.asdict(self.constants, recurse=True),
            "notes": list(self.notes),
            "dispute_pvm": self.dispute_pvm,
            "rollup": self.rollup,
            "origination_level": self.origination_level,
            "final_level": self.final_level,
            "nodes": [n.to_json() for n in self.nodes],
            "games": [g.to_json() for g in self.games],
            "cemented": [
                {"level": lvl, "inbox_level": inbox, "commitment": h, "correct": ok}
                for lvl, inbox, h, ok in self.cemented
            ],
            "executed_outbox_messages": [
                {"level": lvl, "outbox_level": o, "message_index": i, "message": m}
                for lvl, o, i, m in self.executed
            ],
            "skipped_outputs": self.skipped_outputs,
            "messages_posted": self.messages_posted,
            "invariants": {
                "checked": [inv.id for inv in INVARIANTS],
                "levels_checked": self.levels_checked,
                "checks_performed": self.invariant_checks,
                "violations": [v.to_json() for v in self.violations],
            },
            "ok": self.ok,
            "timeline": [e.to_json() for e in self.events],
        }


# -- helpers ----------------------------------------------------------------------------------


def tez(mutez: int) -> str:
    """``10,000 tez`` (or with decimals when needed)."""
    whole, rest = divmod(abs(mutez), TEZ)
    sign = "-" if mutez < 0 else ""
    return f"{sign}{whole:,}" + (f".{rest:06d}".rstrip("0") if rest else "") + " tez"


def short(value: object, size: int = 12) -> str:
    text = str(value)
    return text if len(text) <= size else text[:size] + "…"


def user_messages(style: MessageStyle, rng: random.Random) -> tuple[bytes, ...]:
    """One to three messages a user posts in a block."""
    out = []
    for _ in range(rng.randint(1, 3)):
        n = rng.randrange(1_000_000)
        if style == "outbox":
            transaction = outbox_.Transaction(michelson.Int(n), DESTINATION)
            out.append(
                outbox_.encode_outbox_message(outbox_.AtomicTransactionBatch((transaction,)))
            )
        elif style == "arith":
            out.append(f"{n} {rng.randrange(1000)} + out".encode())
        else:
            out.append(f"message {n}".encode())
    return tuple(out)


def _describe_output(message: bytes) -> str:
    try:
        decoded = outbox_.decode_outbox_message(message)
    except ScoruError:
        return message[:16].hex()
    if isinstance(decoded, outbox_.AtomicTransactionBatch):
        return "; ".join(
            f"call {t.destination} with {michelson.to_michelson(t.parameters)}"
            for t in decoded.transactions
        )
    return type(decoded).__name__


#: How a move's proof is described, by the kind of its input proof.
_STEP_KINDS: dict[type, str] = {
    type(None): "a computation step",
    proof_.InboxProof: "a step reading an inbox message",
    proof_.FirstInboxMessage: "the step reading the first inbox message",
    proof_.RawDataProof: "a step reading revealed data",
    proof_.MetadataProof: "a step reading the rollup's metadata",
}


# -- the simulator ---------------------------------------------------------------------------


class Simulation:
    """One run; see the module documentation. ``run()`` may be called once."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        #: Called with every violation as soon as it is found.
        self.on_violation: Callable[[Violation], None] | None = None
        self._ran = False
        constants, notes = prepare_constants(config.constants, config.pvm)
        self._constants = constants
        self.notes = tuple(notes)
        self._announced: set[str] = set()
        self.reference = ReferencePvm() if config.pvm == "wasm" else None
        self.pvms: dict[str, PVM[Any]] = {"arith": ARITH_PVM}
        if self.reference is not None:
            self.pvms["wasm_2_0_0"] = self.reference
        kind: PvmKind = "wasm_2_0_0" if config.pvm == "wasm" else "arith"
        names = [f"{spec.kind}-{i + 1}" for i, spec in enumerate(config.nodes)]
        users = [f"user-{i + 1}" for i in range(config.users)]
        balances = {account_of_name(n): 2 * constants.stake_amount for n in names}
        balances.update({account_of_name(u): 0 for u in users})
        balances[OPERATOR] = 0
        self.users = [account_of_name(u) for u in users]
        self.initial_balances = dict(balances)
        self._state = rollup_.initial_state(balances, constants)
        self._rng = random.Random(config.seed)
        self.events: list[Event] = []
        self.violations: list[Violation] = []
        self._games: dict[tuple[ImplicitAccount, ImplicitAccount, int], _GameLog] = {}
        self._moved: set[tuple[ImplicitAccount, ImplicitAccount]] = set()
        self.invariant_checks = 0
        self.levels_checked = 0
        self.messages_posted = 0
        self.cemented: list[tuple[int, int, str, bool]] = []
        self.executed: list[tuple[int, int, int, str]] = []
        # origination, in the first block
        originate = Originate(OPERATOR, kind, config.boot_sector, michelson.Prim("unit"))
        self._state = rollup_.apply(self._state, originate, constants, pvms=self.pvms)
        self._address = next(iter(self._state.rollups))
        rollup = self._state.rollup(self._address)
        self._metadata = Metadata(self._address, rollup.origination_level)
        self._event(
            "originated",
            None,
            f"rollup {self._address} originated ({kind}, {config.kernel_name}), "
            f"genesis commitment {short(rollup.lcc)}",
            {"rollup": str(self._address), "genesis": str(rollup.lcc)},
        )
        self._last_commitment_level = self._wind_down()
        self._backends: dict[int | None, Backend] = {}
        self.truth = self._backend(None)
        self.correct: dict[int, CommitmentHash] = {rollup.origination_level: rollup.lcc}
        self._correct_commitments: dict[CommitmentHash, Commitment] = {}
        self._correct_head = rollup.origination_level
        self.nodes: list[RollupNode] = []
        default_from = rollup.origination_level + 1 + 4 * constants.commitment_period_in_blocks
        for name, spec in zip(names, config.nodes, strict=True):
            from_level = spec.from_level if spec.from_level is not None else default_from
            if from_level <= rollup.origination_level:
                raise SimulationError(
                    f"{spec.kind}@{from_level}: adversaries cheat from an inbox level after "
                    f"the origination level ({rollup.origination_level})"
                )
            flip = from_level if spec.behaviour.flips_pvm else None
            node_seed = config.seed * 1_000 + len(self.nodes)
            self.nodes.append(
                RollupNode(
                    name, spec.behaviour, self._backend(flip), from_level=from_level, seed=node_seed
                )
            )
        self._names = {node.account: node.name for node in self.nodes}
        self._names.update({account_of_name(u): u for u in users})
        self._honest = [n for n in self.nodes if n.behaviour.honest]
        if not self._honest:
            self.notes += (
                "no honest node takes part: nothing stops wrong commitments from being "
                "cemented (SIM-1 is not checked)",
            )
        if self.truth.marks[rollup.origination_level].state_hash != (
            rollup.lcc_commitment.compressed_state
        ):
            raise SimulationError("the node's PVM and layer 1 disagree on the genesis state")

    # -- what nodes see (executable.node.Layer1) -----------------------------------------

    @property
    def state(self) -> Layer1State:
        return self._state

    @property
    def constants(self) -> Constants:
        return self._constants

    @property
    def address(self) -> RollupAddress:
        return self._address

    @property
    def metadata(self) -> Metadata:
        return self._metadata

    @property
    def last_commitment_level(self) -> int | None:
        return self._last_commitment_level

    def moved_this_block(self, game: tuple[ImplicitAccount, ImplicitAccount]) -> bool:
        return game in self._moved

    # -- setting up ------------------------------------------------------------------

    def _wind_down(self) -> int | None:
        """The last inbox level nodes commit to, if the run is long enough to cement
        it and let nodes recover their bonds before it ends; else None."""
        c = self._constants
        tail = c.challenge_window_in_blocks + 2 * c.commitment_period_in_blocks
        tail += WIND_DOWN_MARGIN
        if self.config.levels < 4 * tail:
            return None
        level = self._state.rollup(self._address).origination_level
        while (nxt := next_commitment_level(level, c)) <= self.config.levels - tail:
            level = nxt
        return level

    def _backend(self, flip_after: int | None) -> Backend:
        found = self._backends.get(flip_after)
        if found is None:
            c = self.config
            if self.reference is not None:
                found = WasmBackend(
                    self._constants, self._metadata, c.boot_sector, self.reference, flip_after
                )
            else:
                found = ArithBackend(self._constants, self._metadata, c.boot_sector, flip_after)
            self._backends[flip_after] = found
        return found

    @property
    def dispute_pvm(self) -> str:
        if self.reference is not None:
            return (
                "wasm_2_0_0, reference PVM (executable/reference): dissections and one-step "
                "proofs are over the WASM PVM's ticks; nodes follow the inbox with the fast "
                "PVM on wasmtime and commit to the reference PVM's state hashes"
            )
        return "arith (spec/arith.py): one-step proofs of the arith PVM"

    # -- recording ----------------------------------------------------------------------

    def _event(
        self, kind: EventKind, actor: str | None, text: str, data: Mapping[str, Any] | None = None
    ) -> None:
        self.events.append(Event(self._state.level, kind, actor, text, dict(data or {})))

    def _violation(self, id_: str, statement: str) -> None:
        violation = Violation(self._state.level, id_, statement)
        self.violations.append(violation)
        self._event("violation", None, f"VIOLATION {id_}: {statement}", {"id": id_})
        if self.on_violation is not None:
            self.on_violation(violation)

    def name(self, account: ImplicitAccount) -> str:
        return self._names.get(account, str(account))

    def _rollup(self, state: Layer1State | None = None) -> RollupState:
        return (state or self._state).rollup(self._address)

    def _correct(self, inbox_level: int) -> CommitmentHash | None:
        """The commitment the honest PVM gives at ``inbox_level`` (None if unknown)."""
        marks = self.truth.marks
        level = self._correct_head
        while (nxt := next_commitment_level(level, self._constants)) <= inbox_level:
            if nxt not in marks:
                break
            commitment = Commitment(
                marks[nxt].state_hash, nxt, self.correct[level], marks[nxt].tick - marks[level].tick
            )
            self.correct[nxt] = commitment.hash()
            self._correct_commitments[self.correct[nxt]] = commitment
            level = self._correct_head = nxt
        return self.correct.get(inbox_level)

    def _verdict(self, commitment: Commitment) -> str:
        correct = self._correct(commitment.inbox_level)
        if correct is None or commitment.hash() == correct:
            return "correct"
        pred_level = max(
            (lvl for lvl in self.correct if lvl < commitment.inbox_level), default=None
        )
        if pred_level is None or commitment.predecessor != self.correct[pred_level]:
            return "on a wrong branch"
        truth = self._correct_commitments[correct]
        if commitment.compressed_state != truth.compressed_state:
            return "WRONG STATE"
        return "WRONG TICK COUNT"

    # -- applying operations ---------------------------------------------------------

    def submit(self, operation: Operation, node: RollupNode, *, quiet: bool = False) -> bool:
        """Apply one operation of ``node`` in the current block (see :class:`Layer1`)."""
        before = self._state
        result: game_.GameResult | None = None
        try:
            if isinstance(operation, Refute):
                self._moved.add(game_.Index.make(operation.source, operation.opponent).key())
                outcome = refutation.refute_outcome(
                    before, operation, self._constants, pvms=self.pvms
                )
                after, result = outcome.state, outcome.result
            elif isinstance(operation, Timeout):
                outcome = refutation.timeout_outcome(before, operation, self._constants)
                after, result = outcome.state, outcome.result
            else:
                after = rollup_.apply(before, operation, self._constants, pvms=self.pvms)
        except ProtocolError as exc:
            if isinstance(operation, Refute):
                self._record_move(before, operation, node, error=exc)
            if not quiet:
                self._event(
                    "rejected",
                    node.name,
                    f"{node.name}'s {type(operation).__name__} rejected: {exc}",
                    {
                        "operation": type(operation).__name__,
                        "octez_error": exc.octez_error,
                        "message": str(exc),
                        "honest": node.behaviour.honest,
                    },
                )
            return False
        self._state = after
        self._record(before, operation, node, result)
        self._record_bonds(before, after, operation)
        return True

    def _record(
        self,
        before: Layer1State,
        operation: Operation,
        node: RollupNode,
        result: game_.GameResult | None,
    ) -> None:
        match operation:
            case Publish(commitment=commitment):
                verdict = self._verdict(commitment)
                self._event(
                    "published",
                    node.name,
                    f"{node.name} publishes {short(commitment.hash())} for inbox level "
                    f"{commitment.inbox_level}: {commitment.number_of_ticks:,} ticks, state "
                    f"{short(commitment.compressed_state)} ({verdict})",
                    {
                        "commitment": str(commitment.hash()),
                        **commitment.to_json(),
                        "verdict": verdict,
                    },
                )
            case Refute(refutation=game_.Start() as start):
                self._record_start(operation, node, start)
            case Refute():
                self._record_move(before, operation, node, error=None)
                if result is not None:
                    self._end_game(before, operation, node, result)
            case Timeout():
                self._end_game(before, operation, node, result)
            case Cement():
                rollup = self._rollup()
                lcc = rollup.lcc_commitment
                correct = self._correct(lcc.inbox_level) == rollup.lcc
                self.cemented.append((self._state.level, lcc.inbox_level, str(rollup.lcc), correct))
                self._event(
                    "cemented",
                    node.name,
                    f"inbox level {lcc.inbox_level} cemented: {short(rollup.lcc)}"
                    + ("" if correct else " (NOT the honest PVM's commitment)"),
                    {"inbox_level": lcc.inbox_level, "commitment": str(rollup.lcc)},
                )
                if not correct and self._honest:
                    self._violation(
                        "SIM-1",
                        f"a commitment that is not the honest PVM's was cemented at inbox level "
                        f"{lcc.inbox_level} while an honest node takes part",
                    )
            case ExecuteOutboxMessage(output_proof=proof):
                out = proof.output
                self.executed.append(
                    (self._state.level, out.outbox_level, out.message_index, out.message.hex())
                )
                self._event(
                    "executed",
                    node.name,
                    f"{node.name} executes outbox message ({out.outbox_level}, "
                    f"{out.message_index}) against {short(operation.cemented_commitment)}: "
                    f"{_describe_output(out.message)}",
                    {
                        "outbox_level": out.outbox_level,
                        "message_index": out.message_index,
                        "cemented_commitment": str(operation.cemented_commitment),
                    },
                )
            case _:
                pass

    def _record_start(self, operation: Refute, node: RollupNode, start: game_.Start) -> None:
        defender_commitment = self._rollup().commitments[start.opponent_commitment_hash]
        key = game_.Index.make(operation.source, operation.opponent).key()
        log = _GameLog(
            node.name,
            self.name(operation.opponent),
            defender_commitment.inbox_level,
            self._state.level,
        )
        self._games[(*key, self._state.level)] = log
        self._event(
            "game_started",
            node.name,
            f"{log.refuter} starts a game against {log.defender} over inbox level "
            f"{log.inbox_level} ({short(start.player_commitment_hash)} vs "
            f"{short(start.opponent_commitment_hash)})",
            {"refuter": log.refuter, "defender": log.defender, "inbox_level": log.inbox_level},
        )

    def _log_of(self, a: ImplicitAccount, b: ImplicitAccount) -> _GameLog | None:
        key = game_.Index.make(a, b).key()
        logs = [(k[2], log) for k, log in self._games.items() if k[:2] == key and log.ended is None]
        return max(logs, key=lambda item: item[0])[1] if logs else None

    def _record_move(
        self,
        before: Layer1State,
        operation: Refute,
        node: RollupNode,
        *,
        error: ProtocolError | None,
    ) -> None:
        move = operation.refutation
        log = self._log_of(operation.source, operation.opponent)
        if log is None or not isinstance(move, game_.Move):
            return
        record = self._rollup(before).games.get(
            game_.Index.make(operation.source, operation.opponent).key()
        )
        section: tuple[int, int] | None = None
        if record is not None:
            gs = record.game.game_state
            if isinstance(gs, game_.FinalMove):
                section = (gs.agreed_start_chunk.tick, gs.refuted_stop_chunk.tick)
            else:
                for a, b in zip(gs.dissection, gs.dissection[1:], strict=False):
                    if a.tick == move.choice:
                        section = (a.tick, b.tick)
        step = move.step
        sections = len(step.chunks) - 1 if isinstance(step, game_.Dissection) else None
        log.moves.append(
            MoveRecord(
                self._state.level,
                node.name,
                step.kind,
                move.choice,
                section,
                sections,
                error is None,
                None if error is None else str(error),
            )
        )
        span = "?" if section is None else f"{section[0]:,}..{section[1]:,}"
        if isinstance(step, game_.Dissection):
            what = f"dissects section {span} into {sections}"
        else:
            kind = _STEP_KINDS.get(type(step.proof.input_proof), "a step with an input")
            what = f"proves the step of section {span} ({kind})"
        status = "" if error is None else f" — REJECTED: {error}"
        self._event(
            "move",
            node.name,
            f"{node.name} (vs {self.name(operation.opponent)}) {what}{status}",
            {"step": step.kind, "choice": move.choice, "accepted": error is None},
        )

    def _end_game(
        self,
        before: Layer1State,
        operation: Refute | Timeout,
        node: RollupNode,
        result: game_.GameResult | None,
    ) -> None:
        if isinstance(operation, Timeout):
            a, b = operation.stakers
        else:
            a, b = operation.source, operation.opponent
        log = self._log_of(a, b)
        if log is None or result is None:
            return
        record = self._rollup(before).games.get(game_.Index.make(a, b).key())
        final_move = record is not None and isinstance(record.game.game_state, game_.FinalMove)
        log.ended = self._state.level
        pvm = "reference WASM" if self.reference is not None else "arith"
        if isinstance(result, game_.Draw):
            log.result, log.winner, log.loser = "draw", None, None
            log.why = (
                "timeout during the final move: both players lose"
                if isinstance(operation, Timeout)
                else "both final proofs were invalid: both players lose"
            )
        else:
            loser = self.name(result.loser)
            winner = log.defender if loser == log.refuter else log.refuter
            log.result, log.winner, log.loser = "loser", winner, loser
            staked = self._rollup(before).is_staker(result.loser)
            if isinstance(operation, Timeout):
                log.why = (
                    f"{loser} did not move before its clock ran out ({node.name} timed it out)"
                )
                if not staked:
                    log.why += f"; {loser} had already lost its bond, so no reward"
            elif not staked:
                log.why = f"{loser} was no longer a staker (forfeit, no reward)"
            elif final_move:
                log.why = (
                    f"{loser}'s proof was invalid and {winner} proved the step in the final "
                    f"move ({pvm} one-step proof verified by layer 1)"
                )
            else:
                log.why = (
                    f"{winner} proved the disputed tick: its {pvm} one-step proof was verified "
                    f"by layer 1 and does not reach {loser}'s claim"
                )
        outcome = "draw" if log.winner is None else f"{log.winner} wins"
        self._event(
            "game_ended",
            node.name,
            f"game {log.refuter} vs {log.defender} over inbox level {log.inbox_level} ends: "
            f"{outcome} — {log.why}",
            {"result": log.result, "winner": log.winner, "loser": log.loser, "why": log.why},
        )

    def _record_bonds(self, before: Layer1State, after: Layer1State, operation: Operation) -> None:
        for node in self.nodes:
            account = node.account
            d_balance = after.ledger.balance(account) - before.ledger.balance(account)
            d_frozen = after.ledger.frozen(account, self._address) - before.ledger.frozen(
                account, self._address
            )
            if d_balance == 0 and d_frozen == 0:
                continue
            if d_frozen > 0:
                kind, amount, text = "deposit", d_frozen, "deposits its bond"
            elif d_frozen < 0 and d_balance == -d_frozen:
                kind, amount, text = "recovered", -d_frozen, "recovers its bond"
            elif d_frozen < 0:
                kind, amount, text = "burnt", -d_frozen, "loses its bond (burnt)"
            else:
                kind, amount, text = "reward", d_balance, "is rewarded"
            self._event(
                "bond",
                node.name,
                f"{node.name} {text}: {tez(amount)}",
                {"movement": kind, "mutez": amount, "operation": type(operation).__name__},
            )
            if kind == "burnt" and node.behaviour.honest:
                self._violation("SIM-2", f"honest node {node.name} lost its bond")

    # -- running ------------------------------------------------------------------------

    def _post_messages(self) -> None:
        limit = self._last_commitment_level
        if limit is not None and self._state.level > limit:
            return
        if not self.users or self._rng.random() < 0.4:
            return
        user = self._rng.choice(self.users)
        messages = user_messages(self.config.messages, self._rng)
        self._state = rollup_.apply(self._state, AddMessages(user, messages), self._constants)
        self.messages_posted += len(messages)
        self._event(
            "messages",
            self.name(user),
            f"{self.name(user)} posts {len(messages)} message(s)",
            {"count": len(messages)},
        )

    def _check_invariants(self) -> None:
        for invariant in INVARIANTS:
            self.invariant_checks += 1
            if not invariant.holds(self._state, self._constants):
                self._violation(invariant.id, invariant.statement)
        self.levels_checked += 1

    def _end_block(self) -> None:
        self._check_invariants()
        for node in self.nodes:
            if node.retired is not None and node.name not in self._announced:
                self._announced.add(node.name)
                self._event("retired", node.name, f"{node.name} retires: {node.retired}")
        self._state = rollup_.advance_level(self._state, self._constants)
        self._moved.clear()

    def run(self, progress: Callable[[int, int], None] | None = None) -> SimulationResult:
        """Run every level and return the result."""
        if self._ran:
            raise SimulationError("a simulation runs once")
        self._ran = True
        total = self.config.levels
        self._end_block()  # the origination block
        for done in range(2, total + 1):
            self.truth.sync(self._state.inbox)
            self._post_messages()
            for node in self.nodes:
                node.act(self)
            self._end_block()
            if progress is not None:
                progress(done, total)
        return self._result()

    def _result(self) -> SimulationResult:
        rollup = self._rollup()
        ledger = self._state.ledger
        nodes = []
        for node in self.nodes:
            logs = [g for g in self._games.values() if node.name in (g.refuter, g.defender)]
            won = sum(1 for g in logs if g.winner == node.name)
            lost = sum(1 for g in logs if g.loser == node.name or g.result == "draw")
            status = node.retired or (
                "bond recovered" if node.recovered else "staked" if node.staked else "never staked"
            )
            if logs:
                status += f"; games won {won}, lost {lost}"
            nodes.append(
                NodeReport(
                    node.name,
                    node.behaviour.kind,
                    str(node.account),
                    None if node.behaviour.kind == "honest" else node.from_level,
                    ledger.balance(node.account) - self.initial_balances[node.account],
                    ledger.frozen(node.account, self._address),
                    node.commitments_published,
                    status,
                )
            )
        games = tuple(
            GameReport(
                log.refuter,
                log.defender,
                log.inbox_level,
                log.started,
                "wasm_2_0_0 (reference PVM)" if self.reference is not None else "arith",
                tuple(log.moves),
                log.ended,
                log.winner,
                log.loser,
                log.result,
                log.why,
            )
            for log in self._games.values()
        )
        return SimulationResult(
            config=self.config,
            constants=self._constants,
            notes=self.notes,
            dispute_pvm=self.dispute_pvm,
            rollup=str(self._address),
            origination_level=rollup.origination_level,
            final_level=self._state.level - 1,
            events=tuple(self.events),
            games=games,
            nodes=tuple(nodes),
            cemented=tuple(self.cemented),
            executed=tuple(self.executed),
            skipped_outputs=max((n.skipped_outputs for n in self._honest), default=0),
            messages_posted=self.messages_posted,
            invariant_checks=self.invariant_checks,
            levels_checked=self.levels_checked,
            violations=tuple(self.violations),
        )


def simulate(
    config: SimulationConfig,
    progress: Callable[[int, int], None] | None = None,
    on_violation: Callable[[Violation], None] | None = None,
) -> SimulationResult:
    """Run a simulation (see :class:`Simulation`); ``progress`` is called after
    every level with (levels done, total), ``on_violation`` with every violation."""
    simulation = Simulation(config)
    simulation.on_violation = on_violation
    return simulation.run(progress)


__all__ = [
    "BEHAVIOURS",
    "Event",
    "GameReport",
    "MoveRecord",
    "NodeReport",
    "Simulation",
    "SimulationConfig",
    "SimulationError",
    "SimulationResult",
    "Violation",
    "prepare_constants",
    "simulate",
    "user_messages",
]
