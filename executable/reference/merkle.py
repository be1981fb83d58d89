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

The hashing, the sparse tree and its cache are shared with the fast VM:
they live in :mod:`executable.wasm.layout` and are re-exported here.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from executable.wasm.layout import DIGEST as DIGEST
from executable.wasm.layout import ZERO as ZERO
from executable.wasm.layout import H as H
from executable.wasm.layout import MerkleTree as MerkleTree
from executable.wasm.layout import defaults as defaults
from executable.wasm.layout import depth_for as depth_for
from executable.wasm.layout import leaves_root as leaves_root
from executable.wasm.layout import node_hash as node_hash
from executable.wasm.layout import sibling_positions as sibling_positions
from spec.errors import ScoruError


class ProofIncomplete(ScoruError):
    """A tick needs a part of the state that the proof does not reveal."""


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
