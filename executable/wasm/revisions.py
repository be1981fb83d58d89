"""PVM revisions of ``wasm_2_0_0``: version strings, host functions, budgets.

Octez: src/lib_scoru_wasm/wasm_pvm_state.ml (``versions``),
src/lib_scoru_wasm/host_funcs.ml (registry by version),
src/lib_scoru_wasm/constants.ml (protocol names of migrations).
"""

from __future__ import annotations

import enum

from executable.wasm import limits


class Revision(enum.IntEnum):
    """A revision of the WASM PVM, ordered by age."""

    V0 = 0
    V1 = 1
    V2 = 2
    V3 = 3
    V4 = 4
    V5 = 5
    V6 = 6

    @property
    def version_string(self) -> str:
        """The raw ASCII stored at ``/readonly/wasm_version``."""
        return "2.0.0" if self is Revision.V0 else f"2.0.0-r{int(self)}"

    @classmethod
    def from_version_string(cls, text: bytes) -> Revision | None:
        """Parse ``/readonly/wasm_version``; ``None`` if unknown."""
        for revision in cls:
            if revision.version_string.encode() == text:
                return revision
        if text == b"2.0.0-experimental":
            return cls.V6
        return None

    @property
    def tick_budget(self) -> int:
        """Ticks of one top-level period (sc_rollup_wasm.ml: 50×10^12 from V4)."""
        if self >= Revision.V4:
            return limits.TICKS_PER_TOP_LEVEL_CALL
        return limits.TICKS_PER_TOP_LEVEL_CALL_BEFORE_V4

    @property
    def outbox_validity_period(self) -> int:
        """Outbox levels kept (241,920 from V4, 80,640 before)."""
        if self >= Revision.V4:
            return limits.OUTBOX_VALIDITY_PERIOD
        return limits.OUTBOX_VALIDITY_PERIOD_BEFORE_V4

    @property
    def call_stack_frames(self) -> int:
        """Octez's frame limit (wasm_vm.ml ``stack_size_limit``); informative
        here, since wasmtime limits stack bytes instead."""
        return 300 if self is Revision.V0 else 60_000


LATEST = Revision.V6
"""The revision a rollup originated under the current protocol runs
(sc_rollup_wasm.ml, ``current_version = v6``)."""

PROTOCOL_MIGRATIONS: dict[bytes, Revision] = {
    b"nairobi_017": Revision.V1,
    b"oxford_018": Revision.V2,
    b"paris_019": Revision.V4,
    b"paris_020": Revision.V4,
    b"quebec_021": Revision.V5,
    b"r022_022": Revision.V5,
    b"s023_023": Revision.V5,
    b"t024_024": Revision.V5,
    b"u025_025": Revision.V6,
    b"alpha_current": Revision.V6,
}
"""Protocol name in a ``Protocol_migration`` message → revision it installs
(wasm_vm.ml ``version_for_protocol``; constants.ml)."""
