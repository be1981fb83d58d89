"""Merkle primitives of the reference PVM: hashing, sparse binary trees
over indexed leaves, partial trees rebuilt from proofs, hash-chained stacks,
and the lists with unknown slots that proofs are made of.

Conventions (this project's scheme, Blake2b-256 throughout):

* a tree has leaves indexed from 0; ``node(0, i)`` is leaf ``i``'s hash and
  ``node(l, i) = H("N" ‖ node(l-1, 2i) ‖ node(l-1, 2i+1))``. A vector of
  ``n`` leaves has depth ``depth_for(n)`` and root ``node(depth, 0)``, so a
  growing vector keeps every node it had (only the root moves up);
* leaves beyond a vector's size are the default leaf, and a subtree holding
  only default leaves hashes to the default of its level (``defaults``);
* a stack is a hash chain ``P(k+1) = H("S" ‖ P(k) ‖ item k)`` from
  ``P(0) = 0³²``, so popping the top needs only the popped items and the
  prefix hash below them.

A proof reveals, per vector, some leaves and the hashes of the maximal
subtrees around them (*siblings*), listed in depth-first order: the
verifier rebuilds the root, lets one tick change the revealed leaves, and
rebuilds the new root from the same siblings.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from spec.errors import ScoruError

DIGEST = 32
ZERO = bytes(DIGEST)


class ProofIncomplete(ScoruError):
    """A tick needs a part of the state that the proof does not reveal."""


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
    the tree's current height (raised by :meth:`ensure_height`).
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


def leaves_root(leaves: list[bytes], default_leaf: bytes) -> bytes:
    """The root of a dense vector of leaf hashes (no cache)."""
    depth = depth_for(len(leaves))
    ladder = defaults(default_leaf)
    level = list(leaves) or [ladder[0]]
    for lvl in range(depth):
        if len(level) % 2:
            level.append(ladder[lvl])
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


class PartialTree:
    """A tree known through a proof: some leaves and the sibling hashes of
    the pre-state. Leaves may change; the root is recomputed on demand.

    A subtree is computable if it holds a known leaf, is a sibling, or lies
    entirely beyond the pre-state's capacity ``2^depth`` (all default; a
    vector created during the tick has depth ``-1``, capacity 0)."""

    __slots__ = ("capacity", "known", "ladder", "siblings")

    def __init__(
        self,
        default_leaf: bytes,
        depth: int,
        known: dict[int, bytes],
        siblings: dict[tuple[int, int], bytes],
    ) -> None:
        self.ladder = defaults(default_leaf)
        self.capacity = (1 << depth) if depth >= 0 else 0
        self.known = known
        self.siblings = siblings

    def root(self, depth: int) -> bytes:
        keys = sorted(self.known)
        return self._node(depth, 0, keys)

    def _node(self, level: int, index: int, keys: list[int]) -> bytes:
        lo = index << level
        hi = (index + 1) << level
        k = bisect.bisect_left(keys, lo)
        if k == len(keys) or keys[k] >= hi:
            h = self.siblings.get((level, index))
            if h is not None:
                return h
            if lo >= self.capacity:
                return self.ladder[level]
            raise ProofIncomplete(f"the proof lacks the subtree ({level}, {index})")
        if level == 0:
            return self.known[index]
        return node_hash(
            self._node(level - 1, 2 * index, keys), self._node(level - 1, 2 * index + 1, keys)
        )


# -- hash chains ------------------------------------------------------------------


def chain(prefix: bytes, item: bytes) -> bytes:
    return hashlib.blake2b(b"S" + prefix + item, digest_size=DIGEST).digest()


class ChainCache:
    """Prefix hashes of a list, recomputed from the first changed item.

    ``root(items)`` compares ``items`` with the list seen last time, so the
    interpreter can use a plain Python list without bookkeeping."""

    __slots__ = ("encode", "prefix", "seen")

    def __init__(self, encode: Callable[[Any], bytes]) -> None:
        self.encode = encode
        self.seen: list[Any] = []
        self.prefix: list[bytes] = [ZERO]

    def copy(self) -> ChainCache:
        other = ChainCache(self.encode)
        other.seen = list(self.seen)
        other.prefix = list(self.prefix)
        return other

    def root(self, items: list[Any]) -> bytes:
        seen = self.seen
        n = min(len(seen), len(items))
        i = 0
        while i < n and seen[i] == items[i]:
            i += 1
        del self.prefix[i + 1 :]
        prefix = self.prefix
        encode = self.encode
        for j in range(i, len(items)):
            prefix.append(chain(prefix[-1], encode(items[j])))
        self.seen = list(items)
        return prefix[len(items)]


# -- lists with unknown slots -------------------------------------------------------


class _Hole:
    __slots__ = ()

    def __repr__(self) -> str:
        return "HOLE"


HOLE: Any = _Hole()
"""An unknown slot of a :class:`PList`."""

Loader = Callable[[int], Any]


class PList(list):  # type: ignore[type-arg]
    """A list whose unknown slots hold :data:`HOLE`.

    Reading or writing a hole asks ``loader`` (the prover, which reads the
    full pre-state and records what it revealed) or, without a loader (the
    verifier), raises :class:`ProofIncomplete`. Slots at or beyond
    ``capacity`` were default in the pre-state and may be written freely.
    ``low`` is the index of the lowest slot a stack-like list may reveal
    (slots below it are committed by ``base_hash`` only)."""

    __slots__ = (
        "absent",
        "base_hash",
        "capacity",
        "depth0",
        "loader",
        "low",
        "name",
        "revealed",
        "siblings",
    )

    def __init__(
        self,
        items: Iterable[Any],
        *,
        loader: Loader | None = None,
        capacity: int | None = None,
        name: str = "list",
    ) -> None:
        super().__init__(items)
        self.loader = loader
        self.capacity = len(self) if capacity is None else capacity
        self.low = 0
        self.base_hash = ZERO
        self.name = name
        self.revealed: set[int] = set()
        """Slots the loader revealed (prover side)."""
        self.siblings: dict[tuple[int, int], bytes] = {}
        """Pre-state sibling hashes (verifier side, for vectors)."""
        self.depth0 = depth_for(len(self))
        """Depth of the pre-state vector."""
        self.absent: set[int] = set()
        """Slots at or beyond the pre-state length revealed as absent."""

    def _fill(self, i: int) -> Any:
        if self.loader is None:
            raise ProofIncomplete(f"the proof does not reveal {self.name}[{i}]")
        value = self.loader(i)
        list.__setitem__(self, i, value)
        return value

    def _norm(self, i: int) -> int:
        return i + len(self) if i < 0 else i

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            return [self[j] for j in range(start, stop, step)]
        value = list.__getitem__(self, i)
        if value is HOLE:
            value = self._fill(self._norm(i))
        return value

    def __setitem__(self, i: Any, value: Any) -> None:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            for j, v in zip(range(start, stop, step), value, strict=True):
                self[j] = v
            return
        j = self._norm(i)
        if list.__getitem__(self, j) is HOLE and j < self.capacity:
            self._fill(j)
        list.__setitem__(self, j, value)

    def pop(self, i: int = -1) -> Any:  # type: ignore[override]
        value = self[i]
        list.pop(self, i)
        return value

    def __delitem__(self, i: Any) -> None:
        if isinstance(i, slice):
            start, stop, _ = i.indices(len(self))
            for j in range(start, stop):
                if list.__getitem__(self, j) is HOLE:
                    self._fill(j)
        list.__delitem__(self, i)

    def __iter__(self) -> Iterator[Any]:
        for j in range(len(self)):
            yield self[j]

    def append(self, value: Any) -> None:
        n = len(self)
        if self.loader is not None and self.depth0 >= 0 and n < (1 << self.depth0):
            self.absent.add(n)  # the prover reveals the path of the new slot
        list.append(self, value)

    def extend(self, values: Iterable[Any]) -> None:
        for v in values:
            self.append(v)

    def known(self) -> dict[int, Any]:
        return {i: v for i, v in enumerate(list.__iter__(self)) if v is not HOLE}


def plist_root(items: PList, leaf: Callable[[Any], bytes], default_leaf: bytes) -> bytes:
    """The root of a partially known vector after a tick: known slots,
    pre-state siblings, absent slots still beyond the length."""
    known: dict[int, bytes] = {}
    for i, v in enumerate(list.__iter__(items)):
        if v is not HOLE:
            known[i] = leaf(v)
    n = len(items)
    for i in items.absent:
        if i >= n:
            known[i] = defaults(default_leaf)[0]
    tree = PartialTree(default_leaf, items.depth0, known, items.siblings)
    return tree.root(depth_for(n))


def stack_root(items: list[Any], encode: Callable[[Any], bytes]) -> bytes:
    """The chain hash of a partially known stack (a :class:`PList` whose
    slots below ``low`` are committed by ``base_hash``)."""
    if isinstance(items, PList):
        h = items.base_hash
        for j in range(items.low, len(items)):
            v = list.__getitem__(items, j)
            if v is HOLE:
                raise ProofIncomplete(f"the proof does not reveal {items.name}[{j}]")
            h = chain(h, encode(v))
        return h
    h = ZERO
    for v in items:
        h = chain(h, encode(v))
    return h


class VecCache:
    """Incremental root of a plain list of values (full states): the list
    is compared with the one seen last time and only changed leaves are
    rehashed."""

    __slots__ = ("default_leaf", "leaf", "seen", "tree")

    def __init__(self, leaf: Callable[[Any], bytes], default_leaf: bytes) -> None:
        self.leaf = leaf
        self.default_leaf = default_leaf
        self.seen: list[Any] = []
        self.tree = MerkleTree(default_leaf)

    def copy(self) -> VecCache:
        other = VecCache(self.leaf, self.default_leaf)
        other.seen = list(self.seen)
        other.tree = self.tree.copy()
        return other

    def root(self, items: list[Any]) -> bytes:
        seen = self.seen
        tree = self.tree
        n = len(items)
        d = depth_for(n)
        if d > tree.height:
            tree.ensure_height(d)
        for i in range(n):
            if i >= len(seen) or seen[i] != items[i]:
                tree.set(i, self.leaf(items[i]))
        for i in range(n, len(seen)):
            tree.set(i, self.default_leaf)
        self.seen = list(items)
        return tree.root(d)
