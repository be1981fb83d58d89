"""Decoding a kernel into the reference PVM's module: WebAssembly 1.0
without floats, plus the integer extensions the PVM's decoder accepts
(sign extension, bulk memory, reference types, multi-value).

Acceptance is decided by the fast VM's own checks, so both VMs accept and
reject exactly the same binaries: :func:`executable.wasm.module_check.scan`
(Octez's decode and link rules: no floats, imports of the revision,
names) then wasmtime's validator with the fast VM's feature set. This module
only *decodes* what was accepted, and compiles each function body into a
flat list of instructions whose branches are resolved statically: a branch
carries its target, the number of values it keeps and the operand-stack
height (relative to the frame) of its label, which validation guarantees
(WebAssembly spec §3.3 and §4.4.8; the label stack of the small-step
semantics is thereby implicit). SIMD (``v128``) is valid in the fast VM but
not implemented here: such a kernel raises :class:`UnsupportedKernel`.

Octez: src/lib_webassembly/binary/decode.ml; WebAssembly spec §5 (binary).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping

import attrs
import wasmtime

from executable.reference.merkle import H, MerkleTree, depth_for
from executable.wasm import host as host_mod
from executable.wasm import layout, module_check
from executable.wasm.module_check import FuncSig, KernelLoadError
from executable.wasm.revisions import Revision
from spec.errors import ScoruError

I32, I64, FUNCREF, EXTERNREF, V128 = 0x7F, 0x7E, 0x70, 0x6F, 0x7B
NULL = 1 << 64
"""The null reference; a function reference is the function's index."""
MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF

# Pseudo-opcodes of 0xFC-prefixed instructions: 0xFC00 + sub-opcode.
MEMORY_INIT, DATA_DROP, MEMORY_COPY, MEMORY_FILL = 0xFC08, 0xFC09, 0xFC0A, 0xFC0B
TABLE_INIT, ELEM_DROP, TABLE_COPY, TABLE_GROW, TABLE_SIZE, TABLE_FILL = (
    0xFC0C,
    0xFC0D,
    0xFC0E,
    0xFC0F,
    0xFC10,
    0xFC11,
)

FREE_OPS = frozenset({0x00, 0x01, 0x02, 0x03, 0x05, 0x0B, 0x0F, 0x1A})
"""Operators that cost no wasmtime fuel: unreachable, nop, block, loop, else,
end, return, drop (wasmtime ``OperatorCost`` defaults, func_environ.rs)."""

HOST_IDS: dict[str, int] = {f.name: i for i, f in enumerate(host_mod.HOST_FUNCTIONS)}


class UnsupportedKernel(ScoruError):
    """A kernel the fast VM accepts but the reference PVM cannot run (SIMD)."""


Instr = tuple[int, ...]


@attrs.frozen
class Module:
    """A decoded kernel. Instruction, function and type tuples are plain
    ints so that they hash and travel in proofs as they are.

    * ``types[t] = (nparams, nresults, canonical index)``;
    * ``funcs[f] = (0, type, host id)`` for an import,
      ``(1, type, entry pc, nparams, nresults, count₁, init₁, …)`` for a
      defined function (its extra locals by groups, ``init`` 0 or ``NULL``);
    * ``code``: every body, concatenated; a body ends with ``return``.
    """

    types: tuple[Instr, ...]
    funcs: tuple[Instr, ...]
    code: tuple[Instr, ...]
    n_imports: int
    memory: tuple[int, int | None] | None
    tables: tuple[tuple[int, int | None], ...]
    globals: tuple[int, ...]
    elems: tuple[tuple[int, ...], ...]
    elem_active: tuple[tuple[int, int, int], ...]
    """(segment, table, offset) of active element segments, in order."""
    datas: tuple[bytes, ...]
    data_active: tuple[tuple[int, int], ...]
    """(segment, offset) of active data segments, in order."""
    declared_elems: tuple[int, ...]
    """Declarative element segments (dropped at instantiation)."""
    start: int | None
    memory_export: bool
    entrypoint: int | None
    """Index of the exported function ``kernel_run`` (None if absent)."""
    entry_ok: bool
    """``kernel_run`` is a function of no parameters (wasm_vm.ml)."""
    digest: bytes

    @property
    def static(self) -> tuple[int, ...]:
        """The static facts a tick may need (:class:`Static` as ints)."""
        mem_max = NONE if self.memory is None or self.memory[1] is None else self.memory[1]
        out = [
            mem_max,
            NONE if self.start is None else self.start,
            int(self.memory_export),
            self.entrypoint if self.entry_ok and self.entrypoint is not None else NONE,
            len(self.tables),
        ]
        out.extend(NONE if hi is None else hi for _lo, hi in self.tables)
        return tuple(out)


NONE = 1 << 64
"""``None`` in an int tuple."""


@attrs.frozen
class Static:
    """A module's static facts, as stored in the instance's header leaf."""

    memory_max: int | None
    start: int | None
    memory_export: bool
    entry: int | None
    """``kernel_run`` if exported as a function without parameters."""
    table_max: tuple[int | None, ...]

    @classmethod
    def of_ints(cls, raw: tuple[int, ...]) -> Static:
        def opt(v: int) -> int | None:
            return None if v == NONE else v

        n = raw[4]
        return cls(
            opt(raw[0]),
            opt(raw[1]),
            bool(raw[2]),
            opt(raw[3]),
            tuple(opt(v) for v in raw[5 : 5 + n]),
        )


def static_hash(raw: tuple[int, ...]) -> bytes:
    return ints_leaf(b"module-static", raw)


@attrs.frozen
class Compiled:
    """A module and the Merkle trees of its static parts."""

    module: Module
    types_tree: MerkleTree
    funcs_tree: MerkleTree
    code_tree: MerkleTree
    header_hash: bytes


def encode_ints(values: tuple[int, ...]) -> bytes:
    """A tuple of non-negative ints: count (u16) ‖ 9-byte little-endian each."""
    return len(values).to_bytes(2, "little") + b"".join(v.to_bytes(9, "little") for v in values)


def decode_ints(data: bytes, pos: int) -> tuple[tuple[int, ...], int]:
    from spec.errors import EncodingError

    if pos + 2 > len(data):
        raise EncodingError("truncated int tuple")
    n = int.from_bytes(data[pos : pos + 2], "little")
    pos += 2
    end = pos + 9 * n
    if end > len(data):
        raise EncodingError("truncated int tuple")
    vals = tuple(int.from_bytes(data[p : p + 9], "little") for p in range(pos, end, 9))
    return vals, end


def ints_leaf(tag: bytes, values: tuple[int, ...]) -> bytes:
    return H(tag, encode_ints(values))


TYPE_LEAF = b"type"
FUNC_LEAF = b"func"
CODE_LEAF = b"code"
ABSENT_LEAF = layout.ABSENT_LEAF


class _R:
    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def byte(self) -> int:
        b = self.data[self.pos]
        self.pos += 1
        return b

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.data[self.pos]
            self.pos += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def sleb(self) -> int:
        result = shift = 0
        while True:
            b = self.data[self.pos]
            self.pos += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    result -= 1 << shift
                return result

    def take(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def name(self) -> str:
        return self.take(self.uleb()).decode("utf-8")


# Stack effect (pops, pushes) of every operator that is neither structured
# control nor index-dependent; used to compute branch heights.
_EFFECT: dict[int, tuple[int, int]] = {}
for _op in range(0x28, 0x36):
    _EFFECT[_op] = (1, 1)  # loads
for _op in range(0x36, 0x3F):
    _EFFECT[_op] = (2, 0)  # stores
_EFFECT.update({0x3F: (0, 1), 0x40: (1, 1), 0x41: (0, 1), 0x42: (0, 1)})
for _op in (0x45, 0x50):
    _EFFECT[_op] = (1, 1)  # eqz
for _op in [*range(0x46, 0x50), *range(0x51, 0x5B)]:
    _EFFECT[_op] = (2, 1)  # comparisons
for _op in (0x67, 0x68, 0x69, 0x79, 0x7A, 0x7B):
    _EFFECT[_op] = (1, 1)  # clz ctz popcnt
for _op in [*range(0x6A, 0x79), *range(0x7C, 0x8B)]:
    _EFFECT[_op] = (2, 1)  # binary
for _op in (0xA7, 0xAC, 0xAD, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4):
    _EFFECT[_op] = (1, 1)  # wrap, extend, sign extension
_EFFECT.update(
    {
        0x1A: (1, 0),
        0x1B: (3, 1),
        0x1C: (3, 1),
        0xD0: (0, 1),
        0xD1: (1, 1),
        0xD2: (0, 1),
        0x25: (1, 1),
        0x26: (2, 0),
        MEMORY_INIT: (3, 0),
        DATA_DROP: (0, 0),
        MEMORY_COPY: (3, 0),
        MEMORY_FILL: (3, 0),
        TABLE_INIT: (3, 0),
        ELEM_DROP: (0, 0),
        TABLE_COPY: (3, 0),
        TABLE_GROW: (2, 1),
        TABLE_SIZE: (0, 1),
        TABLE_FILL: (3, 0),
    }
)


def _valtype(r: _R) -> int:
    t = r.byte()
    if t == V128:
        raise UnsupportedKernel("SIMD (v128) is not implemented by the reference PVM")
    return t


def _block_type(r: _R, types: list[FuncSig]) -> tuple[int, int]:
    b = r.data[r.pos]
    if b == 0x40:
        r.pos += 1
        return 0, 0
    if b in (I32, I64, FUNCREF, EXTERNREF, V128):
        _valtype(r)
        return 0, 1
    idx = r.sleb()
    params, results = types[idx]
    return len(params), len(results)


def _const_expr(r: _R, globals_: list[int], n_funcs: int) -> int:
    """Evaluate a constant expression (i32/i64.const, ref.null, ref.func,
    global.get, and the extended-const add/sub/mul)."""
    stack: list[int] = []
    while True:
        op = r.byte()
        if op == 0x0B:
            return stack[-1]
        if op == 0x41:
            stack.append(r.sleb() & MASK32)
        elif op == 0x42:
            stack.append(r.sleb() & MASK64)
        elif op == 0xD0:
            r.byte()
            stack.append(NULL)
        elif op == 0xD2:
            stack.append(r.uleb())
        elif op == 0x23:
            stack.append(globals_[r.uleb()])
        elif op in (0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E):
            b, a = stack.pop(), stack.pop()
            mask = MASK32 if op < 0x70 else MASK64
            k = op if op < 0x70 else op - 0x12
            stack.append((a + b if k == 0x6A else a - b if k == 0x6B else a * b) & mask)
        else:
            raise UnsupportedKernel(f"constant expression operator 0x{op:02x}")


class _Ctrl:
    __slots__ = ("fixups", "height", "kind", "nparams", "nresults", "pc")

    def __init__(self, kind: str, pc: int, height: int, nparams: int, nresults: int) -> None:
        self.kind = kind
        self.pc = pc
        self.height = height
        self.nparams = nparams
        self.nresults = nresults
        self.fixups: list[tuple[int, int]] = []
        """(instruction index, field index) to receive the label's target."""


def _compile_body(
    r: _R,
    code: list[list[int]],
    types: list[FuncSig],
    func_types: list[int],
    nresults: int,
) -> None:
    """Compile one body into ``code``.

    A branch to label ``l`` becomes ``target, keep, height``: jump to
    ``target`` keeping the top ``keep`` values on an operand stack cut to
    ``height`` (relative to the frame): for a loop the loop instruction,
    its parameters and its entry height; for a block or ``if`` the
    instruction after its ``end``, its results and its entry height; for
    the function the final ``return``. WebAssembly spec §3.3.8, §4.4.8.
    """
    h = 0
    ctrl = [_Ctrl("func", len(code), 0, 0, nresults)]

    def add_target(ins: list[int], depth: int) -> None:
        c = ctrl[-1 - depth]
        if c.kind == "loop":
            ins.extend((c.pc, c.nparams, c.height))
        else:
            c.fixups.append((len(code), len(ins)))
            ins.extend((-1, c.nresults, c.height))

    while True:
        op = r.byte()
        if op in (0x02, 0x03, 0x04):
            np, nr = _block_type(r, types)
            if op == 0x04:
                h -= 1
            kind = {2: "block", 3: "loop", 4: "if"}[op]
            ctrl.append(_Ctrl(kind, len(code), h - np, np, nr))
            code.append([op, -1] if op == 0x04 else [op])
        elif op == 0x05:
            c = ctrl[-1]
            code[c.pc][1] = len(code) + 1
            c.kind = "else"
            c.fixups.append((len(code), 1))
            code.append([op, -1])
            h = c.height + c.nparams
        elif op == 0x0B:
            c = ctrl.pop()
            if c.kind == "func":
                code.append([0x0F, nresults])
                after = len(code) - 1
            else:
                code.append([op])
                after = len(code)
                if c.kind == "if":
                    code[c.pc][1] = after
            for i, field in c.fixups:
                code[i][field] = after
            if c.kind == "func":
                if r.pos != r.end:
                    raise UnsupportedKernel("END opcode before the end of the function")
                return
            h = c.height + c.nresults
        elif op in (0x0C, 0x0D):
            depth = r.uleb()
            if op == 0x0D:
                h -= 1
            ins = [op]
            add_target(ins, depth)
            code.append(ins)
        elif op == 0x0E:
            n = r.uleb()
            depths = [r.uleb() for _ in range(n + 1)]
            h -= 1
            ins = [op, n]
            for d in depths:
                add_target(ins, d)
            code.append(ins)
        elif op in (0x00, 0x01):
            code.append([op])
        elif op == 0x0F:
            code.append([op, nresults])
        elif op == 0x10:
            f = r.uleb()
            params, results = types[func_types[f]]
            h += len(results) - len(params)
            code.append([op, f])
        elif op == 0x11:
            t = r.uleb()
            table = r.uleb()
            params, results = types[t]
            h += len(results) - len(params) - 1
            code.append([op, t, table])
        elif op == 0x1C:
            for _ in range(r.uleb()):
                _valtype(r)
            h -= 2
            code.append([0x1B])
        elif op in (0x20, 0x21, 0x22, 0x23, 0x24):
            idx = r.uleb()
            h += {0x20: 1, 0x21: -1, 0x22: 0, 0x23: 1, 0x24: -1}[op]
            code.append([op, idx])
        else:
            ins = _simple(r, op)
            eff = _EFFECT.get(ins[0])
            if eff is None:
                raise UnsupportedKernel(f"instruction 0x{ins[0]:02x}")
            h += eff[1] - eff[0]
            code.append(ins)


def _simple(r: _R, op: int) -> list[int]:
    """Decode the immediates of a non-control instruction."""
    if op in (0x25, 0x26, 0xD2):
        return [op, r.uleb()]
    if 0x28 <= op <= 0x3E:
        r.uleb()  # alignment: a hint only
        return [op, r.uleb()]
    if op in (0x3F, 0x40):
        r.byte()
        return [op]
    if op == 0x41:
        return [op, r.sleb() & MASK32]
    if op == 0x42:
        return [op, r.sleb() & MASK64]
    if op == 0xD0:
        r.byte()
        return [op]
    if op == 0xFC:
        code = 0xFC00 + r.uleb()
        if code == MEMORY_INIT:
            idx = r.uleb()
            r.byte()
            return [code, idx]
        if code in (DATA_DROP, ELEM_DROP, TABLE_GROW, TABLE_SIZE, TABLE_FILL):
            return [code, r.uleb()]
        if code == MEMORY_COPY:
            r.byte()
            r.byte()
            return [code]
        if code == MEMORY_FILL:
            r.byte()
            return [code]
        if code in (TABLE_INIT, TABLE_COPY):
            a = r.uleb()
            return [code, a, r.uleb()]
        raise UnsupportedKernel(f"instruction 0xfc {code - 0xFC00}")
    if op == 0xFD:
        raise UnsupportedKernel("SIMD (v128) is not implemented by the reference PVM")
    return [op]


_CACHE: OrderedDict[tuple[bytes, int], Compiled | str] = OrderedDict()
_CACHE_SIZE = 32


def load(binary: bytes, revision: Revision, engine: wasmtime.Engine) -> Compiled:
    """Check, decode and compile a kernel (cached by content and revision).

    Raises :class:`KernelLoadError` exactly when the fast VM's ``_load``
    does (the same checks, the same wasmtime validation), and
    :class:`UnsupportedKernel` for valid kernels the reference cannot run.
    """
    key = (hashlib.blake2b(binary, digest_size=32).digest(), int(revision))
    cached = _CACHE.get(key)
    if cached is None:
        try:
            module_check.scan(binary, host_mod.offered(revision))
            wasmtime.Module.validate(engine, binary)
        except KernelLoadError as err:
            cached = str(err)
        except wasmtime.WasmtimeError as err:
            text = str(err).strip().splitlines()
            cached = f"decode error: {text[0] if text else err}"
        else:
            cached = compile_module(decode(binary, host_mod.offered(revision)))
        _CACHE[key] = cached
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    if isinstance(cached, str):
        stage, _, reason = cached.partition(" error: ")
        raise KernelLoadError(stage, reason)
    return cached


def decode(binary: bytes, offered: Mapping[str, FuncSig]) -> Module:
    """Decode an accepted binary (WebAssembly spec §5.5)."""
    r = _R(binary, 8)
    types: list[FuncSig] = []
    func_types: list[int] = []
    host_ids: list[int] = []
    defined_types: list[int] = []
    memory: tuple[int, int | None] | None = None
    tables: list[tuple[int, int | None]] = []
    global_inits: list[int] = []
    exports: dict[str, tuple[int, int]] = {}
    start: int | None = None
    elems: list[tuple[int, ...]] = []
    elem_active: list[tuple[int, int, int]] = []
    declared: list[int] = []
    datas: list[bytes] = []
    data_active: list[tuple[int, int]] = []
    code: list[list[int]] = []
    entries: list[tuple[int, tuple[int, ...]]] = []
    while r.pos < r.end:
        section = r.byte()
        size = r.uleb()
        end = r.pos + size
        s = _R(binary, r.pos, end)
        if section == 1:
            for _ in range(s.uleb()):
                s.byte()
                params = tuple(_valtype(s) for _ in range(s.uleb()))
                results = tuple(_valtype(s) for _ in range(s.uleb()))
                types.append((params, results))
        elif section == 2:
            for _ in range(s.uleb()):
                s.name()
                item = s.name()
                s.byte()
                func_types.append(s.uleb())
                host_ids.append(HOST_IDS[item])
        elif section == 3:
            for _ in range(s.uleb()):
                t = s.uleb()
                func_types.append(t)
                defined_types.append(t)
        elif section == 4:
            for _ in range(s.uleb()):
                s.byte()
                tables.append(_limits(s))
        elif section == 5:
            for _ in range(s.uleb()):
                memory = _limits(s)
        elif section == 6:
            for _ in range(s.uleb()):
                _valtype(s)
                s.byte()
                global_inits.append(_const_expr(s, global_inits, len(func_types)))
        elif section == 7:
            for _ in range(s.uleb()):
                name = s.name()
                kind = s.byte()
                exports[name] = (kind, s.uleb())
        elif section == 8:
            start = s.uleb()
        elif section == 9:
            for _ in range(s.uleb()):
                _element_segment(s, global_inits, len(func_types), elems, elem_active, declared)
        elif section == 10:
            n_imports = len(host_ids)
            for i in range(s.uleb()):
                body_size = s.uleb()
                body = _R(binary, s.pos, s.pos + body_size)
                groups: list[int] = []
                for _ in range(body.uleb()):
                    count = body.uleb()
                    t = _valtype(body)
                    groups.extend((count, NULL if t in (FUNCREF, EXTERNREF) else 0))
                pc = len(code)
                t = func_types[n_imports + i]
                _compile_body(body, code, types, func_types, len(types[t][1]))
                entries.append((pc, tuple(groups)))
                s.pos = body.end
        elif section == 11:
            for i in range(s.uleb()):
                flags = s.uleb()
                if flags == 2:
                    s.uleb()
                offset = _const_expr(s, global_inits, len(func_types)) if flags in (0, 2) else -1
                datas.append(s.take(s.uleb()))
                if flags in (0, 2):
                    data_active.append((i, offset))
        s.pos = end
        r.pos = end
    canon = [types.index(sig) for sig in types]
    type_tuples = tuple((len(p), len(q), c) for (p, q), c in zip(types, canon, strict=True))
    funcs: list[tuple[int, ...]] = [(0, func_types[i], hid) for i, hid in enumerate(host_ids)]
    for i, (pc, local_groups) in enumerate(entries):
        ti = func_types[len(host_ids) + i]
        funcs.append((1, ti, pc, len(types[ti][0]), len(types[ti][1]), *local_groups))
    entry = exports.get(module_check.ENTRYPOINT)
    entrypoint = entry[1] if entry is not None and entry[0] == 0 else None
    entry_ok = entrypoint is not None and len(types[func_types[entrypoint]][0]) == 0
    return Module(
        types=type_tuples,
        funcs=tuple(funcs),
        code=tuple(tuple(ins) for ins in code),
        n_imports=len(host_ids),
        memory=memory,
        tables=tuple(tables),
        globals=tuple(global_inits),
        elems=tuple(elems),
        elem_active=tuple(elem_active),
        datas=tuple(datas),
        data_active=tuple(data_active),
        declared_elems=tuple(declared),
        start=start,
        memory_export=any(k == 2 for k, _ in exports.values()),
        entrypoint=entrypoint,
        entry_ok=entry_ok,
        digest=hashlib.blake2b(binary, digest_size=32).digest(),
    )


def _limits(r: _R) -> tuple[int, int | None]:
    flags = r.byte()
    lo = r.uleb()
    return lo, (r.uleb() if flags & 1 else None)


def _element_segment(
    s: _R,
    global_inits: list[int],
    n_funcs: int,
    elems: list[tuple[int, ...]],
    active: list[tuple[int, int, int]],
    declared: list[int],
) -> None:
    flags = s.uleb()
    table = 0
    if flags in (2, 6):
        table = s.uleb()
    offset = -1
    if flags in (0, 2, 4, 6):
        offset = _const_expr(s, global_inits, n_funcs)
    if flags in (1, 2, 3, 5, 6, 7):
        s.byte()  # element kind or reference type
    n = s.uleb()
    if flags >= 4:
        items = tuple(_const_expr(s, global_inits, n_funcs) for _ in range(n))
    else:
        items = tuple(s.uleb() for _ in range(n))
    index = len(elems)
    elems.append(items)
    if offset >= 0:
        active.append((index, table, offset))
    elif flags in (3, 7):
        declared.append(index)


def compile_module(module: Module) -> Compiled:
    """Build the Merkle trees of the static parts (types, functions, code)."""
    trees = []
    for tag, items in (
        (TYPE_LEAF, module.types),
        (FUNC_LEAF, module.funcs),
        (CODE_LEAF, module.code),
    ):
        tree = MerkleTree(ABSENT_LEAF, depth_for(len(items)))
        for i, item in enumerate(items):
            tree.set(i, ints_leaf(tag, item))
        tree.root(depth_for(len(items)))
        trees.append(tree)
    return Compiled(module, trees[0], trees[1], trees[2], static_hash(module.static))
