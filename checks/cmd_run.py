"""``scoru run KERNEL``: run a kernel level by level over an inputs file.

The kernel is a ``.wasm`` binary, a ``.wat`` text module, or the name of a
bundled kernel (``echo``, ``counter``, …). Each level of the inputs file (the
schema of ``octez-smart-rollup-wasm-debugger --inputs``) is wrapped in
Start_of_level, Info_per_level (timestamp 0 and the zero block hash, as the
debugger does) and End_of_level, and fed to the WASM PVM.
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path
from typing import Any

import wasmtime

from checks.errors import UsageError
from executable.inputs import DEFAULT_DESTINATION, load_inputs
from executable.wasm.run import run_kernel
from spec import inbox as inbox_
from spec.constants import MAINNET
from spec.hashing import BlockHash, RollupAddress
from spec.inbox_message import EndOfLevel


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run a WASM kernel over an inputs file")
    p.add_argument("kernel", help="KERNEL.wasm, KERNEL.wat, or a bundled kernel name")
    p.add_argument("--inputs", type=Path, help="inputs file (debugger schema); default: no levels")
    p.add_argument(
        "--rollup",
        default=DEFAULT_DESTINATION,
        metavar="sr1…",
        help="rollup address (default: the debugger's zero address)",
    )
    p.add_argument(
        "--origination-level",
        type=int,
        default=0,
        metavar="N",
        help="origination level; inputs start at N + 1 (default 0)",
    )
    p.add_argument(
        "--preimages",
        type=Path,
        metavar="DIR",
        help="directory of reveal preimages, files named by hex hash",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(run=run)


def bundled_kernels() -> dict[str, Path]:
    """Bundled kernels by name."""
    root = Path(str(resources.files("executable") / "kernels"))
    return {path.stem: path for path in sorted(root.glob("*.wasm"))}


def load_kernel(name: str) -> bytes:
    """The kernel's WASM bytes from a path or a bundled name; a clear error otherwise."""
    path = Path(name)
    if not path.exists():
        bundled = bundled_kernels()
        if name in bundled:
            return bundled[name].read_bytes()
        raise UsageError(
            f"kernel {name!r} is neither a file nor a bundled kernel ({', '.join(bundled)})"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"kernel {name!r} cannot be read: {exc.strerror}") from None
    if path.suffix == ".wat":
        try:
            return bytes(wasmtime.wat2wasm(data.decode("utf-8")))
        except (UnicodeDecodeError, wasmtime.WasmtimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid text"
            raise UsageError(f"kernel {name!r} is not valid WAT: {first}") from None
    return data


def levels_of(inputs: Path | None, rollup: str, origination_level: int) -> list[list[bytes]]:
    """Full inbox levels (SOL, IPL, messages, EOL) for every level of the inputs file."""
    if inputs is None:
        return []
    out = []
    for i, level in enumerate(load_inputs(inputs, default_destination=rollup)):
        witness = inbox_.level_witness(
            origination_level + 1 + i, 0, BlockHash.zero(), level.messages, MAINNET
        )
        witness = inbox_.add_protocol_message(witness, EndOfLevel())
        out.append(list(witness.messages))
    return out


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.origination_level < 2**31 - 1:
        raise UsageError("--origination-level must be a non-negative int32")
    rollup = RollupAddress.from_b58(args.rollup)
    kernel = load_kernel(args.kernel)
    if args.preimages is not None and not args.preimages.is_dir():
        raise UsageError(f"--preimages {str(args.preimages)!r} is not a directory")
    levels = levels_of(args.inputs, str(rollup), args.origination_level)
    report = run_kernel(
        kernel,
        levels,
        rollup_address=rollup.raw,
        origination_level=args.origination_level,
        preimages_dir=args.preimages,
    )
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.render_text())
    return 0
