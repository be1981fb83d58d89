"""State hashes both VMs can compute: at level ends and kernel_run ends.

**Level end** (and any state waiting for an inbox message, or stuck): the
reference machine holds no instance, so its state hash is a function of
what the fast VM also holds: durable storage, outbox, input buffer, tick
counter, period start, reboot counter, revision, last input, stuck kind.
:func:`fast_state_hash` rebuilds that hash from a fast-VM
:class:`~executable.wasm.pvm.WasmPvm`; it equals the reference PVM's
:meth:`~executable.reference.pvm.ReferencePvm.state_hash` at the same
point, so a rollup node may run the fast VM and still commit to the
reference PVM's state hashes.

**Kernel_run boundary** (the first tick of a period that runs the kernel,
right after a reboot decision): the reference machine is in ``LOAD`` with
no instance, so again its state hash is computable from the fast VM —
``fast_state_hash(pvm, after_reboot=True)`` — provided the fast VM lets a
caller observe the moment just after ``_boundary_decision`` (it has no hook
there yet; the tests wrap the method).

**Kernel_run end** (after a run returned, trapped or fell back, before the
period's padding): the fast VM exposes this moment through
``WasmPvm.on_run``; :func:`run_end_hash` commits to durable storage,
outbox, inputs, the run's period start, reboot counter, revision and last
input (the reference is then inside the period, so this is not its state
hash).

Cost: :func:`fast_state_hash` rebuilds the Merkle tree of the whole durable
storage (O(storage size)). It reads the fast VM's durable tree through its
internal attributes (``_root``, ``_Node.children``/``.value``,
``_Value.length``/``.chunks``), because which chunks were ever written is
part of the state and has no public accessor.
"""

from __future__ import annotations

from typing import Any

from executable.reference.durable import Durable, Node, Value
from executable.reference.merkle import H
from executable.reference.state import Inputs, Machine, Outbox, Phase, level_leaf, messages_root
from executable.wasm import limits as limits_mod
from executable.wasm.durable import DurableStorage
from executable.wasm.pvm import Status, WasmPvm


def durable_of_fast(storage: DurableStorage) -> Durable:
    """The reference durable storage holding the same tree as ``storage``
    (values, written chunks, children)."""

    def convert(node: Any) -> Node:
        value = None
        if node.value is not None:
            v = node.value
            value = Value(v.length, dict(v.chunks))
        children = {name: convert(child) for name, child in node.children.items()}
        return Node(value, children)

    return Durable(convert(storage._root))


def outbox_of_fast(pvm: WasmPvm) -> Outbox:
    fast = pvm.outbox
    out = Outbox(fast.max_per_level)
    levels = fast.levels()
    out.current = fast.current_level
    out.low = min(levels) if levels else 0
    assert out.levels is not None and out.tree is not None
    for level in levels:
        messages = [m.payload for m in fast.messages(level)]
        if level == fast.current_level:
            out.cur = messages
        else:
            out.levels[level] = messages
            out.tree.set(level, level_leaf(level, len(messages), messages_root(messages)))
    return out


def machine_of_fast(pvm: WasmPvm, *, after_reboot: bool = False) -> Machine:
    """The reference machine equal to a fast VM that waits for an inbox
    message or is stuck, or (``after_reboot``) that has just decided to
    reboot; raises ``ValueError`` otherwise."""
    if after_reboot:
        if pvm.status is not Status.EVALUATING or pvm.current_tick != pvm.period_start:
            raise ValueError("the fast VM is not at a reboot boundary")
        phase = Phase.LOAD
    elif pvm.status in (Status.WAITING_FOR_INPUT, Status.STUCK):
        phase = Phase.STUCK if pvm.status is Status.STUCK else Phase.COLLECT
    else:
        raise ValueError(f"no boundary state while the fast VM is {pvm.status.value}")
    m = Machine(int(pvm.revision), limits_mod.MAX_OUTBOX_MESSAGES_PER_LEVEL)
    m.phase = phase
    m.tick = pvm.current_tick
    m.period_start = pvm.period_start
    m.reboot_counter = pvm.reboot_counter
    m.last_input = pvm.last_input
    m.stuck_kind = pvm.stuck.kind if pvm.stuck is not None else ""
    m.durable = durable_of_fast(pvm.durable)
    m.outbox = outbox_of_fast(pvm)
    inputs = Inputs()
    inputs.items = list(pvm.inputs)
    inputs.pos = pvm.input_pos
    m.inputs = inputs
    return m


def fast_state_hash(pvm: WasmPvm, *, after_reboot: bool = False) -> bytes:
    """The reference PVM's state hash of the fast VM's current state
    (waiting for input or stuck; or just after a reboot decision)."""
    return machine_of_fast(pvm, after_reboot=after_reboot).digest()


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
    inputs = Inputs()
    inputs.items = list(pvm.inputs)
    inputs.pos = pvm.input_pos
    return run_end_hash(
        durable_of_fast(pvm.durable).root_hash(),
        outbox_of_fast(pvm).digest(),
        inputs.digest(),
        pvm.period_start,
        pvm.reboot_counter,
        int(pvm.revision),
        pvm.last_input,
    )
