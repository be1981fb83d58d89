"""Reproducible build of the bundled kernels: ``python -m executable.kernels.build``.

Every ``*.wat`` here and in ``hostile/`` is compiled with
:func:`wasmtime.wat2wasm` to the ``.wasm`` beside it. The installer kernel
then gets its configuration appended as a last custom section named
``config`` holding the 33-byte root hash of its next stage (the counter
kernel padded with a custom section, so that it spans several DAC pages);
the pages go to ``preimages/``, named by hex hash like a rollup node's
preimage directory. ``--check`` rebuilds in memory and fails if a committed
file differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import wasmtime

from executable.wasm.reveal import dac_pages

HERE = Path(__file__).resolve().parent
PREIMAGES = HERE / "preimages"
NEXT_STAGE_PADDING = 9000
"""Bytes of padding added to the installer's next stage (3 content pages)."""


def _leb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def custom_section(name: str, payload: bytes) -> bytes:
    """A WebAssembly custom section (id 0) with ``name`` and ``payload``."""
    raw = name.encode()
    body = _leb(len(raw)) + raw + payload
    return b"\x00" + _leb(len(body)) + body


def build_all() -> dict[Path, bytes]:
    """Every artefact (path → bytes), computed in memory."""
    out: dict[Path, bytes] = {}
    for wat in sorted([*HERE.glob("*.wat"), *HERE.glob("hostile/*.wat")]):
        out[wat.with_suffix(".wasm")] = bytes(wasmtime.wat2wasm(wat.read_text()))
    next_stage = out[HERE / "counter.wasm"] + custom_section("padding", bytes(NEXT_STAGE_PADDING))
    out[HERE / "installer_next_stage.wasm"] = next_stage
    root, pages = dac_pages(next_stage)
    installer = HERE / "installer.wasm"
    out[installer] = out[installer] + custom_section("config", root)
    for h, page in pages.items():
        out[PREIMAGES / h.hex()] = page
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify, do not write")
    args = parser.parse_args(argv)
    artefacts = build_all()
    if args.check:
        stale = [p for p, data in artefacts.items() if not p.exists() or p.read_bytes() != data]
        for p in stale:
            print(f"stale: {p.relative_to(HERE)}", file=sys.stderr)
        return 1 if stale else 0
    PREIMAGES.mkdir(exist_ok=True)
    for old in PREIMAGES.iterdir():
        if old not in artefacts:
            old.unlink()
    for path, data in artefacts.items():
        path.write_bytes(data)
        print(f"built {path.relative_to(HERE)} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
