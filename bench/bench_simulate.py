"""Benchmark of ``scoru simulate``: ``python bench/bench_simulate.py [LEVELS] [wasm|arith]``.

Runs the default simulation — the bundled ``echo`` kernel on the WASM PVM,
``TEST`` constants, one honest and one lying node, seed 0 — over LEVELS
levels (default 2,000; the same run as ``scoru simulate --levels 2000``) and
prints the wall time, levels per second, and what the run did. Every
invariant is checked at every level, as in the command; the share of time
this takes is printed too (the invariants of :mod:`spec.invariants` that
walk the whole cementation history cost more as the run grows).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from executable.chain import Simulation, SimulationConfig
from executable.kernels import load
from executable.nodes.behaviour import parse_nodes
from spec.constants import TEST


def config(levels: int, pvm: str) -> SimulationConfig:
    if pvm == "arith":
        return SimulationConfig(
            TEST, parse_nodes("honest,liar"), pvm="arith", messages="arith", levels=levels
        )
    return SimulationConfig(
        TEST, parse_nodes("honest,liar"), pvm="wasm", boot_sector=load("echo"), levels=levels
    )


def main() -> None:
    levels = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    pvm = sys.argv[2] if len(sys.argv) > 2 else "wasm"
    sim = Simulation(config(levels, pvm))
    spent = [0.0]
    check = sim._check_invariants

    def timed_check() -> None:
        t = time.perf_counter()
        check()
        spent[0] += time.perf_counter() - t

    sim._check_invariants = timed_check  # type: ignore[method-assign]
    start = time.perf_counter()
    result = sim.run()
    wall = time.perf_counter() - start
    what = "echo kernel" if pvm == "wasm" else "arith programs"
    print(f"scoru simulate --levels {levels} --pvm {pvm} ({what}, TEST, honest,liar, seed 0)")
    print(f"  {wall:.2f} s, {levels / wall:.0f} levels/s")
    print(f"  invariant checks: {result.invariant_checks:,} in {spent[0]:.2f} s")
    games = ", ".join(f"{g.winner} wins ({len(g.moves)} moves)" for g in result.games)
    print(f"  games: {games or 'none'}")
    print(
        f"  {len(result.cemented)} commitments cemented, {len(result.executed)} outbox "
        f"messages executed, ok={result.ok}"
    )


if __name__ == "__main__":
    main()
