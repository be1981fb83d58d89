"""Checks a kernel binary must pass before wasmtime instantiates it.

The PVM decodes ``/kernel/boot.wasm`` with floats forbidden, links its
imports against the host functions of the current revision, then
initialises it (exported memory, ``kernel_run``). wasmtime would happily run
floats and link anything we define, so this module re-does the PVM's
decisions on the binary and classifies each failure as Octez does:

* ``decode`` — not a WebAssembly 1.0 binary, a float type or instruction,
  a name longer than 512 bytes, an unsupported feature (Octez:
  src/lib_webassembly/binary/decode.ml, ``guard_float``, ``name_step``);
* ``link`` — an import from a module other than ``smart_rollup_core`` or a
  name the revision does not offer (src/lib_scoru_wasm/wasm_vm.ml, ``Link``);
* ``init`` — an import of the right name with the wrong kind or type, no
  exported memory ("Module must export memory 0"), a memory larger than the
  limit (src/lib_webassembly/exec/eval.ml, ``init_step``).

Decode, link and init failures fall back to the previous kernel (§3.6 of the
reference). A missing ``kernel_run`` is reported separately because it is
terminal (wasm_vm.ml, "Invalid_module: no `kernel_run` function exported").
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from executable.wasm import limits

HOST_MODULE = "smart_rollup_core"
ENTRYPOINT = "kernel_run"

I32, I64, F32, F64, V128, FUNCREF, EXTERNREF = 0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F
_VALUE_TYPES = frozenset({I32, I64, F32, F64, V128, FUNCREF, EXTERNREF})
_FLOAT_TYPES = frozenset({F32, F64})

FuncSig = tuple[tuple[int, ...], tuple[int, ...]]
"""(parameter types, result types) as value-type bytes."""

# Opcodes guarded by ``guard_float`` in decode.ml.
_FLOAT_OPS = frozenset(
    {0x2A, 0x2B, 0x38, 0x39, 0x43, 0x44, *range(0x5B, 0x67), *range(0x8B, 0xA7)}
    | {*range(0xB2, 0xBC), 0xBE, 0xBF}
)
_FLOAT_SIMD_OPS = frozenset(
    {0x13, 0x14, 0x1F, 0x20, 0x21, 0x22, *range(0x41, 0x4D), 0x5E, 0x5F}
    | {0x67, 0x68, 0x69, 0x6A, *range(0xE0, 0xF8), 0xFE, 0xFF}
)
# SIMD opcodes the decoder knows (anything else is an illegal opcode).
_SIMD_RESERVED = frozenset(
    {0x9A, 0xA2, 0xA5, 0xA6, 0xAF, 0xB0, 0xB2, 0xB3, 0xB4, 0xBB, 0xC2, 0xC5, 0xC6}
    | {0xCF, 0xD0, 0xD2, 0xD3, 0xD4, 0xE2, 0xEE}
)
_SIMD_MEMARG = frozenset({*range(0x00, 0x0C), 0x5C, 0x5D})
_SIMD_LANE = frozenset(range(0x15, 0x23))
_SIMD_MEMARG_LANE = frozenset(range(0x54, 0x5C))
_MEMARG_OPS = frozenset(range(0x28, 0x3F))
_NO_IMMEDIATE_OPS = frozenset({0x00, 0x01, 0x0F, 0x1A, 0x1B, 0xD1, *range(0x45, 0xC5)})
_ONE_INDEX_OPS = frozenset({0x0C, 0x0D, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0xD2})


@attrs.frozen
class KernelLoadError(Exception):
    """A kernel that fails to decode, link or initialise.

    ``stage`` is ``decode``, ``link`` or ``init`` (Octez's ``Decode_error``,
    ``Link_error``, ``Init_error``); all three are recoverable through the
    fallback kernel.
    """

    stage: str
    reason: str

    def __str__(self) -> str:
        return f"{self.stage} error: {self.reason}"


@attrs.frozen
class ModuleInfo:
    """What the PVM needs to know of a decoded, linked module."""

    imports: tuple[str, ...]
    memory_export: str | None
    entrypoint: FuncSig | None
    entrypoint_kind: str | None
    has_start: bool


class _Reader:
    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def fail(self, msg: str) -> KernelLoadError:
        return KernelLoadError("decode", f"{msg} at byte {self.pos}")

    def byte(self) -> int:
        if self.pos >= self.end:
            raise self.fail("unexpected end of section or function")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def bytes(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise self.fail("unexpected end of section or function")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uleb(self, bits: int = 32) -> int:
        result = shift = 0
        for _ in range((bits + 6) // 7):
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if result >= 1 << bits:
                    raise self.fail("integer too large")
                return result
        raise self.fail("integer representation too long")

    def sleb(self, bits: int) -> int:
        result = shift = 0
        for _ in range((bits + 6) // 7):
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    result -= 1 << shift
                if not -(1 << (bits - 1)) <= result < 1 << (bits - 1):
                    raise self.fail("integer too large")
                return result
        raise self.fail("integer representation too long")

    def name(self) -> str:
        n = self.uleb()
        if n > limits.MAX_NAME_LENGTH:
            raise self.fail("Names cannot exceed 512 bytes")
        raw = self.bytes(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("malformed UTF-8 encoding") from None


def _float_error(r: _Reader) -> KernelLoadError:
    return KernelLoadError("decode", f"float instructions are forbidden (byte {r.pos})")


def _value_type(r: _Reader) -> int:
    t = r.byte()
    if t not in _VALUE_TYPES:
        raise r.fail(f"malformed value type 0x{t:02x}")
    if t in _FLOAT_TYPES:
        raise _float_error(r)
    return t


def _ref_type(r: _Reader) -> int:
    t = r.byte()
    if t not in (FUNCREF, EXTERNREF):
        raise r.fail("malformed reference type")
    return t


def _limits(r: _Reader, *, memory: bool) -> tuple[int, int | None]:
    flags = r.byte()
    if flags not in (0, 1):
        what = "shared or 64-bit memories" if memory else "table limits"
        raise r.fail(f"unsupported {what} (flags {flags})")
    minimum = r.uleb()
    maximum = r.uleb() if flags == 1 else None
    return minimum, maximum


def _block_type(r: _Reader) -> None:
    b = r.data[r.pos] if r.pos < r.end else -1
    if b == 0x40:
        r.pos += 1
    elif b in _VALUE_TYPES:
        _value_type(r)
    else:
        if r.sleb(33) < 0:
            raise r.fail("malformed block type")


def _memarg(r: _Reader) -> None:
    align = r.uleb()
    if align > 32:
        raise r.fail("malformed memop flags")
    r.uleb()


def _instructions(r: _Reader, *, until_end: bool) -> None:
    """Scan instructions; with ``until_end`` stop after the ``end`` closing
    depth 0 (constant expressions), else scan to the reader's end."""
    depth = 0
    while r.pos < r.end:
        op = r.byte()
        if op in _NO_IMMEDIATE_OPS:
            if op in _FLOAT_OPS:
                raise _float_error(r)
            continue
        if op in (0x02, 0x03, 0x04):
            _block_type(r)
            depth += 1
        elif op == 0x05:
            pass
        elif op == 0x0B:
            if depth == 0:
                if until_end:
                    return
                if r.pos != r.end:
                    raise r.fail("END opcode before the end of the function")
                return
            depth -= 1
        elif op in _ONE_INDEX_OPS:
            r.uleb()
        elif op == 0x0E:
            for _ in range(r.uleb()):
                r.uleb()
            r.uleb()
        elif op == 0x11:
            r.uleb()
            r.uleb()
        elif op == 0x1C:
            for _ in range(r.uleb()):
                _value_type(r)
        elif op in _MEMARG_OPS:
            if op in _FLOAT_OPS:
                raise _float_error(r)
            _memarg(r)
        elif op in (0x3F, 0x40):
            if r.byte() != 0:
                raise r.fail("zero byte expected")
        elif op == 0x41:
            r.sleb(32)
        elif op == 0x42:
            r.sleb(64)
        elif op in (0x43, 0x44):
            raise _float_error(r)
        elif op == 0xD0:
            _ref_type(r)
        elif op == 0xFC:
            _misc(r)
        elif op == 0xFD:
            _simd(r)
        else:
            raise r.fail(f"illegal opcode {op:02x}")
    raise r.fail("unexpected end of section or function")


def _misc(r: _Reader) -> None:
    sub = r.uleb()
    if sub <= 7:
        return  # saturating truncations: not guarded (they need a float operand)
    if sub == 8:
        r.uleb()
        if r.byte() != 0:
            raise r.fail("zero byte expected")
    elif sub in (9, 13, 15, 16, 17):
        r.uleb()
    elif sub == 10:
        if r.byte() != 0 or r.byte() != 0:
            raise r.fail("zero byte expected")
    elif sub == 11:
        if r.byte() != 0:
            raise r.fail("zero byte expected")
    elif sub in (12, 14):
        r.uleb()
        r.uleb()
    else:
        raise r.fail(f"illegal opcode fc {sub:02x}")


def _simd(r: _Reader) -> None:
    sub = r.uleb()
    if sub > 0xFF or sub in _SIMD_RESERVED:
        raise r.fail(f"illegal opcode fd {sub:02x}")
    if sub in _FLOAT_SIMD_OPS:
        raise _float_error(r)
    if sub in _SIMD_MEMARG:
        _memarg(r)
    elif sub in (0x0C, 0x0D):
        r.bytes(16)
    elif sub in _SIMD_LANE:
        r.byte()
    elif sub in _SIMD_MEMARG_LANE:
        _memarg(r)
        r.byte()


def _const_expr(r: _Reader) -> None:
    _instructions(r, until_end=True)


def scan(binary: bytes, offered: Mapping[str, FuncSig]) -> ModuleInfo:
    """Decode and link ``binary`` against the host functions ``offered``
    (name → signature); raise :class:`KernelLoadError` like the PVM would."""
    if binary[:4] != b"\x00asm":
        raise KernelLoadError("decode", "magic header not detected")
    if binary[4:8] != b"\x01\x00\x00\x00":
        raise KernelLoadError("decode", "unknown binary version")
    r = _Reader(binary, 8)
    types: list[FuncSig] = []
    func_types: list[int] = []
    imports: list[str] = []
    n_memories = 0
    exports: dict[str, tuple[int, int]] = {}
    has_start = False
    last_id = 0
    order = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12}
    while r.pos < r.end:
        section_id = r.byte()
        size = r.uleb()
        start = r.pos
        if start + size > r.end:
            raise r.fail("length out of bounds")
        s = _Reader(binary, start, start + size)
        if section_id != 0:
            if section_id not in order:
                raise r.fail("malformed section id")
            if order[section_id] <= last_id:
                raise r.fail("unexpected section")
            last_id = order[section_id]
        if section_id == 1:
            for _ in range(s.uleb()):
                if s.byte() != 0x60:
                    raise s.fail("malformed function type")
                params = tuple(_value_type(s) for _ in range(s.uleb()))
                results = tuple(_value_type(s) for _ in range(s.uleb()))
                types.append((params, results))
        elif section_id == 2:
            for _ in range(s.uleb()):
                module, item = s.name(), s.name()
                kind = s.byte()
                if kind == 0:
                    type_index = s.uleb()
                    if type_index >= len(types):
                        raise s.fail("unknown type")
                    func_types.append(type_index)
                elif kind == 1:
                    _ref_type(s)
                    _limits(s, memory=False)
                elif kind == 2:
                    _limits(s, memory=True)
                    n_memories += 1
                elif kind == 3:
                    _value_type(s)
                    s.byte()
                else:
                    raise s.fail("malformed import kind")
                if module != HOST_MODULE:
                    raise KernelLoadError("link", f"unknown module {module!r} (import {item!r})")
                if item not in offered:
                    raise KernelLoadError(
                        "link", f"unknown host function {item!r} in this PVM revision"
                    )
                if kind != 0:
                    raise KernelLoadError("init", f"import {item!r} is not a function")
                if types[func_types[-1]] != offered[item]:
                    raise KernelLoadError("init", f"incompatible import type for {item!r}")
                imports.append(item)
        elif section_id == 3:
            for _ in range(s.uleb()):
                type_index = s.uleb()
                if type_index >= len(types):
                    raise s.fail("unknown type")
                func_types.append(type_index)
        elif section_id == 4:
            for _ in range(s.uleb()):
                _ref_type(s)
                _limits(s, memory=False)
        elif section_id == 5:
            for _ in range(s.uleb()):
                minimum, maximum = _limits(s, memory=True)
                if minimum > limits.MAX_MEMORY_PAGES or (
                    maximum is not None and maximum > limits.MAX_MEMORY_PAGES
                ):
                    raise s.fail("memory size must be at most 65536 pages (4GiB)")
                n_memories += 1
        elif section_id == 6:
            for _ in range(s.uleb()):
                _value_type(s)
                s.byte()
                _const_expr(s)
        elif section_id == 7:
            for _ in range(s.uleb()):
                name = s.name()
                kind = s.byte()
                index = s.uleb()
                if kind > 3:
                    raise s.fail("malformed export kind")
                if name in exports:
                    raise s.fail(f"duplicate export name {name!r}")
                exports[name] = (kind, index)
        elif section_id == 8:
            s.uleb()
            has_start = True
        elif section_id == 9:
            _elements(s)
        elif section_id == 12:
            s.uleb()
        elif section_id == 10:
            for _ in range(s.uleb()):
                body_size = s.uleb()
                body = _Reader(binary, s.pos, s.pos + body_size)
                if body.end > s.end:
                    raise s.fail("length out of bounds")
                for _ in range(body.uleb()):
                    body.uleb()
                    _value_type(body)
                _instructions(body, until_end=False)
                s.pos = body.end
        elif section_id == 11:
            for _ in range(s.uleb()):
                flags = s.uleb()
                if flags == 2:
                    s.uleb()
                if flags in (0, 2):
                    _const_expr(s)
                elif flags != 1:
                    raise s.fail("malformed data segment kind")
                s.bytes(s.uleb())
        else:  # custom section
            s.pos = s.end
        if s.pos != s.end:
            raise s.fail("section size mismatch")
        r.pos = start + size
    if n_memories > 1:
        raise KernelLoadError("decode", "multiple memories are not supported")
    memory_export = next((n for n, (k, _) in exports.items() if k == 2), None)
    entry = exports.get(ENTRYPOINT)
    entry_sig: FuncSig | None = None
    entry_kind: str | None = None
    if entry is not None:
        kind, index = entry
        entry_kind = ("func", "table", "memory", "global")[kind]
        if kind == 0 and index < len(func_types):
            entry_sig = types[func_types[index]]
    return ModuleInfo(
        imports=tuple(imports),
        memory_export=memory_export,
        entrypoint=entry_sig,
        entrypoint_kind=entry_kind,
        has_start=has_start,
    )


def _elements(s: _Reader) -> None:
    for _ in range(s.uleb()):
        flags = s.uleb()
        if flags > 7:
            raise s.fail("malformed elements segment kind")
        if flags in (2, 6):
            s.uleb()
        if flags in (0, 2, 4, 6):
            _const_expr(s)
        uses_exprs = flags >= 4
        if flags in (1, 2, 3):
            if s.byte() != 0x00:
                raise s.fail("malformed element kind")
        elif flags in (5, 6, 7):
            _ref_type(s)
        for _ in range(s.uleb()):
            if uses_exprs:
                _const_expr(s)
            else:
                s.uleb()
