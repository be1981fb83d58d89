"""The ``smart_rollup_core`` host functions, with Octez's signatures, bounds
checks, error codes and their precedence, and tick costs.

Octez: src/lib_scoru_wasm/host_funcs.ml (``Aux``, registry by version,
``Tick_model``), src/lib_scoru_wasm/durable.ml; kernel-side declarations:
src/kernel_sdk/core/src/smart_rollup_core.rs.

Conventions shared by every function:

* pointers and lengths are ``i32``; addresses are read as unsigned, sizes as
  signed (a negative size is ``GENERIC_INVALID_ACCESS``, −8);
* reading or writing kernel memory out of bounds is ``MEMORY_INVALID_ACCESS``
  (−6); zero-length accesses always succeed;
* "key checks", in order: length > 240 → −1; negative length → −8; key
  bytes out of memory → −6; unparsable path → −2;
* a host function never traps the kernel: failures are negative return
  values, and a failing call costs no tick beyond the call itself.

Host calls made while the module is being instantiated (from a ``start``
function) abort the instantiation, as Octez's "host functions must not
access memory during initialisation".
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import attrs
import wasmtime

from executable.wasm import durable as durable_mod
from executable.wasm import limits, ticks
from executable.wasm.durable import DurableStorage, Key
from executable.wasm.errors import HostError, HostFailure, MissingPreimage
from executable.wasm.module_check import I32, I64, FuncSig
from executable.wasm.outbox import Outbox
from executable.wasm.reveal import RevealOracle
from executable.wasm.revisions import Revision

MODULE = "smart_rollup_core"


@attrs.frozen
class HostFunctionSpec:
    """Name, WebAssembly type and first revision of a host function."""

    name: str
    params: tuple[int, ...]
    results: tuple[int, ...]
    since: Revision

    @property
    def signature(self) -> FuncSig:
        return (self.params, self.results)


def _spec(name: str, params: str, results: str, since: Revision) -> HostFunctionSpec:
    code = {"i": I32, "I": I64}
    return HostFunctionSpec(
        name, tuple(code[c] for c in params), tuple(code[c] for c in results), since
    )


HOST_FUNCTIONS: tuple[HostFunctionSpec, ...] = (
    _spec("read_input", "iii", "i", Revision.V0),
    _spec("write_output", "ii", "i", Revision.V0),
    _spec("write_debug", "ii", "", Revision.V0),
    _spec("store_has", "ii", "i", Revision.V0),
    _spec("store_list_size", "ii", "I", Revision.V0),
    _spec("store_get_nth_key", "iiIii", "i", Revision.V0),
    _spec("store_delete", "ii", "i", Revision.V0),
    _spec("store_delete_value", "ii", "i", Revision.V1),
    _spec("store_copy", "iiii", "i", Revision.V0),
    _spec("store_move", "iiii", "i", Revision.V0),
    _spec("store_value_size", "ii", "i", Revision.V0),
    _spec("store_read", "iiiii", "i", Revision.V0),
    _spec("store_write", "iiiii", "i", Revision.V0),
    _spec("store_create", "iii", "i", Revision.V1),
    _spec("store_exists", "ii", "i", Revision.V2),
    _spec("__internal_store_get_hash", "iiii", "i", Revision.V1),
    _spec("reveal_preimage", "iiii", "i", Revision.V0),
    _spec("reveal_metadata", "ii", "i", Revision.V0),
    _spec("reveal", "iiii", "i", Revision.V3),
    # Opt-in "new durable storage" (V6): importable, never enabled here.
    _spec("nds_registry_resize", "I", "i", Revision.V6),
    _spec("nds_registry_copy", "II", "i", Revision.V6),
    _spec("nds_registry_move", "II", "i", Revision.V6),
    _spec("nds_registry_clear", "I", "i", Revision.V6),
    _spec("nds_store_exists", "Iii", "i", Revision.V6),
    _spec("nds_store_read", "IiiIii", "i", Revision.V6),
    _spec("nds_store_write", "IiiIii", "i", Revision.V6),
    _spec("nds_store_set", "Iiiii", "i", Revision.V6),
    _spec("nds_store_delete", "Iii", "i", Revision.V6),
    _spec("nds_store_value_size", "Iii", "i", Revision.V6),
    _spec("nds_database_get_hash", "Iii", "i", Revision.V6),
)


def offered(revision: Revision) -> dict[str, FuncSig]:
    """Host functions a kernel may import under ``revision``."""
    return {f.name: f.signature for f in HOST_FUNCTIONS if f.since <= revision}


class _Abort(Exception):
    """Raised from a host function to stop the kernel (reported via the
    run context, never to the kernel)."""


@attrs.define
class DebugCapture:
    """``write_debug`` output of one kernel_run, bounded in size."""

    cap: int
    chunks: list[bytes] = attrs.field(factory=list)
    captured: int = 0
    dropped: int = 0

    def add(self, data: bytes, requested: int) -> None:
        room = self.cap - self.captured
        kept = data[: max(room, 0)]
        if kept:
            self.chunks.append(kept)
            self.captured += len(kept)
        self.dropped += requested - len(kept)


class RunContext:
    """Everything the host functions touch during one kernel_run."""

    def __init__(
        self,
        *,
        store: wasmtime.Store,
        durable: DurableStorage,
        outbox: Outbox,
        inputs: list[tuple[int, int, bytes]],
        input_pos: int,
        oracle: RevealOracle,
        debug: DebugCapture,
    ) -> None:
        self.store = store
        self.memory: wasmtime.Memory | None = None
        self.durable = durable
        self.outbox = outbox
        self.inputs = inputs
        self.input_pos = input_pos
        self.oracle = oracle
        self.debug = debug
        self.host_ticks = 0
        self.out_of_ticks = False
        self.init_host_call: str | None = None
        self.missing: MissingPreimage | None = None
        self.internal_error: str | None = None
        self.reveals = 0
        self._base = 0
        self._size = 0

    # -- ticks ------------------------------------------------------------

    def charge(self, amount: int) -> None:
        """Take ``amount`` host ticks from the store's fuel; running out
        stops the kernel (Octez: the next step is ``Too_many_ticks``)."""
        if amount <= 0:
            return
        self.host_ticks += amount
        remaining = self.store.get_fuel()
        if amount > remaining:
            self.store.set_fuel(0)
            self.out_of_ticks = True
            raise _Abort("out of ticks in a host function")
        self.store.set_fuel(remaining - amount)

    # -- memory -----------------------------------------------------------

    def refresh_memory(self) -> None:
        """Cache the memory's address and size for the current host call
        (they only change when the kernel grows its memory)."""
        assert self.memory is not None
        ptr = self.memory.data_ptr(self.store)
        self._base = ctypes.cast(ptr, ctypes.c_void_p).value or 0
        self._size = self.memory.data_len(self.store)

    def mem_size(self) -> int:
        return self._size

    def check_range(self, addr: int, length: int) -> None:
        """``[addr, addr + length)`` inside memory (addr unsigned);
        negative length → −8, out of bounds → −6, empty always fine."""
        if length < 0:
            raise HostFailure(HostError.GENERIC_INVALID_ACCESS)
        if length and (addr & 0xFFFFFFFF) + length > self._size:
            raise HostFailure(HostError.MEMORY_INVALID_ACCESS)

    def load(self, addr: int, length: int) -> bytes:
        self.check_range(addr, length)
        if length == 0:
            return b""
        return ctypes.string_at(self._base + (addr & 0xFFFFFFFF), length)

    def store_bytes(self, addr: int, data: bytes) -> None:
        self.check_range(addr, len(data))
        if data:
            ctypes.memmove(self._base + (addr & 0xFFFFFFFF), data, len(data))

    def check_address_strict(self, addr: int, length: int) -> None:
        """``read_input``'s check: ``addr + length < memory size``
        (strict), negative length → −6 (host_funcs.ml ``check_address``)."""
        if length < 0 or (addr & 0xFFFFFFFF) + length >= self.mem_size():
            raise HostFailure(HostError.MEMORY_INVALID_ACCESS)

    def load_key(self, ptr: int, length: int) -> Key:
        """The key checks (host_funcs.ml ``load_key_from_memory``)."""
        if length > limits.MAX_KEY_LENGTH:
            raise HostFailure(HostError.STORE_KEY_TOO_LARGE)
        return durable_mod.parse_key(self.load(ptr, length))


def _truncate(data: bytes, max_size: int) -> bytes:
    if max_size < 0:
        raise HostFailure(HostError.GENERIC_INVALID_ACCESS)
    return data[:max_size]


# -- the host functions ------------------------------------------------------
# Each takes the run context and the raw i32/i64 arguments, returns the
# result, and raises HostFailure for an error code.


def read_input(ctx: RunContext, info_ptr: int, dst: int, max_bytes: int) -> int:
    """Dequeue the next message: its first ``min(len, max_bytes, 4096)``
    bytes at ``dst`` and (level, id) as two little-endian i32 at
    ``info_ptr``; 0 when no input is left. Both ranges are checked, strictly,
    before anything is consumed (−6)."""
    ctx.check_address_strict(info_ptr, 8)
    m = min(limits.INPUT_OUTPUT_MAX_SIZE, max_bytes)
    ctx.check_address_strict(dst, m)
    if ctx.input_pos >= len(ctx.inputs):
        return 0
    level, index, payload = ctx.inputs[ctx.input_pos]
    ctx.input_pos += 1
    n = min(len(payload), m)
    ctx.store_bytes(dst, payload[:n])
    info = level.to_bytes(4, "little", signed=True) + index.to_bytes(4, "little", signed=True)
    ctx.store_bytes(info_ptr, info)
    ctx.charge(ticks.read_input(n))
    return n


def write_output(ctx: RunContext, src: int, num_bytes: int) -> int:
    """Append ``num_bytes`` from ``src`` to the current outbox level.
    Order: > 4,096 → −7; memory → −6 (−8 if negative); full outbox → −11."""
    if num_bytes > limits.INPUT_OUTPUT_MAX_SIZE:
        raise HostFailure(HostError.INPUT_OUTPUT_TOO_LARGE)
    payload = ctx.load(src, num_bytes)
    ctx.outbox.push(payload)
    ctx.charge(ticks.write_output(num_bytes))
    return 0


def write_debug(ctx: RunContext, src: int, num_bytes: int) -> None:
    """Capture debug bytes; never fails and costs no tick. An out-of-bounds
    range is ignored silently (host_funcs.ml: a no-op for the PVM)."""
    length = num_bytes & 0xFFFFFFFF
    if (src & 0xFFFFFFFF) + length > ctx.mem_size():
        return
    room = max(ctx.debug.cap - ctx.debug.captured, 0)
    ctx.debug.add(ctx.load(src, min(length, room)), length)


def store_has(ctx: RunContext, ptr: int, length: int) -> int:
    """0 nothing, 1 value only, 2 children only, 3 both (host_funcs.ml)."""
    k = ctx.load_key(ptr, length)
    has_value = ctx.durable.has_value(k)
    count = ctx.durable.count_subtrees(k)
    ctx.charge(ticks.key_operation(length))
    if not has_value:
        return 0 if count == 0 else 2
    return 1 if count == 1 else 3


def store_list_size(ctx: RunContext, ptr: int, length: int) -> int:
    """Number of children, the value counting as one (i64)."""
    k = ctx.load_key(ptr, length)
    n = ctx.durable.count_subtrees(k)
    ctx.charge(ticks.key_operation(length))
    return n


def store_get_nth_key(
    ctx: RunContext, ptr: int, length: int, index: int, dst: int, max_size: int
) -> int:
    """Name of child ``index`` (``""`` for the value) truncated to
    ``max_size``. Order: key checks; nothing at path → −10; index out of
    range → −12; negative ``max_size`` → −8; memory → −6."""
    k = ctx.load_key(ptr, length)
    names = ctx.durable.child_names(k)
    if not 0 <= index < len(names):
        raise HostFailure(HostError.STORE_INVALID_SUBKEY_INDEX)
    name = _truncate(names[index].encode("ascii"), max_size)
    ctx.store_bytes(dst, name)
    ctx.charge(ticks.key_operation(length))
    return len(name)


def store_delete(ctx: RunContext, ptr: int, length: int) -> int:
    """Delete value and subtree; absent is fine; read-only → −9."""
    k = ctx.load_key(ptr, length)
    ctx.durable.delete(k)
    ctx.charge(ticks.key_operation(length))
    return 0


def store_delete_value(ctx: RunContext, ptr: int, length: int) -> int:
    """Delete only the value; absent is fine; read-only → −9."""
    k = ctx.load_key(ptr, length)
    ctx.durable.delete_value(k)
    ctx.charge(ticks.key_operation(length))
    return 0


def store_copy(ctx: RunContext, fptr: int, flen: int, tptr: int, tlen: int) -> int:
    """Copy the subtree at ``from`` over ``to``. Order: key checks of
    ``from`` then ``to``; ``to`` read-only → −9; nothing at ``from`` → −10."""
    src = ctx.load_key(fptr, flen)
    dst = ctx.load_key(tptr, tlen)
    ctx.durable.copy_tree(src, dst)
    ctx.charge(ticks.copy_or_move(flen, tlen))
    return 0


def store_move(ctx: RunContext, fptr: int, flen: int, tptr: int, tlen: int) -> int:
    """Move the subtree at ``from`` to ``to``. Order: key checks; either end
    read-only → −9; nothing at ``from`` → −10."""
    src = ctx.load_key(fptr, flen)
    dst = ctx.load_key(tptr, tlen)
    ctx.durable.move_tree(src, dst)
    ctx.charge(ticks.copy_or_move(flen, tlen))
    return 0


def store_value_size(ctx: RunContext, ptr: int, length: int) -> int:
    """Size of the value; no value → −3."""
    k = ctx.load_key(ptr, length)
    size = ctx.durable.value_size(k)
    ctx.charge(ticks.key_operation(length))
    return size


def store_read(
    ctx: RunContext, ptr: int, length: int, offset: int, dst: int, max_bytes: int
) -> int:
    """Copy ``min(max_bytes, size − offset)`` bytes of the value to ``dst``.
    Order: key checks; > 2,048 → −7; no value → −3; offset outside
    ``[0, size)`` → −4; negative ``max_bytes`` → −8; memory → −6."""
    k = ctx.load_key(ptr, length)
    data = ctx.durable.read_value(k, offset, max_bytes)
    ctx.store_bytes(dst, data)
    ctx.charge(ticks.store_io(length, len(data)))
    return len(data)


def store_write(
    ctx: RunContext, ptr: int, length: int, offset: int, src: int, num_bytes: int
) -> int:
    """Write ``num_bytes`` from ``src`` at ``offset`` of the value.
    Order: key checks; size + ``num_bytes`` overflows i32 (also any negative
    ``num_bytes``) → −5; source memory → −6; read-only → −9; > 2,048 → −7;
    offset > size → −4; negative offset → −8."""
    k = ctx.load_key(ptr, length)
    node_size = ctx.durable.value_size(k) if ctx.durable.has_value(k) else 0
    total = node_size + num_bytes
    wrapped = ((total + 2**31) % 2**32) - 2**31
    if node_size > wrapped:
        raise HostFailure(HostError.STORE_VALUE_SIZE_EXCEEDED)
    ctx.check_range(src, num_bytes)
    if durable_mod.is_readonly(k):
        raise HostFailure(HostError.STORE_READONLY_VALUE)
    if num_bytes > limits.MAX_STORE_IO_SIZE:
        raise HostFailure(HostError.INPUT_OUTPUT_TOO_LARGE)
    ctx.durable.write_value(k, offset, ctx.load(src, num_bytes))
    ctx.charge(ticks.store_io(length, num_bytes))
    return 0


def store_create(ctx: RunContext, ptr: int, length: int, size: int) -> int:
    """Create a zero-filled value of ``size`` bytes. Order: key checks;
    ``size < 0`` → −5; read-only → −9; value exists → −13."""
    k = ctx.load_key(ptr, length)
    ctx.durable.create_value(k, size)
    ctx.charge(ticks.key_operation(length))
    return 0


def store_exists(ctx: RunContext, ptr: int, length: int) -> int:
    """1 if a value or children exist at the path, else 0."""
    k = ctx.load_key(ptr, length)
    found = ctx.durable.exists(k)
    ctx.charge(ticks.key_operation(length))
    return 1 if found else 0


def store_get_hash(ctx: RunContext, ptr: int, length: int, dst: int, max_size: int) -> int:
    """The 32-byte hash of the subtree, truncated to ``max_size``. Order: key
    checks; nothing there → −10; negative ``max_size`` → −8; memory → −6.
    The hash is this project's Merkle hash, not Irmin's (see durable.py)."""
    k = ctx.load_key(ptr, length)
    digest = _truncate(ctx.durable.subtree_hash(k), max_size)
    ctx.store_bytes(dst, digest)
    ctx.charge(ticks.key_operation(length))
    return len(digest)


def _reveal_into(ctx: RunContext, request: bytes, dst: int, max_bytes: int) -> int:
    try:
        answer = ctx.oracle.answer(request)
    except MissingPreimage as missing:
        ctx.missing = missing
        raise _Abort(str(missing)) from None
    ctx.reveals += 1
    if max_bytes < 0:
        raise HostFailure(HostError.MEMORY_INVALID_ACCESS)
    data = answer[:max_bytes]
    ctx.store_bytes(dst, data)
    ctx.charge(ticks.reveal(len(data)))
    return len(data)


def reveal_preimage(ctx: RunContext, hptr: int, hlen: int, dst: int, max_bytes: int) -> int:
    """Reveal the preimage of the hash at ``hptr``; request ``00`` ‖ hash
    bytes (a hash that is not 33 bytes starting ``00`` yields 0 bytes).
    Order: ``hash_len`` > 4,096 → −7; memory → −6; destination → −6."""
    if hlen > limits.INPUT_OUTPUT_MAX_SIZE:
        raise HostFailure(HostError.INPUT_OUTPUT_TOO_LARGE)
    hash_bytes = ctx.load(hptr, hlen)
    return _reveal_into(ctx, b"\x00" + hash_bytes, dst, max_bytes)


def reveal_metadata(ctx: RunContext, dst: int, max_bytes: int) -> int:
    """Write ``min(24, max_bytes)`` bytes of metadata; memory → −6."""
    return _reveal_into(ctx, b"\x01", dst, max_bytes)


def reveal(ctx: RunContext, pptr: int, plen: int, dst: int, max_bytes: int) -> int:
    """Generic reveal (V3+): the payload is the request, verbatim.
    Order: ``payload_len`` > 4,096 → −7; memory → −6; destination → −6."""
    if plen > limits.INPUT_OUTPUT_MAX_SIZE:
        raise HostFailure(HostError.INPUT_OUTPUT_TOO_LARGE)
    payload = ctx.load(pptr, plen)
    return _reveal_into(ctx, payload, dst, max_bytes)


def _nds_not_enabled(ctx: RunContext, *_args: int) -> int:
    """NDS functions without NDS activation: −16 (§7.4 of the reference)."""
    raise HostFailure(HostError.NDS_NOT_ENABLED)


IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {
    "read_input": read_input,
    "write_output": write_output,
    "write_debug": write_debug,
    "store_has": store_has,
    "store_list_size": store_list_size,
    "store_get_nth_key": store_get_nth_key,
    "store_delete": store_delete,
    "store_delete_value": store_delete_value,
    "store_copy": store_copy,
    "store_move": store_move,
    "store_value_size": store_value_size,
    "store_read": store_read,
    "store_write": store_write,
    "store_create": store_create,
    "store_exists": store_exists,
    "__internal_store_get_hash": store_get_hash,
    "reveal_preimage": reveal_preimage,
    "reveal_metadata": reveal_metadata,
    "reveal": reveal,
}


def _valtype(code: int) -> wasmtime.ValType:
    return wasmtime.ValType.i32() if code == I32 else wasmtime.ValType.i64()


class Host:
    """A linker offering the host functions of one revision; the functions
    act on :attr:`ctx`, the context of the kernel_run in progress."""

    def __init__(self, engine: wasmtime.Engine, revision: Revision) -> None:
        self.revision = revision
        self.ctx: RunContext | None = None
        self.linker = wasmtime.Linker(engine)
        for spec in HOST_FUNCTIONS:
            if spec.since > revision:
                continue
            impl = IMPLEMENTATIONS.get(spec.name, _nds_not_enabled)
            ty = wasmtime.FuncType(
                [_valtype(p) for p in spec.params], [_valtype(r) for r in spec.results]
            )
            self.linker.define_func(MODULE, spec.name, ty, self._wrap(spec, impl))

    def _wrap(self, spec: HostFunctionSpec, impl: Callable[..., Any]) -> Callable[..., Any]:
        name = spec.name
        returns = bool(spec.results)

        def call(*args: int) -> Any:
            ctx = self.ctx
            if ctx is None:
                raise _Abort("host function called outside a kernel_run")
            if ctx.memory is None:
                ctx.init_host_call = name
                raise _Abort("host functions must not access memory during initialisation")
            try:
                ctx.refresh_memory()
                result = impl(ctx, *args)
            except HostFailure as failure:
                return int(failure.code)
            except _Abort:
                raise
            except Exception as exc:  # a bug here must not crash the PVM
                ctx.internal_error = f"{name}: {type(exc).__name__}: {exc}"
                raise _Abort(ctx.internal_error) from None
            return result if returns else None

        return call
