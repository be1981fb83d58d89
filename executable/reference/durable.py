"""Durable storage as a persistent Merkle tree, with partial trees for proofs.

Same semantics, checks and error precedence as the fast VM's
:class:`executable.wasm.durable.DurableStorage` (Octez:
src/lib_scoru_wasm/durable.ml), so the host functions of
:mod:`executable.wasm.host` run unchanged on it. The representation differs
so that a proof can reveal only what a tick touches:

* nodes and values are immutable (a write rebuilds the path from the root),
  so snapshots are free and a proof is cut from the pre-state tree;
* a value is its length and a Merkle tree of 512-byte chunks (Octez's
  ``Chunked_byte_vector`` size) in which a never-written chunk is distinct
  from a chunk of zeros: ``H("dvalue" ‖ length ‖ chunk root)``;
* a node is ``H("dnode" ‖ value hash or absent ‖ (name, child hash)*)``
  with children in byte order of names.

In a partial tree a child may be a :class:`Stub` (its hash only) and a
value a :class:`PartialValue` (some chunks and sibling hashes). A prover's
stubs wrap the full pre-state object and expand on access, recording what
was revealed; a verifier's stubs raise :class:`ProofIncomplete`.

Both VMs hash durable trees with :mod:`executable.wasm.layout`, so
``subtree_hash`` (``__internal_store_get_hash``) answers the fast VM's
hash from the node's own hash (a stub's hash in a partial tree: no need to
reveal the subtree).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from executable.reference.merkle import (
    MerkleTree,
    PartialTree,
    ProofIncomplete,
    defaults,
    depth_for,
)
from executable.wasm import durable as fast_durable
from executable.wasm import layout
from executable.wasm.durable import CHUNK_SIZE, VALUE_STEP, Key, is_readonly
from executable.wasm.errors import HostError, HostFailure
from executable.wasm.limits import MAX_STORE_IO_SIZE

CHUNK_ABSENT = layout.CHUNK_ABSENT
ZERO_CHUNK = bytes(CHUNK_SIZE)
chunk_leaf = layout.chunk_leaf
n_chunks = layout.n_chunks
value_hash = layout.value_hash


class Value:
    """A full value: ``length`` bytes, the chunks ever written (512 bytes
    each, zero-padded) and a Merkle cache over them."""

    __slots__ = ("_hash", "chunks", "length", "tree")

    def __init__(self, length: int, chunks: dict[int, bytes], tree: MerkleTree | None = None):
        self.length = length
        self.chunks = chunks
        self._hash: bytes | None = None
        if tree is None:
            tree = MerkleTree(CHUNK_ABSENT, depth_for(n_chunks(length)))
            for i, c in chunks.items():
                tree.set(i, chunk_leaf(c))
        self.tree = tree

    @classmethod
    def of_bytes(cls, data: bytes) -> Value:
        chunks = {
            i // CHUNK_SIZE: data[i : i + CHUNK_SIZE].ljust(CHUNK_SIZE, b"\x00")
            for i in range(0, len(data), CHUNK_SIZE)
        }
        return cls(len(data), chunks)

    def chunk(self, i: int) -> bytes | None:
        return self.chunks.get(i)

    def digest(self) -> bytes:
        if self._hash is None:
            self._hash = value_hash(self.length, self.tree.root(depth_for(n_chunks(self.length))))
        return self._hash

    def with_chunks(self, length: int, updates: dict[int, bytes]) -> Value:
        chunks = dict(self.chunks)
        chunks.update(updates)
        tree = self.tree.copy()
        tree.ensure_height(depth_for(n_chunks(length)))
        for i, c in updates.items():
            tree.set(i, chunk_leaf(c))
        return Value(length, chunks, tree)


class PartialValue:
    """A value known through a proof: its length, some chunks (``None`` =
    never written) and the pre-state siblings; ``full`` is the pre-state
    value a prover reveals chunks from (recording them in ``revealed``)."""

    __slots__ = ("_hash", "depth0", "full", "known", "length", "revealed", "siblings")

    def __init__(
        self,
        length: int,
        known: dict[int, bytes | None],
        siblings: dict[tuple[int, int], bytes],
        depth0: int,
        full: Value | None,
        revealed: set[int],
    ) -> None:
        self.length = length
        self.known = known
        self.siblings = siblings
        self.depth0 = depth0
        self.full = full
        self.revealed = revealed
        self._hash: bytes | None = None

    def chunk(self, i: int) -> bytes | None:
        if i in self.known:
            return self.known[i]
        if i >= (1 << self.depth0):
            return None  # beyond the pre-state capacity: never written
        if self.full is None:
            raise ProofIncomplete(f"the proof does not reveal durable chunk {i}")
        c = self.full.chunk(i)
        self.known[i] = c
        self.revealed.add(i)
        return c

    def digest(self) -> bytes:
        if self._hash is None:
            ladder = defaults(CHUNK_ABSENT)
            known = {i: (ladder[0] if c is None else chunk_leaf(c)) for i, c in self.known.items()}
            tree = PartialTree(CHUNK_ABSENT, self.depth0, known, self.siblings)
            self._hash = value_hash(self.length, tree.root(depth_for(n_chunks(self.length))))
        return self._hash

    def with_chunks(self, length: int, updates: dict[int, bytes]) -> PartialValue:
        for i in updates:
            if i < (1 << self.depth0):
                self.chunk(i)  # a write needs the chunk's path
        known: dict[int, bytes | None] = dict(self.known)
        known.update(updates)
        if self.full is not None:
            # a prover's new value: rebuild its hash from the full pre-state
            new = self.full.with_chunks(length, {i: c for i, c in known.items() if c is not None})
            out = PartialValue(length, known, self.siblings, self.depth0, self.full, self.revealed)
            out._hash = new.digest()
            return out
        return PartialValue(length, known, self.siblings, self.depth0, None, self.revealed)


AnyValue = Value | PartialValue


class Node:
    """A durable node: an optional value and named children (immutable)."""

    __slots__ = ("_hash", "children", "value")

    def __init__(self, value: AnyValue | None = None, children: dict[str, Any] | None = None):
        self.value = value
        self.children: dict[str, Node | Stub] = {} if children is None else children
        self._hash: bytes | None = None

    def is_empty(self) -> bool:
        return self.value is None and not self.children

    def digest(self) -> bytes:
        if self._hash is None:
            self._hash = layout.durable_node(
                None if self.value is None else self.value.digest(),
                [(name, self.children[name].digest()) for name in sorted(self.children)],
            )
        return self._hash


EMPTY_NODE_HASH = Node().digest()


class Stub:
    """A subtree known by its hash; a prover's stub expands ``full`` on
    access and remembers the expansion in ``node``."""

    __slots__ = ("full", "hash", "node")

    def __init__(self, h: bytes, full: Node | None = None) -> None:
        self.hash = h
        self.full = full
        self.node: Node | None = None

    def digest(self) -> bytes:
        return self.hash

    def expand(self) -> Node:
        if self.node is None:
            full = self.full
            if full is None:
                raise ProofIncomplete("the proof does not reveal a durable node")
            value: AnyValue | None = None
            if full.value is not None:
                v = full.value
                value = PartialValue(
                    v.length, {}, {}, depth_for(n_chunks(v.length)), _as_full(v), set()
                )
                value._hash = v.digest()
            children = {
                name: Stub(c.digest(), _as_full_node(c)) for name, c in full.children.items()
            }
            self.node = Node(value, children)
            self.node._hash = self.hash
        return self.node


def _as_full(v: AnyValue) -> Value:
    assert isinstance(v, Value)
    return v


def _as_full_node(n: Node | Stub) -> Node:
    assert isinstance(n, Node)
    return n


def _open(x: Node | Stub) -> Node:
    return x.expand() if isinstance(x, Stub) else x


def _read(v: AnyValue, offset: int, n: int) -> bytes:
    end = min(v.length, offset + n)
    if end <= offset:
        return b""
    out = bytearray()
    first, last = offset // CHUNK_SIZE, (end - 1) // CHUNK_SIZE
    for i in range(first, last + 1):
        c = v.chunk(i)
        out += ZERO_CHUNK if c is None else c
    start = offset - first * CHUNK_SIZE
    return bytes(out[start : start + (end - offset)])


def _write(v: AnyValue | None, offset: int, data: bytes) -> AnyValue:
    """The value after writing ``data`` at ``offset`` (``_Value.write``)."""
    if v is None:
        v = Value(0, {})
    end = offset + len(data)
    length = max(v.length, end)
    updates: dict[int, bytes] = {}
    pos = offset
    while pos < end:
        index = pos // CHUNK_SIZE
        start = pos - index * CHUNK_SIZE
        take = min(CHUNK_SIZE - start, end - pos)
        piece = data[pos - offset : pos - offset + take]
        if start == 0 and take == CHUNK_SIZE and v.chunk(index) is None:
            new = piece
        else:
            old = v.chunk(index)
            buf = bytearray(old if old is not None else ZERO_CHUNK)
            buf[start : start + take] = piece
            new = bytes(buf)
        updates[index] = new
        pos += take
    if not updates and length == v.length:
        return v
    return v.with_chunks(length, updates)


class Durable:
    """Durable storage over a persistent (possibly partial) Merkle tree.

    The method names, arguments and failures are those of the fast VM's
    ``DurableStorage`` (see its docstrings for each rule)."""

    __slots__ = ("root",)

    def __init__(self, root: Node | Stub | None = None) -> None:
        self.root: Node | Stub = Node() if root is None else root

    def snapshot(self) -> Durable:
        return Durable(self.root)

    def root_hash(self) -> bytes:
        return self.root.digest()

    # -- reading --------------------------------------------------------

    def _find(self, k: Key) -> Node | None:
        node = _open(self.root)
        for step in k:
            child = node.children.get(step)
            if child is None:
                return None
            node = _open(child)
        return node

    def has_value(self, k: Key) -> bool:
        node = self._find(k)
        return node is not None and node.value is not None

    def read_all(self, k: Key) -> bytes | None:
        node = self._find(k)
        if node is None or node.value is None:
            return None
        return _read(node.value, 0, node.value.length)

    def value_digest(self, k: Key) -> bytes | None:
        node = self._find(k)
        if node is None or node.value is None:
            return None
        return node.value.digest()

    def value_size(self, k: Key) -> int:
        node = self._find(k)
        if node is None or node.value is None:
            raise HostFailure(HostError.STORE_NOT_A_VALUE)
        return node.value.length

    def count_subtrees(self, k: Key) -> int:
        node = self._find(k)
        if node is None:
            return 0
        return len(node.children) + (1 if node.value is not None else 0)

    def exists(self, k: Key) -> bool:
        node = self._find(k)
        return node is not None and not node.is_empty()

    def child_names(self, k: Key) -> list[str]:
        node = self._find(k)
        if node is None:
            raise HostFailure(HostError.STORE_NOT_A_NODE)
        names = list(node.children)
        if node.value is not None:
            names.append(VALUE_STEP)
        names.sort()
        return ["" if name == VALUE_STEP else name for name in names]

    def read_value(self, k: Key, offset: int, max_bytes: int) -> bytes:
        if max_bytes > MAX_STORE_IO_SIZE:
            raise HostFailure(HostError.INPUT_OUTPUT_TOO_LARGE)
        node = self._find(k)
        if node is None or node.value is None:
            raise HostFailure(HostError.STORE_NOT_A_VALUE)
        size = node.value.length
        if offset < 0 or offset >= size:
            raise HostFailure(HostError.STORE_INVALID_ACCESS)
        if max_bytes < 0:
            raise HostFailure(HostError.GENERIC_INVALID_ACCESS)
        return _read(node.value, offset, max_bytes)

    def subtree_hash(self, k: Key) -> bytes:
        """The hash of the subtree at ``k`` (−10 if absent), the fast VM's."""
        node = self._find(k)
        if node is None:
            raise HostFailure(HostError.STORE_NOT_A_NODE)
        return node.digest()

    def items(self) -> Iterator[tuple[str, bytes]]:
        yield from _items(_open(self.root), ())

    # -- writing --------------------------------------------------------

    def _replace(self, k: Key, fn: Any) -> None:
        """Rebuild the path to ``k`` with ``fn(node or None) -> node or None``
        at its end, pruning nodes left empty (no empty directories)."""
        self.root = _replace(_open(self.root), k, 0, fn, prune=True) or Node()

    @staticmethod
    def _check_writable(k: Key, edit_readonly: bool) -> None:
        if not edit_readonly and is_readonly(k):
            raise HostFailure(HostError.STORE_READONLY_VALUE)

    def write_value(self, k: Key, offset: int, data: bytes, *, edit_readonly: bool = False) -> None:
        self._check_writable(k, edit_readonly)
        if len(data) > MAX_STORE_IO_SIZE:
            raise HostFailure(HostError.INPUT_OUTPUT_TOO_LARGE)
        node = self._find(k)
        size = 0 if node is None or node.value is None else node.value.length
        if offset > size:
            raise HostFailure(HostError.STORE_INVALID_ACCESS)
        if offset < 0:
            raise HostFailure(HostError.GENERIC_INVALID_ACCESS)

        def fn(n: Node | None) -> Node:
            n = n or Node()
            return Node(_write(n.value, offset, data), n.children)

        self._replace(k, fn)

    def set_value(self, k: Key, data: bytes, *, edit_readonly: bool = False) -> None:
        self._check_writable(k, edit_readonly)
        value = Value.of_bytes(data)
        self._replace(k, lambda n: Node(value, (n or Node()).children))

    def create_value(self, k: Key, size: int, *, edit_readonly: bool = False) -> None:
        if size < 0:
            raise HostFailure(HostError.STORE_VALUE_SIZE_EXCEEDED)
        self._check_writable(k, edit_readonly)
        if self.has_value(k):
            raise HostFailure(HostError.STORE_VALUE_ALREADY_EXISTS)
        value = Value(size, {})
        self._replace(k, lambda n: Node(value, (n or Node()).children))

    def delete(self, k: Key, *, edit_readonly: bool = False) -> None:
        self._check_writable(k, edit_readonly)
        if len(k) == 0:
            self.root = Node()
            return
        if self._find(k) is None:
            return
        self._replace(k, lambda n: None)

    def delete_value(self, k: Key, *, edit_readonly: bool = False) -> None:
        self._check_writable(k, edit_readonly)
        if not self.has_value(k):
            return
        self._replace(k, lambda n: Node(None, n.children) if n is not None else None)

    def copy_tree(self, src: Key, dst: Key, *, edit_readonly: bool = False) -> None:
        self._check_writable(dst, edit_readonly)
        node = self._find(src)
        if node is None or node.is_empty():
            raise HostFailure(HostError.STORE_NOT_A_NODE)
        self._graft(dst, node)

    def move_tree(self, src: Key, dst: Key) -> None:
        self._check_writable(src, False)
        self._check_writable(dst, False)
        node = self._find(src)
        if node is None or node.is_empty():
            raise HostFailure(HostError.STORE_NOT_A_NODE)
        self.delete(src)
        self._graft(dst, node)

    def _graft(self, dst: Key, node: Node) -> None:
        if len(dst) == 0:
            self.root = node
            return
        # as the fast VM: intermediate nodes are created, nothing is pruned
        self.root = _replace(_open(self.root), dst, 0, lambda _n: node, prune=False) or Node()


def _replace(node: Node, k: Key, depth: int, fn: Any, *, prune: bool) -> Node | None:
    if depth == len(k):
        return fn(node)  # type: ignore[no-any-return]
    step = k[depth]
    child = node.children.get(step)
    below = _open(child) if child is not None else Node()
    new_child = _replace(below, k, depth + 1, fn, prune=prune)
    children = dict(node.children)
    if new_child is None or (prune and new_child.is_empty()):
        children.pop(step, None)
    else:
        children[step] = new_child
    out = Node(node.value, children)
    return None if prune and out.is_empty() and depth > 0 else out


def _items(node: Node, prefix: Key) -> Iterator[tuple[str, bytes]]:
    if node.value is not None:
        yield fast_durable.key_to_string(prefix), _read(node.value, 0, node.value.length)
    for name in sorted(node.children):
        yield from _items(_open(node.children[name]), (*prefix, name))
