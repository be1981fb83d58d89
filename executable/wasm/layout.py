"""The Merkle layout of ``wasm_2_0_0`` state hashes, shared by both VMs.

A state hash commits to the whole PVM state::

    state = H("scoru-wasm-ref/1" ‖ H("header" ‖ header) ‖ durable root
              ‖ outbox ‖ inputs ‖ instance)

* the **header** (:func:`header`) holds the phase, the tick counter, the
  period start, the reboot counter, the revision, the last input, the stuck
  kind and, inside a kernel_run, the run's own counters;
* the **durable root** (:func:`durable_node`): a node is ``H("dnode" ‖
  value hash or absent ‖ (name, child hash)*)`` with children in byte order
  of names; a value is ``H("dvalue" ‖ length ‖ chunk root)`` over a sparse
  tree of its 512-byte chunks in which a never-written chunk
  (:data:`CHUNK_ABSENT`) differs from a chunk of zeros;
* the **outbox** (:func:`outbox_digest`): current level, lowest kept level,
  the current level's messages and a depth-32 map of the other kept levels;
* the **inputs** (:func:`inputs_digest`): the messages of the level being
  read and the reading position;
* the **instance**: :data:`NO_INSTANCE` outside a kernel_run (the reference
  PVM's :class:`~executable.reference.state.Instance` inside one).

Trees are binary Merkle trees over indexed leaves: ``node(0, i)`` is leaf
``i`` and ``node(l, i) = H("N" ‖ node(l-1, 2i) ‖ node(l-1, 2i+1))``; a
vector of ``n`` leaves has depth :func:`depth_for` ``(n)``, default leaves
beyond its size, and a subtree of default leaves hashes to the default of
its level (:func:`defaults`).

This is this project's own scheme (Blake2b-256), not Octez's Irmin tree
hash (src/lib_scoru_wasm/wasm_pvm.ml, ``Context_binary``): it is defined
here, below the two VMs, so that the fast VM (:mod:`executable.wasm.pvm`),
which can stop only between kernel_runs, commits to exactly the hashes the
proof-generating reference PVM (:mod:`executable.reference`) computes at
every kernel_run boundary and level end.
"""

from __future__ import annotations

import bisect
import enum
import hashlib
from collections.abc import Iterable, Sequence

DIGEST = 32
ZERO = bytes(DIGEST)
CHUNK_SIZE = 512
"""Octez: src/lib_lazy_containers/chunked_byte_vector.ml, ``Chunk.size``."""


def H(*parts: bytes | bytearray) -> bytes:
    """Blake2b-256 of the concatenation of ``parts``."""
    return hashlib.blake2b(b"".join(parts), digest_size=DIGEST).digest()


def depth_for(n: int) -> int:
    """The depth of a vector of ``n`` leaves: the least ``d`` with ``2^d ≥ n``."""
    return max(0, (n - 1).bit_length())


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.blake2b(b"N" + left + right, digest_size=DIGEST).digest()


_LADDERS: dict[bytes, list[bytes]] = {}


def defaults(default_leaf: bytes) -> list[bytes]:
    """``D[l]``: the hash of a subtree of height ``l`` of default leaves."""
    ladder = _LADDERS.get(default_leaf)
    if ladder is None:
        ladder = [default_leaf]
        for _ in range(64):
            ladder.append(node_hash(ladder[-1], ladder[-1]))
        _LADDERS[default_leaf] = ladder
    return ladder


class MerkleTree:
    """A sparse Merkle tree over leaf hashes with an incremental cache.

    Only non-default leaves and nodes are stored; :meth:`set` marks a leaf
    dirty and the next read of a node rehashes the dirty paths only, up to
    the tree's current height (raised by :meth:`ensure_height`, which must
    come before setting a leaf beyond the current capacity).
    """

    __slots__ = ("dirty", "height", "ladder", "leaves", "nodes")

    def __init__(self, default_leaf: bytes, height: int = 0) -> None:
        self.ladder = defaults(default_leaf)
        self.leaves: dict[int, bytes] = {}
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.dirty: set[int] = set()
        self.height = height

    def copy(self) -> MerkleTree:
        other = MerkleTree.__new__(MerkleTree)
        other.ladder = self.ladder
        other.leaves = dict(self.leaves)
        other.nodes = dict(self.nodes)
        other.dirty = set(self.dirty)
        other.height = self.height
        return other

    def set(self, index: int, leaf: bytes) -> None:
        if leaf == self.ladder[0]:
            self.leaves.pop(index, None)
        else:
            self.leaves[index] = leaf
        self.dirty.add(index)

    def ensure_height(self, height: int) -> None:
        """Make nodes up to level ``height`` available (the tree only grows)."""
        if height <= self.height:
            return
        self._flush()
        ladder = self.ladder
        for level in range(self.height + 1, height + 1):
            left = self.nodes.get((level - 1, 0)) if level > 1 else self.leaves.get(0)
            # index 1 at level-1 lies beyond the old capacity: default
            h = node_hash(left if left is not None else ladder[level - 1], ladder[level - 1])
            if h != ladder[level]:
                self.nodes[(level, 0)] = h
        self.height = height

    def _flush(self) -> None:
        if not self.dirty:
            return
        ladder = self.ladder
        nodes = self.nodes
        leaves = self.leaves
        current = self.dirty
        self.dirty = set()
        if len(current) == 1:  # the usual case: one path, no sets
            (i,) = current
            h = leaves.get(i, ladder[0])
            for level in range(1, self.height + 1):
                sibling = i ^ 1
                below = level - 1
                other = (
                    leaves.get(sibling, ladder[0])
                    if below == 0
                    else nodes.get((below, sibling), ladder[below])
                )
                h = node_hash(h, other) if i & 1 == 0 else node_hash(other, h)
                i >>= 1
                if h == ladder[level]:
                    nodes.pop((level, i), None)
                else:
                    nodes[(level, i)] = h
            return
        for level in range(1, self.height + 1):
            parents = {i >> 1 for i in current}
            below = level - 1
            for p in parents:
                if below == 0:
                    left = leaves.get(2 * p, ladder[0])
                    right = leaves.get(2 * p + 1, ladder[0])
                else:
                    left = nodes.get((below, 2 * p), ladder[below])
                    right = nodes.get((below, 2 * p + 1), ladder[below])
                h = node_hash(left, right)
                if h == ladder[level]:
                    nodes.pop((level, p), None)
                else:
                    nodes[(level, p)] = h
            current = parents

    def node(self, level: int, index: int) -> bytes:
        self._flush()
        if level == 0:
            return self.leaves.get(index, self.ladder[0])
        if level > self.height:
            # above the stored height: only index 0 can hold leaves
            if index != 0:
                return self.ladder[level]
            h = self.node(level - 1, 0)
            return node_hash(h, self.ladder[level - 1])
        return self.nodes.get((level, index), self.ladder[level])

    def root(self, depth: int) -> bytes:
        if depth > self.height:
            self.ensure_height(depth)
        return self.node(depth, 0)

    def siblings(self, depth: int, revealed: Iterable[int]) -> list[tuple[int, bytes]]:
        """The (level, hash) of the maximal subtrees without a revealed leaf,
        in depth-first order (see :func:`sibling_positions`)."""
        return [(lvl, self.node(lvl, idx)) for lvl, idx in sibling_positions(depth, revealed)]


def sibling_positions(depth: int, revealed: Iterable[int]) -> list[tuple[int, int]]:
    """Positions ``(level, index)`` of the maximal subtrees of a tree of
    ``depth`` that hold no revealed leaf, depth-first, left to right."""
    keys = sorted(set(revealed))
    out: list[tuple[int, int]] = []

    def visit(level: int, index: int) -> None:
        lo = index << level
        hi = (index + 1) << level
        k = bisect.bisect_left(keys, lo)
        if k == len(keys) or keys[k] >= hi:
            out.append((level, index))
            return
        if level == 0:
            return
        visit(level - 1, 2 * index)
        visit(level - 1, 2 * index + 1)

    visit(depth, 0)
    return out


def leaves_root(leaves: Sequence[bytes], default_leaf: bytes) -> bytes:
    """The root of a dense vector of leaf hashes (no cache)."""
    depth = depth_for(len(leaves))
    ladder = defaults(default_leaf)
    level = list(leaves) or [ladder[0]]
    for lvl in range(depth):
        if len(level) % 2:
            level.append(ladder[lvl])
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


ABSENT_LEAF = H(b"absent")
"""The default leaf of the vectors of a state (inputs, outbox, instance)."""

# -- durable storage --------------------------------------------------------------

CHUNK_ABSENT = H(b"dchunk-absent")
"""The leaf of a chunk that was never written."""


def chunk_leaf(chunk: bytes) -> bytes:
    return H(b"dchunk", chunk)


def n_chunks(length: int) -> int:
    return (length + CHUNK_SIZE - 1) // CHUNK_SIZE


def value_hash(length: int, chunk_root: bytes) -> bytes:
    """``H("dvalue" ‖ length ‖ root of the chunk tree of depth
    depth_for(n_chunks(length)))``."""
    return H(b"dvalue", length.to_bytes(8, "big"), chunk_root)


def durable_node(value: bytes | None, children: Iterable[tuple[str, bytes]]) -> bytes:
    """A durable node from its value hash (or None) and its children's
    (name, hash) pairs, given in byte order of names."""
    parts = [b"dnode", b"\x00" if value is None else b"\x01" + value]
    items = list(children)
    parts.append(len(items).to_bytes(4, "big"))
    for name, h in items:
        raw = name.encode("ascii")
        parts.append(bytes([len(raw)]) + raw + h)
    return H(*parts)


# -- outbox ------------------------------------------------------------------------

OUTBOX_MAP_DEPTH = 32
LEVEL_ABSENT = ABSENT_LEAF


def msg_leaf(message: bytes) -> bytes:
    return H(b"msg", message)


def level_leaf(level: int, count: int, root: bytes) -> bytes:
    """The leaf of a closed outbox level in the level map."""
    return H(b"outbox-level", level.to_bytes(4, "big"), count.to_bytes(4, "big"), root)


def messages_root(messages: Sequence[bytes]) -> bytes:
    return leaves_root([msg_leaf(m) for m in messages], ABSENT_LEAF)


def outbox_digest(
    current: int | None, low: int, count: int, cur_root: bytes, map_root: bytes
) -> bytes:
    """``H("outbox" ‖ current level (−1: none) ‖ lowest kept level ‖ current
    messages (count, root) ‖ root of the map of the other kept levels)``."""
    cur = -1 if current is None else current
    return H(
        b"outbox",
        cur.to_bytes(8, "big", signed=True),
        low.to_bytes(8, "big", signed=True),
        count.to_bytes(4, "big"),
        cur_root,
        map_root,
    )


# -- inputs -------------------------------------------------------------------------


def input_leaf(item: tuple[int, int, bytes]) -> bytes:
    level, index, payload = item
    return H(
        b"in", level.to_bytes(4, "big", signed=True), index.to_bytes(4, "big", signed=True), payload
    )


def inputs_digest(count: int, pos: int, root: bytes) -> bytes:
    """``H("inputs" ‖ number of inputs ‖ reading position ‖ root)``."""
    return H(b"inputs", count.to_bytes(4, "big"), pos.to_bytes(4, "big"), root)


def inputs_root(items: Sequence[tuple[int, int, bytes]]) -> bytes:
    return leaves_root([input_leaf(i) for i in items], ABSENT_LEAF)


# -- header and state -------------------------------------------------------------------


class Phase(enum.IntEnum):
    """Where the machine stands (Octez: wasm_pvm_state.ml ``tick_state``,
    coarser: decode, link and init are one tick here)."""

    COLLECT = 0
    """Waiting for the next inbox message."""
    PADDING = 1
    """Burning the ticks left in the period; its last tick decides."""
    LOAD = 2
    """The next tick decodes, links and instantiates ``/kernel/boot.wasm``."""
    EVAL = 3
    """Running the start function or ``kernel_run``."""
    REVEAL = 4
    """A reveal host function waits for its data."""
    STUCK = 5
    """Terminal: inputs are consumed and ignored."""


def header(
    *,
    phase: int,
    tick: int,
    period_start: int,
    reboot_counter: int,
    revision: int,
    last_input: tuple[int, int] | None,
    stuck_kind: str = "",
    pending: str = "",
    fuel: int = 0,
    stall: int = 0,
    bulk: tuple[int, ...] = (),
    entry: int = 0,
    in_start: bool = False,
    reveal: tuple[bytes, int, tuple[int, ...]] | None = None,
) -> bytes:
    """The header leaf's bytes; the defaults are those of every state
    outside a kernel_run (see ``executable.reference.state.decode_header``)."""
    out = bytearray()
    out += bytes([int(phase)])
    out += tick.to_bytes(16, "big")
    out += period_start.to_bytes(16, "big")
    out += reboot_counter.to_bytes(4, "big", signed=True)
    out += bytes([revision])
    if last_input is None:
        out += b"\x00"
    else:
        out += b"\x01" + last_input[0].to_bytes(4, "big", signed=True)
        out += last_input[1].to_bytes(4, "big", signed=True)
    for text in (stuck_kind, pending):
        raw = text.encode("ascii")
        out += bytes([len(raw)]) + raw
    out += fuel.to_bytes(16, "big")
    out += stall.to_bytes(16, "big")
    out += bytes([len(bulk)]) + b"".join(v.to_bytes(9, "big") for v in bulk)
    out += bytes([entry, int(in_start)])
    if reveal is None:
        out += b"\x00"
    else:
        request, host_id, args = reveal
        out += b"\x01" + len(request).to_bytes(4, "big") + request
        out += bytes([host_id, len(args)]) + b"".join(a.to_bytes(9, "big") for a in args)
    return bytes(out)


def header_hash(raw: bytes) -> bytes:
    return H(b"header", raw)


NO_INSTANCE = H(b"no-instance")
"""The instance part of a state outside a kernel_run."""


def state_digest(
    header_hash_: bytes, durable_root: bytes, outbox: bytes, inputs: bytes, instance: bytes
) -> bytes:
    """The state hash from the hashes of its five parts."""
    return H(b"scoru-wasm-ref/1", header_hash_, durable_root, outbox, inputs, instance)


__all__ = [
    "ABSENT_LEAF",
    "CHUNK_ABSENT",
    "CHUNK_SIZE",
    "DIGEST",
    "LEVEL_ABSENT",
    "NO_INSTANCE",
    "OUTBOX_MAP_DEPTH",
    "ZERO",
    "H",
    "MerkleTree",
    "Phase",
    "chunk_leaf",
    "defaults",
    "depth_for",
    "durable_node",
    "header",
    "header_hash",
    "input_leaf",
    "inputs_digest",
    "inputs_root",
    "leaves_root",
    "level_leaf",
    "messages_root",
    "msg_leaf",
    "n_chunks",
    "node_hash",
    "outbox_digest",
    "sibling_positions",
    "state_digest",
    "value_hash",
]
