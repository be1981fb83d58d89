"""Running the fast VM and the reference PVM side by side.

:func:`differential` feeds the same levels to both and collects, at every
kernel_run end and every level end, what each VM reports: the outcome and
fuel of the run, the run-end hash, at every boundary decision (reboot or
yield) the tick and the state hash, and at level ends the tick, the outbox,
the durable storage and the state hash. The fast VM's hashes are its own
``WasmPvm.state_hash()``; at every boundary the fast state converted into a
reference machine (``machine_of_boundary``) and back (``boundary_of_machine``)
keeps that hash."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs

from executable.reference import boundary
from executable.reference.pvm import ReferencePvm, input_request
from executable.reference.state import Machine, Phase
from executable.wasm.limits import Limits
from executable.wasm.pvm import BoundaryDecision, KernelRun, PvmConfig, RunOutcome, WasmPvm
from executable.wasm.reveal import Metadata, PreimageDirectory, RevealOracle
from executable.wasm.revisions import LATEST, Revision
from spec.hashing import RollupAddress
from spec.pvm import Metadata as SpecMetadata
from spec.pvm import NeedsReveal, RawData, RevealInput, RevealMetadata, RevealRawData

SOL = b"\x00\x01"
EOL = b"\x00\x02"
IPL = b"\x00\x03" + bytes(40)
ADDRESS = bytes(range(20))
ORIGINATION = 5
METADATA = Metadata(ADDRESS, ORIGINATION)


def level(*externals: bytes) -> list[bytes]:
    return [SOL, IPL, *(b"\x01" + e for e in externals), EOL]


@attrs.frozen
class RunView:
    """One kernel_run as a VM saw it."""

    outcome: str
    fuel: int
    end_hash: bytes | None


@attrs.frozen
class LevelView:
    """One level end as a VM saw it."""

    tick: int
    outbox: tuple[bytes, ...]
    durable: tuple[tuple[str, bytes], ...]
    state_hash: bytes
    stuck: str


@attrs.define
class Trace:
    runs: list[RunView] = attrs.field(factory=list)
    levels: list[LevelView] = attrs.field(factory=list)
    boundaries: list[tuple[int, str, bytes]] = attrs.field(factory=list)
    """(tick, "reboot" or "yield", state hash) after every boundary decision."""


def check_conversions(pvm: WasmPvm) -> bytes:
    """The fast VM's state hash, checked against the reference machine it
    converts to and the boundary state that converts back."""
    h = pvm.state_hash()
    state = pvm.boundary_state()
    assert state.state_hash() == h
    m = boundary.machine_of_boundary(state)
    assert m.digest() == h
    back = boundary.boundary_of_machine(m)
    assert back.state_hash() == h
    assert WasmPvm.from_boundary(pvm.config, back).state_hash() == h
    return h


def _reveal_source(preimages: Path | None):  # type: ignore[no-untyped-def]
    def answer(request: NeedsReveal) -> RevealInput:
        if isinstance(request.reveal, RevealMetadata):
            return RevealInput(SpecMetadata(RollupAddress(ADDRESS), ORIGINATION))
        assert isinstance(request.reveal, RevealRawData) and preimages is not None
        h = request.reveal.hash.to_bytes()
        return RevealInput(RawData((preimages / h.hex()).read_bytes()))

    return answer


def run_fast(
    kernel: bytes,
    levels: Sequence[Sequence[bytes]],
    limits: Limits,
    revision: Revision = LATEST,
    preimages: Path | None = None,
) -> Trace:
    trace = Trace()
    oracle = RevealOracle(
        METADATA, preimages=PreimageDirectory(preimages) if preimages is not None else None
    )
    pvm = WasmPvm(PvmConfig(metadata=METADATA, revision=revision, limits=limits), oracle)
    pvm.install(kernel)

    def on_run(run: KernelRun) -> None:
        stuck = run.outcome is RunOutcome.STUCK
        end = None if stuck else boundary.fast_run_end_hash(pvm)
        trace.runs.append(RunView(run.outcome.value, run.ticks_executed, end))

    def on_boundary(decision: BoundaryDecision) -> None:
        kind = "reboot" if decision is BoundaryDecision.REBOOT else "yield"
        trace.boundaries.append((pvm.current_tick, kind, check_conversions(pvm)))

    pvm.on_run = on_run
    pvm.on_boundary = on_boundary
    for offset, messages in enumerate(levels):
        lvl = ORIGINATION + 1 + offset
        for i, m in enumerate(messages):
            pvm.set_input(lvl, i, m)
        pvm.eval_until_input()
        assert not pvm.is_waiting_for_reveal()
        trace.levels.append(
            LevelView(
                pvm.current_tick,
                tuple(m.payload for m in pvm.outbox_messages(lvl)),
                tuple(pvm.durable.items()),
                check_conversions(pvm),
                pvm.stuck.kind if pvm.stuck is not None else "",
            )
        )
    return trace


def run_reference(
    kernel: bytes,
    levels: Sequence[Sequence[bytes]],
    limits: Limits,
    revision: Revision = LATEST,
    preimages: Path | None = None,
) -> tuple[Trace, ReferencePvm, Machine]:
    trace = Trace()
    ref = ReferencePvm(PvmConfig(metadata=METADATA, revision=revision, limits=limits))
    m = ref.install_boot_sector(kernel)
    env = ref.env()

    def on_run(machine: Machine, record) -> None:  # type: ignore[no-untyped-def]
        stuck = record.outcome == "stuck"
        end = None if stuck else boundary.reference_run_end_hash(machine)
        trace.runs.append(RunView(record.outcome, record.fuel, end))

    def on_boundary(machine: Machine) -> None:
        kind = "reboot" if machine.phase is Phase.LOAD else "yield"
        trace.boundaries.append((machine.tick, kind, machine.digest()))

    env.on_run_end = on_run
    env.on_boundary = on_boundary
    for offset, messages in enumerate(levels):
        lvl = ORIGINATION + 1 + offset
        ref.run_level(m, env, lvl, list(messages), _reveal_source(preimages))
        assert not isinstance(input_request(m), NeedsReveal)
        trace.levels.append(
            LevelView(
                m.tick,
                tuple(m.outbox.messages(lvl)),
                tuple(m.durable.items()),
                m.digest(),
                m.stuck_kind,
            )
        )
    return trace, ref, m


def fuel_as_fast_vm(run: RunView, limit: int) -> int:
    """The fast VM reports fuel clamped at its limit."""
    return min(run.fuel, limit)


def assert_agree(fast: Trace, ref: Trace, fuel_limit: int) -> None:
    """Both VMs agree on every run's outcome, run-end hash and (for runs
    that returned) fuel, and on everything at every level end."""
    assert len(fast.runs) == len(ref.runs), (fast.runs, ref.runs)
    for f, r in zip(fast.runs, ref.runs, strict=True):
        assert f.outcome == r.outcome, (f, r)
        assert f.end_hash == r.end_hash, (f, r)
        if f.outcome == "returned":
            assert f.fuel == fuel_as_fast_vm(r, fuel_limit), (f, r)
    assert fast.boundaries == ref.boundaries
    for fl, rl in zip(fast.levels, ref.levels, strict=True):
        assert fl.tick == rl.tick
        assert fl.stuck == rl.stuck
        assert fl.outbox == rl.outbox
        assert fl.durable == rl.durable
        assert fl.state_hash == rl.state_hash


def differential(
    kernel: bytes,
    levels: Sequence[Sequence[bytes]],
    limits: Limits | None = None,
    revision: Revision = LATEST,
    preimages: Path | None = None,
) -> tuple[Trace, Trace]:
    limits = limits if limits is not None else Limits(tick_budget=1_000_000)
    fast = run_fast(kernel, levels, limits, revision, preimages)
    ref, _pvm, _m = run_reference(kernel, levels, limits, revision, preimages)
    budget = limits.tick_budget if limits.tick_budget is not None else revision.tick_budget
    assert_agree(fast, ref, min(limits.fuel_cap, budget - 2))
    return fast, ref
