"""Switching between the fast VM and the reference PVM at boundary points.

Both VMs hash states with :mod:`executable.wasm.layout`. At every point the
fast VM can stop at and the reference PVM also reaches — waiting for an
inbox message (level ends), stuck, right after a reboot decision (the first
tick of a period that loads the kernel), right after ``End_of_level`` — the
reference machine holds no instance and no run counters, so its state is a
:class:`~executable.wasm.pvm.BoundaryState` and both VMs compute the same
state hash: :meth:`WasmPvm.state_hash() <executable.wasm.pvm.WasmPvm.state_hash>`
equals :meth:`Machine.digest() <executable.reference.state.Machine.digest>`.

This module converts such states both ways, through the fast VM's public
accessors (``DurableStorage.walk``/``from_walk``, ``Outbox.export``/
``restore``): :func:`machine_of_boundary` gives the reference machine a
fast VM stands at (to prove or inspect ticks inside the next period), and
:func:`boundary_of_machine` the boundary state a reference machine stands
at (to resume on wasmtime with ``WasmPvm.from_boundary``). Each conversion
costs O(size of the durable storage).

**Kernel_run end** (after a run returned, trapped or fell back, before the
period's padding): the fast VM exposes this moment through
``WasmPvm.on_run``; :func:`run_end_hash` commits to durable storage,
outbox, inputs, the run's period start, reboot counter, revision and last
input (the reference is then inside the period, so this is not its state
hash).
"""

from __future__ import annotations

from typing import Any

from executable.reference.durable import Durable, Node, Stub, Value
from executable.reference.merkle import H
from executable.reference.state import Inputs, Machine, Outbox, Phase, level_leaf, messages_root
from executable.wasm.durable import DurableStorage, Key
from executable.wasm.errors import InvalidPvmCall
from executable.wasm.outbox import Outbox as FastOutbox
from executable.wasm.pvm import BoundaryState, WasmPvm
from executable.wasm.revisions import Revision

BOUNDARY_PHASES = (Phase.COLLECT, Phase.PADDING, Phase.LOAD, Phase.STUCK)


def durable_of_fast(storage: DurableStorage) -> Durable:
    """The reference durable storage holding the same tree as ``storage``
    (values, written chunks, children), built from ``storage.walk()``."""
    root: dict[str, Any] = {}
    for k, length, chunks in storage.walk():
        node = root
        for step in k:
            node = node.setdefault(step, {})
        node["@value"] = Value(length, chunks)

    def build(tree: dict[str, Any]) -> Node:
        value = tree.pop("@value", None)
        return Node(value, {name: build(child) for name, child in tree.items()})

    return Durable(build(root))


def fast_of_durable(durable: Durable) -> DurableStorage:
    """The fast-VM storage holding the same tree as a full reference storage."""
    values: list[tuple[Key, int, dict[int, bytes]]] = []

    def visit(node: Node | Stub, prefix: Key) -> None:
        if not isinstance(node, Node):
            raise ValueError("a partial durable tree has no fast-VM storage")
        if node.value is not None:
            if not isinstance(node.value, Value):
                raise ValueError("a partial durable value has no fast-VM storage")
            values.append((prefix, node.value.length, dict(node.value.chunks)))
        for name in sorted(node.children):
            visit(node.children[name], (*prefix, name))

    visit(durable.root, ())
    return DurableStorage.from_walk(values)


def outbox_of_fast(fast: FastOutbox) -> Outbox:
    """The reference outbox with the fast outbox's kept levels."""
    current, low, levels = fast.export()
    out = Outbox(fast.max_per_level)
    out.current = current
    out.low = low
    assert out.levels is not None and out.tree is not None
    for level, messages in sorted(levels.items()):
        if level == current:
            out.cur = list(messages)
        else:
            out.levels[level] = list(messages)
            out.tree.set(level, level_leaf(level, len(messages), messages_root(messages)))
    return out


def fast_of_outbox(outbox: Outbox) -> FastOutbox:
    """The fast outbox with a full reference outbox's kept levels."""
    if outbox.levels is None:
        raise ValueError("a partial outbox has no fast-VM outbox")
    levels = {level: list(msgs) for level, msgs in outbox.levels.items()}
    if outbox.current is not None:
        levels[outbox.current] = list(outbox.cur)
    return FastOutbox.restore(outbox.max_per_level, outbox.current, outbox.low, levels)


def machine_of_boundary(state: BoundaryState) -> Machine:
    """The reference machine at a boundary state (its ``digest()`` is
    ``state.state_hash()``)."""
    m = Machine(int(state.revision), state.outbox.max_per_level)
    m.phase = state.phase
    m.tick = state.tick
    m.period_start = state.period_start
    m.reboot_counter = state.reboot_counter
    m.last_input = state.last_input
    m.stuck_kind = state.stuck_kind
    m.durable = durable_of_fast(state.durable)
    m.outbox = outbox_of_fast(state.outbox)
    inputs = Inputs()
    inputs.items = list(state.inputs)
    inputs.pos = state.input_pos
    m.inputs = inputs
    return m


def is_boundary(m: Machine) -> bool:
    """Whether ``m`` is at a point the fast VM can stand at: no instance, no
    run counters, a boundary phase (COLLECT, STUCK, LOAD, or PADDING right
    after End_of_level)."""
    if m.phase not in BOUNDARY_PHASES or m.inst is not None:
        return False
    if m.pending or m.fuel or m.stall or m.bulk or m.entry or m.in_start or m.reveal:
        return False
    if m.phase is Phase.PADDING:  # only right after End_of_level
        items = m.inputs.items
        return bool(items) and m.inputs.pos == 0 and m.tick - m.period_start == len(items)
    return True


def boundary_of_machine(m: Machine) -> BoundaryState:
    """The boundary state of a full reference machine that :func:`is_boundary`
    (else :class:`InvalidPvmCall`); resume on wasmtime with
    ``WasmPvm.from_boundary``."""
    if not is_boundary(m):
        raise InvalidPvmCall(f"the reference machine at tick {m.tick} is not at a boundary")
    return BoundaryState(
        phase=m.phase,
        tick=m.tick,
        period_start=m.period_start,
        reboot_counter=m.reboot_counter,
        revision=Revision(m.revision),
        last_input=m.last_input,
        stuck_kind=m.stuck_kind,
        durable=fast_of_durable(m.durable),
        outbox=fast_of_outbox(m.outbox),
        inputs=tuple(m.inputs.items),
        input_pos=m.inputs.pos,
    )


def machine_of_fast(pvm: WasmPvm, *, after_reboot: bool = False) -> Machine:
    """The reference machine equal to a fast VM that waits for an inbox
    message or is stuck, or (``after_reboot``) that has just decided to
    reboot; raises ``ValueError`` otherwise."""
    phase = pvm.boundary_phase()
    if after_reboot:
        if phase is not Phase.LOAD:
            raise ValueError("the fast VM is not at a reboot boundary")
    elif phase not in (Phase.COLLECT, Phase.STUCK):
        raise ValueError(f"no boundary state while the fast VM is {pvm.status.value}")
    return machine_of_boundary(pvm.boundary_state())


def fast_state_hash(pvm: WasmPvm, *, after_reboot: bool = False) -> bytes:
    """The reference PVM's state hash of the fast VM's current state
    (waiting for input or stuck; or just after a reboot decision): since
    both VMs share the layout, ``pvm.state_hash()``, checked to be at such
    a point."""
    phase = pvm.boundary_phase()
    if after_reboot:
        if phase is not Phase.LOAD:
            raise ValueError("the fast VM is not at a reboot boundary")
    elif phase not in (Phase.COLLECT, Phase.STUCK):
        raise ValueError(f"no boundary state while the fast VM is {pvm.status.value}")
    return pvm.state_hash()


def run_end_hash(
    durable_root: bytes,
    outbox: bytes,
    inputs: bytes,
    period_start: int,
    reboot_counter: int,
    revision: int,
    last_input: tuple[int, int] | None,
) -> bytes:
    """``H("run-end" ‖ durable ‖ outbox ‖ inputs ‖ period start ‖ reboot
    counter ‖ revision ‖ last input)``."""
    last = last_input if last_input is not None else (-1, -1)
    return H(
        b"run-end",
        durable_root,
        outbox,
        inputs,
        period_start.to_bytes(16, "big"),
        reboot_counter.to_bytes(4, "big", signed=True),
        bytes([revision]),
        last[0].to_bytes(4, "big", signed=True) + last[1].to_bytes(4, "big", signed=True),
    )


def reference_run_end_hash(m: Machine) -> bytes:
    """At the end of a reference kernel_run (returned, trapped, fallback)."""
    return run_end_hash(
        m.durable.root_hash(),
        m.outbox.digest(),
        m.inputs.digest(),
        m.period_start,
        m.reboot_counter,
        m.revision,
        m.last_input,
    )


def fast_run_end_hash(pvm: WasmPvm) -> bytes:
    """In ``WasmPvm.on_run`` after a run that did not make the PVM stuck."""
    return run_end_hash(
        pvm.durable.root_hash(),
        pvm.outbox.digest(),
        pvm.inputs_digest(),
        pvm.period_start,
        pvm.reboot_counter,
        int(pvm.revision),
        pvm.last_input,
    )


__all__ = [
    "BOUNDARY_PHASES",
    "boundary_of_machine",
    "durable_of_fast",
    "fast_of_durable",
    "fast_of_outbox",
    "fast_run_end_hash",
    "fast_state_hash",
    "is_boundary",
    "machine_of_boundary",
    "machine_of_fast",
    "outbox_of_fast",
    "reference_run_end_hash",
    "run_end_hash",
]
