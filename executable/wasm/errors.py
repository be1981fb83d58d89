"""Host-function error codes and the typed errors of the WASM PVM.

Error codes: src/lib_scoru_wasm/host_funcs.ml (``Error.code``) and
src/kernel_sdk/constants/src/core.rs. Errors raised to Python callers derive
from :class:`spec.errors.ScoruError`.
"""

from __future__ import annotations

import enum

from spec.errors import EncodingError, ScoruError


class HostError(enum.IntEnum):
    """Negative codes a host function returns instead of trapping."""

    STORE_KEY_TOO_LARGE = -1
    STORE_INVALID_KEY = -2
    STORE_NOT_A_VALUE = -3
    STORE_INVALID_ACCESS = -4
    STORE_VALUE_SIZE_EXCEEDED = -5
    MEMORY_INVALID_ACCESS = -6
    INPUT_OUTPUT_TOO_LARGE = -7
    GENERIC_INVALID_ACCESS = -8
    STORE_READONLY_VALUE = -9
    STORE_NOT_A_NODE = -10
    FULL_OUTBOX = -11
    STORE_INVALID_SUBKEY_INDEX = -12
    STORE_VALUE_ALREADY_EXISTS = -13
    NDS_DATABASE_OUT_OF_BOUNDS = -14
    NDS_RESIZE_INVALID = -15
    NDS_NOT_ENABLED = -16


class HostFailure(Exception):
    """Raised inside host-function code to return ``code`` to the kernel.

    Never escapes a host function: the wrapper turns it into the return value.
    """

    def __init__(self, code: HostError) -> None:
        super().__init__(code.name)
        self.code = code


class WasmPvmError(ScoruError):
    """Misuse of the WASM PVM by its caller (not by the kernel)."""


class InvalidPvmCall(WasmPvmError):
    """A PVM operation called in a state that does not accept it, e.g.
    ``set_input`` while the PVM still has a kernel to run."""


class InvalidKernel(EncodingError):
    """A boot sector that is not a WebAssembly binary at all (caller error)."""


class MissingPreimage(WasmPvmError):
    """A preimage the kernel asked for is not available.

    Octez's rollup node blocks until the preimage can be found; the PVM here
    rolls the ``kernel_run`` back and waits (``is_waiting_for_reveal``).
    """

    def __init__(self, request: bytes, reason: str) -> None:
        super().__init__(f"reveal request {request.hex()} cannot be answered: {reason}")
        self.request = request
        self.reason = reason
