"""Durable storage: the tree of paths a kernel reads and writes, with a
Merkle root.

Rules (Octez: src/lib_scoru_wasm/durable.ml, tests in
src/lib_scoru_wasm/test/test_durable_storage.ml):

* a path is the empty string (the root) or ``/step(/step)*`` with steps of
  ``A–Z a–z 0–9 . - _``; the root and every path under ``/readonly`` are
  read-only for kernels;
* every path holds, independently, an optional value (bytes, possibly empty)
  and children; the value counts as one child (Octez stores it under the
  step ``@``), and empty directories do not exist;
* values are chunked in 512-byte chunks and only chunks ever written exist
  (Octez's ``Chunked_byte_vector``): ``store_create`` allocates without
  writing, so huge values cost nothing until written.

The Merkle root is the layout of :mod:`executable.wasm.layout` (this
project's own scheme, the one the reference PVM commits to; it is *not*
Irmin's ``Context_binary`` hash, so it never equals an Octez state hash).
It is cached per node and per value and recomputed along written paths
only; a value keeps an incremental tree of its chunks, so writing one chunk
of a large value rehashes one path of that tree.

Snapshots are O(1): nodes are shared between snapshots and copied on first
write (each storage has an ownership token; a node or value owned by another
token is copied before it is changed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from executable.wasm import layout
from executable.wasm.errors import HostError, HostFailure
from executable.wasm.layout import CHUNK_SIZE as CHUNK_SIZE

VALUE_STEP = "@"
"""The tree step under which Octez stores a path's value."""

Key = tuple[str, ...]

_VALID_STEP_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


def parse_key(raw: bytes) -> Key:
    """Parse a durable path: ``""`` is the root; otherwise ``/``-separated
    non-empty steps of ``A–Z a–z 0–9 . - _``. Anything else is
    ``STORE_INVALID_KEY`` (−2). The length limit is checked by callers.

    Octez: durable.ml, ``key_of_string_exn``.
    """
    if raw == b"":
        return ()
    if raw[:1] != b"/":
        raise HostFailure(HostError.STORE_INVALID_KEY)
    steps = raw[1:].split(b"/")
    for step in steps:
        if not step or not _VALID_STEP_CHARS.issuperset(step):
            raise HostFailure(HostError.STORE_INVALID_KEY)
    return tuple(step.decode("ascii") for step in steps)


def key(text: str) -> Key:
    """Parse a path given as text (convenience for the PVM and tests)."""
    return parse_key(text.encode("ascii"))


def is_readonly(k: Key) -> bool:
    """The root and any path whose first step is exactly ``readonly``.

    Octez: durable.ml, ``key_of_string_exn`` (``Readonly`` keys).
    """
    return len(k) == 0 or k[0] == "readonly"


def key_to_string(k: Key) -> str:
    return "".join("/" + step for step in k)


class _Value:
    """A chunked byte vector: ``length`` bytes, of which only the chunks
    present in ``chunks`` were ever written; the others read as zeros.
    ``_tree`` caches the layout's chunk tree; ``_dirty`` lists the chunks
    written since it was last brought up to date."""

    __slots__ = ("_dirty", "_hash", "_tree", "chunks", "length", "owner")

    def __init__(self, owner: object, length: int = 0, chunks: dict[int, bytes] | None = None):
        self.owner = owner
        self.length = length
        self.chunks: dict[int, bytes] = {} if chunks is None else chunks
        self._hash: bytes | None = None
        self._tree: layout.MerkleTree | None = None
        self._dirty: set[int] = set()

    def copy(self, owner: object) -> _Value:
        value = _Value(owner, self.length, dict(self.chunks))
        value._hash = self._hash
        value._tree = self._tree.copy() if self._tree is not None else None
        value._dirty = set(self._dirty)
        return value

    @classmethod
    def of_bytes(cls, owner: object, data: bytes) -> _Value:
        chunks = {}
        for i in range(0, len(data), CHUNK_SIZE):
            chunk = data[i : i + CHUNK_SIZE]
            chunks[i // CHUNK_SIZE] = chunk.ljust(CHUNK_SIZE, b"\x00")
        return cls(owner, len(data), chunks)

    def read(self, offset: int, n: int) -> bytes:
        """Bytes ``[offset, offset + n)``, clipped to the length."""
        end = min(self.length, offset + n)
        if end <= offset:
            return b""
        out = bytearray()
        first, last = offset // CHUNK_SIZE, (end - 1) // CHUNK_SIZE
        zero = bytes(CHUNK_SIZE)
        for index in range(first, last + 1):
            out += self.chunks.get(index, zero)
        start = offset - first * CHUNK_SIZE
        return bytes(out[start : start + (end - offset)])

    def write(self, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset``, growing the length if needed."""
        self._hash = None
        end = offset + len(data)
        if end > self.length:
            self.length = end
        pos = offset
        while pos < end:
            index = pos // CHUNK_SIZE
            start = pos - index * CHUNK_SIZE
            take = min(CHUNK_SIZE - start, end - pos)
            chunk = self.chunks.get(index)
            if chunk is None and start == 0 and take == CHUNK_SIZE:
                new = data[pos - offset : pos - offset + take]
            else:
                buf = bytearray(chunk if chunk is not None else bytes(CHUNK_SIZE))
                buf[start : start + take] = data[pos - offset : pos - offset + take]
                new = bytes(buf)
            self.chunks[index] = new
            if self._tree is not None:
                self._dirty.add(index)
            pos += take

    def to_bytes(self) -> bytes:
        return self.read(0, self.length)

    def digest(self) -> bytes:
        """``layout.value_hash``: the length and the root of the chunk tree
        (written chunks only; never-written ones are ``CHUNK_ABSENT``)."""
        if self._hash is None:
            depth = layout.depth_for(layout.n_chunks(self.length))
            tree = self._tree
            if tree is None:
                tree = layout.MerkleTree(layout.CHUNK_ABSENT, depth)
                for index, chunk in self.chunks.items():
                    tree.set(index, layout.chunk_leaf(chunk))
                self._tree = tree
            else:
                tree.ensure_height(depth)  # before any leaf beyond the old capacity
                for index in self._dirty:
                    tree.set(index, layout.chunk_leaf(self.chunks[index]))
            self._dirty = set()
            self._hash = layout.value_hash(self.length, tree.root(depth))
        return self._hash


class _Node:
    __slots__ = ("_hash", "children", "owner", "value")

    def __init__(
        self,
        owner: object,
        value: _Value | None = None,
        children: dict[str, _Node] | None = None,
    ):
        self.owner = owner
        self.value = value
        self.children: dict[str, _Node] = {} if children is None else children
        self._hash: bytes | None = None

    def copy(self, owner: object) -> _Node:
        node = _Node(owner, self.value, dict(self.children))
        node._hash = self._hash
        return node

    def is_empty(self) -> bool:
        return self.value is None and not self.children

    def digest(self) -> bytes:
        """``layout.durable_node``: the value hash (or absent) and the
        children's (name, hash) in byte order of names."""
        if self._hash is None:
            children = self.children
            self._hash = layout.durable_node(
                None if self.value is None else self.value.digest(),
                [(name, children[name].digest()) for name in sorted(children)],
            )
        return self._hash


class DurableStorage:
    """The durable tree of one PVM state (mutable, with O(1) snapshots).

    Methods take parsed keys and enforce the read-only rule unless
    ``edit_readonly`` is set (the PVM's own writes, as in Octez's
    ``~edit_readonly:true``). Failures raise :class:`HostFailure` with the
    code the host function returns.
    """

    def __init__(self) -> None:
        self._token = object()
        self._root = _Node(self._token)

    # -- snapshots and hashing ------------------------------------------

    def snapshot(self) -> DurableStorage:
        """An independent copy sharing all current nodes (O(1))."""
        other = DurableStorage.__new__(DurableStorage)
        other._token = object()
        other._root = self._root
        self._token = object()
        return other

    def root_hash(self) -> bytes:
        """The Merkle root of the whole tree (32 bytes)."""
        return self._root.digest()

    def subtree_hash(self, k: Key) -> bytes:
        """Hash of the subtree at ``k`` (value and children); −10 if absent.

        Octez: host_funcs.ml ``store_get_hash`` (there Irmin's hash)."""
        node = self._find(k)
        if node is None:
            raise HostFailure(HostError.STORE_NOT_A_NODE)
        return node.digest()

    # -- reading --------------------------------------------------------

    def _find(self, k: Key) -> _Node | None:
        node = self._root
        for step in k:
            child = node.children.get(step)
            if child is None:
                return None
            node = child
        return node

    def has_value(self, k: Key) -> bool:
        node = self._find(k)
        return node is not None and node.value is not None

    def read_all(self, k: Key) -> bytes | None:
        """The whole value at ``k``, or ``None``."""
        node = self._find(k)
        if node is None or node.value is None:
            return None
        return node.value.to_bytes()

    def value_digest(self, k: Key) -> bytes | None:
        """Hash of the value at ``k`` (length and written chunks), or None.
        Octez compares kernels by such hashes (wasm_vm.ml
        ``has_fallback_kernel``, ``save_fallback_kernel``)."""
        node = self._find(k)
        if node is None or node.value is None:
            return None
        return node.value.digest()

    def value_size(self, k: Key) -> int:
        """Size of the value; −3 if there is none (host_funcs.ml)."""
        node = self._find(k)
        if node is None or node.value is None:
            raise HostFailure(HostError.STORE_NOT_A_VALUE)
        return node.value.length

    def count_subtrees(self, k: Key) -> int:
        """Number of children, the value counting as one; 0 if absent.

        Octez: durable.ml ``count_subtrees`` (Irmin ``length``)."""
        node = self._find(k)
        if node is None:
            return 0
        return len(node.children) + (1 if node.value is not None else 0)

    def exists(self, k: Key) -> bool:
        """Anything (value or children) at ``k``."""
        node = self._find(k)
        return node is not None and not node.is_empty()

    def child_names(self, k: Key) -> list[str]:
        """Children in Irmin's in-memory order (byte order of steps, the
        value listed as ``""`` at the position of its step ``@``)."""
        node = self._find(k)
        if node is None:
            raise HostFailure(HostError.STORE_NOT_A_NODE)
        names = list(node.children)
        if node.value is not None:
            names.append(VALUE_STEP)
        names.sort()
        return ["" if name == VALUE_STEP else name for name in names]

    def read_value(self, k: Key, offset: int, max_bytes: int) -> bytes:
        """``min(max_bytes, size − offset)`` bytes from ``offset``.

        Order of checks (durable.ml ``read_value_exn``): ``max_bytes`` >
        2,048 → −7; no value → −3; ``offset < 0`` or ``offset ≥ size`` → −4
        (so reading an empty value always fails); negative ``max_bytes`` → −8.
        """
        from executable.wasm.limits import MAX_STORE_IO_SIZE

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
        return node.value.read(offset, max_bytes)

    def items(self) -> Iterator[tuple[str, bytes]]:
        """Every (path, value) pair, in path order (for reports)."""
        yield from self._items(self._root, ())

    def _items(self, node: _Node, prefix: Key) -> Iterator[tuple[str, bytes]]:
        if node.value is not None:
            yield key_to_string(prefix), node.value.to_bytes()
        for name in sorted(node.children):
            yield from self._items(node.children[name], (*prefix, name))

    def walk(self) -> Iterator[tuple[Key, int, dict[int, bytes]]]:
        """Every value as (key, length, its written chunks by index, each
        512 bytes, zero-padded), in path order: the whole content of the
        tree, since which chunks were ever written is part of the state
        (the reference PVM rebuilds its own tree from this walk)."""
        yield from self._walk(self._root, ())

    def _walk(self, node: _Node, prefix: Key) -> Iterator[tuple[Key, int, dict[int, bytes]]]:
        if node.value is not None:
            yield prefix, node.value.length, dict(node.value.chunks)
        for name in sorted(node.children):
            yield from self._walk(node.children[name], (*prefix, name))

    @classmethod
    def from_walk(cls, values: Iterable[tuple[Key, int, Mapping[int, bytes]]]) -> DurableStorage:
        """The storage holding exactly ``values`` (the inverse of :meth:`walk`;
        chunks must be 512 bytes and lie within the length)."""
        out = cls()
        for k, length, chunks in values:
            if any(len(c) != CHUNK_SIZE or i < 0 for i, c in chunks.items()) or (
                chunks and max(chunks) >= layout.n_chunks(length)
            ):
                raise ValueError(f"malformed chunks for {key_to_string(k)}")
            target = out._path_for_write(k)[-1]
            target.value = _Value(out._token, length, dict(chunks))
        return out

    def value_digests(self) -> dict[str, bytes]:
        """Path → value hash for every value (cheap change detection)."""
        out: dict[str, bytes] = {}
        self._digests(self._root, (), out)
        return out

    def _digests(self, node: _Node, prefix: Key, out: dict[str, bytes]) -> None:
        if node.value is not None:
            out[key_to_string(prefix)] = node.value.digest()
        for name, child in node.children.items():
            self._digests(child, (*prefix, name), out)

    # -- writing --------------------------------------------------------

    def _own(self, node: _Node) -> _Node:
        return node if node.owner is self._token else node.copy(self._token)

    def _path_for_write(self, k: Key) -> list[_Node]:
        """Owned nodes from the root to ``k`` (created as needed), hashes
        invalidated along the way."""
        self._root = self._own(self._root)
        path = [self._root]
        node = self._root
        node._hash = None
        for step in k:
            child = node.children.get(step)
            child = _Node(self._token) if child is None else self._own(child)
            node.children[step] = child
            child._hash = None
            path.append(child)
            node = child
        return path

    def _path_if_exists(self, k: Key) -> list[_Node] | None:
        if self._find(k) is None:
            return None
        return self._path_for_write(k)

    def _prune(self, k: Key, path: list[_Node]) -> None:
        """Remove nodes left empty along ``path`` (no empty directories)."""
        for depth in range(len(k), 0, -1):
            if path[depth].is_empty():
                del path[depth - 1].children[k[depth - 1]]
            else:
                break

    @staticmethod
    def _check_writable(k: Key, edit_readonly: bool) -> None:
        if not edit_readonly and is_readonly(k):
            raise HostFailure(HostError.STORE_READONLY_VALUE)

    def write_value(self, k: Key, offset: int, data: bytes, *, edit_readonly: bool = False) -> None:
        """Write ``data`` at ``offset`` of the value, creating it (empty) if
        absent and growing it if needed; never shrinking.

        Order of checks (durable.ml ``write_value_exn``): read-only → −9;
        more than 2,048 bytes → −7; ``offset`` > size → −4; negative
        ``offset`` → −8 (the chunked vector's bound check).
        """
        from executable.wasm.limits import MAX_STORE_IO_SIZE

        self._check_writable(k, edit_readonly)
        if len(data) > MAX_STORE_IO_SIZE:
            raise HostFailure(HostError.INPUT_OUTPUT_TOO_LARGE)
        node = self._find(k)
        size = 0 if node is None or node.value is None else node.value.length
        if offset > size:
            raise HostFailure(HostError.STORE_INVALID_ACCESS)
        if offset < 0:
            raise HostFailure(HostError.GENERIC_INVALID_ACCESS)
        self._mutable_value(k).write(offset, data)

    def _mutable_value(self, k: Key) -> _Value:
        target = self._path_for_write(k)[-1]
        if target.value is None:
            target.value = _Value(self._token)
        elif target.value.owner is not self._token:
            target.value = target.value.copy(self._token)
        return target.value

    def set_value(self, k: Key, data: bytes, *, edit_readonly: bool = False) -> None:
        """Replace the value at ``k`` by ``data`` (any size; PVM use and
        origination). Octez: durable.ml ``set_value_exn``."""
        self._check_writable(k, edit_readonly)
        target = self._path_for_write(k)[-1]
        target.value = _Value.of_bytes(self._token, data)

    def create_value(self, k: Key, size: int, *, edit_readonly: bool = False) -> None:
        """Create a value of ``size`` zero bytes without writing any chunk.

        Order (host_funcs.ml ``store_create``): ``size < 0`` → −5;
        read-only → −9; a value already there → −13.
        """
        if size < 0:
            raise HostFailure(HostError.STORE_VALUE_SIZE_EXCEEDED)
        self._check_writable(k, edit_readonly)
        if self.has_value(k):
            raise HostFailure(HostError.STORE_VALUE_ALREADY_EXISTS)
        target = self._path_for_write(k)[-1]
        target.value = _Value(self._token, size)

    def delete(self, k: Key, *, edit_readonly: bool = False) -> None:
        """Remove the value and all children at ``k``; absent is fine.

        Octez: durable.ml ``delete ~kind:Directory``."""
        self._check_writable(k, edit_readonly)
        if len(k) == 0:
            self._root = _Node(self._token)
            return
        path = self._path_if_exists(k)
        if path is None:
            return
        del path[-2].children[k[-1]]
        self._prune(k[:-1], path[:-1])

    def delete_value(self, k: Key, *, edit_readonly: bool = False) -> None:
        """Remove only the value at ``k``; absent is fine.

        Octez: durable.ml ``delete ~kind:Value``."""
        self._check_writable(k, edit_readonly)
        if not self.has_value(k):
            return
        path = self._path_for_write(k)
        path[-1].value = None
        self._prune(k, path)

    def copy_tree(self, src: Key, dst: Key, *, edit_readonly: bool = False) -> None:
        """Replace the whole subtree at ``dst`` by a copy of the one at
        ``src`` (which may be read-only).

        Order (durable.ml ``copy_tree_exn``): ``dst`` read-only → −9;
        nothing at ``src`` → −10.
        """
        self._check_writable(dst, edit_readonly)
        node = self._find(src)
        if node is None or node.is_empty():
            raise HostFailure(HostError.STORE_NOT_A_NODE)
        # The subtree becomes reachable from two places: make every current
        # node shared, so that later writes copy instead of aliasing.
        self._token = object()
        self._graft(dst, node)

    def move_tree(self, src: Key, dst: Key) -> None:
        """Move the subtree at ``src`` to ``dst``: read ``src``, delete it,
        then write ``dst`` (so ``/a/b`` → ``/a/b/c`` is allowed).

        Order (durable.ml ``move_tree_exn``): either end read-only → −9;
        nothing at ``src`` → −10.
        """
        self._check_writable(src, False)
        self._check_writable(dst, False)
        node = self._find(src)
        if node is None or node.is_empty():
            raise HostFailure(HostError.STORE_NOT_A_NODE)
        self.delete(src)
        self._graft(dst, node)

    def _graft(self, dst: Key, node: _Node) -> None:
        if len(dst) == 0:
            self._root = node
            return
        path = self._path_for_write(dst[:-1])
        path[-1].children[dst[-1]] = node


Change = tuple[str, bytes | None, int]
"""(path, new value or None if deleted, full size of the new value)."""


def diff(old: DurableStorage, new: DurableStorage, max_bytes: int | None = None) -> list[Change]:
    """Values that differ between two storages, as (path, new value or
    ``None`` if deleted, its size), depth-first in byte order of steps.
    Values are cut to ``max_bytes`` if given. Subtrees shared by both (the
    usual case after a snapshot) are skipped without being visited."""
    out: list[Change] = []
    _diff(old._root, new._root, (), out, max_bytes)
    return out


def _diff(
    a: _Node | None, b: _Node | None, prefix: Key, out: list[Change], max_bytes: int | None
) -> None:
    if a is b:
        return
    va = a.value if a is not None else None
    vb = b.value if b is not None else None
    if va is not vb:
        if vb is None:
            out.append((key_to_string(prefix), None, 0))
        elif va is None or va.digest() != vb.digest():
            cut = vb.length if max_bytes is None else min(max_bytes, vb.length)
            out.append((key_to_string(prefix), vb.read(0, cut), vb.length))
    ca = a.children if a is not None else {}
    cb = b.children if b is not None else {}
    for name in sorted(set(ca) | set(cb)):
        _diff(ca.get(name), cb.get(name), (*prefix, name), out, max_bytes)
