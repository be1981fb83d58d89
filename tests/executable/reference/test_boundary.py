"""Boundary state hashes: at every level end and every kernel_run boundary
the fast VM's state, seen through :mod:`executable.reference.boundary`, has
the reference PVM's state hash at the same tick."""

from __future__ import annotations

import pytest

from executable import kernels
from executable.reference import boundary
from executable.reference.pvm import ReferencePvm, input_request, step
from executable.reference.state import Machine, Phase
from executable.wasm.limits import Limits
from executable.wasm.pvm import PvmConfig, WasmPvm
from spec.inbox import InboxInput
from spec.pvm import NoInputRequired
from tests.executable.reference.helpers import METADATA, ORIGINATION, level

LEVELS = [level(b"a", b"b"), level(), level(b"c", b"d", b"e")]


def fast_boundaries(kernel: bytes, limits: Limits) -> list[tuple[int, str, bytes]]:
    """(tick, kind, hash) at every reboot decision and level end of the fast VM."""
    pvm = WasmPvm(PvmConfig(metadata=METADATA, limits=limits))
    pvm.install(kernel)
    out: list[tuple[int, str, bytes]] = []
    decide = pvm._boundary_decision

    def observed() -> None:  # the hook the fast VM lacks: after each decision
        decide()
        if pvm.status.value == "evaluating":
            out.append(
                (pvm.current_tick, "reboot", boundary.fast_state_hash(pvm, after_reboot=True))
            )

    pvm._boundary_decision = observed  # type: ignore[method-assign]
    for n, messages in enumerate(LEVELS):
        for i, msg in enumerate(messages):
            pvm.set_input(ORIGINATION + 1 + n, i, msg)
        pvm.eval_until_input()
        out.append((pvm.current_tick, "level", boundary.fast_state_hash(pvm)))
    return out


def phase_of(m: Machine) -> Phase:
    return m.phase


def reference_boundaries(kernel: bytes, limits: Limits) -> list[tuple[int, str, bytes]]:
    ref = ReferencePvm(PvmConfig(metadata=METADATA, limits=limits))
    m = ref.install_boot_sector(kernel)
    env = ref.env()
    out: list[tuple[int, str, bytes]] = []
    for n, messages in enumerate(LEVELS):
        for i, msg in enumerate(messages):
            step(m, env, InboxInput(ORIGINATION + 1 + n, i, msg))
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


def test_boundary_hash_needs_a_boundary() -> None:
    pvm = WasmPvm(PvmConfig(metadata=METADATA))
    pvm.install(kernels.load("echo"))
    for i, msg in enumerate(level()):
        pvm.set_input(6, i, msg)
    with pytest.raises(ValueError, match="no boundary"):
        boundary.fast_state_hash(pvm)
    with pytest.raises(ValueError, match="not at a reboot boundary"):
        boundary.fast_state_hash(pvm, after_reboot=True)
