"""Skip lists with basis 4: the authenticated lists behind the inbox.

A cell holds a content, an index and back pointers (hashes of earlier
cells). Back pointer ``i`` of the cell at index ``k`` points to the cell at
index ``k − (k mod 4^i) − 1``; a cell has one back pointer for every ``i``
with ``4^i ≤ k``. Minimal back paths let a verifier walk from a recent cell
to any older one in O(log n) cells.

Octez: ``src/lib_base/skip_list.ml`` (``Make (struct let basis = 4 end)``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import attrs

C = TypeVar("C")

#: ``basis`` of both inbox skip lists.
BASIS = 4


@attrs.frozen
class Cell(Generic[C]):
    """A skip-list cell. Octez: ``skip_list.ml``, type ``('content, 'ptr) cell``."""

    content: C
    index: int
    back_pointers: tuple[bytes, ...]


def genesis(content: C) -> Cell[C]:
    """The first cell: index 0, no back pointers. Octez: ``skip_list.ml``, ``genesis``."""
    return Cell(content, 0, ())


def next_cell(prev: Cell[C], prev_ptr: bytes, content: C) -> Cell[C]:
    """The cell after ``prev`` (whose hash is ``prev_ptr``).

    For each ``i`` with ``4^i ≤ index``: back pointer ``i`` is ``prev_ptr``
    when ``index mod 4^i = 0``, else ``prev``'s back pointer ``i``.
    Octez: ``skip_list.ml``, ``next``.
    """
    index = prev.index + 1
    pointers: list[bytes] = []
    power = 1
    i = 0
    while power <= index:
        pointers.append(prev_ptr if index % power == 0 else prev.back_pointers[i])
        power *= BASIS
        i += 1
    return Cell(content, index, tuple(pointers))


def pointed_index(index: int, i: int) -> int:
    """The index of the cell that back pointer ``i`` of cell ``index`` points to."""
    power: int = BASIS**i
    return index - (index % power) - 1


def best_skip(cell: Cell[C], target_index: int) -> int | None:
    """The back pointer to follow towards ``target_index``: the largest ``i`` whose
    pointed cell is still at or after the target.

    Octez: ``skip_list.ml``, ``best_skip``.
    """
    best: int | None = None
    for i in range(len(cell.back_pointers)):
        if pointed_index(cell.index, i) < target_index:
            break
        best = i
    return best


def back_path(
    deref: Callable[[bytes], Cell[C] | None], cell_ptr: bytes, target_index: int
) -> list[bytes] | None:
    """The minimal path of pointers from ``cell_ptr`` to the cell at ``target_index``.

    Octez: ``skip_list.ml``, ``back_path``.
    """
    cell = deref(cell_ptr)
    path = [cell_ptr]
    while cell is not None:
        if cell.index == target_index:
            return path
        if cell.index < target_index:
            return None
        i = best_skip(cell, target_index)
        if i is None:
            return None
        ptr = cell.back_pointers[i]
        path.append(ptr)
        cell = deref(ptr)
    return None


def valid_back_path(
    deref: Callable[[bytes], Cell[C] | None],
    cell_ptr: bytes,
    target_ptr: bytes,
    path: Sequence[bytes],
) -> bool:
    """``path`` starts at ``cell_ptr``, ends at ``target_ptr`` and is the minimal back path.

    Octez: ``skip_list.ml``, ``valid_back_path``.
    """
    if not path or path[0] != cell_ptr or path[-1] != target_ptr:
        return False
    target = deref(target_ptr)
    if target is None:
        return False
    for ptr, succ in itertools.pairwise(path):
        cell = deref(ptr)
        if cell is None:
            return False
        i = best_skip(cell, target.index)
        if i is None or cell.back_pointers[i] != succ:
            return False
    last = deref(path[-1])
    return last is not None and last.index == target.index
