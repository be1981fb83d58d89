"""Boundary state hashes: at every level end and every kernel_run boundary
the fast VM's own ``state_hash()`` is the reference PVM's state hash at the
same tick, and the two VMs can hand a state over to each other there."""

from __future__ import annotations

import pytest

from executable import kernels
from executable.reference import boundary
from executable.reference.pvm import ReferencePvm, input_request, step
from executable.reference.state import Machine, Phase
from executable.wasm.errors import InvalidPvmCall
from executable.wasm.limits import Limits
from executable.wasm.pvm import BoundaryDecision, PvmConfig, Status, WasmPvm
from spec.inbox import InboxInput
from spec.pvm import NoInputRequired
from tests.executable.reference.helpers import METADATA, ORIGINATION, level

LEVELS = [level(b"a", b"b"), level(), level(b"c", b"d", b"e")]


def fast_boundaries(kernel: bytes, limits: Limits) -> list[tuple[int, str, bytes]]:
    """(tick, kind, hash) at every reboot decision and level end of the fast VM."""
    pvm = WasmPvm(PvmConfig(metadata=METADATA, limits=limits))
    pvm.install(kernel)
    out: list[tuple[int, str, bytes]] = [(0, "level", pvm.state_hash())]

    def observed(decision: BoundaryDecision) -> None:
        if decision is BoundaryDecision.REBOOT:
            assert pvm.boundary_phase() is Phase.LOAD
            out.append((pvm.current_tick, "reboot", pvm.state_hash()))

    pvm.on_boundary = observed
    for n, messages in enumerate(LEVELS):
        for i, msg in enumerate(messages):
            pvm.set_input(ORIGINATION + 1 + n, i, msg)
        assert pvm.boundary_phase() is Phase.PADDING
        out.append((pvm.current_tick, "eol", pvm.state_hash()))
        pvm.eval_until_input()
        assert pvm.boundary_phase() is Phase.COLLECT
        out.append((pvm.current_tick, "level", pvm.state_hash()))
    return out


def phase_of(m: Machine) -> Phase:
    return m.phase


def reference_boundaries(kernel: bytes, limits: Limits) -> list[tuple[int, str, bytes]]:
    ref = ReferencePvm(PvmConfig(metadata=METADATA, limits=limits))
    m = ref.install_boot_sector(kernel)
    env = ref.env()
    out: list[tuple[int, str, bytes]] = [(0, "level", m.digest())]
    for n, messages in enumerate(LEVELS):
        for i, msg in enumerate(messages):
            step(m, env, InboxInput(ORIGINATION + 1 + n, i, msg))
        out.append((m.tick, "eol", m.digest()))
        while isinstance(input_request(m), NoInputRequired):
            end = m.period_start + env.budget(m)
            if m.phase is Phase.PADDING:
                ref.advance(m, env, end - 1)
                step(m, env, None)  # the decision
                if phase_of(m) is Phase.LOAD:
                    out.append((m.tick, "reboot", m.digest()))
            else:
                ref.advance(m, env, end - 1)
        out.append((m.tick, "level", m.digest()))
    return out


@pytest.mark.parametrize("name", ["echo", "counter", "hostile/oob_pointers"])
def test_state_hashes_agree_at_every_boundary(name: str) -> None:
    limits = Limits(tick_budget=100_000)
    fast = fast_boundaries(kernels.load(name), limits)
    ref = reference_boundaries(kernels.load(name), limits)
    assert fast == ref
    assert any(kind == "reboot" for _t, kind, _h in fast)


def test_genesis_hash_is_the_reference_pvms() -> None:
    """Origination: the installed fast VM has the reference PVM's genesis hash."""
    pvm = WasmPvm(PvmConfig(metadata=METADATA))
    pvm.install(kernels.load("counter"))
    ref = ReferencePvm(PvmConfig(metadata=METADATA))
    assert pvm.state_hash() == ref.state_hash(ref.install_boot_sector(kernels.load("counter"))).raw


def test_boundary_hash_needs_a_boundary() -> None:
    pvm = WasmPvm(PvmConfig(metadata=METADATA))
    pvm.install(kernels.load("echo"))
    for i, msg in enumerate(level()):
        pvm.set_input(6, i, msg)
    with pytest.raises(ValueError, match="no boundary"):
        boundary.fast_state_hash(pvm)
    with pytest.raises(ValueError, match="not at a reboot boundary"):
        boundary.fast_state_hash(pvm, after_reboot=True)


def test_no_boundary_state_while_waiting_for_a_reveal() -> None:
    """The installer waits for a preimage the oracle lacks: the kernel_run is
    rolled back, no reference state matches, the hash is an interim one."""
    pvm = WasmPvm(PvmConfig(metadata=METADATA))
    pvm.install(kernels.load("installer"))
    for i, msg in enumerate(level()):
        pvm.set_input(6, i, msg)
    pvm.eval_until_input()
    assert pvm.status is Status.WAITING_FOR_REVEAL and pvm.boundary_phase() is None
    with pytest.raises(InvalidPvmCall):
        pvm.boundary_state()
    h = pvm.state_hash()
    assert len(h) == 32 and h == pvm.state_hash()


def test_switching_vms_at_boundaries_changes_nothing() -> None:
    """Run the counter on wasmtime, hand the state to the reference PVM after
    the first reboot decision, run it there to the level end, hand it back to
    wasmtime for the next levels: every hash is the uninterrupted run's."""
    limits = Limits(tick_budget=100_000)
    config = PvmConfig(metadata=METADATA, limits=limits)
    straight = fast_boundaries(kernels.load("counter"), limits)
    level_ends = [h for _t, kind, h in straight if kind == "level"]

    pvm = WasmPvm(config)
    pvm.install(kernels.load("counter"))
    handed: list[Machine] = []

    def stop_at_first_reboot(decision: BoundaryDecision) -> None:
        if decision is BoundaryDecision.REBOOT and not handed:
            handed.append(boundary.machine_of_boundary(pvm.boundary_state()))

    pvm.on_boundary = stop_at_first_reboot
    for i, msg in enumerate(LEVELS[0]):
        pvm.set_input(ORIGINATION + 1, i, msg)
    pvm.eval_until_input()
    m = handed[0]
    ref = ReferencePvm(config)
    env = ref.env()
    ref.advance(m, env)  # the rest of the level, tick by tick
    assert m.digest() == level_ends[1]
    resumed = WasmPvm.from_boundary(config, boundary.boundary_of_machine(m))
    for n, messages in enumerate(LEVELS[1:], start=1):
        for i, msg in enumerate(messages):
            resumed.set_input(ORIGINATION + 1 + n, i, msg)
        resumed.eval_until_input()
        assert resumed.state_hash() == level_ends[n + 1]


def test_a_partial_machine_is_not_a_boundary() -> None:
    ref = ReferencePvm(PvmConfig(metadata=METADATA, limits=Limits(tick_budget=100_000)))
    m = ref.install_boot_sector(kernels.load("counter"))
    env = ref.env()
    for i, msg in enumerate(level(b"x")):
        step(m, env, InboxInput(6, i, msg))
    ref.advance(m, env, m.period_start + 100_000 + 5)  # inside the first kernel_run
    assert not boundary.is_boundary(m)
    with pytest.raises(InvalidPvmCall):
        boundary.boundary_of_machine(m)
