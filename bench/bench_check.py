"""Benchmark of ``scoru check``: verdict, depth/k and time per property, and BMC time per depth.

Usage: ``.venv/bin/python bench/bench_check.py [--preset TEST] [--mode intended] [--bmc-depth 6]``

Prints, for every catalogue property: the verdict ``scoru check`` gives (and
its depth or k) with its wall time; then a plain BMC run of the property to
``--bmc-depth`` with the seconds spent at each depth, so that later changes to
the models can be compared step by step.
"""

from __future__ import annotations

import argparse
import time

from checks import properties, runner
from model.bmc import bmc
from spec.constants import preset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="TEST")
    parser.add_argument("--mode", default="intended")
    parser.add_argument("--bmc-depth", type=int, default=6)
    args = parser.parse_args()
    constants = preset(args.preset).with_mode(args.mode)
    config = runner.Config(constants=constants)
    print(f"preset {constants.name}, mode {constants.mode}")
    print(
        f"{'property':9} {'verdict':10} {'depth/k':>7} {'seconds':>8}   "
        f"bmc seconds per depth 0..{args.bmc_depth}"
    )
    total = time.monotonic()
    for prop in properties.catalogue():
        result = runner.check_one(prop.id, config).result
        ts = prop.system(constants)
        plain = bmc(ts, prop.symbolic(constants), args.bmc_depth)
        per_depth = " ".join(f"{s:.2f}" for s in plain.seconds_per_depth)
        print(
            f"{prop.id:9} {result.verdict:10} {result.depth:>7} {result.seconds:8.2f}   "
            f"[{plain.verdict} {plain.depth}] {per_depth}",
            flush=True,
        )
    print(f"total {time.monotonic() - total:.1f} s (one process)")


if __name__ == "__main__":
    main()
