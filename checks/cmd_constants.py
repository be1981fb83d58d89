"""``scoru constants [PRESET]``: print a constants preset and the historical table."""

from __future__ import annotations

import argparse
import json
from typing import Any

import attrs

from spec.constants import HISTORY, PRESETS, preset


def register(sub: Any) -> None:
    p = sub.add_parser("constants", help="print a constants preset (TEST, SEED, MAINNET)")
    p.add_argument("preset", nargs="?", default="MAINNET", help="preset name (default MAINNET)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--history", action="store_true", help="print the per-protocol table")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.history:
        rows = [attrs.asdict(row) for row in HISTORY]
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            for row in rows:
                print(", ".join(f"{k}={v}" for k, v in row.items()))
        return 0
    constants = preset(args.preset)
    data = attrs.asdict(constants)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(f"constants preset {constants.name} (available: {', '.join(PRESETS)})")
        for key, value in data.items():
            if key != "name":
                print(f"  {key:45} {value}")
    return 0
