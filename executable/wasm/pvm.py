"""The WASM PVM state machine: input collection, kernel_runs, reboots,
fallback kernel, stuck states, ticks and the state hash.

Octez: src/lib_scoru_wasm/wasm_vm.ml (``compute_step``, ``set_input_step``,
``mark_for_reboot``, ``patch_*`` flags, ``has_fallback_kernel``,
``save_fallback_kernel``), src/lib_scoru_wasm/wasm_pvm.ml
(``install_boot_sector``), src/lib_scoru_wasm/constants.ml (paths).

The fast PVM runs a whole ``kernel_run`` at once, so its steps are coarser
than Octez's ticks: it can stop only between kernel_runs and when waiting
for input. A reveal whose answer is missing rolls the kernel_run back to its
start (durable storage, outbox, inputs) and waits; once the data is supplied
the kernel_run is replayed from scratch, which is deterministic.

State hashes follow :mod:`executable.wasm.layout`, the reference PVM's
layout: wherever the fast VM can stop at a point the reference PVM also
reaches — waiting for an inbox message, stuck, right after a reboot
decision (the next tick loads the kernel), right after ``End_of_level`` —
:meth:`WasmPvm.state_hash` is the reference PVM's state hash at that tick
(:meth:`WasmPvm.boundary_phase` names the point). :attr:`WasmPvm.on_boundary`
observes every boundary decision, :meth:`WasmPvm.boundary_state` exports
such a state as data and :meth:`WasmPvm.from_boundary` resumes from one,
so a caller can switch between the two VMs at boundaries.
"""

from __future__ import annotations

import collections
import enum
import hashlib
from collections.abc import Callable

import attrs
import wasmtime

from executable.wasm import durable as durable_mod
from executable.wasm import engine as engine_mod
from executable.wasm import host as host_mod
from executable.wasm import layout, module_check
from executable.wasm import limits as limits_mod
from executable.wasm.durable import DurableStorage
from executable.wasm.errors import InvalidPvmCall, MissingPreimage
from executable.wasm.input_kind import InputKind, classify, migration_protocol
from executable.wasm.layout import Phase
from executable.wasm.outbox import Outbox, OutboxMessage
from executable.wasm.reveal import Metadata, RevealOracle
from executable.wasm.revisions import LATEST, PROTOCOL_MIGRATIONS, Revision

KERNEL = durable_mod.key("/kernel/boot.wasm")
FALLBACK_KERNEL = durable_mod.key("/readonly/kernel/boot.wasm")
REBOOT_FLAG = durable_mod.key("/kernel/env/reboot")
REBOOT_COUNTER = durable_mod.key("/readonly/kernel/env/reboot_counter")
STUCK_FLAG = durable_mod.key("/readonly/kernel/env/stuck")
UPGRADE_ERROR_FLAG = durable_mod.key("/readonly/kernel/env/upgrade_error")
TOO_MANY_REBOOT_FLAG = durable_mod.key("/readonly/kernel/env/too_many_reboot")
VERSION = durable_mod.key("/readonly/wasm_version")

RUNS_KEPT = 4096
"""Most recent kernel_run records kept in :attr:`WasmPvm.runs`."""

_MODULE_CACHE: collections.OrderedDict[
    tuple[int, bytes], tuple[module_check.ModuleInfo, wasmtime.Module] | str
] = collections.OrderedDict()
_MODULE_CACHE_SIZE = 64
"""Compiled kernels shared by every PVM of the process, by (engine, code
hash, revision); a compilation failure is cached as its message."""

_RECOVERABLE_TRAPS = frozenset(
    {
        wasmtime.TrapCode.UNREACHABLE,
        wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS,
        wasmtime.TrapCode.HEAP_MISALIGNED,
        wasmtime.TrapCode.TABLE_OUT_OF_BOUNDS,
        wasmtime.TrapCode.INDIRECT_CALL_TO_NULL,
        wasmtime.TrapCode.BAD_SIGNATURE,
        wasmtime.TrapCode.INTEGER_OVERFLOW,
        wasmtime.TrapCode.INTEGER_DIVISION_BY_ZERO,
        wasmtime.TrapCode.BAD_CONVERSION_TO_INTEGER,
        wasmtime.TrapCode.NULL_REFERENCE,
    }
)


class Status(enum.Enum):
    """Where the PVM stands between two calls."""

    WAITING_FOR_INPUT = "waiting_for_input"
    EVALUATING = "evaluating"
    WAITING_FOR_REVEAL = "waiting_for_reveal"
    STUCK = "stuck"


class RunOutcome(enum.Enum):
    """How one kernel_run ended."""

    RETURNED = "returned"
    TRAPPED = "trapped"
    """A recoverable trap: stuck flag written, side effects kept."""
    FALLBACK = "fallback"
    """The new kernel failed to decode/link/init; the fallback was restored."""
    STUCK = "stuck"
    """A terminal outcome: the PVM is stuck forever."""


class BoundaryDecision(enum.Enum):
    """What the last tick of a period decided (wasm_vm.ml ``mark_for_reboot``,
    ``patch_too_many_reboot``)."""

    REBOOT = "reboot"
    """The reboot flag was set and reboots are left: the next period loads the kernel."""
    YIELD = "yield"
    """No reboot flag: the level ends, the PVM waits for input."""
    FORCED_YIELD = "forced_yield"
    """The reboot flag was set but no reboot is left: the level ends and
    ``/readonly/kernel/env/too_many_reboot`` is set."""


@attrs.frozen(eq=False)
class BoundaryState:
    """A fast-VM state at a boundary point, as data: what the reference PVM's
    state holds there (no instance, no run counters). ``durable`` and
    ``outbox`` are private copies: treat them as read-only.

    Produced by :meth:`WasmPvm.boundary_state`, consumed by
    :meth:`WasmPvm.from_boundary` and by the reference PVM
    (``executable.reference.boundary.machine_of_boundary``)."""

    phase: Phase
    tick: int
    period_start: int
    reboot_counter: int
    revision: Revision
    last_input: tuple[int, int] | None
    stuck_kind: str
    durable: DurableStorage
    outbox: Outbox
    inputs: tuple[tuple[int, int, bytes], ...]
    input_pos: int

    def header(self) -> bytes:
        """The header leaf (``layout.header``, no run counters)."""
        return layout.header(
            phase=int(self.phase),
            tick=self.tick,
            period_start=self.period_start,
            reboot_counter=self.reboot_counter,
            revision=int(self.revision),
            last_input=self.last_input,
            stuck_kind=self.stuck_kind,
        )

    def state_hash(self) -> bytes:
        """The reference PVM's state hash of this state."""
        inputs = layout.inputs_digest(
            len(self.inputs), self.input_pos, layout.inputs_root(self.inputs)
        )
        return layout.state_digest(
            layout.header_hash(self.header()),
            self.durable.root_hash(),
            self.outbox.digest(),
            inputs,
            layout.NO_INSTANCE,
        )


@attrs.frozen
class KernelRun:
    """The record of one kernel_run (one top-level period)."""

    outcome: RunOutcome
    reason: str
    debug: bytes
    debug_dropped: int
    ticks_executed: int


@attrs.frozen
class StuckState:
    """A terminal stuck state and why (Octez ``Wasm_pvm_errors.t``)."""

    kind: str
    reason: str


@attrs.frozen
class PvmConfig:
    """Parameters of one PVM: rollup metadata, revision at origination,
    resource limits and the reveal data sources."""

    metadata: Metadata
    revision: Revision = LATEST
    limits: limits_mod.Limits = attrs.field(factory=limits_mod.Limits)


class WasmPvm:
    """A fast WASM PVM. Typical use::

        pvm = WasmPvm(config, oracle)
        pvm.install(boot_sector)
        for index, message in enumerate(level_messages):
            pvm.set_input(level, index, message)
        pvm.eval_until_input()

    The state hash and tick count at every input request are what commitments use.
    """

    def __init__(self, config: PvmConfig, oracle: RevealOracle | None = None) -> None:
        self.config = config
        self.oracle = oracle if oracle is not None else RevealOracle(config.metadata)
        self.engine = engine_mod.engine(config.limits.max_wasm_stack)
        self.durable = DurableStorage()
        self.revision = config.revision
        self.outbox = Outbox(limits_mod.MAX_OUTBOX_MESSAGES_PER_LEVEL)
        self.inputs: list[tuple[int, int, bytes]] = []
        self.input_pos = 0
        self.current_tick = 0
        self.period_start = 0
        self.reboot_counter = limits_mod.MAXIMUM_REBOOTS_PER_INPUT + 1
        self.status = Status.WAITING_FOR_INPUT
        self.stuck: StuckState | None = None
        self.last_input: tuple[int, int] | None = None
        self.pending_reveal: bytes | None = None
        self.pending_reason: str | None = None
        self.runs: collections.deque[KernelRun] = collections.deque(maxlen=RUNS_KEPT)
        self._next_is_boundary = True
        self._point: Phase | None = None
        """LOAD right after a reboot decision, PADDING right after End_of_level."""
        self._input_tree = layout.MerkleTree(layout.ABSENT_LEAF)
        self._host: host_mod.Host | None = None
        self.installed = False
        self.on_run: Callable[[KernelRun], None] | None = None
        """Called after every kernel_run, before the period's padding."""
        self.on_boundary: Callable[[BoundaryDecision], None] | None = None
        """Called after every boundary decision (reboot, yield, forced
        yield), when :meth:`boundary_phase` is LOAD or COLLECT."""

    # -- origination ----------------------------------------------------

    def install(self, boot_sector: bytes) -> None:
        """Store the boot sector verbatim at ``/kernel/boot.wasm``, the
        revision at ``/readonly/wasm_version`` and an empty reboot flag, so
        that the first level ends in a kernel_run (wasm_pvm.ml
        ``install_boot_sector``)."""
        if self.installed:
            raise InvalidPvmCall("a boot sector is already installed")
        self.durable.set_value(KERNEL, boot_sector)
        self.durable.set_value(VERSION, self.revision.version_string.encode(), edit_readonly=True)
        self.durable.set_value(REBOOT_FLAG, b"")
        self.installed = True

    # -- observation ----------------------------------------------------

    @property
    def tick_budget(self) -> int:
        """Ticks of one top-level period under the current revision."""
        override = self.config.limits.tick_budget
        return override if override is not None else self.revision.tick_budget

    def is_waiting_for_input(self) -> bool:
        """True when the PVM needs the next inbox message (also when stuck,
        since a stuck PVM still consumes and ignores inputs)."""
        return self.status in (Status.WAITING_FOR_INPUT, Status.STUCK)

    def is_waiting_for_reveal(self) -> bool:
        return self.status is Status.WAITING_FOR_REVEAL

    def reveal_request(self) -> bytes | None:
        """The request bytes the PVM waits an answer for, if any."""
        return self.pending_reveal if self.is_waiting_for_reveal() else None

    def boundary_phase(self) -> Phase | None:
        """The reference PVM's phase at this point, if the reference PVM
        reaches this state too: COLLECT (waiting for an inbox message), STUCK,
        LOAD (right after a reboot decision) or PADDING (right after
        End_of_level); None while waiting for a reveal or between a
        kernel_run and its period's padding."""
        status = self.status
        if status is Status.WAITING_FOR_INPUT:
            return Phase.COLLECT
        if status is Status.STUCK:
            return Phase.STUCK
        if status is Status.EVALUATING:
            return self._point
        return None

    def inputs_digest(self) -> bytes:
        """``layout.inputs_digest`` of the input buffer (every message of the
        level collected so far and the reading position)."""
        root = self._input_tree.root(layout.depth_for(len(self.inputs)))
        return layout.inputs_digest(len(self.inputs), self.input_pos, root)

    def _layout_hash(self, phase: Phase) -> bytes:
        header = layout.header(
            phase=int(phase),
            tick=self.current_tick,
            period_start=self.period_start,
            reboot_counter=self.reboot_counter,
            revision=int(self.revision),
            last_input=self.last_input,
            stuck_kind=self.stuck.kind if self.stuck is not None else "",
        )
        return layout.state_digest(
            layout.header_hash(header),
            self.durable.root_hash(),
            self.outbox.digest(),
            self.inputs_digest(),
            layout.NO_INSTANCE,
        )

    def state_hash(self) -> bytes:
        """The state hash (32 bytes, :mod:`executable.wasm.layout`).

        At a boundary point (:meth:`boundary_phase` not None) it is the
        reference PVM's state hash at the same tick, so commitments made with
        this VM can be refuted and defended with the reference PVM. Elsewhere
        (waiting for a reveal, the kernel_run rolled back to its start; or
        between a kernel_run and its padding) no reference state matches:
        the hash then commits to the status and the start-of-run state (which
        the rolled-back run replays deterministically), under a tag no
        reference state hash uses.

        Octez: wasm_pvm.ml ``state_hash`` (there Irmin's tree hash)."""
        phase = self.boundary_phase()
        if phase is not None:
            return self._layout_hash(phase)
        return layout.H(
            b"scoru-wasm-fast/interim",
            self.status.value.encode(),
            self._layout_hash(Phase.LOAD),
        )

    def boundary_state(self) -> BoundaryState:
        """This state as data (:class:`BoundaryState`); only at a boundary
        point (else :class:`InvalidPvmCall`). O(1) for the durable storage
        (a snapshot), O(kept outbox messages) for the outbox."""
        phase = self.boundary_phase()
        if phase is None:
            raise InvalidPvmCall(f"no boundary state while the PVM is {self.status.value}")
        return BoundaryState(
            phase=phase,
            tick=self.current_tick,
            period_start=self.period_start,
            reboot_counter=self.reboot_counter,
            revision=self.revision,
            last_input=self.last_input,
            stuck_kind=self.stuck.kind if self.stuck is not None else "",
            durable=self.durable.snapshot(),
            outbox=self.outbox.copy(),
            inputs=tuple(self.inputs),
            input_pos=self.input_pos,
        )

    @classmethod
    def from_boundary(
        cls, config: PvmConfig, state: BoundaryState, oracle: RevealOracle | None = None
    ) -> WasmPvm:
        """A PVM resuming from ``state`` (taken from this VM, or from the
        reference PVM at a boundary point); its :meth:`state_hash` is
        ``state.state_hash()``."""
        pvm = cls(config, oracle)
        pvm.durable = state.durable.snapshot()
        pvm.outbox = state.outbox.copy()
        pvm.revision = state.revision
        for item in state.inputs:
            pvm._append_input(item)
        pvm.input_pos = state.input_pos
        pvm.current_tick = state.tick
        pvm.period_start = state.period_start
        pvm.reboot_counter = state.reboot_counter
        pvm.last_input = state.last_input
        pvm.installed = True
        phase = state.phase
        if phase is Phase.COLLECT:
            pvm.status = Status.WAITING_FOR_INPUT
        elif phase is Phase.STUCK:
            pvm.status = Status.STUCK
            pvm.stuck = StuckState(state.stuck_kind, "restored from a boundary state")
        elif phase in (Phase.LOAD, Phase.PADDING):
            pvm.status = Status.EVALUATING
            pvm._point = phase
            pvm._next_is_boundary = phase is Phase.PADDING
        else:
            raise InvalidPvmCall(f"no fast-VM state in phase {phase.name}")
        return pvm

    def outbox_messages(self, level: int) -> list[OutboxMessage]:
        return self.outbox.messages(level)

    # -- inputs ---------------------------------------------------------

    def set_input(self, level: int, index: int, message: bytes) -> None:
        """Collect one inbox message (one tick). ``Start_of_level`` opens
        outbox ``level``; a ``Protocol_migration`` to a known protocol sets
        the revision at once; ``End_of_level`` ends the collection.

        Octez: wasm_vm.ml ``set_input_step``."""
        if not self.installed:
            raise InvalidPvmCall("no boot sector installed")
        if not self.is_waiting_for_input():
            raise InvalidPvmCall(f"set_input while {self.status.value}")
        if not (0 <= level < 2**31 and 0 <= index < 2**31):
            raise InvalidPvmCall("level and index must fit a non-negative int32")
        self.current_tick += 1
        self.last_input = (level, index)
        if self.status is Status.STUCK:
            return
        self._append_input((level, index, message))
        kind = classify(message)
        if kind is InputKind.START_OF_LEVEL:
            self.outbox.start_level(level, self.revision.outbox_validity_period)
        elif kind is InputKind.PROTOCOL_MIGRATION:
            name = migration_protocol(message)
            revision = PROTOCOL_MIGRATIONS.get(name or b"")
            if revision is not None:
                self._set_revision(revision)
        elif kind is InputKind.END_OF_LEVEL:
            self.status = Status.EVALUATING
            self._next_is_boundary = True
            self._point = Phase.PADDING

    def _append_input(self, item: tuple[int, int, bytes]) -> None:
        self.inputs.append(item)
        n = len(self.inputs)
        self._input_tree.ensure_height(layout.depth_for(n))
        self._input_tree.set(n - 1, layout.input_leaf(item))

    def _clear_inputs(self) -> None:
        self.inputs = []
        self.input_pos = 0
        self._input_tree = layout.MerkleTree(layout.ABSENT_LEAF)

    def _set_revision(self, revision: Revision) -> None:
        self.revision = revision
        self.durable.set_value(VERSION, revision.version_string.encode(), edit_readonly=True)

    # -- evaluation -----------------------------------------------------

    def eval_until_input(self) -> list[KernelRun]:
        """Run kernel_runs until the PVM needs input again (or a reveal it
        cannot answer). Returns the kernel_runs done by this call."""
        done: list[KernelRun] = []
        while self.status is Status.EVALUATING:
            if self._next_is_boundary:
                self._end_period()
                decision = self._boundary_decision()
                self._next_is_boundary = False
                self._point = Phase.LOAD if decision is BoundaryDecision.REBOOT else None
                if self.on_boundary is not None:
                    self.on_boundary(decision)
                continue
            self._point = None
            run = self._checked_kernel_run()
            if run is None:
                return done
            done.append(run)
            self.runs.append(run)
            if self.on_run is not None:
                self.on_run(run)
            self._next_is_boundary = True
        return done

    def set_reveal(self, data: bytes) -> None:
        """Answer the pending preimage request and resume evaluation on the
        next :meth:`eval_until_input`."""
        request = self.reveal_request()
        if request is None:
            raise InvalidPvmCall("no reveal is pending")
        self.oracle.supply(request[1:], data)
        self.pending_reveal = None
        self.pending_reason = None
        self.status = Status.EVALUATING

    def _end_period(self) -> None:
        """Pad the current top-level period to the budget."""
        self.current_tick = self.period_start + self.tick_budget
        self.period_start = self.current_tick

    def _boundary_decision(self) -> BoundaryDecision:
        """Reboot, forced yield or yield (wasm_vm.ml ``mark_for_reboot``
        and the ``patch_*`` functions, in that order)."""
        d = self.durable
        decision = BoundaryDecision.YIELD
        if d.has_value(REBOOT_FLAG):
            if self.reboot_counter > 0:
                self.reboot_counter -= 1
                d.delete(REBOOT_FLAG, edit_readonly=True)
                self._write_reboot_counter()
                return BoundaryDecision.REBOOT
            d.write_value(TOO_MANY_REBOOT_FLAG, 0, b"", edit_readonly=True)
            decision = BoundaryDecision.FORCED_YIELD
        else:
            d.delete(TOO_MANY_REBOOT_FLAG, edit_readonly=True)
        d.write_value(REBOOT_FLAG, 0, b"")
        self.reboot_counter = limits_mod.MAXIMUM_REBOOTS_PER_INPUT + 1
        self._write_reboot_counter()
        self._clear_inputs()
        self.status = Status.WAITING_FOR_INPUT
        return decision

    def _write_reboot_counter(self) -> None:
        self.durable.delete(REBOOT_COUNTER, edit_readonly=True)
        self.durable.set_value(
            REBOOT_COUNTER,
            self.reboot_counter.to_bytes(4, "little", signed=True),
            edit_readonly=True,
        )

    def _become_stuck(self, kind: str, reason: str) -> None:
        self.stuck = StuckState(kind, reason)
        self.status = Status.STUCK
        self._clear_inputs()

    def _checked_kernel_run(self) -> KernelRun | None:
        """One kernel_run, rolled back if a reveal cannot be answered."""
        saved_durable = self.durable.snapshot()
        saved_outbox_level = self.outbox.current_level
        saved_outbox_len = (
            len(self.outbox.messages(saved_outbox_level)) if saved_outbox_level is not None else 0
        )
        saved_input_pos = self.input_pos
        try:
            return self._kernel_run()
        except MissingPreimage as missing:
            self.durable = saved_durable
            if saved_outbox_level is not None:
                self.outbox.truncate(saved_outbox_level, saved_outbox_len)
            self.input_pos = saved_input_pos
            self.pending_reveal = missing.request
            self.pending_reason = missing.reason
            self.status = Status.WAITING_FOR_REVEAL
            return None

    def _host_for(self, revision: Revision) -> host_mod.Host:
        if self._host is None or self._host.revision is not revision:
            self._host = host_mod.Host(self.engine, revision)
        return self._host

    def _load(self, code: bytes) -> tuple[module_check.ModuleInfo, wasmtime.Module]:
        """Decode and link checks then compilation, cached by code hash."""
        digest = hashlib.blake2b(code, digest_size=32).digest() + bytes([int(self.revision)])
        cache_key = (id(self.engine), digest)
        cached = _MODULE_CACHE.get(cache_key)
        if cached is None:
            try:
                info = module_check.scan(code, host_mod.offered(self.revision))
                module = wasmtime.Module(self.engine, code)
                cached = (info, module)
            except module_check.KernelLoadError as err:
                cached = str(err)
            except wasmtime.WasmtimeError as err:
                cached = f"decode error: {_first_line(str(err))}"
            _MODULE_CACHE[cache_key] = cached
            while len(_MODULE_CACHE) > _MODULE_CACHE_SIZE:
                _MODULE_CACHE.popitem(last=False)
        else:
            _MODULE_CACHE.move_to_end(cache_key)
        if isinstance(cached, str):
            stage, _, reason = cached.partition(" error: ")
            raise module_check.KernelLoadError(stage, reason)
        return cached

    def _kernel_run(self) -> KernelRun:
        limits = self.config.limits
        if not self.durable.has_value(KERNEL):
            self._end_with_stuck("invalid_state", "no kernel at /kernel/boot.wasm")
            return self._record(RunOutcome.STUCK, "no kernel at /kernel/boot.wasm", None, 0)
        size = self.durable.value_size(KERNEL)
        if size > limits.max_kernel_size:
            return self._fallback(
                f"decode error: a kernel of {size} bytes exceeds the emulator's limit"
                f" of {limits.max_kernel_size} bytes"
            )
        code = self.durable.read_all(KERNEL) or b""
        try:
            info, module = self._load(code)
        except module_check.KernelLoadError as err:
            return self._fallback(str(err))
        store = wasmtime.Store(self.engine)
        store.set_limits(
            memory_size=limits.max_memory_bytes,
            instances=1,
            tables=4,
            memories=1,
            table_elements=1_000_000,
        )
        fuel_limit = min(limits.fuel_cap, self.tick_budget - 2)
        store.set_fuel(fuel_limit)
        ctx = host_mod.RunContext(
            store=store,
            durable=self.durable,
            outbox=self.outbox,
            inputs=self.inputs,
            input_pos=self.input_pos,
            oracle=self.oracle,
            debug=host_mod.DebugCapture(limits.max_debug_bytes),
        )
        host = self._host_for(self.revision)
        host.ctx = ctx
        try:
            result = engine_mod.run_on_big_stack(
                lambda: self._instantiate_and_call(host, store, module, info, ctx),
                limits.max_wasm_stack,
            )
        finally:
            host.ctx = None
        self.input_pos = ctx.input_pos
        if ctx.missing is not None:
            raise ctx.missing
        used = fuel_limit - store.get_fuel()
        outcome, reason = result
        if outcome is RunOutcome.STUCK:
            return self._record(outcome, reason, ctx, used)
        if outcome is RunOutcome.FALLBACK:
            return self._fallback(reason)
        if outcome is RunOutcome.RETURNED:
            self.durable.delete(STUCK_FLAG, edit_readonly=True)
            self.durable.delete(UPGRADE_ERROR_FLAG, edit_readonly=True)
        else:
            self.durable.write_value(STUCK_FLAG, 0, b"", edit_readonly=True)
        return self._record(outcome, reason, ctx, used)

    def _instantiate_and_call(
        self,
        host: host_mod.Host,
        store: wasmtime.Store,
        module: wasmtime.Module,
        info: module_check.ModuleInfo,
        ctx: host_mod.RunContext,
    ) -> tuple[RunOutcome, str]:
        """Init (instantiate, memory export, ``kernel_run`` lookup, fallback
        save) then Eval; classifies every way out (runs on the big stack)."""
        fuel_limit = store.get_fuel()
        try:
            instance = host.linker.instantiate(store, module)
        except (wasmtime.Trap, wasmtime.WasmtimeError, host_mod._Abort) as err:
            terminal = self._terminal(err, ctx, fuel_limit)
            if terminal is not None:
                return RunOutcome.STUCK, terminal
            if ctx.init_host_call is not None:
                return RunOutcome.FALLBACK, (
                    "init error: host functions must not access memory during initialisation"
                    f" ({ctx.init_host_call})"
                )
            if isinstance(err, wasmtime.Trap):
                return RunOutcome.FALLBACK, f"init error: start function trapped: {_trap_text(err)}"
            return RunOutcome.FALLBACK, f"init error: {_first_line(str(err))}"
        exports = instance.exports(store)
        memories = [e for e in exports.by_index if isinstance(e, wasmtime.Memory)]
        memory = memories[0] if memories else None
        if memory is None:
            return RunOutcome.FALLBACK, "init error: Module must export memory 0"
        if info.entrypoint_kind != "func" or info.entrypoint is None or info.entrypoint[0]:
            return RunOutcome.STUCK, "Invalid_module: no `kernel_run` function exported"
        kernel_run = exports[module_check.ENTRYPOINT]
        assert isinstance(kernel_run, wasmtime.Func)
        # Init succeeded: the kernel becomes the fallback (save_fallback_kernel).
        if self.durable.value_digest(FALLBACK_KERNEL) != self.durable.value_digest(KERNEL):
            self.durable.copy_tree(KERNEL, FALLBACK_KERNEL, edit_readonly=True)
        ctx.memory = memory
        try:
            kernel_run(store)
        except (wasmtime.Trap, wasmtime.WasmtimeError, host_mod._Abort) as err:
            terminal = self._terminal(err, ctx, fuel_limit)
            if terminal is not None:
                return RunOutcome.STUCK, terminal
            if isinstance(err, wasmtime.Trap):
                return RunOutcome.TRAPPED, _trap_text(err)
            return RunOutcome.TRAPPED, _first_line(str(err))
        return RunOutcome.RETURNED, "kernel_run returned"

    def _terminal(self, err: Exception, ctx: host_mod.RunContext, fuel_limit: int) -> str | None:
        """The reason if ``err`` makes the PVM stuck forever, else None.

        Terminal: stack overflow, exhausted ticks (Octez ``Too_many_ticks``,
        or this emulator's fuel cap), an internal host error, any trap that
        Octez's interpreter would not raise. A missing reveal is not a
        PVM outcome (the run is rolled back)."""
        if ctx.missing is not None:
            return None
        if ctx.internal_error is not None:
            return f"internal error: {ctx.internal_error}"
        code = err.trap_code if isinstance(err, wasmtime.Trap) else None
        if code is wasmtime.TrapCode.STACK_OVERFLOW:
            return "call stack exhausted (stack overflow)"
        if code is wasmtime.TrapCode.OUT_OF_FUEL or ctx.out_of_ticks:
            if fuel_limit < self.tick_budget - 2:
                return (
                    f"emulator fuel cap of {fuel_limit} ticks per kernel_run reached"
                    " (Octez's budget is larger)"
                )
            return "Too_many_ticks: the kernel_run exhausted the tick budget"
        if ctx.init_host_call is not None or not isinstance(err, wasmtime.Trap):
            return None
        if code is None or code not in _RECOVERABLE_TRAPS:
            return f"unexpected trap: {_trap_text(err)}"
        return None

    def _fallback(self, reason: str) -> KernelRun:
        """Decode/link/init failure: restore the fallback kernel if there is
        one that differs, flag ``upgrade_error`` and end the period; else
        stuck forever (wasm_vm.ml, ``Stuck (Decode_error | …)``)."""
        fallback = self.durable.value_digest(FALLBACK_KERNEL)
        if fallback is not None and fallback != self.durable.value_digest(KERNEL):
            self.durable.copy_tree(FALLBACK_KERNEL, KERNEL)
            self.durable.write_value(UPGRADE_ERROR_FLAG, 0, b"", edit_readonly=True)
            self.reboot_counter = limits_mod.MAXIMUM_REBOOTS_PER_INPUT + 1
            return self._record(RunOutcome.FALLBACK, reason, None, 0)
        self._end_with_stuck("no_fallback_kernel", reason)
        return self._record(RunOutcome.STUCK, f"No_fallback_kernel: {reason}", None, 0)

    def _end_with_stuck(self, kind: str, reason: str) -> None:
        self._end_period()
        self._become_stuck(kind, reason)

    def _record(
        self,
        outcome: RunOutcome,
        reason: str,
        ctx: host_mod.RunContext | None,
        used: int,
    ) -> KernelRun:
        if outcome is RunOutcome.STUCK and self.status is not Status.STUCK:
            self._end_with_stuck(_stuck_kind(reason), reason)
        debug = b"".join(ctx.debug.chunks) if ctx is not None else b""
        dropped = ctx.debug.dropped if ctx is not None else 0
        return KernelRun(outcome, reason, debug, dropped, used)


def _stuck_kind(reason: str) -> str:
    if reason.startswith("Too_many_ticks"):
        return "too_many_ticks"
    if reason.startswith("emulator fuel cap"):
        return "fuel_cap"
    if reason.startswith("call stack"):
        return "stack_overflow"
    if reason.startswith("Invalid_module"):
        return "invalid_state"
    if reason.startswith("internal error"):
        return "internal_error"
    return "eval_error"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _trap_text(trap: wasmtime.Trap) -> str:
    code = trap.trap_code
    return code.name.lower() if code is not None else _first_line(trap.message)
