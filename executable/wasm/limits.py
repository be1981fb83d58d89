"""Octez constants of the WASM PVM, and the emulator's own resource limits.

The first half of this module restates constants of Octez, each with the file
it comes from. :class:`Limits` then gathers the bounds this emulator adds so
that an untrusted kernel always ends in bounded time and memory.
"""

from __future__ import annotations

import attrs

# -- Octez constants -------------------------------------------------------

MAX_KEY_LENGTH = 250 - len("/durable") - len("/@")
"""Longest durable path a kernel may pass, in bytes (240).

Octez: src/lib_scoru_wasm/durable.ml, ``max_key_length``."""

MAX_STORE_IO_SIZE = 2048
"""Most bytes one ``store_read``/``store_write`` moves.

Octez: src/lib_scoru_wasm/durable.ml, ``max_store_io_size``."""

INPUT_OUTPUT_MAX_SIZE = 4096
"""Most bytes of one inbox message, outbox message, reveal hash or payload.

Octez: src/lib_scoru_wasm/host_funcs.ml, ``input_output_max_size``."""

MAX_VALUE_SIZE = 2**31 - 1
"""A durable value never grows past ``i32::MAX`` bytes (host_funcs.ml,
``store_write`` overflow check)."""

MAXIMUM_REBOOTS_PER_INPUT = 1000
"""At most 1,000 reboots per level, i.e. 1,001 ``kernel_run`` calls.

Octez: src/lib_scoru_wasm/constants.ml, ``maximum_reboots_per_input``."""

MAX_OUTBOX_MESSAGES_PER_LEVEL = 100
"""Octez: src/proto_alpha/lib_parameters/default_parameters.ml,
``max_outbox_messages_per_level``."""

OUTBOX_VALIDITY_PERIOD = 241_920
"""Outbox levels kept in the PVM state (V4+; 80,640 before).

Octez: src/proto_alpha/lib_protocol/sc_rollup_wasm.ml."""

OUTBOX_VALIDITY_PERIOD_BEFORE_V4 = 80_640

TICKS_PER_TOP_LEVEL_CALL = 50_000_000_000_000
"""Tick budget of one top-level period from revision V4 (``2.0.0-r4``) on.

Octez: src/proto_alpha/lib_protocol/sc_rollup_wasm.ml, ``ticks_per_snapshot``."""

TICKS_PER_TOP_LEVEL_CALL_BEFORE_V4 = 11_000_000_000
"""Tick budget of one top-level period before V4."""

MAX_MEMORY_PAGES = 65_536
"""WebAssembly 1.0 limit on a 32-bit linear memory (4 GiB)."""

WASM_PAGE_SIZE = 65_536

MAX_NAME_LENGTH = 512
"""Import and export names longer than this are a decode error.

Octez: src/lib_webassembly/binary/decode.ml, ``name_step``."""

MAX_PREIMAGE_SIZE = 4096
"""Raw-data reveals are at most 4,096 bytes.

Octez: src/proto_alpha/lib_protocol/sc_rollup_PVM_sig.ml, ``Raw_data``."""

PREIMAGE_HASH_SIZE = 33
"""Tag byte ``00`` (Blake2b) followed by the 32-byte digest.

Octez: src/proto_alpha/lib_protocol/sc_rollup_reveal_hash.ml."""

METADATA_SIZE = 24
"""Rollup address (20 bytes) and origination level (int32 big-endian).

Octez: src/proto_alpha/lib_protocol/sc_rollup_metadata_repr.ml."""

# -- Emulator limits -------------------------------------------------------

DEFAULT_FUEL_CAP = 11_000_000_000
"""Default cap on the ticks one ``kernel_run`` may execute here.

Octez allows 50×10^12 ticks per period, which would keep an infinite loop
busy for hours under wasmtime; this cap (the pre-V4 budget, which kernels are
written to fit) bounds wall time. Reaching it is reported as its own terminal
outcome, never as Octez's ``Too_many_ticks``."""

DEFAULT_MAX_WASM_STACK = 128 * 1024 * 1024
"""Bytes of native stack wasmtime may use for WebAssembly frames.

The PVM limits call depth to 60,000 frames (V1+); wasmtime limits bytes.
128 MiB keeps every program with frames up to ~2 KiB deep enough."""

DEFAULT_MAX_DEBUG_BYTES = 1024 * 1024
"""Bytes of ``write_debug`` output captured per ``kernel_run``; the rest is
counted but dropped (``write_debug`` is free in Octez and unbounded)."""


DEFAULT_MAX_KERNEL_SIZE = 64 * 1024 * 1024
"""Largest ``/kernel/boot.wasm`` this emulator decodes (Octez has no such
limit, only ticks; a larger value is treated as a decode error)."""


@attrs.frozen
class Limits:
    """Bounds on one PVM's resources; none of them is part of the protocol.

    ``fuel_cap`` bounds the ticks of one ``kernel_run`` (wall time);
    ``max_memory_bytes`` bounds linear memory (wasmtime store limit; the
    default is the WebAssembly maximum so ``memory.grow`` behaves as in
    Octez); ``max_wasm_stack`` bounds native stack used by wasm frames;
    ``max_debug_bytes`` bounds captured debug output per ``kernel_run``;
    ``tick_budget`` overrides the revision's period budget (tests use small
    budgets to reach ``Too_many_ticks`` quickly); ``max_kernel_size`` bounds
    the kernel binary read from durable storage.
    """

    fuel_cap: int = attrs.field(default=DEFAULT_FUEL_CAP)
    max_memory_bytes: int = attrs.field(default=MAX_MEMORY_PAGES * WASM_PAGE_SIZE)
    max_wasm_stack: int = attrs.field(default=DEFAULT_MAX_WASM_STACK)
    max_debug_bytes: int = attrs.field(default=DEFAULT_MAX_DEBUG_BYTES)
    tick_budget: int | None = attrs.field(default=None)
    max_kernel_size: int = attrs.field(default=DEFAULT_MAX_KERNEL_SIZE)

    @fuel_cap.validator
    def _check_fuel(self, _attr: object, value: int) -> None:
        if value <= 0:
            raise ValueError("fuel_cap must be positive")

    @max_memory_bytes.validator
    def _check_memory(self, _attr: object, value: int) -> None:
        if not 0 < value <= MAX_MEMORY_PAGES * WASM_PAGE_SIZE:
            raise ValueError("max_memory_bytes must be in (0, 4 GiB]")

    @max_wasm_stack.validator
    def _check_stack(self, _attr: object, value: int) -> None:
        if not 64 * 1024 <= value <= 1024 * 1024 * 1024:
            raise ValueError("max_wasm_stack must be in [64 KiB, 1 GiB]")

    @max_debug_bytes.validator
    def _check_debug(self, _attr: object, value: int) -> None:
        if value < 0:
            raise ValueError("max_debug_bytes must be non-negative")

    @tick_budget.validator
    def _check_budget(self, _attr: object, value: int | None) -> None:
        if value is not None and value < 2:
            raise ValueError("tick_budget must be at least 2")
