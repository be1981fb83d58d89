"""One-step proofs and output proofs of the reference PVM.

**Producing.** The tick is run once more on a *lazy* copy of the state:
every list, the memory and the durable tree start unknown and reveal,
from the untouched pre-state, exactly the slots, chunks and nodes the tick
reads or writes (and the path of every slot it appends). The proof is the
header plus, for every part of the state, either its hash or what was
revealed with the sibling hashes around it.

**Verifying.** The proof is decoded into a *partial* state whose unknown
parts raise :class:`~executable.reference.merkle.ProofIncomplete`; its hash
is the start hash; the same tick function runs on it; its hash afterwards
is the stop hash. Any failure (truncated or trailing bytes, a part the tick
needs but the proof lacks, an input the state does not accept) is a
:class:`spec.pvm.PvmProofVerificationFailed`. Sizes are bounded so that a
forged proof cannot make the verifier allocate much.

Binary layout (integers big-endian; a *vector* is a partially revealed
vector: length u32, revealed slots (index u32 ‖ value), absent slots
(index u32), then its sibling hashes depth-first, each ``00`` for the
default subtree or ``01`` ‖ 32 bytes; a *stack* is length u32 ‖ lowest
revealed index u32 ‖ prefix hash ‖ the revealed items)::

    01 ‖ header (u32 length ‖ bytes) ‖ durable node ‖ outbox ‖ inputs
       ‖ (00 | 01 ‖ instance)

Octez: src/proto_alpha/lib_protocol/sc_rollup_wasm.ml (``produce_proof``,
``verify_proof``, there Irmin tree proofs of the PVM state); here the state
is this package's Merkle layout (:mod:`executable.reference.state`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from executable.reference import pvm as pvm_mod
from executable.reference.durable import CHUNK_ABSENT, Node, PartialValue, Stub, n_chunks
from executable.reference.durable import Durable as DurableStore
from executable.reference.merkle import (
    DIGEST,
    HOLE,
    MerkleTree,
    PList,
    ProofIncomplete,
    VecCache,
    defaults,
    depth_for,
    sibling_positions,
)
from executable.reference.module import ABSENT_LEAF, decode_ints, encode_ints
from executable.reference.state import (
    LEVEL_ABSENT,
    MEM_CHUNK,
    MEM_ZERO_LEAF,
    NO_INSTANCE,
    OUTBOX_MAP_DEPTH,
    PAGE,
    Frame,
    Inputs,
    Instance,
    Machine,
    Memory,
    Outbox,
    PartialMemory,
    decode_header,
    level_leaf,
    msg_leaf,
)
from executable.wasm import layout
from executable.wasm.durable import CHUNK_SIZE
from executable.wasm.limits import MAX_MEMORY_PAGES, MAX_OUTBOX_MESSAGES_PER_LEVEL
from spec.errors import EncodingError, ScoruError
from spec.hashing import StateHash
from spec.pvm import (
    Input,
    NoInputRequired,
    Output,
    OutputProofVerificationFailed,
    PvmProofProductionFailed,
    PvmProofVerificationFailed,
    StepResult,
    VerifiedOutput,
)

VERSION = 1
MAX_VECTOR = 1 << 20
"""Largest vector a proof may describe, but for the code and the inputs.
A partial vector is a list of placeholders: a verifier allocates 8 bytes
per slot, so these bounds cap what a forged proof can make it allocate."""
MAX_CODE = 1 << 22
MAX_INPUTS = 1 << 21
MAX_DURABLE_DEPTH = 130
MAX_VALUE = (1 << 31) - 1

# -- bytes ------------------------------------------------------------------------------


class Writer:
    __slots__ = ("out",)

    def __init__(self) -> None:
        self.out = bytearray()

    def u8(self, v: int) -> None:
        self.out.append(v)

    def u32(self, v: int) -> None:
        self.out += v.to_bytes(4, "big")

    def i64(self, v: int) -> None:
        self.out += v.to_bytes(8, "big", signed=True)

    def u64(self, v: int) -> None:
        self.out += v.to_bytes(8, "big")

    def raw(self, b: bytes) -> None:
        self.out += b

    def blob(self, b: bytes) -> None:
        self.u32(len(b))
        self.out += b


class Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise EncodingError(f"wasm proof truncated at byte {self.pos}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def i64(self) -> int:
        return int.from_bytes(self.take(8), "big", signed=True)

    def u64(self) -> int:
        return int.from_bytes(self.take(8), "big")

    def hash(self) -> bytes:
        return self.take(DIGEST)

    def blob(self, limit: int = 1 << 24) -> bytes:
        n = self.u32()
        if n > limit:
            raise EncodingError(f"wasm proof: a field of {n} bytes exceeds {limit}")
        return self.take(n)

    def ints(self) -> tuple[int, ...]:
        vals, self.pos = decode_ints(self.data, self.pos)
        return vals

    def end(self) -> None:
        if self.pos != len(self.data):
            raise EncodingError(f"wasm proof: {len(self.data) - self.pos} trailing bytes")


# value codecs: (encode into writer, decode from reader)
Codec = tuple[Callable[[Writer, Any], None], Callable[[Reader], Any]]


def _w9(w: Writer, v: int) -> None:
    w.raw(v.to_bytes(9, "big"))


def _r9(r: Reader) -> int:
    return int.from_bytes(r.take(9), "big")


def _wints(w: Writer, v: tuple[int, ...]) -> None:
    w.raw(encode_ints(v))


def _wblob(w: Writer, v: bytes) -> None:
    w.blob(v)


def _rblob(r: Reader) -> bytes:
    return r.blob()


def _winput(w: Writer, v: tuple[int, int, bytes]) -> None:
    w.raw(v[0].to_bytes(4, "big", signed=True) + v[1].to_bytes(4, "big", signed=True))
    w.blob(v[2])


def _rinput(r: Reader) -> tuple[int, int, bytes]:
    level = int.from_bytes(r.take(4), "big", signed=True)
    index = int.from_bytes(r.take(4), "big", signed=True)
    return (level, index, r.blob(8192))


INT: Codec = (_w9, _r9)
INTS: Codec = (_wints, Reader.ints)
BLOB: Codec = (_wblob, _rblob)
INPUT: Codec = (_winput, _rinput)


def _write_siblings(w: Writer, tree: MerkleTree, depth: int, keys: set[int]) -> None:
    ladder = tree.ladder
    for level, index in sibling_positions(depth, keys):
        h = tree.node(level, index)
        if h == ladder[level]:
            w.u8(0)
        else:
            w.u8(1)
            w.raw(h)


def _read_siblings(
    r: Reader, depth: int, keys: set[int], default_leaf: bytes
) -> dict[tuple[int, int], bytes]:
    ladder = defaults(default_leaf)
    out: dict[tuple[int, int], bytes] = {}
    for level, index in sibling_positions(depth, keys):
        tag = r.u8()
        if tag == 0:
            out[(level, index)] = ladder[level]
        elif tag == 1:
            out[(level, index)] = r.hash()
        else:
            raise EncodingError(f"wasm proof: sibling tag {tag}")
    return out


def write_vector(w: Writer, items: Any, tree: MerkleTree, lazy: PList, codec: Codec) -> None:
    """A vector of the pre-state ``items`` (hashed by ``tree``) with the
    slots the lazy run revealed."""
    n = len(items)
    revealed = sorted(i for i in lazy.revealed if i < n)
    absent = sorted(i for i in lazy.absent if i >= n)
    w.u32(n)
    w.u32(len(revealed))
    for i in revealed:
        w.u32(i)
        codec[0](w, items[i])
    w.u32(len(absent))
    for i in absent:
        w.u32(i)
    _write_siblings(w, tree, depth_for(n), set(revealed) | set(absent))


def read_vector(
    r: Reader, codec: Codec, default_leaf: bytes, name: str, limit: int = MAX_VECTOR
) -> PList:
    n = r.u32()
    if n > limit:
        raise EncodingError(f"wasm proof: {name} of {n} slots exceeds {limit}")
    out = PList([HOLE] * n, name=name)
    last = -1
    for _ in range(r.u32()):
        i = r.u32()
        if not last < i < n:
            raise EncodingError(f"wasm proof: bad slot {i} of {name}")
        last = i
        list.__setitem__(out, i, codec[1](r))
    absent: set[int] = set()
    last = n - 1
    for _ in range(r.u32()):
        i = r.u32()
        if not last < i < (1 << depth_for(n)):
            raise EncodingError(f"wasm proof: bad absent slot {i} of {name}")
        last = i
        absent.add(i)
    keys = {i for i, v in enumerate(list.__iter__(out)) if v is not HOLE} | absent
    out.siblings = _read_siblings(r, depth_for(n), keys, default_leaf)
    out.absent = absent
    out.depth0 = depth_for(n)
    return out


def _lazy_vector(items: Any, name: str) -> PList:
    """A vector whose slots reveal ``items`` (the pre-state) on access."""
    out = PList([HOLE] * len(items), name=name)

    def load(i: int) -> Any:
        out.revealed.add(i)
        v = items[i]
        return v.copy() if isinstance(v, list) else v

    out.loader = load
    return out


def _lazy_stack(items: list[Any], name: str, reveal: Callable[[Any], Any] | None = None) -> PList:
    """A stack whose items reveal from the top down (everything between
    the lowest accessed item and the top)."""
    n = len(items)
    out = PList([HOLE] * n, name=name)
    out.low = n

    def load(i: int) -> Any:
        for j in range(i, out.low):
            v = items[j]
            list.__setitem__(out, j, reveal(v) if reveal is not None else v)
        out.low = min(out.low, i)
        return list.__getitem__(out, i)

    out.loader = load
    return out


def write_stack(
    w: Writer,
    items: list[Any],
    prefix: Callable[[int], bytes],
    low: int,
    enc: Callable[[Writer, Any], None],
) -> None:
    n = len(items)
    low = min(low, n)
    w.u32(n)
    w.u32(low)
    w.raw(prefix(low))
    for j in range(low, n):
        enc(w, items[j])


def read_stack(
    r: Reader, dec: Callable[[Reader], Any], name: str, limit: int = MAX_VECTOR
) -> PList:
    n = r.u32()
    low = r.u32()
    if n > limit or low > n:
        raise EncodingError(f"wasm proof: bad {name} ({low} of {n})")
    base = r.hash()
    out = PList([HOLE] * low + [dec(r) for _ in range(n - low)], name=name)
    out.low = low
    out.base_hash = base
    return out


# -- the lazy (prover) machine ---------------------------------------------------------------


class _Lazy:
    """A copy of a full machine whose parts reveal on access."""

    def __init__(self, full: Machine) -> None:
        self.full = full
        m = Machine.__new__(Machine)
        for name in Machine.__slots__:
            setattr(m, name, getattr(full, name))
        assert isinstance(full.durable.root, Node)
        self.root = Stub(full.durable.root.digest(), full.durable.root)
        m.durable = DurableStore(self.root)
        m.outbox = self._outbox(full.outbox)
        inputs = Inputs()
        self.inputs = _lazy_vector(full.inputs.items, "inputs")
        inputs.items = self.inputs
        inputs.pos = full.inputs.pos
        m.inputs = inputs
        m.inst = self._instance(full.inst) if full.inst is not None else None
        self.machine = m

    def _outbox(self, full: Outbox) -> Outbox:
        out = Outbox(full.max_per_level)
        out.levels = None
        out.tree = None
        out.current = full.current
        out.low = full.low
        self.cur = _lazy_vector(full.cur, "outbox")
        out.cur = self.cur
        out.cur_hint = full.cur_root()
        tree = full.tree
        assert tree is not None
        self.map_keys: set[int] = set()

        def load(level: int) -> bytes:
            self.map_keys.add(level)
            return tree.node(0, level)

        out.map_loader = load
        return out

    def _instance(self, full: Instance) -> Instance:
        self.types = _lazy_vector(full.types, "types")
        self.funcs = _lazy_vector(full.funcs, "funcs")
        self.code = _lazy_vector(full.code, "code")
        assert isinstance(full.mem, Memory)
        self.mem = PartialMemory(full.mem.pages, {}, {}, full=full.mem)
        self.globals = _lazy_vector(full.globals, "globals")
        self.tables = [_lazy_vector(t, f"table{i}") for i, t in enumerate(full.tables)]
        self.data = _lazy_vector(full.data, "data")
        self.elems = _lazy_vector(full.elems, "elems")
        self.stack = _lazy_stack(full.stack, "stack")
        self.frame_locals: dict[int, PList] = {}

        def reveal_frame(f: Frame) -> Frame:
            locals_ = _lazy_vector(f.locals, "locals")
            self.frame_locals[id(f)] = locals_
            return Frame(f.pc, f.base, locals_)

        self.frames = _lazy_stack(full.frames, "frames", reveal_frame)
        inst = Instance(
            None,
            full.static_raw,
            self.types,
            self.funcs,
            self.code,
            self.mem,
            self.globals,
            list(self.tables),
            self.data,
            self.elems,
            self.stack,
            self.frames,
        )
        return inst

    def encode(self) -> bytes:
        full = self.full
        full.digest()  # refresh every cache of the pre-state
        w = Writer()
        w.u8(VERSION)
        w.blob(full.header())
        _write_node(w, self.root, 0)
        self._write_outbox(w, full.outbox)
        inputs = full.inputs
        w.u32(inputs.pos)
        write_vector(w, inputs.items, inputs.cache.tree, self.inputs, INPUT)
        if full.inst is None:
            w.u8(0)
        else:
            w.u8(1)
            self._write_instance(w, full.inst)
        return bytes(w.out)

    def _write_outbox(self, w: Writer, full: Outbox) -> None:
        w.i64(-1 if full.current is None else full.current)
        w.i64(full.low)
        write_vector(w, full.cur, full.c_cur.tree, self.cur, BLOB)
        keys = sorted(self.map_keys)
        w.u32(len(keys))
        tree = full.tree
        assert tree is not None
        for k in keys:
            w.u32(k)
            leaf = tree.node(0, k)
            if leaf == LEVEL_ABSENT:
                w.u8(0)
            else:
                w.u8(1)
                w.raw(leaf)
        _write_siblings(w, tree, OUTBOX_MAP_DEPTH, set(keys))

    def _write_instance(self, w: Writer, full: Instance) -> None:
        c = full.compiled
        assert c is not None and isinstance(full.mem, Memory)
        w.raw(encode_ints(full.static_raw))
        write_vector(w, full.types, c.types_tree, self.types, INTS)
        write_vector(w, full.funcs, c.funcs_tree, self.funcs, INTS)
        write_vector(w, full.code, c.code_tree, self.code, INTS)
        # memory
        mem = full.mem
        w.u32(mem.pages)
        chunks = sorted(self.mem.revealed)
        w.u32(len(chunks))
        for i in chunks:
            w.u32(i)
            w.raw(mem.chunk(i))
        _write_siblings(w, mem.tree, depth_for(mem.pages * PAGE // MEM_CHUNK), set(chunks))
        write_vector(w, full.globals, full.c_globals.tree, self.globals, INT)
        w.u32(len(full.tables))
        for i, t in enumerate(full.tables):
            write_vector(w, t, full.c_tables[i].tree, self.tables[i], INT)
        write_vector(w, full.data, full.c_data.tree, self.data, BLOB)
        write_vector(w, full.elems, full.c_elems.tree, self.elems, INTS)
        write_stack(w, full.stack, lambda k: full.c_stack.prefix[k], self.stack.low, _w9)
        frame_hashes = [f.digest() for f in full.frames]
        full.c_frames.root(frame_hashes)

        def write_frame(w: Writer, f: Frame) -> None:
            w.u32(f.pc)
            w.u32(f.base)
            lazy = self.frame_locals[id(f)]
            assert f.cache is not None
            write_vector(w, f.locals, f.cache.tree, lazy, INT)

        write_stack(w, full.frames, lambda k: full.c_frames.prefix[k], self.frames.low, write_frame)


def _write_node(w: Writer, x: Node | Stub, depth: int) -> None:
    if isinstance(x, Stub) and x.node is None:
        w.u8(0)
        w.raw(x.hash)
        return
    node = x.node if isinstance(x, Stub) else x
    assert node is not None
    w.u8(1)
    v = node.value
    if v is None:
        w.u8(0)
    else:
        assert isinstance(v, PartialValue) and v.full is not None
        full = v.full
        w.u8(1)
        w.u64(full.length)
        revealed = sorted(v.revealed)
        w.u32(len(revealed))
        for i in revealed:
            w.u32(i)
            c = full.chunk(i)
            if c is None:
                w.u8(0)
            else:
                w.u8(1)
                w.raw(c)
        full.digest()
        _write_siblings(w, full.tree, depth_for(n_chunks(full.length)), set(revealed))
    w.u32(len(node.children))
    for name in sorted(node.children):
        w.blob(name.encode("ascii"))
        _write_node(w, node.children[name], depth + 1)


# -- decoding (verifier) ----------------------------------------------------------------------


_STEP_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


def _read_node(r: Reader, depth: int) -> Node | Stub:
    if depth > MAX_DURABLE_DEPTH:
        raise EncodingError("wasm proof: durable tree too deep")
    tag = r.u8()
    if tag == 0:
        return Stub(r.hash())
    if tag != 1:
        raise EncodingError(f"wasm proof: durable node tag {tag}")
    value: PartialValue | None = None
    vtag = r.u8()
    if vtag == 1:
        length = r.u64()
        if length > MAX_VALUE:
            raise EncodingError("wasm proof: durable value too long")
        n = n_chunks(length)
        known: dict[int, bytes | None] = {}
        last = -1
        for _ in range(r.u32()):
            i = r.u32()
            if not last < i < max(1, 1 << depth_for(n)):
                raise EncodingError("wasm proof: bad durable chunk index")
            last = i
            present = r.u8()
            if present not in (0, 1):
                raise EncodingError("wasm proof: bad durable chunk tag")
            known[i] = r.take(CHUNK_SIZE) if present else None
        siblings = _read_siblings(r, depth_for(n), set(known), CHUNK_ABSENT)
        value = PartialValue(length, known, siblings, depth_for(n), None, set())
    elif vtag != 0:
        raise EncodingError(f"wasm proof: durable value tag {vtag}")
    children: dict[str, Node | Stub] = {}
    previous = b""
    for _ in range(r.u32()):
        raw = r.blob(255)
        if not raw or not _STEP_CHARS.issuperset(raw) or raw <= previous:
            raise EncodingError("wasm proof: bad durable step name")
        previous = raw
        children[raw.decode("ascii")] = _read_node(r, depth + 1)
    return Node(value, children)


def _read_outbox(r: Reader, max_per_level: int) -> Outbox:
    out = Outbox(max_per_level)
    out.levels = None
    out.tree = None
    current = r.i64()
    out.current = None if current == -1 else current
    out.low = r.i64()
    out.cur = read_vector(r, BLOB, ABSENT_LEAF, "outbox", limit=1 << 16)
    keys: dict[int, bytes] = {}
    last = -1
    for _ in range(r.u32()):
        k = r.u32()
        if k <= last:
            raise EncodingError("wasm proof: bad outbox level")
        last = k
        keys[k] = r.hash() if r.u8() else LEVEL_ABSENT
    out.map_pre = keys
    out.map_sib = _read_siblings(r, OUTBOX_MAP_DEPTH, set(keys), LEVEL_ABSENT)
    return out


def _read_instance(r: Reader) -> Instance:
    static = r.ints()
    if len(static) < 5 or len(static) != 5 + static[4] or static[4] > 4:
        raise EncodingError("wasm proof: bad module header")
    types = read_vector(r, INTS, ABSENT_LEAF, "types")
    funcs = read_vector(r, INTS, ABSENT_LEAF, "funcs")
    code = read_vector(r, INTS, ABSENT_LEAF, "code", limit=MAX_CODE)
    pages = r.u32()
    if pages > MAX_MEMORY_PAGES:
        raise EncodingError("wasm proof: memory too large")
    nchunks = pages * PAGE // MEM_CHUNK
    chunks: dict[int, bytearray] = {}
    last = -1
    for _ in range(r.u32()):
        i = r.u32()
        if not last < i < max(1, 1 << depth_for(nchunks)):
            raise EncodingError("wasm proof: bad memory chunk index")
        last = i
        chunks[i] = bytearray(r.take(MEM_CHUNK))
    siblings = _read_siblings(r, depth_for(nchunks), set(chunks), MEM_ZERO_LEAF)
    mem = PartialMemory(pages, chunks, siblings)
    globals_ = read_vector(r, INT, ABSENT_LEAF, "globals")
    ntables = r.u32()
    if ntables != static[4]:
        raise EncodingError("wasm proof: table count differs from the module header")
    tables = [read_vector(r, INT, ABSENT_LEAF, f"table{i}") for i in range(ntables)]
    data = read_vector(r, BLOB, ABSENT_LEAF, "data")
    elems = read_vector(r, INTS, ABSENT_LEAF, "elems")
    stack = read_stack(r, _r9, "stack")

    def read_frame(r: Reader) -> Frame:
        pc = r.u32()
        base = r.u32()
        return Frame(pc, base, read_vector(r, INT, ABSENT_LEAF, "locals", limit=1 << 17))

    frames = read_stack(r, read_frame, "frames", limit=1 << 17)
    return Instance(
        None, static, types, funcs, code, mem, globals_, tables, data, elems, stack, frames
    )


def decode(step: bytes, max_per_level: int = 100) -> Machine:
    """The partial state a proof describes; raises ``EncodingError``."""
    r = Reader(step)
    version = r.u8()
    if version != VERSION:
        raise EncodingError(f"wasm proof: unknown version {version}")
    m = Machine.__new__(Machine)
    header = r.blob(1 << 16)
    decode_header(m, header)
    if m.header() != header:
        raise EncodingError("wasm proof: non-canonical header")
    m.durable = DurableStore(_read_node(r, 0))
    m.outbox = _read_outbox(r, max_per_level)
    inputs = Inputs()
    inputs.pos = r.u32()
    inputs.items = read_vector(r, INPUT, ABSENT_LEAF, "inputs", limit=MAX_INPUTS)
    m.inputs = inputs
    tag = r.u8()
    if tag == 0:
        m.inst = None
    elif tag == 1:
        m.inst = _read_instance(r)
    else:
        raise EncodingError(f"wasm proof: instance tag {tag}")
    r.end()
    return m


# -- the API -----------------------------------------------------------------------------------


def produce(pvm: pvm_mod.ReferencePvm, state: Machine, given: Input | None) -> bytes:
    """A one-step proof from ``state`` with ``given`` (Octez ``produce_proof``)."""
    lazy = _Lazy(state)
    try:
        pvm_mod.step(lazy.machine, pvm.env(record=False), given)
    except (ScoruError, ValueError) as exc:
        raise PvmProofProductionFailed(pvm_mod.NAME, str(exc)) from None
    return lazy.encode()


def verify(pvm: pvm_mod.ReferencePvm, given: Input | None, step: bytes) -> StepResult:
    """Check a one-step proof and return what it proves (Octez ``verify_proof``)."""
    try:
        m = decode(step, MAX_OUTBOX_MESSAGES_PER_LEVEL)
        start = m.digest()
        request = pvm_mod.step(m, pvm.env(record=False), given)
        if not isinstance(request, NoInputRequired) and given is None:
            return StepResult(StateHash(start), None, request)
        stop = m.digest()
    except (ScoruError, ArithmeticError, LookupError, TypeError, ValueError, AssertionError) as exc:
        raise PvmProofVerificationFailed(pvm_mod.NAME, f"{type(exc).__name__}: {exc}") from None
    except RecursionError as exc:  # pragma: no cover
        raise PvmProofVerificationFailed(pvm_mod.NAME, str(exc)) from None
    return StepResult(StateHash(start), StateHash(stop), request)


# -- output proofs -----------------------------------------------------------------------------


def produce_output(state: Machine, output: Output) -> bytes:
    """A proof that ``output`` is in the outbox of ``state``: the state's
    part hashes, the outbox fields, and the Merkle paths of the message
    (and of its level, unless it is the current one)."""
    ob = state.outbox
    if ob.levels is None:
        raise PvmProofProductionFailed(pvm_mod.NAME, "a partial state has no output proofs")
    messages = ob.messages(output.outbox_level)
    index = output.message_index
    if not (0 <= index < len(messages)) or messages[index] != output.message:
        raise PvmProofProductionFailed(pvm_mod.NAME, "the output is not in the outbox")
    state.digest()
    w = Writer()
    w.u8(VERSION)
    w.raw(state.header_hash())
    w.raw(state.durable.root_hash())
    w.raw(state.inputs.digest())
    w.raw(NO_INSTANCE if state.inst is None else state.inst.digest())
    w.i64(-1 if ob.current is None else ob.current)
    w.i64(ob.low)
    w.u32(len(ob.cur))
    w.raw(ob.cur_root())
    assert ob.tree is not None
    w.raw(ob.tree.root(OUTBOX_MAP_DEPTH))
    w.i64(output.outbox_level)
    w.u32(index)
    w.blob(output.message)
    tree = VecCache(msg_leaf, ABSENT_LEAF)
    tree.root(messages)
    if output.outbox_level != ob.current:
        w.u32(len(messages))
        _write_siblings(w, ob.tree, OUTBOX_MAP_DEPTH, {output.outbox_level})
    _write_siblings(w, tree.tree, depth_for(len(messages)), {index})
    return bytes(w.out)


def _path_root(
    default_leaf: bytes, depth: int, index: int, leaf: bytes, sib: dict[tuple[int, int], bytes]
) -> bytes:
    from executable.reference.merkle import PartialTree

    return PartialTree(default_leaf, depth, {index: leaf}, sib).root(depth)


def verify_output(proof: bytes) -> VerifiedOutput:
    """Check an output proof (Octez ``verify_output_proof``)."""
    try:
        r = Reader(proof)
        if r.u8() != VERSION:
            raise EncodingError("wasm output proof: unknown version")
        header_hash = r.hash()
        durable_root = r.hash()
        inputs_hash = r.hash()
        instance_hash = r.hash()
        current = r.i64()
        low = r.i64()
        cur_count = r.u32()
        cur_root = r.hash()
        map_root = r.hash()
        level = r.i64()
        index = r.u32()
        message = r.blob(4096)
        if level == current:
            count, msgs_root = cur_count, cur_root
        else:
            count = r.u32()
            if not 0 <= level < 2**32:
                raise EncodingError("wasm output proof: bad level")
            map_sib = _read_siblings(r, OUTBOX_MAP_DEPTH, {level}, LEVEL_ABSENT)
            msgs_root = b""
        if count > 1 << 16 or index >= count:
            raise EncodingError("wasm output proof: no such message")
        sib = _read_siblings(r, depth_for(count), {index}, ABSENT_LEAF)
        r.end()
        root = _path_root(ABSENT_LEAF, depth_for(count), index, msg_leaf(message), sib)
        if level == current:
            if root != cur_root:
                raise EncodingError("wasm output proof: the message is not in the outbox")
        else:
            leaf = level_leaf(level, count, root)
            if _path_root(LEVEL_ABSENT, OUTBOX_MAP_DEPTH, level, leaf, map_sib) != map_root:
                raise EncodingError("wasm output proof: the level is not in the outbox")
        _ = msgs_root
        outbox = layout.outbox_digest(
            None if current == -1 else current, low, cur_count, cur_root, map_root
        )
        state = layout.state_digest(header_hash, durable_root, outbox, inputs_hash, instance_hash)
    except (ScoruError, ValueError, ProofIncomplete, OverflowError) as exc:
        raise OutputProofVerificationFailed(pvm_mod.NAME, str(exc)) from None
    return VerifiedOutput(StateHash(state), Output(level, index, message))


__all__ = ["decode", "produce", "produce_output", "verify", "verify_output"]
