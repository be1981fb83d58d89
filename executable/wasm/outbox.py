"""The output buffer: messages written by ``write_output``, indexed by
(outbox level, index).

Octez: src/lib_webassembly/runtime/output_buffer.ml. The outbox level is the
level of the last ``Start_of_level`` collected; the index counts successful
writes in that level from 0, across reboots; a level holds at most
``max_outbox_messages_per_level`` messages; levels older than the validity
period are dropped. A ``Start_of_level`` whose level is not above the
current outbox level keeps the current level (the protocol never sends one;
the reference PVM does the same).

The digest is the layout of :mod:`executable.wasm.layout`
(:func:`~executable.wasm.layout.outbox_digest`): the current level's
messages are hashed as a vector (cached, extended on each push), the closed
kept levels sit in an incremental depth-32 map updated once per level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from executable.wasm import layout
from executable.wasm.errors import HostError, HostFailure


@attrs.frozen
class OutboxMessage:
    """One output: its outbox level, its index in that level, its bytes."""

    level: int
    index: int
    payload: bytes


class Outbox:
    """All outbox levels still within the validity period."""

    def __init__(self, max_per_level: int) -> None:
        self.max_per_level = max_per_level
        self.current_level: int | None = None
        self.low = 0
        """The lowest level still kept (or about to be dropped)."""
        self._levels: dict[int, list[bytes]] = {}
        self._map = layout.MerkleTree(layout.LEVEL_ABSENT, layout.OUTBOX_MAP_DEPTH)
        """Closed kept levels → ``level_leaf(level, count, messages root)``."""
        self._cur = layout.MerkleTree(layout.ABSENT_LEAF)
        """Leaves of the current level's messages."""

    def copy(self) -> Outbox:
        """An independent copy."""
        other = Outbox(self.max_per_level)
        other.current_level = self.current_level
        other.low = self.low
        other._levels = {level: list(msgs) for level, msgs in self._levels.items()}
        other._map = self._map.copy()
        other._cur = self._cur.copy()
        return other

    @classmethod
    def restore(
        cls,
        max_per_level: int,
        current_level: int | None,
        low: int,
        levels: Mapping[int, Sequence[bytes]],
    ) -> Outbox:
        """The outbox with these kept levels (the current one included), as
        :meth:`export` gives them."""
        out = cls(max_per_level)
        out.current_level = current_level
        out.low = low
        for level, messages in sorted(levels.items()):
            out._levels[level] = list(messages)
            if level != current_level:
                out._map.set(level, layout.level_leaf(level, len(messages), _root(messages)))
        if current_level is not None:
            current = out._levels.setdefault(current_level, [])
            out._cur = _vector(current)
        return out

    def export(self) -> tuple[int | None, int, dict[int, list[bytes]]]:
        """(current level, lowest kept level, messages of every kept level)."""
        return self.current_level, self.low, {k: list(v) for k, v in self._levels.items()}

    def start_level(self, level: int, validity_period: int) -> None:
        """Open outbox ``level`` (on ``Start_of_level``), closing the previous
        one, and drop levels that left the validity period."""
        current = self.current_level
        if current is not None and level <= current:
            return
        if current is not None:
            messages = self._levels[current]
            self._map.set(
                current,
                layout.level_leaf(current, len(messages), self._cur_root(len(messages))),
            )
        else:
            self.low = level
        self.current_level = level
        self._levels[level] = []
        self._cur = layout.MerkleTree(layout.ABSENT_LEAF)
        cutoff = level - validity_period
        while self.low <= cutoff:
            self._map.set(self.low, layout.LEVEL_ABSENT)
            self._levels.pop(self.low, None)
            self.low += 1

    def push(self, payload: bytes) -> OutboxMessage:
        """Append to the current level; −11 when it is full. Before any
        ``Start_of_level`` there is no outbox (treated as full)."""
        if self.current_level is None:
            raise HostFailure(HostError.FULL_OUTBOX)
        messages = self._levels[self.current_level]
        if len(messages) >= self.max_per_level:
            raise HostFailure(HostError.FULL_OUTBOX)
        messages.append(payload)
        index = len(messages) - 1
        self._cur.ensure_height(layout.depth_for(len(messages)))
        self._cur.set(index, layout.msg_leaf(payload))
        return OutboxMessage(self.current_level, index, payload)

    def messages(self, level: int) -> list[OutboxMessage]:
        return [OutboxMessage(level, i, p) for i, p in enumerate(self._levels.get(level, []))]

    def get(self, level: int, index: int) -> bytes | None:
        msgs = self._levels.get(level, [])
        return msgs[index] if 0 <= index < len(msgs) else None

    def levels(self) -> list[int]:
        return sorted(self._levels)

    def _cur_root(self, count: int) -> bytes:
        return self._cur.root(layout.depth_for(count))

    def digest(self) -> bytes:
        """``layout.outbox_digest`` (the reference PVM's outbox hash)."""
        current = self.current_level
        count = 0 if current is None else len(self._levels[current])
        return layout.outbox_digest(
            current,
            self.low,
            count,
            self._cur_root(count),
            self._map.root(layout.OUTBOX_MAP_DEPTH),
        )

    def truncate(self, level: int, length: int) -> None:
        """Drop messages of ``level`` past ``length`` (rollback of a
        kernel_run that must be replayed)."""
        messages = self._levels.get(level)
        if messages is None or len(messages) <= length:
            return
        del messages[length:]
        if level == self.current_level:
            self._cur = _vector(messages)


def _root(messages: Sequence[bytes]) -> bytes:
    return layout.messages_root(messages)


def _vector(messages: Sequence[bytes]) -> layout.MerkleTree:
    tree = layout.MerkleTree(layout.ABSENT_LEAF, layout.depth_for(len(messages)))
    for i, m in enumerate(messages):
        tree.set(i, layout.msg_leaf(m))
    return tree
