"""``scoru inbox INPUTS.json``: every level's messages and the inbox hash after it.

The inbox starts from a genesis level at ``--origination-level`` (Start_of_level,
Info_per_level, Protocol_migration, End_of_level); each level of the file is
then the next inbox level, wrapped in Start_of_level, Info_per_level and
End_of_level as layer 1 does.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from checks.errors import UsageError
from executable.inputs import load_inputs
from spec import inbox as inbox_
from spec.constants import preset
from spec.hashing import BlockHash
from spec.inbox_message import deserialize

#: Protocol_migration name of the genesis level (alpha's ``version_value``).
GENESIS_MIGRATION = "alpha_current"


def register(sub: Any) -> None:
    p = sub.add_parser("inbox", help="print the inbox built from an inputs file")
    p.add_argument(
        "inputs", type=Path, help="inputs file (octez-smart-rollup-wasm-debugger schema)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument(
        "--origination-level",
        type=int,
        default=0,
        metavar="N",
        help="level of the genesis inbox level (default 0)",
    )
    p.add_argument(
        "--timestamp",
        type=int,
        default=0,
        metavar="SECONDS",
        help="Info_per_level timestamp of every level (default 0, as the debugger)",
    )
    p.add_argument("--preset", default="MAINNET", help="constants preset (default MAINNET)")
    p.set_defaults(run=run)


def _level_json(witness: inbox_.LevelWitness, inbox_hash: str) -> dict[str, Any]:
    return {
        "level": witness.level,
        "messages": [
            {"index": i, "kind": deserialize(m).kind, "serialized": m.hex()}
            for i, m in enumerate(witness.messages)
        ],
        "inbox_hash": inbox_hash,
    }


def build(
    levels: list[tuple[bytes, ...]], origination_level: int, timestamp: int, preset_name: str
) -> inbox_.Inbox:
    """The inbox after the genesis level and every level of ``levels``."""
    constants = preset(preset_name)
    inbox = inbox_.genesis(
        origination_level, timestamp, BlockHash.zero(), GENESIS_MIGRATION, constants
    )
    for messages in levels:
        inbox = inbox_.add_level(
            inbox,
            messages,
            constants,
            predecessor_timestamp=timestamp,
            predecessor=BlockHash.zero(),
        )
    return inbox


def run(args: argparse.Namespace) -> int:
    if args.origination_level < 0:
        raise UsageError("--origination-level must be non-negative")
    levels = [level.messages for level in load_inputs(args.inputs)]
    inbox = build(levels, args.origination_level, args.timestamp, args.preset)
    records = [
        _level_json(w, str(h)) for w, h in zip(inbox.witnesses, inbox.history_hashes, strict=True)
    ]
    if args.json:
        print(json.dumps({"levels": records, "inbox_hash": str(inbox.hash())}, indent=2))
        return 0
    for record in records:
        print(f"level {record['level']}  ({len(record['messages'])} messages)")
        for m in record["messages"]:
            print(f"  {m['index']:>4}  {m['kind']:<18} {m['serialized']}")
        print(f"  inbox hash after level {record['level']}: {record['inbox_hash']}")
    return 0
