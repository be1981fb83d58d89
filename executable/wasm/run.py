"""Run a kernel over inbox levels and report what happened, level by level.

This is what ``scoru run`` shows: for each level, the outbox messages, the
debug output of every kernel_run, the durable keys that changed, the ticks
and the state hash; at the end the whole outbox and the final state hash.
The same kernel, inputs and constants always give the same report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from executable.wasm import durable as durable_mod
from executable.wasm.errors import InvalidPvmCall
from executable.wasm.input_kind import InputKind, classify
from executable.wasm.limits import INPUT_OUTPUT_MAX_SIZE, Limits
from executable.wasm.outbox import OutboxMessage
from executable.wasm.pvm import PvmConfig, RunOutcome, Status, WasmPvm
from executable.wasm.reveal import Metadata, PreimageDirectory, RevealOracle
from executable.wasm.revisions import LATEST, Revision
from spec.errors import EncodingError

REPORT_VALUE_LIMIT = 1024 * 1024
"""Bytes of a changed durable value kept in a report."""


class InvalidInboxLevel(EncodingError):
    """A level that is not a well-formed inbox level: it must start with
    ``Start_of_level`` (``00 01``), end with ``End_of_level`` (``00 02``)
    and hold messages of at most 4,096 bytes (constants_repr.ml,
    ``sc_rollup_message_size_limit``)."""


@attrs.frozen
class KernelRunReport:
    """One kernel_run: how it ended, its debug output, ticks it executed."""

    outcome: str
    reason: str
    debug: bytes
    debug_dropped: int
    ticks_executed: int


@attrs.frozen
class LevelReport:
    """Everything that happened at one inbox level."""

    level: int
    outbox: tuple[OutboxMessage, ...]
    kernel_runs: tuple[KernelRunReport, ...]
    ticks: int
    """PVM ticks of the level: (kernel_runs + 1) × budget as in Octez."""
    ticks_executed: int
    """Ticks actually executed (wasmtime fuel + host tick model)."""
    durable_changes: tuple[tuple[str, bytes | None], ...]
    """(path, new value or None if deleted); values longer than
    :data:`REPORT_VALUE_LIMIT` are cut (see ``truncated_values``)."""
    truncated_values: tuple[tuple[str, int], ...]
    """(path, full size) of the values cut in ``durable_changes``."""
    state_hash: bytes
    status: str
    """``ok``, ``stuck`` (terminal) or ``blocked`` (missing preimage)."""
    reason: str | None

    @property
    def kernel_run_count(self) -> int:
        return len(self.kernel_runs)


@attrs.frozen
class RunReport:
    """The report of :func:`run_kernel`."""

    levels: tuple[LevelReport, ...]
    outbox: tuple[OutboxMessage, ...]
    final_state_hash: bytes
    final_tick: int
    status: str
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; bytes are hex strings."""
        return {
            "status": self.status,
            "reason": self.reason,
            "final_state_hash": self.final_state_hash.hex(),
            "final_tick": self.final_tick,
            "outbox": [_message_json(m) for m in self.outbox],
            "levels": [_level_json(lvl) for lvl in self.levels],
        }

    def render_text(self) -> str:
        """A human-readable account of the run."""
        lines: list[str] = []
        for lvl in self.levels:
            head = (
                f"level {lvl.level}: {lvl.kernel_run_count} kernel_run(s), "
                f"{lvl.ticks} ticks ({lvl.ticks_executed} executed), "
                f"state {lvl.state_hash.hex()[:16]}…"
            )
            lines.append(head)
            if lvl.status != "ok":
                lines.append(f"  {lvl.status.upper()}: {lvl.reason}")
            for i, run in enumerate(lvl.kernel_runs):
                note = "" if run.outcome == "returned" else f" — {run.outcome}: {run.reason}"
                lines.append(f"  run {i}: {run.ticks_executed} ticks{note}")
                for text in _debug_lines(run.debug):
                    lines.append(f"    debug: {text}")
                if run.debug_dropped:
                    lines.append(f"    debug: … {run.debug_dropped} more bytes not captured")
            for m in lvl.outbox:
                lines.append(f"  outbox[{m.level},{m.index}] = {_short(m.payload)}")
            sizes = dict(lvl.truncated_values)
            for path, value in lvl.durable_changes:
                shown = "deleted" if value is None else _short(value)
                if path in sizes:
                    shown += f" (cut from {sizes[path]} bytes)"
                lines.append(f"  durable {path} = {shown}")
        lines.append(
            f"final: {self.status}"
            + (f" ({self.reason})" if self.reason else "")
            + f", {len(self.outbox)} outbox message(s), tick {self.final_tick}, "
            f"state hash {self.final_state_hash.hex()}"
        )
        return "\n".join(lines)


def _short(data: bytes, limit: int = 48) -> str:
    text = data[:limit].hex()
    return f"0x{text}" + (f"… ({len(data)} bytes)" if len(data) > limit else "")


def _debug_lines(data: bytes) -> list[str]:
    text = data.decode("utf-8", errors="replace")
    return [line for line in text.splitlines() if line] if text else []


def _message_json(m: OutboxMessage) -> dict[str, Any]:
    return {"level": m.level, "index": m.index, "payload": m.payload.hex()}


def _level_json(lvl: LevelReport) -> dict[str, Any]:
    return {
        "level": lvl.level,
        "status": lvl.status,
        "reason": lvl.reason,
        "kernel_run_count": lvl.kernel_run_count,
        "ticks": lvl.ticks,
        "ticks_executed": lvl.ticks_executed,
        "state_hash": lvl.state_hash.hex(),
        "outbox": [_message_json(m) for m in lvl.outbox],
        "kernel_runs": [
            {
                "outcome": r.outcome,
                "reason": r.reason,
                "debug": r.debug.hex(),
                "debug_text": r.debug.decode("utf-8", errors="replace"),
                "debug_dropped": r.debug_dropped,
                "ticks_executed": r.ticks_executed,
            }
            for r in lvl.kernel_runs
        ],
        "durable_changes": [
            {"path": p, "value": None if v is None else v.hex()} for p, v in lvl.durable_changes
        ],
        "truncated_values": [{"path": p, "size": n} for p, n in lvl.truncated_values],
    }


def check_level(messages: Sequence[bytes]) -> None:
    """Raise :class:`InvalidInboxLevel` unless ``messages`` is a full level."""
    if not messages:
        raise InvalidInboxLevel("an inbox level has at least Start_of_level and End_of_level")
    if classify(messages[0]) is not InputKind.START_OF_LEVEL:
        raise InvalidInboxLevel("an inbox level must start with Start_of_level (00 01)")
    if classify(messages[-1]) is not InputKind.END_OF_LEVEL:
        raise InvalidInboxLevel("an inbox level must end with End_of_level (00 02)")
    for i, m in enumerate(messages):
        if len(m) > INPUT_OUTPUT_MAX_SIZE:
            raise InvalidInboxLevel(f"message {i} is {len(m)} bytes, more than 4,096")


def run_kernel(
    kernel: bytes,
    levels: Sequence[Sequence[bytes]],
    *,
    rollup_address: bytes,
    origination_level: int,
    preimages_dir: Path | None = None,
    first_level: int | None = None,
    limits: Limits | None = None,
    revision: Revision = LATEST,
) -> RunReport:
    """Originate a rollup with boot sector ``kernel`` and feed it ``levels``
    (each the full list of serialized inbox messages of one level), from
    ``first_level`` (default ``origination_level + 1``).

    A terminally stuck PVM keeps consuming levels (and ticks) without running
    anything, as in Octez; a missing preimage stops the run (``blocked``),
    as a real rollup node would wait for it.
    """
    if len(rollup_address) != 20:
        raise EncodingError("a rollup address is 20 raw bytes")
    if not 0 <= origination_level < 2**31:
        raise EncodingError("origination level must fit an int32")
    for messages in levels:
        check_level(messages)
    metadata = Metadata(rollup_address, origination_level)
    preimages = PreimageDirectory(preimages_dir) if preimages_dir is not None else None
    oracle = RevealOracle(metadata, preimages=preimages)
    config = PvmConfig(metadata=metadata, revision=revision, limits=limits or Limits())
    pvm = WasmPvm(config, oracle)
    pvm.install(kernel)
    level = origination_level + 1 if first_level is None else first_level
    if level <= origination_level:
        raise InvalidPvmCall("the first level must come after the origination level")
    reports: list[LevelReport] = []
    for messages in levels:
        reports.append(_run_level(pvm, level, messages))
        if reports[-1].status == "blocked":
            break
        level += 1
    outbox = tuple(m for lvl in pvm.outbox.levels() for m in pvm.outbox_messages(lvl))
    final_status = reports[-1].status if reports else "ok"
    final_reason = reports[-1].reason if reports else None
    return RunReport(
        levels=tuple(reports),
        outbox=outbox,
        final_state_hash=pvm.state_hash(),
        final_tick=pvm.current_tick,
        status=final_status,
        reason=final_reason,
    )


def _run_level(pvm: WasmPvm, level: int, messages: Sequence[bytes]) -> LevelReport:
    before = pvm.durable.snapshot()
    tick0 = pvm.current_tick
    for index, message in enumerate(messages):
        pvm.set_input(level, index, message)
    runs = pvm.eval_until_input()
    status, reason = "ok", None
    if pvm.is_waiting_for_reveal():
        request = pvm.reveal_request() or b""
        why = pvm.pending_reason or "missing preimage"
        status, reason = "blocked", f"waiting for reveal {request.hex()} ({why})"
    elif pvm.status is Status.STUCK and pvm.stuck is not None:
        status, reason = "stuck", f"{pvm.stuck.kind}: {pvm.stuck.reason}"
    changes = durable_mod.diff(before, pvm.durable, REPORT_VALUE_LIMIT)
    return LevelReport(
        level=level,
        outbox=tuple(pvm.outbox_messages(level)),
        kernel_runs=tuple(
            KernelRunReport(r.outcome.value, r.reason, r.debug, r.debug_dropped, r.ticks_executed)
            for r in runs
        ),
        ticks=pvm.current_tick - tick0,
        ticks_executed=sum(r.ticks_executed for r in runs),
        durable_changes=tuple((path, value) for path, value, _ in changes),
        truncated_values=tuple(
            (path, size) for path, value, size in changes if value is not None and len(value) < size
        ),
        state_hash=pvm.state_hash(),
        status=status,
        reason=reason,
    )


__all__ = [
    "InvalidInboxLevel",
    "KernelRunReport",
    "LevelReport",
    "RunOutcome",
    "RunReport",
    "check_level",
    "run_kernel",
]
