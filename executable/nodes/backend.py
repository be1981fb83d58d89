"""The PVM a rollup node runs, and the traces it plays refutation games on.

A :class:`Backend` follows the layer-1 inbox level by level with one PVM and
keeps, at every commitment level, the absolute tick, the state hash and the
state itself (a *snapshot*: games and output proofs start from it). Nodes
that run the same PVM share one back-end, since they would compute the same
states; a node whose PVM is wrong has its own.

* :class:`ArithBackend` runs :data:`spec.arith.PVM`, one token per tick.
* :class:`WasmBackend` runs the kernel on the fast WASM PVM (wasmtime,
  :mod:`executable.wasm`) and, in lockstep, on the proof-generating reference
  PVM (:class:`executable.reference.ReferencePvm`), checking that both agree:
  commitments carry the reference PVM's state hashes and Octez's tick counts
  (every top-level period padded to the tick budget), and disputes are
  replayed tick by tick with the reference PVM, whose one-step proofs layer 1
  verifies.

A *flip* (``flip_after=L``) makes the PVM subtly wrong: right after level
``L`` is processed (the PVM waits for level ``L + 1``), one byte of its state
is flipped — a byte of durable storage for WASM (the kernel's own data if it
has any, else ``/readonly/wasm_version``, which nothing reads), a byte of
the variables' hash for arith. Every later state differs from the honest
one while the machine computes exactly as before.

A :class:`Trace` replays one commitment from its predecessor's snapshot over
the inbox messages of its levels (the node's own PVM, its flip included) and
gives the state and state hash at any tick, lazily: states are rebuilt from
the nearest checkpoint (one per input), so a WASM commitment of about 10^14
ticks costs only the instructions actually executed. A replay goes tick by
tick where following the inbox went level by level, and must end on the
tick and state hash the back-end committed to.

Octez: ``src/lib_smart_rollup_node/interpreter.ml`` (the node's PVM over
the inbox), ``fueled_pvm.ml``, ``refutation_game.ml`` (states at dissection
ticks).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar, cast, overload

import attrs

import spec.inbox  # Trace's signature names spec.inbox.InboxInput in full for the docs
from executable.reference import ReferencePvm, fast_state_hash
from executable.reference.pvm import advance, input_request, step
from executable.wasm import durable as durable_mod
from executable.wasm.pvm import PvmConfig, WasmPvm
from executable.wasm.reveal import Metadata as WasmMetadata
from spec.arith import PVM as ARITH_PVM
from spec.arith import ArithState
from spec.commitment import next_commitment_level
from spec.constants import Constants
from spec.errors import ScoruError
from spec.hashing import StateHash
from spec.inbox import Inbox, InboxInput
from spec.pvm import (
    PVM,
    FirstAfter,
    Initial,
    Input,
    InputRequest,
    Metadata,
    NeedsReveal,
    NoInputRequired,
    Output,
    RevealInput,
    RevealMetadata,
)
from spec.strategies import level_inputs

T = TypeVar("T")

#: A WASM back-end compares the fast and the reference PVMs' whole state hashes
#: at every this many commitments (ticks and outputs are compared at every level).
FULL_CHECK_EVERY = 16
#: The durable value a WASM flip falls back to when the kernel keeps no data.
FLIP_FALLBACK_PATH = "/readonly/wasm_version"


class NodeError(ScoruError):
    """A rollup node cannot go on: a kernel waiting for data no node has, or two
    PVMs that disagree on a state they must agree on."""


@attrs.frozen
class Mark:
    """The PVM at a commitment level: absolute tick and state hash once every
    message up to ``level`` is processed (the PVM waits for the next level)."""

    level: int
    tick: int
    state_hash: StateHash


# -- stepping one PVM ------------------------------------------------------------------


class Stepper(Protocol):
    """How a trace moves one PVM's states forward (in place or not)."""

    def copy(self, state: Any) -> Any: ...

    def tick(self, state: Any) -> int: ...

    def request(self, state: Any) -> InputRequest: ...

    def feed(self, state: Any, given: Input) -> Any: ...

    def run(self, state: Any, target: int | None) -> Any:
        """Compute until an input is required or tick ``target`` is reached."""
        ...

    def digest(self, state: Any) -> StateHash: ...

    def flip(self, state: Any) -> Any: ...


class ArithStepper:
    """The arith PVM: immutable states, one tick per token."""

    def copy(self, state: Any) -> Any:
        return state

    def tick(self, state: Any) -> int:
        assert isinstance(state, ArithState)
        return state.tick

    def request(self, state: Any) -> InputRequest:
        return ARITH_PVM.input_request(state)

    def feed(self, state: Any, given: Input) -> Any:
        return ARITH_PVM.set_input(state, given)

    def run(self, state: Any, target: int | None) -> Any:
        while (target is None or state.tick < target) and isinstance(
            ARITH_PVM.input_request(state), NoInputRequired
        ):
            state = ARITH_PVM.eval(state)
        return state

    def digest(self, state: Any) -> StateHash:
        return ARITH_PVM.state_hash(state)

    def flip(self, state: Any) -> Any:
        """Flip the first byte of the variables' hash (never read back)."""
        assert isinstance(state, ArithState)
        head = state.vars_head
        return attrs.evolve(state, vars_head=bytes([head[0] ^ 0x01]) + head[1:])


class ReferenceStepper:
    """The reference WASM PVM, moved in place (padding skipped in O(1))."""

    def __init__(self, pvm: ReferencePvm) -> None:
        self.env = pvm.env(record=False)

    def copy(self, state: Any) -> Any:
        return state.copy()

    def tick(self, state: Any) -> int:
        return int(state.tick)

    def request(self, state: Any) -> InputRequest:
        return input_request(state)

    def feed(self, state: Any, given: Input) -> Any:
        step(state, self.env, given)
        return state

    def run(self, state: Any, target: int | None) -> Any:
        advance(state, self.env, target)
        return state

    def digest(self, state: Any) -> StateHash:
        return StateHash(state.digest())

    def flip(self, state: Any) -> Any:
        flip_durable_byte(state.durable)
        return state


def flip_durable_byte(durable: Any) -> str:
    """Flip bit 0 of the first byte of the first non-empty durable value outside
    ``/kernel`` and ``/readonly`` (else of :data:`FLIP_FALLBACK_PATH`), in place;
    the same on the fast PVM's and the reference PVM's storage. Returns the path."""
    path = FLIP_FALLBACK_PATH
    for candidate, value in durable.items():
        top = candidate.split("/")[1:2]
        if top and top[0] and top[0] not in ("kernel", "readonly") and value:
            path = candidate
            break
    key = durable_mod.key(path)
    old = durable.read_value(key, 0, 1)
    durable.write_value(key, 0, bytes([old[0] ^ 0x01]), edit_readonly=True)
    return str(path)


def _waits_for_inbox(request: InputRequest) -> bool:
    return isinstance(request, (Initial, FirstAfter))


# -- lazy traces ------------------------------------------------------------------------


class LazySequence(Sequence[T]):
    """A read-only sequence whose items are computed on demand (a commitment's
    states and hashes: far too many ticks to list)."""

    def __init__(self, length: int, item: Callable[[int], T]) -> None:
        self._length = length
        self._item = item

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            raise TypeError("a lazy trace cannot be sliced")
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        return self._item(index)

    def __iter__(self) -> Iterator[T]:
        raise TypeError("a lazy trace is not iterated: ask for the ticks you need")


@attrs.frozen
class _Point:
    tick: int
    state: Any
    position: int
    flipped: bool


Reveal = Callable[[NeedsReveal], Input]


class Trace:
    """The states one PVM goes through over one commitment: from the predecessor's
    state (relative tick 0) over ``inputs`` until it waits for an input beyond
    them (relative tick :attr:`final_tick`), with the flip after level
    ``flip_after`` if given."""

    def __init__(
        self,
        stepper: Stepper,
        start: Any,
        inputs: Sequence[spec.inbox.InboxInput],
        *,
        reveal: Reveal,
        flip_after: int | None = None,
    ) -> None:
        self.stepper = stepper
        self.inputs = tuple(inputs)
        self.reveal = reveal
        self.flip_after = flip_after
        self.origin = stepper.tick(start)
        self._ticks: list[int] = []
        self._points: list[_Point] = []
        self._hashes: dict[int, StateHash] = {}
        first = _Point(self.origin, stepper.copy(start), 0, flip_after is None)
        self._remember(first)
        end = self._walk(first, None, record=True)
        self.final_tick = end.tick - self.origin
        self.final_hash = stepper.digest(end.state)
        self._remember(end)

    def _remember(self, point: _Point) -> None:
        i = bisect.bisect_left(self._ticks, point.tick)
        if i < len(self._ticks) and self._ticks[i] == point.tick:
            return
        self._ticks.insert(i, point.tick)
        self._points.insert(i, attrs.evolve(point, state=self.stepper.copy(point.state)))

    def _maybe_flip(self, state: Any, position: int, flipped: bool) -> tuple[Any, bool]:
        if flipped or position == 0 or self.inputs[position - 1].inbox_level != self.flip_after:
            return state, flipped
        if position < len(self.inputs) and self.inputs[position].inbox_level == self.flip_after:
            return state, flipped
        if not _waits_for_inbox(self.stepper.request(state)):
            return state, flipped
        return self.stepper.flip(state), True

    def _walk(self, point: _Point, target: int | None, *, record: bool = False) -> _Point:
        st = self.stepper
        state, position, flipped = st.copy(point.state), point.position, point.flipped
        while True:
            state, flipped = self._maybe_flip(state, position, flipped)
            tick = st.tick(state)
            if target is not None and tick >= target:
                break
            request = st.request(state)
            if isinstance(request, NoInputRequired):
                state = st.run(state, target)
            elif isinstance(request, NeedsReveal):
                state = st.feed(state, self.reveal(request))
            elif position == len(self.inputs):
                break
            else:
                if record:
                    self._remember(_Point(tick, state, position, flipped))
                state = st.feed(state, self.inputs[position])
                position += 1
        return _Point(st.tick(state), state, position, flipped)

    def state_at(self, tick: int) -> Any:
        """The state at relative ``tick`` (the final state after the last tick)."""
        absolute = self.origin + max(0, min(tick, self.final_tick))
        i = bisect.bisect_right(self._ticks, absolute) - 1
        point = self._points[i]
        if point.tick != absolute:
            point = self._walk(point, absolute)
            self._remember(point)
        return self.stepper.copy(point.state)

    def hash_at(self, tick: int) -> StateHash:
        """The state hash at relative ``tick`` (at most :attr:`final_tick`)."""
        found = self._hashes.get(tick)
        if found is None:
            found = self.stepper.digest(self.state_at(tick))
            self._hashes[tick] = found
        return found


# -- back-ends ---------------------------------------------------------------------------


class Backend:
    """One PVM following the inbox; see the module documentation."""

    kind: str
    pvm: PVM[Any]
    stepper: Stepper

    def __init__(self, constants: Constants, metadata: Metadata, flip_after: int | None) -> None:
        self.constants = constants
        self.metadata = metadata
        self.flip_after = flip_after
        self.flipped_path: str | None = None
        self.synced = metadata.origination_level
        self.marks: dict[int, Mark] = {}
        self.snapshots: dict[int, Any] = {}
        self.outputs: dict[int, tuple[Output, ...]] = {}
        #: level -> (tick before its first message, tick once it is processed)
        self.level_ticks: dict[int, tuple[int, int]] = {}
        self._next_commitment = next_commitment_level(metadata.origination_level, constants)

    # -- per PVM -------------------------------------------------------------

    def _tick(self) -> int:
        raise NotImplementedError

    def _run_level(self, level: int, messages: Sequence[bytes]) -> tuple[Output, ...]:
        raise NotImplementedError

    def _flip(self) -> str:
        raise NotImplementedError

    def _snapshot(self) -> tuple[Any, StateHash]:
        raise NotImplementedError

    # -- following the inbox -------------------------------------------------

    def _record(self, level: int) -> None:
        state, state_hash = self._snapshot()
        self.snapshots[level] = state
        self.marks[level] = Mark(level, self._tick(), state_hash)

    def sync(self, inbox: Inbox) -> None:
        """Process every finished inbox level not processed yet."""
        for level in range(self.synced + 1, inbox.level + 1):
            before = self._tick()
            self.outputs[level] = self._run_level(level, inbox.messages_of_level(level))
            if level == self.flip_after:
                self.flipped_path = self._flip()
            self.level_ticks[level] = (before, self._tick())
            if level == self._next_commitment:
                self._record(level)
                self._next_commitment = next_commitment_level(level, self.constants)
            self.synced = level

    def reveal(self, request: NeedsReveal) -> Input:
        """Reveal data for a replay: the rollup's metadata (no preimages are known)."""
        if isinstance(request.reveal, RevealMetadata):
            return RevealInput(self.metadata)
        raise NodeError(
            f"the kernel asks for {request.reveal!r}: simulated nodes have no preimages"
        )

    def trace(self, from_level: int, to_level: int, inbox: Inbox) -> Trace:
        """Replay the commitment from ``from_level`` to ``to_level`` (both commitment
        levels this back-end has processed) over ``inbox``; the replay must end on
        this back-end's mark at ``to_level``."""
        flip = self.flip_after
        if flip is not None and not from_level < flip <= to_level:
            flip = None
        trace = Trace(
            self.stepper,
            self.snapshots[from_level],
            level_inputs(inbox, range(from_level + 1, to_level + 1)),
            reveal=self.reveal,
            flip_after=flip,
        )
        mark = self.marks[to_level]
        if trace.origin + trace.final_tick != mark.tick or trace.final_hash != mark.state_hash:
            raise NodeError(
                f"the {self.pvm.name} PVM replayed from level {from_level} ends at tick "
                f"{trace.origin + trace.final_tick} with state {trace.final_hash}, but following "
                f"the inbox gave tick {mark.tick} and state {mark.state_hash} at level {to_level}"
            )
        return trace

    def output_proof(self, level: int, output: Output) -> bytes:
        """A proof that ``output`` is in the outbox of the state at commitment ``level``."""
        return self.pvm.produce_output_proof(self.snapshots[level], output)

    def prune(self, snapshots_below: int, outputs_below: int) -> None:
        """Forget the snapshots and the outputs of levels that can no longer be
        disputed or executed (below the LCC, below the active outbox levels)."""
        for table, below in ((self.snapshots, snapshots_below), (self.outputs, outputs_below)):
            for level in [lvl for lvl in table if lvl < below]:
                del table[level]


class ArithBackend(Backend):
    """The arith PVM of :mod:`spec.arith`."""

    kind = "arith"

    def __init__(
        self,
        constants: Constants,
        metadata: Metadata,
        boot_sector: bytes,
        flip_after: int | None = None,
    ) -> None:
        super().__init__(constants, metadata, flip_after)
        self.pvm = ARITH_PVM
        self.stepper = ArithStepper()
        self.state: ArithState = ARITH_PVM.install_boot_sector(boot_sector)
        self._record(metadata.origination_level)

    def _tick(self) -> int:
        return self.state.tick

    def _settle(self, state: ArithState) -> ArithState:
        while True:
            request = ARITH_PVM.input_request(state)
            if isinstance(request, NoInputRequired):
                state = self.stepper.run(state, None)
            elif isinstance(request, NeedsReveal):
                state = ARITH_PVM.set_input(state, self.reveal(request))
            else:
                return state

    def _run_level(self, level: int, messages: Sequence[bytes]) -> tuple[Output, ...]:
        state = self.state
        known = len(state.outputs)
        for index, payload in enumerate(messages):
            state = ARITH_PVM.set_input(self._settle(state), InboxInput(level, index, payload))
        self.state = self._settle(state)
        return self.state.outputs[known:]

    def _flip(self) -> str:
        self.state = self.stepper.flip(self.state)
        return "vars"

    def _snapshot(self) -> tuple[Any, StateHash]:
        return self.state, ARITH_PVM.state_hash(self.state)


class WasmBackend(Backend):
    """A kernel on the fast WASM PVM, checked against the reference PVM.

    The fast PVM (wasmtime) and the reference PVM process every level in
    lockstep; after each level they must agree on the tick counter and the
    level's outbox, and every :data:`FULL_CHECK_EVERY` commitments on the whole
    state hash (:func:`executable.reference.fast_state_hash`, which costs a
    conversion of the fast PVM's whole state). Snapshots and state hashes are
    the reference PVM's, so the PVM that proves a step in a game is the one
    whose hashes were committed to."""

    kind = "wasm_2_0_0"

    def __init__(
        self,
        constants: Constants,
        metadata: Metadata,
        boot_sector: bytes,
        reference: ReferencePvm,
        flip_after: int | None = None,
    ) -> None:
        super().__init__(constants, metadata, flip_after)
        self.pvm = reference
        self.stepper = ReferenceStepper(reference)
        config = PvmConfig(
            metadata=WasmMetadata(metadata.address.raw, metadata.origination_level),
            revision=reference.config.revision,
            limits=reference.config.limits,
        )
        self.fast = WasmPvm(config)
        self.fast.install(boot_sector)
        self.machine = reference.install_boot_sector(boot_sector)
        self._env = reference.env(record=False)
        self._commitments = 0
        self._record(metadata.origination_level)

    def _tick(self) -> int:
        return self.fast.current_tick

    def _reveal_source(self, request: NeedsReveal) -> RevealInput:
        given = self.reveal(request)
        assert isinstance(given, RevealInput)
        return given

    def _run_level(self, level: int, messages: Sequence[bytes]) -> tuple[Output, ...]:
        for index, payload in enumerate(messages):
            self.fast.set_input(level, index, payload)
        self.fast.eval_until_input()
        if self.fast.is_waiting_for_reveal():
            reason = self.fast.pending_reason or "a preimage"
            raise NodeError(f"the kernel waits for {reason} at level {level}: not available")
        reference = cast(ReferencePvm, self.pvm)
        reference.run_level(self.machine, self._env, level, list(messages), self._reveal_source)
        outputs = tuple(Output(level, m.index, m.payload) for m in self.fast.outbox_messages(level))
        if self.machine.tick != self.fast.current_tick or [
            o.message for o in outputs
        ] != self.machine.outbox.messages(level):
            raise NodeError(
                f"the fast and the reference WASM PVMs disagree after level {level}: ticks "
                f"{self.fast.current_tick} and {self.machine.tick}, "
                f"{len(outputs)} and {len(self.machine.outbox.messages(level))} outputs"
            )
        return outputs

    def _flip(self) -> str:
        path = flip_durable_byte(self.fast.durable)
        if flip_durable_byte(self.machine.durable) != path:
            raise NodeError("the fast and the reference WASM PVMs flip different bytes")
        return path

    def _snapshot(self) -> tuple[Any, StateHash]:
        state_hash = StateHash(self.machine.digest())
        if self._commitments % FULL_CHECK_EVERY == 0 and fast_state_hash(self.fast) != (
            state_hash.raw
        ):
            raise NodeError(
                f"the fast and the reference WASM PVMs disagree on the state hash at tick "
                f"{self.fast.current_tick}"
            )
        self._commitments += 1
        return self.machine.copy(), state_hash


def commitment_levels(origination_level: int, up_to: int, constants: Constants) -> list[int]:
    """The inbox levels of the commitments after origination, up to ``up_to``."""
    out = []
    level = next_commitment_level(origination_level, constants)
    while level <= up_to:
        out.append(level)
        level = next_commitment_level(level, constants)
    return out


__all__ = [
    "FLIP_FALLBACK_PATH",
    "ArithBackend",
    "Backend",
    "LazySequence",
    "Mark",
    "NodeError",
    "Trace",
    "WasmBackend",
    "commitment_levels",
    "flip_durable_byte",
]
