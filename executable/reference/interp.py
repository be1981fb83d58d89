"""One kernel_run, tick by tick: loading, instantiation, instructions, host
calls, and the fuel accounting that makes ticks match the fast VM.

**Ticks and fuel.** The fast VM counts a kernel_run's ticks as wasmtime fuel
(executable/wasm/ticks.py). wasmtime's rules (crates/cranelift/src/
func_environ.rs, ``fuel_before_op``; measured on wasmtime 50 and checked by
tests/executable/reference/test_ticks.py): every operator costs 1 except ``nop``,
``drop``, ``block``, ``loop``, ``else``, ``end``, ``return``,
``unreachable`` (0); entering a function costs 1; ``memory.fill/copy/init``
cost 1 more per byte, ``table.fill/copy/init`` per element,
``memory.grow`` per page asked (when the new size is at most 65,536
pages), ``table.grow`` per element asked (when within the store's 1,000,000
elements); the start function is called through a wrapper costing 2;
host functions add their Octez tick cost (host_funcs.ml ``Tick_model``).
Fuel runs out only where wasmtime checks it: on entering a function and at
a loop header (consumed ≥ limit), and in a host call whose cost exceeds
what is left. Not modelled: the few units wasmtime charges at
instantiation for constant expressions beyond ``i32/i64.const`` offsets
and function-index lists (``ref.func`` in global or element initialisers,
passive function-index segments), which compilers of kernels do not emit.

Here **one tick is one unit of fuel**: an instruction of cost 1 together
with the free instructions that follow it, a function entry, or one unit
of a host call's or bulk instruction's cost (a bulk memory instruction
moves one byte per tick, so its proofs stay small). Besides fuel, a
kernel_run has one tick to load the kernel (``Phase.LOAD``) and one per
reveal answered; the period is then padded to its budget, so both VMs reach
every kernel_run boundary at the same tick.

Stack exhaustion follows Octez (wasm_vm.ml ``stack_size_limit``: 300
frames before V1, 60,000 after), not wasmtime's byte budget.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import attrs
import wasmtime

from executable.reference import module as mod
from executable.reference.merkle import ProofIncomplete
from executable.reference.module import MASK32, MASK64, NULL, Compiled, UnsupportedKernel
from executable.reference.state import (
    PAGE,
    Frame,
    Instance,
    Machine,
    Memory,
    Phase,
    Trap,
)
from executable.wasm import host as host_mod
from executable.wasm import limits as limits_mod
from executable.wasm.errors import HostFailure
from executable.wasm.module_check import I32, KernelLoadError

# The special durable paths are the fast VM's (one definition).
from executable.wasm.pvm import (
    FALLBACK_KERNEL,
    KERNEL,
    STUCK_FLAG,
    UPGRADE_ERROR_FLAG,
)
from executable.wasm.reveal import Metadata, RevealOracle
from executable.wasm.revisions import Revision

TABLE_ELEMENTS_LIMIT = 1_000_000
"""The fast VM's store limit on table elements (pvm.py ``set_limits``)."""
MAX_TABLES = 4


@attrs.define
class RunRecord:
    """What one kernel_run did (not part of the state: reports and tests)."""

    outcome: str
    reason: str
    fuel: int
    debug: bytes


@attrs.define
class Env:
    """Everything a tick needs besides the state: the PVM's configuration
    and side channels (debug output, run records)."""

    tick_budget_override: int | None
    fuel_cap: int
    max_memory_bytes: int
    max_kernel_size: int
    max_debug_bytes: int
    engine: wasmtime.Engine
    runs: list[RunRecord] = attrs.field(factory=list)
    debug: host_mod.DebugCapture | None = None
    record: bool = True
    on_run_end: Callable[[Machine, RunRecord], None] | None = None
    on_boundary: Callable[[Machine], None] | None = None
    """Called after every boundary decision (the fast VM's ``on_boundary``)."""

    def budget(self, m: Machine) -> int:
        """Ticks of one period under the machine's revision."""
        if self.tick_budget_override is not None:
            return self.tick_budget_override
        return _BUDGETS[m.revision]

    def fuel_limit(self, m: Machine) -> int:
        """The fuel a kernel_run may use (fast VM: ``min(fuel_cap, budget − 2)``)."""
        return min(self.fuel_cap, self.budget(m) - 2)

    def out_of_fuel_kind(self, m: Machine) -> str:
        return "fuel_cap" if self.fuel_limit(m) < self.budget(m) - 2 else "too_many_ticks"

    def frame_limit(self, m: Machine) -> int:
        return Revision(m.revision).call_stack_frames


_BUDGETS = tuple(r.tick_budget for r in Revision)


class _OutOfTicks(Exception):
    """A host call costs more than the fuel left (fast VM: ``_Abort``)."""


class _Terminal(Exception):
    """The run ends in a terminal stuck state of this kind."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


class _NeedReveal(Exception):
    def __init__(self, request: bytes) -> None:
        super().__init__(request.hex())
        self.request = request


class _Done(Exception):
    """Control left the instruction stream (run finished or machine waits)."""


# -- host functions ------------------------------------------------------------------


class _Probe(RevealOracle):
    """The oracle of a reveal call's first tick: requests for a preimage
    or the metadata make the machine wait for an input; every other request
    is answered as the fast VM's oracle does (empty data)."""

    def __init__(self) -> None:
        super().__init__(Metadata(bytes(20), 0))

    def answer(self, request: bytes) -> bytes:
        if request == b"\x01" or (len(request) == 34 and request[:2] == b"\x00\x00"):
            raise _NeedReveal(request)
        return super().answer(request)


class _Answer(RevealOracle):
    """The oracle of a reveal's answering tick: the data given as input."""

    def __init__(self, data: bytes) -> None:
        super().__init__(Metadata(bytes(20), 0))
        self.data = data

    def answer(self, request: bytes) -> bytes:
        return self.data


class RefContext(host_mod.RunContext):
    """The fast VM's host-function context over the reference machine: the
    same host functions (:mod:`executable.wasm.host`) run on the reference
    memory, durable storage, outbox and inputs."""

    def __init__(self, m: Machine, env: Env, oracle: RevealOracle) -> None:
        assert m.inst is not None
        self.memory = None
        self.durable = m.durable  # type: ignore[assignment]
        self.outbox = m.outbox  # type: ignore[assignment]
        self.inputs = m.inputs.items
        self.input_pos = m.inputs.pos
        self.oracle = oracle
        self.debug = env.debug if env.debug is not None else host_mod.DebugCapture(0)
        self.host_ticks = 0
        self.out_of_ticks = False
        self.init_host_call = None
        self.missing = None
        self.internal_error = None
        self.reveals = 0
        self._mem = m.inst.mem
        self._base = 0
        self._size = self._mem.size()
        self._left = max(0, env.fuel_limit(m) - m.fuel)
        self.charged = 0

    def charge(self, amount: int) -> None:
        if amount <= 0:
            return
        if amount > self._left:
            raise _OutOfTicks()
        self._left -= amount
        self.charged += amount

    def refresh_memory(self) -> None:
        pass

    def load(self, addr: int, length: int) -> bytes:
        self.check_range(addr, length)
        if length == 0:
            return b""
        return self._mem.load(addr & MASK32, length)

    def store_bytes(self, addr: int, data: bytes) -> None:
        self.check_range(addr, len(data))
        if data:
            self._mem.store(addr & MASK32, data)


def _signed(v: int, t: int) -> int:
    if t == I32:
        v &= MASK32
        return v - (1 << 32) if v >> 31 else v
    v &= MASK64
    return v - (1 << 64) if v >> 63 else v


def call_host(
    m: Machine, env: Env, host_id: int, raw: tuple[int, ...], oracle: RevealOracle
) -> None:
    """Run host function ``host_id`` with the raw wasm arguments ``raw``;
    push its result and set the stall to its tick cost."""
    spec = host_mod.HOST_FUNCTIONS[host_id]
    impl = host_mod.IMPLEMENTATIONS.get(spec.name, host_mod._nds_not_enabled)
    args = [_signed(v, t) for v, t in zip(raw, spec.params, strict=True)]
    ctx = RefContext(m, env, oracle)
    try:
        try:
            result = impl(ctx, *args)
        except HostFailure as failure:
            result = int(failure.code)
    except _NeedReveal as need:
        m.inputs.pos = ctx.input_pos
        m.phase = Phase.REVEAL
        m.reveal = (need.request, host_id, raw)
        raise _Done() from None
    except _OutOfTicks:
        m.inputs.pos = ctx.input_pos
        raise _Terminal(env.out_of_fuel_kind(m), "out of ticks in a host function") from None
    except (_Done, _Terminal, ProofIncomplete):
        raise  # a proof lacking what the host function reads is rejected, not an outcome
    except Exception as exc:  # a bug in a host function must not crash the PVM
        raise _Terminal("internal_error", f"{spec.name}: {type(exc).__name__}: {exc}") from None
    m.inputs.pos = ctx.input_pos
    assert m.inst is not None
    if spec.results:
        mask = MASK32 if spec.results[0] == I32 else MASK64
        m.inst.stack.append(int(result) & mask)
    m.stall = ctx.charged


# -- numeric instructions ---------------------------------------------------------------


def _s32(v: int) -> int:
    return v - (1 << 32) if v >> 31 else v


def _s64(v: int) -> int:
    return v - (1 << 64) if v >> 63 else v


def _div_s(a: int, b: int, bits: int) -> int:
    if b == 0:
        raise Trap("integer_division_by_zero")
    if a == -(1 << (bits - 1)) and b == -1:
        raise Trap("integer_overflow")
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _rem_s(a: int, b: int) -> int:
    if b == 0:
        raise Trap("integer_division_by_zero")
    q = abs(a) // abs(b)
    q = q if (a < 0) == (b < 0) else -q
    return a - b * q


def _div_u(a: int, b: int) -> int:
    if b == 0:
        raise Trap("integer_division_by_zero")
    return a // b


def _rem_u(a: int, b: int) -> int:
    if b == 0:
        raise Trap("integer_division_by_zero")
    return a % b


def _rotl(a: int, k: int, bits: int, mask: int) -> int:
    k %= bits
    return ((a << k) | (a >> (bits - k))) & mask


def _clz(a: int, bits: int) -> int:
    return bits - a.bit_length()


def _ctz(a: int, bits: int) -> int:
    return bits if a == 0 else (a & -a).bit_length() - 1


BINARY: dict[int, Callable[[int, int], int]] = {
    # i32 comparisons
    0x46: lambda a, b: int(a == b),
    0x47: lambda a, b: int(a != b),
    0x48: lambda a, b: int(_s32(a) < _s32(b)),
    0x49: lambda a, b: int(a < b),
    0x4A: lambda a, b: int(_s32(a) > _s32(b)),
    0x4B: lambda a, b: int(a > b),
    0x4C: lambda a, b: int(_s32(a) <= _s32(b)),
    0x4D: lambda a, b: int(a <= b),
    0x4E: lambda a, b: int(_s32(a) >= _s32(b)),
    0x4F: lambda a, b: int(a >= b),
    # i64 comparisons
    0x51: lambda a, b: int(a == b),
    0x52: lambda a, b: int(a != b),
    0x53: lambda a, b: int(_s64(a) < _s64(b)),
    0x54: lambda a, b: int(a < b),
    0x55: lambda a, b: int(_s64(a) > _s64(b)),
    0x56: lambda a, b: int(a > b),
    0x57: lambda a, b: int(_s64(a) <= _s64(b)),
    0x58: lambda a, b: int(a <= b),
    0x59: lambda a, b: int(_s64(a) >= _s64(b)),
    0x5A: lambda a, b: int(a >= b),
    # i32 arithmetic
    0x6A: lambda a, b: (a + b) & MASK32,
    0x6B: lambda a, b: (a - b) & MASK32,
    0x6C: lambda a, b: (a * b) & MASK32,
    0x6D: lambda a, b: _div_s(_s32(a), _s32(b), 32) & MASK32,
    0x6E: _div_u,
    0x6F: lambda a, b: _rem_s(_s32(a), _s32(b)) & MASK32,
    0x70: _rem_u,
    0x71: lambda a, b: a & b,
    0x72: lambda a, b: a | b,
    0x73: lambda a, b: a ^ b,
    0x74: lambda a, b: (a << (b & 31)) & MASK32,
    0x75: lambda a, b: (_s32(a) >> (b & 31)) & MASK32,
    0x76: lambda a, b: a >> (b & 31),
    0x77: lambda a, b: _rotl(a, b, 32, MASK32),
    0x78: lambda a, b: _rotl(a, 32 - (b % 32), 32, MASK32),
    # i64 arithmetic
    0x7C: lambda a, b: (a + b) & MASK64,
    0x7D: lambda a, b: (a - b) & MASK64,
    0x7E: lambda a, b: (a * b) & MASK64,
    0x7F: lambda a, b: _div_s(_s64(a), _s64(b), 64) & MASK64,
    0x80: _div_u,
    0x81: lambda a, b: _rem_s(_s64(a), _s64(b)) & MASK64,
    0x82: _rem_u,
    0x83: lambda a, b: a & b,
    0x84: lambda a, b: a | b,
    0x85: lambda a, b: a ^ b,
    0x86: lambda a, b: (a << (b & 63)) & MASK64,
    0x87: lambda a, b: (_s64(a) >> (b & 63)) & MASK64,
    0x88: lambda a, b: a >> (b & 63),
    0x89: lambda a, b: _rotl(a, b, 64, MASK64),
    0x8A: lambda a, b: _rotl(a, 64 - (b % 64), 64, MASK64),
}

UNARY: dict[int, Callable[[int], int]] = {
    0x45: lambda a: int(a == 0),
    0x50: lambda a: int(a == 0),
    0x67: lambda a: _clz(a, 32),
    0x68: lambda a: _ctz(a, 32),
    0x69: lambda a: a.bit_count(),
    0x79: lambda a: _clz(a, 64),
    0x7A: lambda a: _ctz(a, 64),
    0x7B: lambda a: a.bit_count(),
    0xA7: lambda a: a & MASK32,
    0xAC: lambda a: _s32(a & MASK32) & MASK64,
    0xAD: lambda a: a & MASK32,
    0xC0: lambda a: (((a & 0xFF) ^ 0x80) - 0x80) & MASK32,
    0xC1: lambda a: (((a & 0xFFFF) ^ 0x8000) - 0x8000) & MASK32,
    0xC2: lambda a: (((a & 0xFF) ^ 0x80) - 0x80) & MASK64,
    0xC3: lambda a: (((a & 0xFFFF) ^ 0x8000) - 0x8000) & MASK64,
    0xC4: lambda a: (((a & MASK32) ^ 0x80000000) - 0x80000000) & MASK64,
    0xD1: lambda a: int(a == NULL),
}

# loads: opcode -> (bytes, signed, result mask)
LOADS: dict[int, tuple[int, bool, int]] = {
    0x28: (4, False, MASK32),
    0x29: (8, False, MASK64),
    0x2C: (1, True, MASK32),
    0x2D: (1, False, MASK32),
    0x2E: (2, True, MASK32),
    0x2F: (2, False, MASK32),
    0x30: (1, True, MASK64),
    0x31: (1, False, MASK64),
    0x32: (2, True, MASK64),
    0x33: (2, False, MASK64),
    0x34: (4, True, MASK64),
    0x35: (4, False, MASK64),
}
STORES: dict[int, int] = {0x36: 4, 0x37: 8, 0x3A: 1, 0x3B: 2, 0x3C: 1, 0x3D: 2, 0x3E: 4}


# -- one instruction -------------------------------------------------------------------


def _branch(stack: Any, f: Frame, target: int, keep: int, height: int) -> None:
    """Jump to ``target`` keeping the top ``keep`` values over ``height``."""
    h = f.base + height
    if len(stack) != h + keep:
        if keep:
            vals = stack[-keep:]
            del stack[h:]
            stack.extend(vals)
        else:
            del stack[h:]
    f.pc = target


def _expand_locals(groups: tuple[int, ...]) -> list[int]:
    out: list[int] = []
    for i in range(0, len(groups), 2):
        out.extend([groups[i + 1]] * groups[i])
    return out


def _call(m: Machine, env: Env, inst: Instance, f: Frame, fidx: int) -> None:
    """Call function ``fidx``: a host function runs now; a wasm function
    gets its frame and its entry is the next tick (WebAssembly spec §4.4.10)."""
    desc = inst.funcs[fidx]
    f.pc += 1
    if desc[0] == 0:
        spec = host_mod.HOST_FUNCTIONS[desc[2]]
        n = len(spec.params)
        stack = inst.stack
        raw = tuple(stack[-n:]) if n else ()
        if n:
            del stack[-n:]
        if m.in_start:
            raise _Fallback(
                "init error: host functions must not access memory during initialisation"
                f" ({spec.name})"
            )
        call_host(m, env, desc[2], raw, _Probe())
        if m.stall:
            raise _Done()
        return
    push_frame(m, env, inst, desc)


def push_frame(m: Machine, env: Env, inst: Instance, desc: tuple[int, ...]) -> None:
    if len(inst.frames) >= env.frame_limit(m):
        raise _Terminal("stack_overflow", "call stack exhausted")
    nparams = desc[3]
    stack = inst.stack
    if nparams:
        args = stack[-nparams:]
        del stack[-nparams:]
    else:
        args = []
    locals_ = list(args) + _expand_locals(desc[5:])
    inst.frames.append(Frame(desc[2], len(stack), locals_))
    m.entry = 1
    raise _Done()


class _Fallback(Exception):
    """Instantiation failed: restore the fallback kernel (or get stuck)."""


def execute(m: Machine, env: Env, inst: Instance, f: Frame, ins: tuple[int, ...]) -> None:
    """Execute one instruction of cost 1 (WebAssembly spec §4.4)."""
    op = ins[0]
    stack = inst.stack
    fn = BINARY.get(op)
    if fn is not None:
        b = stack.pop()
        stack.append(fn(stack.pop(), b))
        f.pc += 1
        return
    if op == 0x20:
        stack.append(f.locals[ins[1]])
    elif op == 0x41 or op == 0x42:
        stack.append(ins[1])
    elif op == 0x21:
        f.locals[ins[1]] = stack.pop()
    elif op == 0x22:
        f.locals[ins[1]] = stack[-1]
    elif op in LOADS:
        n, signed, mask = LOADS[op]
        a = stack.pop() + ins[1]
        v = int.from_bytes(inst.mem.load(a, n), "little", signed=signed)
        stack.append(v & mask)
    elif op in STORES:
        n = STORES[op]
        v = stack.pop()
        a = stack.pop() + ins[1]
        inst.mem.store(a, (v & ((1 << (8 * n)) - 1)).to_bytes(n, "little"))
    elif op in UNARY:
        stack.append(UNARY[op](stack.pop()))
    elif op == 0x0C:
        _branch(stack, f, ins[1], ins[2], ins[3])
        return
    elif op == 0x0D:
        if stack.pop():
            _branch(stack, f, ins[1], ins[2], ins[3])
            return
    elif op == 0x04:
        if not stack.pop():
            f.pc = ins[1]
            return
    elif op == 0x0E:
        i = stack.pop()
        n = ins[1]
        k = 2 + 3 * (i if i < n else n)
        _branch(stack, f, ins[k], ins[k + 1], ins[k + 2])
        return
    elif op == 0x10:
        _call(m, env, inst, f, ins[1])
        return
    elif op == 0x11:
        _call_indirect(m, env, inst, f, ins)
        return
    elif op == 0x1B:
        c = stack.pop()
        b = stack.pop()
        if not c:
            stack[-1] = b
    elif op == 0x23:
        stack.append(inst.globals[ins[1]])
    elif op == 0x24:
        inst.globals[ins[1]] = stack.pop()
    elif op == 0x3F:
        stack.append(inst.mem.pages)
    elif op == 0x40:
        _memory_grow(m, env, inst, f)
        return
    elif op in (mod.MEMORY_FILL, mod.MEMORY_COPY, mod.MEMORY_INIT):
        _bulk_start(m, inst, f, ins)
        return
    else:
        _other(m, env, inst, f, ins)
        return
    f.pc += 1


def _call_indirect(m: Machine, env: Env, inst: Instance, f: Frame, ins: tuple[int, ...]) -> None:
    i = inst.stack.pop()
    table = inst.tables[ins[2]]
    if i >= len(table):
        raise Trap("table_out_of_bounds")
    ref = table[i]
    if ref == NULL:
        raise Trap("indirect_call_to_null")
    if inst.types[inst.funcs[ref][1]][2] != inst.types[ins[1]][2]:
        raise Trap("bad_signature")
    _call(m, env, inst, f, ref)


def _memory_grow(m: Machine, env: Env, inst: Instance, f: Frame) -> None:
    """``memory.grow``: −1 beyond the module's maximum or the store limit;
    wasmtime charges one fuel per page asked unless the new size exceeds
    the 65,536-page absolute maximum."""
    stack = inst.stack
    delta = stack.pop()
    old = inst.mem.pages
    new = old + delta
    maximum = _memory_max(inst, env)
    if new > maximum:
        stack.append(MASK32)
    else:
        inst.mem.grow_to(new)
        stack.append(old)
    f.pc += 1
    if new <= limits_mod.MAX_MEMORY_PAGES and delta:
        m.stall = delta
        raise _Done()


def _memory_max(inst: Instance, env: Env) -> int:
    cap = env.max_memory_bytes // PAGE
    if inst.static.memory_max is not None:
        cap = min(cap, inst.static.memory_max)
    return min(cap, limits_mod.MAX_MEMORY_PAGES)


def _bulk_start(m: Machine, inst: Instance, f: Frame, ins: tuple[int, ...]) -> None:
    """``memory.fill/copy/init``: bounds are checked at once (trap), then
    one byte moves per tick (wasmtime charges one fuel per byte)."""
    stack = inst.stack
    n = stack.pop()
    src = stack.pop()
    dst = stack.pop()
    size = inst.mem.size()
    op = ins[0]
    if op == mod.MEMORY_INIT:
        seg = inst.data[ins[1]]
        if src + n > len(seg) or dst + n > size:
            raise Trap("memory_out_of_bounds")
        m.bulk = (op, dst, src, n, 0, ins[1])
    elif op == mod.MEMORY_COPY:
        if src + n > size or dst + n > size:
            raise Trap("memory_out_of_bounds")
        m.bulk = (op, dst, src, n, 0)
    else:
        if dst + n > size:
            raise Trap("memory_out_of_bounds")
        m.bulk = (op, dst, src & 0xFF, n, 0)
    f.pc += 1
    if n:
        m.stall = n
        raise _Done()
    m.bulk = ()


def bulk_progress(m: Machine, inst: Instance, k: int) -> None:
    """Move ``k`` more bytes of the bulk instruction in progress."""
    op, dst, src, n, done, *rest = m.bulk
    mem = inst.mem
    end = done + k
    if op == mod.MEMORY_FILL:
        mem.store(dst + done, bytes([src]) * k)
    elif op == mod.MEMORY_INIT:
        seg = inst.data[rest[0]]
        mem.store(dst + done, seg[src + done : src + end])
    elif dst <= src:
        mem.store(dst + done, mem.load(src + done, k))
    else:
        # backwards (memmove): bytes n-1-done down to n-end
        lo = n - end
        mem.store(dst + lo, mem.load(src + lo, k))
    m.bulk = (op, dst, src, n, end, *rest) if end < n else ()


def _other(m: Machine, env: Env, inst: Instance, f: Frame, ins: tuple[int, ...]) -> None:
    """Reference-type, table and segment instructions."""
    op = ins[0]
    stack = inst.stack
    stall = 0
    if op == 0xD0:
        stack.append(NULL)
    elif op == 0xD2:
        stack.append(ins[1])
    elif op == 0x25:
        i = stack.pop()
        table = inst.tables[ins[1]]
        if i >= len(table):
            raise Trap("table_out_of_bounds")
        stack.append(table[i])
    elif op == 0x26:
        v = stack.pop()
        i = stack.pop()
        table = inst.tables[ins[1]]
        if i >= len(table):
            raise Trap("table_out_of_bounds")
        table[i] = v
    elif op == mod.TABLE_SIZE:
        stack.append(len(inst.tables[ins[1]]))
    elif op == mod.TABLE_GROW:
        n = stack.pop()
        init = stack.pop()
        table = inst.tables[ins[1]]
        old = len(table)
        tmax = inst.static.table_max[ins[1]]
        if old + n > TABLE_ELEMENTS_LIMIT:
            stack.append(MASK32)
        else:
            stall = n
            if (tmax is not None and old + n > tmax) or old + n > MASK32:
                stack.append(MASK32)
            else:
                table.extend([init] * n)
                stack.append(old)
    elif op == mod.TABLE_FILL:
        n = stack.pop()
        v = stack.pop()
        i = stack.pop()
        table = inst.tables[ins[1]]
        if i + n > len(table):
            raise Trap("table_out_of_bounds")
        for j in range(i, i + n):
            table[j] = v
        stall = n
    elif op == mod.TABLE_COPY:
        n = stack.pop()
        s = stack.pop()
        d = stack.pop()
        dt = inst.tables[ins[1]]
        st = inst.tables[ins[2]]
        if s + n > len(st) or d + n > len(dt):
            raise Trap("table_out_of_bounds")
        vals = [st[j] for j in range(s, s + n)]
        for j, v in enumerate(vals):
            dt[d + j] = v
        stall = n
    elif op == mod.TABLE_INIT:
        n = stack.pop()
        s = stack.pop()
        d = stack.pop()
        seg = inst.elems[ins[1]]
        table = inst.tables[ins[2]]
        if s + n > len(seg) or d + n > len(table):
            raise Trap("table_out_of_bounds")
        for j in range(n):
            table[d + j] = seg[s + j]
        stall = n
    elif op == mod.ELEM_DROP:
        inst.elems[ins[1]] = ()
    elif op == mod.DATA_DROP:
        inst.data[ins[1]] = b""
    else:
        raise UnsupportedKernel(f"instruction {op:#x}")
    f.pc += 1
    if stall:
        m.stall = stall
        raise _Done()


# -- free instructions and function exits -----------------------------------------------


def run_free(m: Machine, env: Env) -> None:
    """Execute the free instructions (cost 0) that come next: they belong
    to the tick that ran the instruction before them."""
    inst = m.inst
    assert inst is not None
    frames = inst.frames
    code = inst.code
    while True:
        f = frames[-1]
        ins = code[f.pc]
        op = ins[0]
        if op not in mod.FREE_OPS:
            return
        if op == 0x0F:
            _return(m, env, inst, ins[1])
            if not frames:
                _function_returned_to_host(m, env)
                return
        elif op == 0x0B or op == 0x01 or op == 0x02:
            f.pc += 1
        elif op == 0x05:
            f.pc = ins[1]
        elif op == 0x1A:
            inst.stack.pop()
            f.pc += 1
        elif op == 0x03:
            if m.fuel >= env.fuel_limit(m):
                raise _Terminal(env.out_of_fuel_kind(m), "fuel exhausted at a loop header")
            f.pc += 1
        else:  # 0x00 unreachable
            raise Trap("unreachable")


def _return(m: Machine, env: Env, inst: Instance, nresults: int) -> None:
    f = inst.frames.pop()
    stack = inst.stack
    if len(stack) != f.base + nresults:
        if nresults:
            vals = stack[-nresults:]
            del stack[f.base :]
            stack.extend(vals)
        else:
            del stack[f.base :]


def _function_returned_to_host(m: Machine, env: Env) -> None:
    if m.in_start:
        post_init(m, env)
        return
    finish(m, env, "returned", "kernel_run returned")


# -- the EVAL tick ------------------------------------------------------------------------


def eval_tick(m: Machine, env: Env) -> None:
    """One tick of a running kernel (``Phase.EVAL``)."""
    inst = m.inst
    assert inst is not None
    try:
        try:
            if m.stall:
                m.stall -= 1
                m.fuel += 1
                if m.bulk:
                    bulk_progress(m, inst, 1)
                if m.stall == 0:
                    run_free(m, env)
                return
            entry = m.entry
            if entry:
                m.fuel += 1
                if entry == 3:
                    _call_start(m, env, inst)
                    return
                m.entry = 3 if entry == 2 else 0
                if m.fuel >= env.fuel_limit(m):
                    raise _Terminal(env.out_of_fuel_kind(m), "fuel exhausted entering a function")
                if entry == 1:
                    run_free(m, env)
                return
            f = inst.frames[-1]
            ins = inst.code[f.pc]
            m.fuel += 1
            execute(m, env, inst, f, ins)
            run_free(m, env)
        except _Done:
            return
    except Trap as trap:
        if m.in_start:
            fallback(m, env, f"init error: start function trapped: {trap.code}")
        else:
            finish(m, env, "trapped", trap.code)
    except _Fallback as fb:
        fallback(m, env, str(fb))
    except _Terminal as term:
        stuck(m, env, term.kind, str(term))


def _call_start(m: Machine, env: Env, inst: Instance) -> None:
    """The start wrapper's call of the start function."""
    m.entry = 0
    start = inst.static.start
    assert start is not None
    desc = inst.funcs[start]
    if desc[0] == 0:
        raise _Fallback(
            "init error: host functions must not access memory during initialisation"
            f" ({host_mod.HOST_FUNCTIONS[desc[2]].name})"
        )
    with contextlib.suppress(_Done):
        push_frame(m, env, inst, desc)


def answer_reveal(m: Machine, env: Env, data: bytes) -> None:
    """The tick that gives a waiting reveal its data: the host function runs
    again with the data as the oracle's answer; this tick is the reveal's
    own step (ticks.py ``REVEAL_STEP``) when the call succeeds."""
    assert m.reveal is not None and m.inst is not None
    _request, host_id, raw = m.reveal
    m.reveal = None
    m.phase = Phase.EVAL
    try:
        try:
            call_host(m, env, host_id, raw, _Answer(data))
            if m.stall:
                m.stall -= 1
                m.fuel += 1
            if m.stall == 0:
                run_free(m, env)
        except _Done:
            return
    except Trap as trap:
        finish(m, env, "trapped", trap.code)
    except _Terminal as term:
        stuck(m, env, term.kind, str(term))


# -- loading, instantiation, the end of a run ------------------------------------------------


def load_tick(m: Machine, env: Env) -> None:
    """Snapshot, decode, link and initialise ``/kernel/boot.wasm`` in one
    tick (wasm_vm.ml: ``Snapshot`` → ``Decode`` → ``Link`` → ``Init``; the
    fast VM's ``_kernel_run`` up to the call of ``kernel_run``)."""
    m.fuel = 0
    m.stall = 0
    m.bulk = ()
    m.entry = 0
    m.in_start = False
    if env.record:
        env.debug = host_mod.DebugCapture(env.max_debug_bytes)
    d = m.durable
    if not d.has_value(KERNEL):
        stuck(m, env, "invalid_state", "no kernel at /kernel/boot.wasm")
        return
    size = d.value_size(KERNEL)
    if size > env.max_kernel_size:
        fallback(
            m,
            env,
            f"decode error: a kernel of {size} bytes exceeds the emulator's limit"
            f" of {env.max_kernel_size} bytes",
        )
        return
    code = d.read_all(KERNEL) or b""
    try:
        compiled = mod.load(code, Revision(m.revision), env.engine)
    except KernelLoadError as err:
        fallback(m, env, str(err))
        return
    try:
        inst = instantiate(compiled, env)
    except _Fallback as fb:
        fallback(m, env, str(fb))
        return
    m.inst = inst
    m.phase = Phase.EVAL
    if compiled.module.start is not None:
        m.in_start = True
        m.entry = 2
        return
    with contextlib.suppress(_Done):
        post_init(m, env)


def instantiate(compiled: Compiled, env: Env) -> Instance:
    """A fresh instance (WebAssembly spec §4.5.4): memory, tables, globals;
    element then data segments applied and dropped; store limits as the
    fast VM sets them."""
    module = compiled.module
    pages = module.memory[0] if module.memory is not None else 0
    if pages * PAGE > env.max_memory_bytes:
        raise _Fallback("init error: memory minimum size exceeds the store limit")
    if len(module.tables) > MAX_TABLES:
        raise _Fallback("init error: too many tables")
    for lo, _hi in module.tables:
        if lo > TABLE_ELEMENTS_LIMIT:
            raise _Fallback("init error: table minimum size exceeds the store limit")
    mem = Memory(pages)
    tables: list[list[int]] = [[NULL] * lo for lo, _hi in module.tables]
    elems = list(module.elems)
    datas = list(module.datas)
    for seg, t, offset in module.elem_active:
        items = elems[seg]
        if offset + len(items) > len(tables[t]):
            raise _Fallback("init error: start function trapped: table_out_of_bounds")
        tables[t][offset : offset + len(items)] = list(items)
        elems[seg] = ()
    for seg in module.declared_elems:
        elems[seg] = ()
    for seg, offset in module.data_active:
        blob = datas[seg]
        if offset + len(blob) > mem.size():
            raise _Fallback("init error: start function trapped: memory_out_of_bounds")
        mem.store(offset, blob)
        datas[seg] = b""
    inst = Instance(
        compiled,
        module.static,
        module.types,
        module.funcs,
        module.code,
        mem,
        list(module.globals),
        tables,
        datas,
        elems,
        [],
        [],
    )
    return inst


def post_init(m: Machine, env: Env) -> None:
    """After instantiation: the memory export, ``kernel_run``, and saving
    the fallback kernel (wasm_vm.ml ``save_fallback_kernel``); then enter
    ``kernel_run``."""
    inst = m.inst
    assert inst is not None
    m.in_start = False
    if not inst.static.memory_export:
        fallback(m, env, "init error: Module must export memory 0")
        raise _Done()
    entry = inst.static.entry
    if entry is None:
        stuck(m, env, "invalid_state", "Invalid_module: no `kernel_run` function exported")
        raise _Done()
    d = m.durable
    if d.value_digest(FALLBACK_KERNEL) != d.value_digest(KERNEL):
        d.copy_tree(KERNEL, FALLBACK_KERNEL, edit_readonly=True)
    with contextlib.suppress(_Done):
        push_frame(m, env, inst, inst.funcs[entry])
    raise _Done()


def finish(m: Machine, env: Env, outcome: str, reason: str) -> None:
    """The kernel_run returned or trapped: patch the flags, drop the
    instance, pad the period (fast VM ``_kernel_run``)."""
    d = m.durable
    if outcome == "returned":
        d.delete(STUCK_FLAG, edit_readonly=True)
        d.delete(UPGRADE_ERROR_FLAG, edit_readonly=True)
    else:
        d.write_value(STUCK_FLAG, 0, b"", edit_readonly=True)
    _end_run(m, env, outcome, reason)


def fallback(m: Machine, env: Env, reason: str) -> None:
    """Decode, link or init failure: restore the fallback kernel if there is
    a different one, else stuck forever (fast VM ``_fallback``)."""
    d = m.durable
    fb = d.value_digest(FALLBACK_KERNEL)
    if fb is not None and fb != d.value_digest(KERNEL):
        d.copy_tree(FALLBACK_KERNEL, KERNEL)
        d.write_value(UPGRADE_ERROR_FLAG, 0, b"", edit_readonly=True)
        m.reboot_counter = limits_mod.MAXIMUM_REBOOTS_PER_INPUT + 1
        _end_run(m, env, "fallback", reason)
        return
    stuck(m, env, "no_fallback_kernel", f"No_fallback_kernel: {reason}")


def stuck(m: Machine, env: Env, kind: str, reason: str) -> None:
    """A terminal outcome: the machine pads the period, then is stuck."""
    m.pending = kind
    _end_run(m, env, "stuck", reason)


def _end_run(m: Machine, env: Env, outcome: str, reason: str) -> None:
    fuel = m.fuel
    m.inst = None
    m.phase = Phase.PADDING
    m.fuel = 0
    m.stall = 0
    m.bulk = ()
    m.entry = 0
    m.in_start = False
    m.reveal = None
    if env.record:
        debug = b"".join(env.debug.chunks) if env.debug is not None else b""
        record = RunRecord(outcome, reason, fuel, debug)
        env.runs.append(record)
        if env.on_run_end is not None:
            env.on_run_end(m, record)
