"""Kernels written in this project: WebAssembly text sources and their
built ``.wasm`` (rebuild with ``python -m executable.kernels.build``)."""

from __future__ import annotations

from pathlib import Path

KERNELS_DIR = Path(__file__).resolve().parent
PREIMAGES_DIR = KERNELS_DIR / "preimages"


def load(name: str) -> bytes:
    """The built binary of kernel ``name`` (e.g. ``"echo"``,
    ``"hostile/stack_overflow"``)."""
    return (KERNELS_DIR / f"{name}.wasm").read_bytes()
