"""The reference WASM PVM (``wasm_2_0_0``): levels, periods, reboots and the
:class:`spec.pvm.PVM` interface.

The machine follows the fast VM's state machine (executable/wasm/pvm.py,
itself Octez's src/lib_scoru_wasm/wasm_vm.ml) tick by tick:

* ``COLLECT``: each inbox message is one tick; ``Start_of_level`` opens an
  outbox level, ``Protocol_migration`` switches the revision,
  ``End_of_level`` starts the padding of the collection period;
* ``PADDING``: one tick per tick left in the period; the last tick of the
  period takes the boundary decision (reboot, forced yield or yield;
  wasm_vm.ml ``mark_for_reboot`` and ``patch_*``) or, after a terminal
  outcome, makes the machine stuck;
* ``LOAD``, ``EVAL``, ``REVEAL``: one kernel_run (:mod:`.interp`);
* ``STUCK``: inputs are consumed one tick each and ignored.

A period always lasts the revision's budget (``tick_budget``), so both VMs
reach each kernel_run boundary and each level end at the same tick.

Where the two VMs can differ (all outside what kernels built by the SDK do):

* call depth: Octez's frame limit here, wasmtime's native stack there;
* a ``tick_budget`` override without a smaller fuel cap, when wasmtime's
  fuel overshoots the limit in code without a check point: the reference
  has no tick left in the period and ends ``too_many_ticks``;
* the few fuel units wasmtime charges for non-MVP constant expressions at
  instantiation (:mod:`.interp`);
* reveals of DAL pages and parameters are answered empty (the fast VM's
  default; :mod:`spec.proof` does not model DAL);
* SIMD kernels are refused (:class:`~.module.UnsupportedKernel`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from executable.reference import interp
from executable.reference.interp import Env
from executable.reference.state import Inputs, Machine, Phase
from executable.wasm import engine as engine_mod
from executable.wasm import limits as limits_mod
from executable.wasm.errors import InvalidPvmCall
from executable.wasm.input_kind import InputKind, classify, migration_protocol
from executable.wasm.pvm import (
    KERNEL,
    REBOOT_COUNTER,
    REBOOT_FLAG,
    TOO_MANY_REBOOT_FLAG,
    VERSION,
    PvmConfig,
)
from executable.wasm.reveal import Metadata as FastMetadata
from executable.wasm.revisions import PROTOCOL_MIGRATIONS, Revision
from spec.errors import ScoruError
from spec.hashing import RevealHash, StateHash
from spec.inbox import InboxInput
from spec.pvm import (
    FirstAfter,
    Initial,
    Input,
    InputRequest,
    Metadata,
    NeedsReveal,
    NoInputRequired,
    Output,
    RawData,
    RevealInput,
    RevealMetadata,
    RevealRawData,
    StepResult,
    VerifiedOutput,
)

NAME = "wasm_2_0_0"

RevealSource = Callable[[NeedsReveal], RevealInput]
"""Answers a reveal request (the rollup node's preimage directory)."""


class InvalidInput(ScoruError):
    """An input the state does not wait for (or revealed data that does not
    hash to the requested hash)."""


# -- requests and inputs --------------------------------------------------------------


def input_request(m: Machine) -> InputRequest:
    """What the state waits for (Octez: sc_rollup_wasm.ml ``is_input_state``)."""
    if m.phase in (Phase.COLLECT, Phase.STUCK):
        if m.last_input is None:
            return Initial()
        return FirstAfter(m.last_input[0], m.last_input[1])
    if m.phase is Phase.REVEAL:
        assert m.reveal is not None
        request = m.reveal[0]
        if request == b"\x01":
            return NeedsReveal(RevealMetadata())
        return NeedsReveal(RevealRawData(RevealHash(request[2:34])))
    return NoInputRequired()


def collect(m: Machine, level: int, index: int, payload: bytes) -> None:
    """One inbox message (fast VM ``set_input``; wasm_vm.ml ``set_input_step``)."""
    if not (0 <= level < 2**31 and 0 <= index < 2**31):
        raise InvalidPvmCall("level and index must fit a non-negative int32")
    m.tick += 1
    m.last_input = (level, index)
    if m.phase is Phase.STUCK:
        return
    m.inputs.items.append((level, index, payload))
    kind = classify(payload)
    revision = Revision(m.revision)
    if kind is InputKind.START_OF_LEVEL:
        m.outbox.start_level(level, revision.outbox_validity_period)
    elif kind is InputKind.PROTOCOL_MIGRATION:
        target = PROTOCOL_MIGRATIONS.get(migration_protocol(payload) or b"")
        if target is not None:
            m.revision = int(target)
            m.durable.set_value(VERSION, target.version_string.encode(), edit_readonly=True)
    elif kind is InputKind.END_OF_LEVEL:
        m.phase = Phase.PADDING


def reveal_data(m: Machine, given: RevealInput) -> bytes:
    """The bytes a reveal input gives to the waiting host function."""
    assert m.reveal is not None
    request = m.reveal[0]
    data = given.data
    if request == b"\x01":
        if not isinstance(data, Metadata):
            raise InvalidInput("the machine waits for the rollup metadata")
        return data.encode()
    if not isinstance(data, RawData):
        raise InvalidInput("the machine waits for a preimage")
    if len(data.data) > limits_mod.MAX_PREIMAGE_SIZE:
        raise InvalidInput("a preimage is at most 4,096 bytes")
    if hashlib.blake2b(data.data, digest_size=32).digest() != request[2:34]:
        raise InvalidInput("the data does not hash to the requested hash")
    return data.data


# -- periods ----------------------------------------------------------------------------


def write_reboot_counter(m: Machine) -> None:
    d = m.durable
    d.delete(REBOOT_COUNTER, edit_readonly=True)
    d.set_value(
        REBOOT_COUNTER, m.reboot_counter.to_bytes(4, "little", signed=True), edit_readonly=True
    )


def boundary_decision(m: Machine) -> None:
    """Reboot, forced yield or yield (fast VM ``_boundary_decision``)."""
    d = m.durable
    if d.has_value(REBOOT_FLAG):
        if m.reboot_counter > 0:
            m.reboot_counter -= 1
            d.delete(REBOOT_FLAG, edit_readonly=True)
            write_reboot_counter(m)
            m.phase = Phase.LOAD
            return
        d.write_value(TOO_MANY_REBOOT_FLAG, 0, b"", edit_readonly=True)
    else:
        d.delete(TOO_MANY_REBOOT_FLAG, edit_readonly=True)
    d.write_value(REBOOT_FLAG, 0, b"")
    m.reboot_counter = limits_mod.MAXIMUM_REBOOTS_PER_INPUT + 1
    write_reboot_counter(m)
    m.inputs = Inputs()
    m.phase = Phase.COLLECT


def padding_tick(m: Machine, env: Env) -> None:
    """A padding tick; the period's last tick decides what comes next."""
    m.tick += 1
    end = m.period_start + env.budget(m)
    if m.tick < end:
        return
    m.period_start = m.tick
    if m.pending:
        m.stuck_kind = m.pending
        m.pending = ""
        m.phase = Phase.STUCK
        m.inputs = Inputs()
        return
    boundary_decision(m)
    if env.on_boundary is not None:
        env.on_boundary(m)


def eval_step(m: Machine, env: Env) -> None:
    """One tick of a state that requires no input."""
    phase = m.phase
    if phase is Phase.PADDING:
        padding_tick(m, env)
        return
    m.tick += 1
    if phase is Phase.LOAD:
        interp.load_tick(m, env)
    else:
        interp.eval_tick(m, env)
    _period_guard(m, env)


def _period_guard(m: Machine, env: Env) -> None:
    """A kernel_run must leave its period's last tick for the decision;
    one that does not (only after wasmtime-like fuel overshoot past the
    budget) ends as ``Too_many_ticks``."""
    if m.phase in (Phase.EVAL, Phase.REVEAL) and m.tick >= m.period_start + env.budget(m) - 1:
        interp.stuck(m, env, "too_many_ticks", "the kernel_run reached the end of its period")


def step(m: Machine, env: Env, given: Input | None) -> InputRequest:
    """The transition a proof proves: ``eval`` when no input is required,
    else ``set_input`` if an input is given, else none (blocked). Returns
    the start state's request (Octez: sc_rollup_wasm.ml ``step_transition``)."""
    request = input_request(m)
    if isinstance(request, NoInputRequired):
        if given is not None:
            raise InvalidInput("the machine requires no input")
        eval_step(m, env)
    elif given is None:
        return request
    elif isinstance(request, NeedsReveal):
        if not isinstance(given, RevealInput):
            raise InvalidInput("the machine waits for revealed data")
        data = reveal_data(m, given)
        m.tick += 1
        interp.answer_reveal(m, env, data)
        _period_guard(m, env)
    else:
        if not isinstance(given, InboxInput):
            raise InvalidInput("the machine waits for an inbox message")
        collect(m, given.inbox_level, given.message_counter, given.payload)
    return request


def advance(m: Machine, env: Env, target: int | None = None) -> None:
    """Run until an input is required or tick ``target`` is reached,
    skipping padding and host-call stalls in O(1) (same states as single
    ticks)."""
    while target is None or m.tick < target:
        phase = m.phase
        if phase is Phase.EVAL and m.stall <= 1:  # the hot path: instructions
            last = m.period_start + env.budget(m) - 1
            stop = target if target is not None else last + 1
            eval_tick = interp.eval_tick
            while m.phase is Phase.EVAL and m.stall <= 1 and m.tick < stop:
                m.tick += 1
                eval_tick(m, env)
                if m.tick >= last:
                    _period_guard(m, env)
            continue
        if phase in (Phase.COLLECT, Phase.STUCK, Phase.REVEAL):
            return
        left = None if target is None else target - m.tick
        end = m.period_start + env.budget(m)
        if phase is Phase.PADDING:
            k = end - 1 - m.tick
            if left is not None:
                k = min(k, left)
            if k > 0:
                m.tick += k
                continue
        elif phase is Phase.EVAL and m.stall > 1:
            k = min(m.stall - 1, end - 2 - m.tick)
            if left is not None:
                k = min(k, left)
            if k > 0:
                m.stall -= k
                m.fuel += k
                m.tick += k
                if m.bulk:
                    assert m.inst is not None
                    interp.bulk_progress(m, m.inst, k)
                continue
        eval_step(m, env)


# -- the PVM ------------------------------------------------------------------------------


def _default_config() -> PvmConfig:
    return PvmConfig(metadata=FastMetadata(bytes(20), 0))


class ReferencePvm:
    """The proof-generating reference PVM, an implementation of
    :class:`spec.pvm.PVM` over :class:`Machine` states.

    The functional methods (``eval``, ``set_input``) copy the state; the
    ``*_in_place`` ones, :meth:`advance` and :meth:`run_level` mutate it,
    for speed. Proofs: :mod:`executable.reference.proof`. The configuration
    is the fast VM's (revision at origination, limits); its metadata is not
    used: the rollup's metadata reaches the machine as a reveal input."""

    name = NAME

    def __init__(self, config: PvmConfig | None = None) -> None:
        self.config = config if config is not None else _default_config()
        self.engine = engine_mod.engine(self.config.limits.max_wasm_stack)

    def env(self, *, record: bool = True) -> Env:
        limits = self.config.limits
        return Env(
            tick_budget_override=limits.tick_budget,
            fuel_cap=limits.fuel_cap,
            max_memory_bytes=limits.max_memory_bytes,
            max_kernel_size=limits.max_kernel_size,
            max_debug_bytes=limits.max_debug_bytes,
            engine=self.engine,
            record=record,
        )

    # -- spec.pvm.PVM -----------------------------------------------------------

    def install_boot_sector(self, boot_sector: bytes) -> Machine:
        """Origination (wasm_pvm.ml ``install_boot_sector``; fast VM ``install``)."""
        revision = self.config.revision
        m = Machine(int(revision), limits_mod.MAX_OUTBOX_MESSAGES_PER_LEVEL)
        m.reboot_counter = limits_mod.MAXIMUM_REBOOTS_PER_INPUT + 1
        m.durable.set_value(KERNEL, boot_sector)
        m.durable.set_value(VERSION, revision.version_string.encode(), edit_readonly=True)
        m.durable.set_value(REBOOT_FLAG, b"")
        return m

    def state_hash(self, state: Machine) -> StateHash:
        return StateHash(state.digest())

    def input_request(self, state: Machine) -> InputRequest:
        return input_request(state)

    def tick(self, state: Machine) -> int:
        return state.tick

    def set_input(self, state: Machine, given: Input) -> Machine:
        if isinstance(input_request(state), NoInputRequired):
            raise InvalidPvmCall("set_input on a state that requires no input")
        out = state.copy()
        step(out, self.env(record=False), given)
        return out

    def eval(self, state: Machine) -> Machine:
        if not isinstance(input_request(state), NoInputRequired):
            raise InvalidPvmCall("eval on a state that waits for an input")
        out = state.copy()
        step(out, self.env(record=False), None)
        return out

    def produce_proof(self, state: Machine, given: Input | None) -> bytes:
        from executable.reference import proof

        return proof.produce(self, state, given)

    def decode_step(self, step_bytes: bytes) -> object:
        from executable.reference import proof

        return proof.decode(step_bytes)

    def verify_proof(self, given: Input | None, step_bytes: bytes) -> StepResult:
        from executable.reference import proof

        return proof.verify(self, given, step_bytes)

    def produce_output_proof(self, state: Machine, output: Output) -> bytes:
        from executable.reference import proof

        return proof.produce_output(state, output)

    def verify_output_proof(self, proof_bytes: bytes) -> VerifiedOutput:
        from executable.reference import proof

        return proof.verify_output(proof_bytes)

    # -- in place, for speed -----------------------------------------------------

    def step_in_place(
        self, state: Machine, given: Input | None, env: Env | None = None
    ) -> InputRequest:
        return step(state, env if env is not None else self.env(record=False), given)

    def advance(self, state: Machine, env: Env, target: int | None = None) -> None:
        advance(state, env, target)

    def run_level(
        self,
        state: Machine,
        env: Env,
        level: int,
        messages: list[bytes],
        reveal: RevealSource | None = None,
    ) -> None:
        """Feed a whole level and run until the next input is needed,
        answering reveals from ``reveal``."""
        for index, message in enumerate(messages):
            step(state, env, InboxInput(level, index, message))
        while True:
            advance(state, env)
            request = input_request(state)
            if not isinstance(request, NeedsReveal):
                return
            if reveal is None:
                raise InvalidPvmCall("the kernel asks for a reveal and no source was given")
            step(state, env, reveal(request))


__all__ = [
    "NAME",
    "InvalidInput",
    "ReferencePvm",
    "advance",
    "input_request",
    "step",
]
