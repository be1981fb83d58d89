"""The output buffer: messages written by ``write_output``, indexed by
(outbox level, index).

Octez: src/lib_webassembly/runtime/output_buffer.ml. The outbox level is the
level of the last ``Start_of_level`` collected; the index counts successful
writes in that level from 0, across reboots; a level holds at most
``max_outbox_messages_per_level`` messages; levels older than the validity
period are dropped.
"""

from __future__ import annotations

import hashlib

import attrs

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
        self._levels: dict[int, list[bytes]] = {}
        self._chain = bytes(32)
        """Hash chain of every closed outbox level (level, messages)."""

    def start_level(self, level: int, validity_period: int) -> None:
        """Open outbox ``level`` (on ``Start_of_level``), closing the previous
        one, and drop levels that left the validity period."""
        if self.current_level is not None:
            self._chain = hashlib.blake2b(
                self._chain + self._level_digest(self.current_level), digest_size=32
            ).digest()
        self.current_level = level
        self._levels.setdefault(level, [])
        for old in [lvl for lvl in self._levels if lvl <= level - validity_period]:
            del self._levels[old]

    def push(self, payload: bytes) -> OutboxMessage:
        """Append to the current level; −11 when it is full. Before any
        ``Start_of_level`` there is no outbox (treated as full)."""
        if self.current_level is None:
            raise HostFailure(HostError.FULL_OUTBOX)
        messages = self._levels[self.current_level]
        if len(messages) >= self.max_per_level:
            raise HostFailure(HostError.FULL_OUTBOX)
        messages.append(payload)
        return OutboxMessage(self.current_level, len(messages) - 1, payload)

    def messages(self, level: int) -> list[OutboxMessage]:
        return [OutboxMessage(level, i, p) for i, p in enumerate(self._levels.get(level, []))]

    def get(self, level: int, index: int) -> bytes | None:
        msgs = self._levels.get(level, [])
        return msgs[index] if 0 <= index < len(msgs) else None

    def levels(self) -> list[int]:
        return sorted(self._levels)

    def _level_digest(self, level: int) -> bytes:
        h = hashlib.blake2b(digest_size=32)
        h.update(level.to_bytes(8, "big", signed=True))
        for payload in self._levels.get(level, []):
            h.update(len(payload).to_bytes(4, "big") + payload)
        return h.digest()

    def digest(self) -> bytes:
        """Hash of the outbox history: the chain of closed levels and the
        current level. Retained levels are a function of that history (the
        validity period drops the oldest), so this commits to them; it costs
        O(messages of the current level)."""
        current = -1 if self.current_level is None else self.current_level
        return hashlib.blake2b(
            b"O" + self._chain + self._level_digest(current), digest_size=32
        ).digest()

    def truncate(self, level: int, length: int) -> None:
        """Drop messages of ``level`` past ``length`` (rollback of a
        kernel_run that must be replayed)."""
        if level in self._levels:
            del self._levels[level][length:]
