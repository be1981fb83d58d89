"""Inbox input files in the schema of ``octez-smart-rollup-wasm-debugger --inputs``.

A file is a JSON list of levels; each level is a list of messages:

* ``{"external": "<hex>"}`` — an external message (payload bytes);
* ``{"payload": "<Michelson data>", "sender"?: "KT1…", "source"?: "tz…",
  "destination"?: "sr1…"}`` — an internal transfer;
* ``{"serialized": "<hex>"}`` — an already serialized inbox message (this
  project's extension, handy for replaying recorded inboxes).

Omitted transfer fields take the debugger's defaults. The debugger adds
Start_of_level, Info_per_level and End_of_level around every level itself.

Octez: ``src/lib_wasm_debugger/messages.ml`` (input file schema and defaults).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from spec import michelson
from spec.errors import EncodingError
from spec.hashing import ContractHash, ImplicitAccount, RollupAddress
from spec.inbox_message import (
    MESSAGE_SIZE_LIMIT,
    External,
    Transfer,
    deserialize,
    serialize,
)

#: Defaults of the debugger when a transfer omits a field.
DEFAULT_SENDER = "KT18amZmM5W7qDWVt2pH6uj7sCEd3kbzLrHT"
DEFAULT_SOURCE = "tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU"
DEFAULT_DESTINATION = "sr163Lv22CdE8QagCwf48PWDTquk6isQwv57"


@attrs.frozen
class InputLevel:
    """One level of an inputs file: serialized user messages (no SOL/IPL/EOL)."""

    messages: tuple[bytes, ...]


def _hex(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise EncodingError(f"{where}: expected a hex string, got {type(value).__name__}")
    text = value[2:] if value.startswith(("0x", "0X")) else value
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise EncodingError(f"{where}: {value[:40]!r} is not valid hex") from None


def _address(value: Any, default: str, where: str, kind: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise EncodingError(f"{where}: {kind} must be a string, got {type(value).__name__}")
    return value


def parse_message(item: Any, where: str, default_destination: str = DEFAULT_DESTINATION) -> bytes:
    """One message of an inputs file, serialized."""
    if not isinstance(item, dict):
        raise EncodingError(f"{where}: expected an object, got {type(item).__name__}")
    known = {"external", "payload", "sender", "source", "destination", "serialized"}
    unknown = sorted(set(item) - known)
    if unknown:
        raise EncodingError(f"{where}: unknown field {unknown[0]!r}")
    kinds = [k for k in ("external", "payload", "serialized") if k in item]
    if len(kinds) != 1:
        raise EncodingError(
            f"{where}: expected exactly one of 'external', 'payload' or 'serialized'"
        )
    try:
        if "external" in item:
            if any(k in item for k in ("sender", "source", "destination")):
                raise EncodingError("sender/source/destination only go with 'payload'")
            payload = _hex(item["external"], "external")
            if len(payload) > MESSAGE_SIZE_LIMIT - 1:
                raise EncodingError(
                    f"external payload is {len(payload)} bytes; the limit is "
                    f"{MESSAGE_SIZE_LIMIT - 1}"
                )
            return serialize(External(payload))
        if "serialized" in item:
            data = _hex(item["serialized"], "serialized")
            deserialize(data)
            return data
        text = item["payload"]
        if not isinstance(text, str):
            raise EncodingError(f"payload must be Michelson text, got {type(text).__name__}")
        transfer = Transfer(
            payload=michelson.parse_data(text),
            sender=ContractHash.from_b58(
                _address(item.get("sender"), DEFAULT_SENDER, where, "sender")
            ),
            source=ImplicitAccount.from_b58(
                _address(item.get("source"), DEFAULT_SOURCE, where, "source")
            ),
            destination=RollupAddress.from_b58(
                _address(item.get("destination"), default_destination, where, "destination")
            ),
        )
        return serialize(transfer)
    except EncodingError as exc:
        if str(exc).startswith(where):
            raise
        raise EncodingError(f"{where}: {exc}") from None


def parse_inputs(document: Any, default_destination: str = DEFAULT_DESTINATION) -> list[InputLevel]:
    """Every level of an already loaded inputs document."""
    if not isinstance(document, list):
        raise EncodingError(
            f"inputs: expected a JSON list of levels, got {type(document).__name__}"
        )
    levels = []
    for i, level in enumerate(document):
        if not isinstance(level, list):
            raise EncodingError(
                f"inputs: level {i} must be a list of messages, got {type(level).__name__}"
            )
        levels.append(
            InputLevel(
                tuple(
                    parse_message(item, f"inputs: level {i}, message {j}", default_destination)
                    for j, item in enumerate(level)
                )
            )
        )
    return levels


def load_inputs(path: Path, default_destination: str = DEFAULT_DESTINATION) -> list[InputLevel]:
    """Read and parse an inputs file; unreadable or malformed files raise :class:`EncodingError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EncodingError(f"inputs file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EncodingError(f"inputs file {str(path)!r} cannot be read: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EncodingError(
            f"inputs file {str(path)!r} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}"
        ) from None
    return parse_inputs(document, default_destination)


def serialized_levels(levels: Sequence[InputLevel]) -> list[tuple[bytes, ...]]:
    return [level.messages for level in levels]
