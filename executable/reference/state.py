"""The configuration of the reference PVM as explicit data, and its hash.

A :class:`Machine` is the whole state between two ticks:

* the **header**: phase, tick counter, period start, reboot counter,
  revision, last input, stuck kinds, the run's fuel and stall counters, the
  pending reveal — one leaf, revealed by every proof;
* the **durable storage** (:mod:`.durable`), the **outbox** and the
  **input buffer** of the current level;
* during a kernel_run, the **instance** (WebAssembly spec §4.2 store and
  §4.4 configuration): the module's types, functions and code, linear
  memory, globals, tables, data and element segments, the operand stack
  and the call frames (each frame: program counter, operand-stack base,
  locals).

``state_hash = H("scoru-wasm-ref/1" ‖ H(header) ‖ durable root ‖ outbox ‖
inputs ‖ instance)``. Every part is a Merkle tree or a hash chain with an
incremental cache, so hashing after a tick costs the touched paths only.
Outside a kernel_run the instance is absent, so at level ends the hash is a
function of what the fast VM also holds; the layout of every part outside
the instance (and the header's encoding) is defined once, in
:mod:`executable.wasm.layout`, and the fast VM computes it incrementally
(see :mod:`.boundary`).

The same classes hold *partial* states rebuilt from proofs: lists are then
:class:`~executable.reference.merkle.PList` with unknown slots, memory a
:class:`PartialMemory`, durable nodes may be stubs.
"""

from __future__ import annotations

from typing import Any

from executable.reference.durable import Durable
from executable.reference.merkle import (
    HOLE,
    ZERO,
    ChainCache,
    H,
    MerkleTree,
    PartialTree,
    PList,
    ProofIncomplete,
    VecCache,
    depth_for,
    plist_root,
    stack_root,
)
from executable.reference.module import (
    ABSENT_LEAF,
    CODE_LEAF,
    FUNC_LEAF,
    TYPE_LEAF,
    Compiled,
    Static,
    ints_leaf,
    static_hash,
)
from executable.wasm import layout
from executable.wasm.errors import HostError, HostFailure
from executable.wasm.layout import Phase

PAGE = 65536
MEM_CHUNK = 64
"""Bytes per leaf of the memory tree."""


class Trap(Exception):
    """A WebAssembly trap (spec §4.4.1): ends the kernel_run, recoverably."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def enc9(v: int) -> bytes:
    return v.to_bytes(9, "little")


def value_leaf(v: int) -> bytes:
    return H(b"v", v.to_bytes(9, "little"))


def bytes_leaf(tag: bytes) -> Any:
    def leaf(b: bytes) -> bytes:
        return H(tag, b)

    return leaf


data_leaf = bytes_leaf(b"data")
msg_leaf = layout.msg_leaf


def elem_leaf(items: tuple[int, ...]) -> bytes:
    return ints_leaf(b"elem", items)


input_leaf = layout.input_leaf


def type_leaf(t: tuple[int, ...]) -> bytes:
    return ints_leaf(TYPE_LEAF, t)


def func_leaf(f: tuple[int, ...]) -> bytes:
    return ints_leaf(FUNC_LEAF, f)


def code_leaf(i: tuple[int, ...]) -> bytes:
    return ints_leaf(CODE_LEAF, i)


# -- memory ---------------------------------------------------------------------

MEM_ZERO_LEAF = H(b"mem", bytes(MEM_CHUNK))


class Memory:
    """A full linear memory (spec §4.2.8) and the Merkle tree of its 64-byte
    chunks; stores mark chunks dirty, hashing rehashes only those."""

    __slots__ = ("data", "dirty", "tree")

    def __init__(self, pages: int) -> None:
        self.data = bytearray(pages * PAGE)
        self.dirty: set[int] = set()
        self.tree = MerkleTree(MEM_ZERO_LEAF, depth_for(len(self.data) // MEM_CHUNK))

    def copy(self) -> Memory:
        other = Memory.__new__(Memory)
        other.data = bytearray(self.data)
        other.dirty = set(self.dirty)
        other.tree = self.tree.copy()
        return other

    @property
    def pages(self) -> int:
        return len(self.data) // PAGE

    def size(self) -> int:
        return len(self.data)

    def load(self, a: int, n: int) -> bytes:
        if a + n > len(self.data):
            raise Trap("memory_out_of_bounds")
        return bytes(self.data[a : a + n])

    def store(self, a: int, b: bytes) -> None:
        n = len(b)
        if a + n > len(self.data):
            raise Trap("memory_out_of_bounds")
        if n:
            self.data[a : a + n] = b
            first = a >> 6
            last = (a + n - 1) >> 6
            if first == last:
                self.dirty.add(first)
            else:
                self.dirty.update(range(first, last + 1))

    def grow_to(self, pages: int) -> None:
        self.data.extend(bytes((pages - self.pages) * PAGE))

    def root(self) -> bytes:
        if self.dirty:
            data = self.data
            tree = self.tree
            for c in self.dirty:
                tree.set(c, H(b"mem", data[c * MEM_CHUNK : (c + 1) * MEM_CHUNK]))
            self.dirty = set()
        return self.tree.root(depth_for(len(self.data) // MEM_CHUNK))

    def chunk(self, i: int) -> bytes:
        c = bytes(self.data[i * MEM_CHUNK : (i + 1) * MEM_CHUNK])
        return c.ljust(MEM_CHUNK, b"\x00")


class PartialMemory:
    """A memory known through a proof: its size, some chunks and the
    pre-state siblings. A prover's partial memory reveals chunks of
    ``full`` (the pre-state) and records them in ``revealed``."""

    __slots__ = ("chunks", "depth0", "full", "npages", "revealed", "siblings")

    def __init__(
        self,
        npages: int,
        chunks: dict[int, bytearray],
        siblings: dict[tuple[int, int], bytes],
        full: Memory | None = None,
    ) -> None:
        self.npages = npages
        self.chunks = chunks
        self.siblings = siblings
        self.depth0 = depth_for(npages * PAGE // MEM_CHUNK)
        self.full = full
        self.revealed: set[int] = set()

    @property
    def pages(self) -> int:
        return self.npages

    def size(self) -> int:
        return self.npages * PAGE

    def _chunk(self, i: int) -> bytearray:
        c = self.chunks.get(i)
        if c is None:
            if i >= (1 << self.depth0):
                c = bytearray(MEM_CHUNK)
            elif self.full is not None:
                c = bytearray(self.full.chunk(i))
                self.revealed.add(i)
            else:
                raise ProofIncomplete(f"the proof does not reveal memory chunk {i}")
            self.chunks[i] = c
        return c

    def load(self, a: int, n: int) -> bytes:
        if a + n > self.npages * PAGE:
            raise Trap("memory_out_of_bounds")
        out = bytearray()
        pos = a
        end = a + n
        while pos < end:
            i = pos >> 6
            off = pos & 63
            take = min(MEM_CHUNK - off, end - pos)
            out += self._chunk(i)[off : off + take]
            pos += take
        return bytes(out)

    def store(self, a: int, b: bytes) -> None:
        n = len(b)
        if a + n > self.npages * PAGE:
            raise Trap("memory_out_of_bounds")
        pos = a
        end = a + n
        while pos < end:
            i = pos >> 6
            off = pos & 63
            take = min(MEM_CHUNK - off, end - pos)
            self._chunk(i)[off : off + take] = b[pos - a : pos - a + take]
            pos += take

    def grow_to(self, pages: int) -> None:
        self.npages = pages

    def root(self) -> bytes:
        known = {i: H(b"mem", bytes(c)) for i, c in self.chunks.items()}
        tree = PartialTree(MEM_ZERO_LEAF, self.depth0, known, self.siblings)
        return tree.root(depth_for(self.npages * PAGE // MEM_CHUNK))


AnyMemory = Memory | PartialMemory


# -- frames -------------------------------------------------------------------------


class Frame:
    """An activation (spec §4.2.13): where to continue (``pc``), where its
    operand stack starts (``base``), and its locals."""

    __slots__ = ("base", "cache", "locals", "pc")

    def __init__(self, pc: int, base: int, locals_: list[int]) -> None:
        self.pc = pc
        self.base = base
        self.locals = locals_
        self.cache: VecCache | None = None

    def copy(self) -> Frame:
        other = Frame(self.pc, self.base, list(self.locals))
        other.cache = self.cache.copy() if self.cache is not None else None
        return other

    def locals_root(self) -> bytes:
        if isinstance(self.locals, PList):
            return plist_root(self.locals, value_leaf, ABSENT_LEAF)
        if self.cache is None:
            self.cache = VecCache(value_leaf, ABSENT_LEAF)
        return self.cache.root(self.locals)

    def digest(self) -> bytes:
        return H(
            b"F",
            self.pc.to_bytes(4, "little"),
            self.base.to_bytes(4, "little"),
            len(self.locals).to_bytes(4, "little"),
            self.locals_root(),
        )


# -- the instance --------------------------------------------------------------------


def _ident(b: bytes) -> bytes:
    return b


class Instance:
    """A module instance during one kernel_run (fresh at every run)."""

    __slots__ = (
        "c_data",
        "c_elems",
        "c_frames",
        "c_globals",
        "c_stack",
        "c_tables",
        "code",
        "compiled",
        "data",
        "elems",
        "frames",
        "funcs",
        "globals",
        "header_hash",
        "mem",
        "stack",
        "static",
        "static_raw",
        "tables",
        "types",
    )

    def __init__(
        self,
        compiled: Compiled | None,
        static: tuple[int, ...],
        types: Any,
        funcs: Any,
        code: Any,
        mem: AnyMemory,
        globals_: Any,
        tables: list[Any],
        data: Any,
        elems: Any,
        stack: Any,
        frames: Any,
    ) -> None:
        self.compiled = compiled
        self.static_raw = static
        self.static = Static.of_ints(static)
        self.header_hash = static_hash(static)
        self.types = types
        self.funcs = funcs
        self.code = code
        self.mem = mem
        self.globals = globals_
        self.tables = tables
        self.data = data
        self.elems = elems
        self.stack = stack
        self.frames = frames
        self.c_globals = VecCache(value_leaf, ABSENT_LEAF)
        self.c_tables = [VecCache(value_leaf, ABSENT_LEAF) for _ in tables]
        self.c_data = VecCache(data_leaf, ABSENT_LEAF)
        self.c_elems = VecCache(elem_leaf, ABSENT_LEAF)
        self.c_stack = ChainCache(enc9)
        self.c_frames = ChainCache(_ident)

    @property
    def partial(self) -> bool:
        return self.compiled is None

    def copy(self) -> Instance:
        assert self.compiled is not None
        assert isinstance(self.mem, Memory)
        other = Instance(
            self.compiled,
            self.compiled.module.static,
            self.types,
            self.funcs,
            self.code,
            self.mem.copy(),
            list(self.globals),
            [list(t) for t in self.tables],
            list(self.data),
            list(self.elems),
            list(self.stack),
            [f.copy() for f in self.frames],
        )
        other.c_globals = self.c_globals.copy()
        other.c_tables = [c.copy() for c in self.c_tables]
        other.c_data = self.c_data.copy()
        other.c_elems = self.c_elems.copy()
        other.c_stack = self.c_stack.copy()
        other.c_frames = self.c_frames.copy()
        return other

    def static_roots(self) -> tuple[bytes, bytes, bytes]:
        c = self.compiled
        if c is not None:
            m = c.module
            return (
                c.types_tree.root(depth_for(len(m.types))),
                c.funcs_tree.root(depth_for(len(m.funcs))),
                c.code_tree.root(depth_for(len(m.code))),
            )
        return (
            plist_root(self.types, type_leaf, ABSENT_LEAF),
            plist_root(self.funcs, func_leaf, ABSENT_LEAF),
            plist_root(self.code, code_leaf, ABSENT_LEAF),
        )

    def tables_hash(self) -> bytes:
        parts = [b"tables"]
        for i, t in enumerate(self.tables):
            if isinstance(t, PList):
                root = plist_root(t, value_leaf, ABSENT_LEAF)
            else:
                root = self.c_tables[i].root(t)
            parts.append(len(t).to_bytes(4, "little") + root)
        return H(*parts)

    def digest(self) -> bytes:
        types_root, funcs_root, code_root = self.static_roots()
        if self.partial:
            globals_root = plist_root(self.globals, value_leaf, ABSENT_LEAF)
            data_root = plist_root(self.data, data_leaf, ABSENT_LEAF)
            elems_root = plist_root(self.elems, elem_leaf, ABSENT_LEAF)
            stack_hash = stack_root(self.stack, enc9)
            frames_hash = stack_root(self.frames, lambda f: f.digest())
        else:
            globals_root = self.c_globals.root(self.globals)
            data_root = self.c_data.root(self.data)
            elems_root = self.c_elems.root(self.elems)
            stack_hash = self.c_stack.root(self.stack)
            frames_hash = self.c_frames.root([f.digest() for f in self.frames])

        def n(x: Any) -> bytes:
            return len(x).to_bytes(4, "little")

        return H(
            b"inst",
            self.header_hash,
            n(self.types),
            types_root,
            n(self.funcs),
            funcs_root,
            n(self.code),
            code_root,
            self.mem.pages.to_bytes(4, "little"),
            self.mem.root(),
            n(self.globals),
            globals_root,
            self.tables_hash(),
            n(self.data),
            data_root,
            n(self.elems),
            elems_root,
            n(self.stack),
            stack_hash,
            n(self.frames),
            frames_hash,
        )


NO_INSTANCE = layout.NO_INSTANCE


# -- outbox -----------------------------------------------------------------------

OUTBOX_MAP_DEPTH = layout.OUTBOX_MAP_DEPTH
LEVEL_ABSENT = layout.LEVEL_ABSENT
level_leaf = layout.level_leaf
messages_root = layout.messages_root


class Outbox:
    """The output buffer (Octez: src/lib_webassembly/runtime/output_buffer.ml):
    messages by outbox level, at most ``max_per_level`` per level, levels
    older than the validity period dropped at ``Start_of_level``.

    Hash: ``H("outbox" ‖ current level ‖ lowest kept level ‖ current
    messages (count, root) ‖ root of a depth-32 tree mapping every other
    kept level to H(level ‖ count ‖ messages root))``.

    Same rules and codes as the fast VM's :class:`executable.wasm.outbox.Outbox`,
    except that a ``Start_of_level`` for a level not above the current one
    keeps the current level (the protocol never sends one)."""

    __slots__ = (
        "c_cur",
        "closed",
        "cur",
        "cur_hint",
        "current",
        "levels",
        "low",
        "map_loader",
        "map_pre",
        "map_sib",
        "max_per_level",
        "tree",
    )

    def __init__(self, max_per_level: int) -> None:
        self.max_per_level = max_per_level
        self.current: int | None = None
        self.low = 0
        self.cur: Any = []
        """Messages of the current level (a PList in partial states)."""
        self.levels: dict[int, list[bytes]] | None = {}
        """Closed kept levels' messages (full states only)."""
        self.tree: MerkleTree | None = MerkleTree(LEVEL_ABSENT, OUTBOX_MAP_DEPTH)
        self.c_cur = VecCache(msg_leaf, ABSENT_LEAF)
        # partial states: the map is known through revealed pre-state leaves
        # (``map_pre``), their siblings, and the leaves written by the tick
        self.map_pre: dict[int, bytes] = {}
        self.map_sib: dict[tuple[int, int], bytes] = {}
        self.map_loader: Any = None
        self.closed: dict[int, bytes] = {}
        self.cur_hint: bytes | None = None
        """A prover's copy: the pre-state root of ``cur`` (unchanged until a push)."""

    def copy(self) -> Outbox:
        assert self.levels is not None and self.tree is not None
        other = Outbox(self.max_per_level)
        other.current = self.current
        other.low = self.low
        other.cur = list(self.cur)
        other.levels = {k: list(v) for k, v in self.levels.items()}
        other.tree = self.tree.copy()
        other.c_cur = self.c_cur.copy()
        return other

    @property
    def partial(self) -> bool:
        return self.levels is None

    # the map of closed levels: full or partial
    def _map_set(self, level: int, leaf: bytes) -> None:
        if self.tree is not None:
            self.tree.set(level, leaf)
        else:
            self._map_reveal(level)
            self.closed[level] = leaf

    def _map_reveal(self, level: int) -> None:
        if level in self.map_pre:
            return
        if self.map_loader is None:
            raise ProofIncomplete(f"the proof does not reveal outbox level {level}")
        self.map_pre[level] = self.map_loader(level)

    def push(self, payload: bytes) -> None:
        """Append to the current level; −11 when full or before any level."""
        if self.current is None or len(self.cur) >= self.max_per_level:
            raise HostFailure(HostError.FULL_OUTBOX)
        self.cur.append(payload)

    def cur_root(self) -> bytes:
        if isinstance(self.cur, PList):
            if self.cur.loader is not None and self.cur_hint is not None:
                return self.cur_hint
            return plist_root(self.cur, msg_leaf, ABSENT_LEAF)
        return self.c_cur.root(self.cur)

    def start_level(self, level: int, validity_period: int) -> None:
        """Close the current level, open ``level``, drop levels that left
        the validity period (the fast VM's ``Outbox.start_level``)."""
        if self.current is not None and level <= self.current:
            return
        if self.current is not None:
            self._map_set(self.current, level_leaf(self.current, len(self.cur), self.cur_root()))
            if self.levels is not None:
                self.levels[self.current] = list(self.cur)
        else:
            self.low = level
        self.current = level
        self.cur = [] if not isinstance(self.cur, PList) else _fresh_plist("outbox")
        self.c_cur = VecCache(msg_leaf, ABSENT_LEAF)
        cutoff = level - validity_period
        while self.low <= cutoff:
            self._map_set(self.low, LEVEL_ABSENT)
            if self.levels is not None:
                self.levels.pop(self.low, None)
            self.low += 1

    def map_root(self) -> bytes:
        if self.tree is not None:
            return self.tree.root(OUTBOX_MAP_DEPTH)
        known = dict(self.map_pre)
        known.update(self.closed)
        tree = PartialTree(LEVEL_ABSENT, OUTBOX_MAP_DEPTH, known, self.map_sib)
        return tree.root(OUTBOX_MAP_DEPTH)

    def digest(self) -> bytes:
        return layout.outbox_digest(
            self.current, self.low, len(self.cur), self.cur_root(), self.map_root()
        )

    def messages(self, level: int) -> list[bytes]:
        assert self.levels is not None
        if level == self.current:
            return list(self.cur)
        return list(self.levels.get(level, []))


def _fresh_plist(name: str) -> PList:
    """An empty vector of a partial state (no pre-state slots)."""
    p = PList([], name=name)
    p.depth0 = -1
    return p


# -- inputs ---------------------------------------------------------------------------


class Inputs:
    """The input buffer of the current level (Octez:
    src/lib_webassembly/runtime/input_buffer.ml): every message collected,
    and the position of the next one ``read_input`` returns."""

    __slots__ = ("cache", "items", "pos")

    def __init__(self) -> None:
        self.items: Any = []
        self.pos = 0
        self.cache = VecCache(input_leaf, ABSENT_LEAF)

    def copy(self) -> Inputs:
        other = Inputs()
        other.items = list(self.items)
        other.pos = self.pos
        other.cache = self.cache.copy()
        return other

    def digest(self) -> bytes:
        if isinstance(self.items, PList):
            root = plist_root(self.items, input_leaf, ABSENT_LEAF)
        else:
            root = self.cache.root(self.items)
        return layout.inputs_digest(len(self.items), self.pos, root)


# -- the machine ---------------------------------------------------------------------


class Machine:
    """The whole reference PVM state (see the module docstring)."""

    __slots__ = (
        "bulk",
        "durable",
        "entry",
        "fuel",
        "in_start",
        "inputs",
        "inst",
        "last_input",
        "outbox",
        "pending",
        "period_start",
        "phase",
        "reboot_counter",
        "reveal",
        "revision",
        "stall",
        "stuck_kind",
        "tick",
    )

    def __init__(self, revision: int, max_outbox_per_level: int) -> None:
        self.phase = Phase.COLLECT
        self.tick = 0
        self.period_start = 0
        self.reboot_counter = 0
        self.revision = revision
        self.last_input: tuple[int, int] | None = None
        self.stuck_kind = ""
        self.pending = ""
        """Terminal outcome of the current run, applied at the period end."""
        self.fuel = 0
        """wasmtime fuel the current run has consumed (func_environ.rs rules)."""
        self.stall = 0
        """Ticks left of the current host call or bulk instruction."""
        self.bulk: tuple[int, ...] = ()
        """A bulk memory instruction in progress: (op, dst, src or value, n)."""
        self.entry = 0
        """1: a function entry is due; 2, 3: the two steps of the start wrapper."""
        self.in_start = False
        self.reveal: tuple[bytes, int, tuple[int, ...]] | None = None
        """(request, host function id, raw arguments) while waiting."""
        self.durable = Durable()
        self.outbox = Outbox(max_outbox_per_level)
        self.inputs = Inputs()
        self.inst: Instance | None = None

    def copy(self) -> Machine:
        other = Machine.__new__(Machine)
        for name in Machine.__slots__:
            setattr(other, name, getattr(self, name))
        other.durable = self.durable.snapshot()
        other.outbox = self.outbox.copy()
        other.inputs = self.inputs.copy()
        other.inst = self.inst.copy() if self.inst is not None else None
        return other

    def header(self) -> bytes:
        """The header leaf's bytes (see :func:`decode_header`)."""
        return layout.header(
            phase=int(self.phase),
            tick=self.tick,
            period_start=self.period_start,
            reboot_counter=self.reboot_counter,
            revision=self.revision,
            last_input=self.last_input,
            stuck_kind=self.stuck_kind,
            pending=self.pending,
            fuel=self.fuel,
            stall=self.stall,
            bulk=self.bulk,
            entry=self.entry,
            in_start=self.in_start,
            reveal=self.reveal,
        )

    def header_hash(self) -> bytes:
        return layout.header_hash(self.header())

    def digest(self) -> bytes:
        """The state hash."""
        return layout.state_digest(
            self.header_hash(),
            self.durable.root_hash(),
            self.outbox.digest(),
            self.inputs.digest(),
            NO_INSTANCE if self.inst is None else self.inst.digest(),
        )


def decode_header(m: Machine, raw: bytes) -> None:
    """Set ``m``'s header fields from :meth:`Machine.header` bytes."""
    from spec.errors import EncodingError

    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        if pos + n > len(raw):
            raise EncodingError("truncated header")
        out = raw[pos : pos + n]
        pos += n
        return out

    def u(n: int, signed: bool = False) -> int:
        return int.from_bytes(take(n), "big", signed=signed)

    phase = u(1)
    if phase > max(Phase):
        raise EncodingError(f"unknown phase {phase}")
    m.phase = Phase(phase)
    m.tick = u(16)
    m.period_start = u(16)
    m.reboot_counter = u(4, True)
    m.revision = u(1)
    if u(1):
        m.last_input = (u(4, True), u(4, True))
    else:
        m.last_input = None
    m.stuck_kind = take(u(1)).decode("ascii")
    m.pending = take(u(1)).decode("ascii")
    m.fuel = u(16)
    m.stall = u(16)
    m.bulk = tuple(u(9) for _ in range(u(1)))
    m.entry = u(1)
    m.in_start = bool(u(1))
    if u(1):
        request = take(u(4))
        host_id = u(1)
        args = tuple(u(9) for _ in range(u(1)))
        m.reveal = (request, host_id, args)
    else:
        m.reveal = None
    if pos != len(raw):
        raise EncodingError("trailing bytes in header")


__all__ = [
    "HOLE",
    "NO_INSTANCE",
    "ZERO",
    "Frame",
    "Inputs",
    "Instance",
    "Machine",
    "Memory",
    "Outbox",
    "PartialMemory",
    "Phase",
    "Trap",
]
