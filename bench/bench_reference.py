"""Benchmark of the reference WASM PVM: ``python bench/bench_reference.py [LEVELS]``.

Prints, for the bundled echo and counter kernels over LEVELS inbox levels
(default 20; each level: Start_of_level, Info_per_level, two external
messages, End_of_level) under the real tick budget (50×10^12 per period):

* ticks per second when every kernel tick (instruction, function entry,
  unit of a host call's or bulk instruction's cost) is stepped one by one
  (padding, which is skipped in O(1), is not counted), for the two kernels
  and a compute-bound loop; and the wall time per level when host-call
  ticks are skipped in O(1) too (:func:`executable.reference.pvm.advance`);
* one-step proof sizes in bytes (median and max) over every executed tick of
  the first three levels, plus the last padding tick of every period, and
  the time to produce and to verify a proof;
* the time to reach a tick inside a period by fast-forwarding from a
  kernel_run boundary (in the middle of the run, at its end, in the middle
  of the padding) and to hash the state there.

For comparison, Octez's one-tick proofs of its echo kernel are about
2.2 KB on average and 5.2 KB at most.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import wasmtime

from executable import kernels
from executable.reference.pvm import ReferencePvm, input_request, step
from executable.reference.state import Machine, Phase
from executable.wasm.pvm import PvmConfig
from executable.wasm.reveal import Metadata
from spec.inbox import InboxInput
from spec.pvm import NoInputRequired

SOL = b"\x00\x01"
EOL = b"\x00\x02"
IPL = b"\x00\x03" + bytes(8) + bytes(32)
CONFIG = PvmConfig(metadata=Metadata(bytes(20), 0))
LOOP = """(module (memory (export "memory") 1)
  (func (export "kernel_run") (local $i i32) (local $s i64)
    (loop $l
      (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get $i))))
      (i32.store (i32.and (local.get $i) (i32.const 0xfff0)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 200000))))))"""


def levels(n: int) -> list[list[bytes]]:
    return [[SOL, IPL, f"\x01message {i}".encode(), b"\x01" + bytes(100), EOL] for i in range(n)]


def stepped(pvm: ReferencePvm, kernel: bytes, n: int) -> tuple[int, float]:
    """(ticks stepped one by one, seconds) over ``n`` levels; padding is
    skipped and not counted."""
    m = pvm.install_boot_sector(kernel)
    env = pvm.env()
    queue = [
        InboxInput(i + 1, j, msg) for i, lvl in enumerate(levels(n)) for j, msg in enumerate(lvl)
    ]
    count = 0
    t0 = time.perf_counter()
    while True:
        if isinstance(input_request(m), NoInputRequired):
            if m.phase is Phase.PADDING:
                pvm.advance(m, env, m.period_start + env.budget(m) - 1)
            else:
                count += 1
            step(m, env, None)
        elif queue:
            step(m, env, queue.pop(0))
        else:
            return count, time.perf_counter() - t0


def per_level(pvm: ReferencePvm, kernel: bytes, n: int) -> float:
    """Seconds per level with every skip (padding, host-call ticks)."""
    m = pvm.install_boot_sector(kernel)
    env = pvm.env()
    t0 = time.perf_counter()
    for i, messages in enumerate(levels(n)):
        pvm.run_level(m, env, i + 1, messages)
    return (time.perf_counter() - t0) / n


def kind_of(m: Machine) -> str:
    """What the next tick does."""
    if m.phase in (Phase.COLLECT, Phase.STUCK):
        return "inbox input"
    if m.phase is Phase.PADDING:
        return "period end"
    if m.phase is Phase.LOAD:
        return "load kernel"
    if m.phase is Phase.REVEAL:
        return "reveal answer"
    if m.stall:
        return "host-call unit"
    if m.entry:
        return "function entry"
    return "instruction"


def proof_sizes(
    pvm: ReferencePvm, kernel: bytes
) -> tuple[list[int], dict[str, list[int]], float, float]:
    """Proof sizes over every executed tick of three levels (all, and by
    kind of tick), and the mean times to produce and to verify one proof."""
    m = pvm.install_boot_sector(kernel)
    env = pvm.env(record=False)
    queue = [
        InboxInput(i + 1, j, msg) for i, lvl in enumerate(levels(3)) for j, msg in enumerate(lvl)
    ]
    sizes: list[int] = []
    by_kind: dict[str, list[int]] = {}
    t_produce = t_verify = 0.0
    while True:
        request = input_request(m)
        given = None
        if not isinstance(request, NoInputRequired):
            if not queue:
                break
            given = queue.pop(0)
        elif m.phase is Phase.PADDING and m.tick < m.period_start + env.budget(m) - 1:
            pvm.advance(m, env, m.period_start + env.budget(m) - 1)
            continue
        t0 = time.perf_counter()
        proof = pvm.produce_proof(m, given)
        t1 = time.perf_counter()
        pvm.verify_proof(given, proof)
        t2 = time.perf_counter()
        t_produce += t1 - t0
        t_verify += t2 - t1
        sizes.append(len(proof))
        by_kind.setdefault(kind_of(m), []).append(len(proof))
        step(m, env, given)
    return sizes, by_kind, t_produce / len(sizes), t_verify / len(sizes)


def fast_forward(pvm: ReferencePvm, kernel: bytes) -> list[tuple[str, int, float, float]]:
    """From the kernel_run boundary of the second level's first run, reach
    ticks inside its period; (label, offset, seconds to reach, seconds to hash)."""
    m = pvm.install_boot_sector(kernel)
    env = pvm.env()
    msgs = levels(2)
    pvm.run_level(m, env, 1, msgs[0])
    for j, msg in enumerate(msgs[1]):
        step(m, env, InboxInput(2, j, msg))
    pvm.advance(m, env, m.period_start + env.budget(m))  # the boundary: next tick loads
    assert m.phase is Phase.LOAD
    boundary: Machine = m.copy()
    run_ticks = env.runs[-1].fuel
    targets = [
        ("middle of the kernel_run", run_ticks // 2),
        ("end of the kernel_run", run_ticks + 1),
        ("middle of the padding", env.budget(m) // 2),
        ("last tick of the period", env.budget(m) - 1),
    ]
    out = []
    for label, offset in targets:
        state = boundary.copy()
        t0 = time.perf_counter()
        pvm.advance(state, pvm.env(record=False), boundary.tick + offset)
        t1 = time.perf_counter()
        pvm.state_hash(state)
        t2 = time.perf_counter()
        assert state.tick == boundary.tick + offset
        out.append((label, offset, t1 - t0, t2 - t1))
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    pvm = ReferencePvm(CONFIG)
    print(f"reference PVM, tick budget {pvm.env().budget(pvm.install_boot_sector(b''))} per period")
    cases = [
        ("echo", kernels.load("echo"), n),
        ("counter", kernels.load("counter"), n),
        ("loop (200k iterations)", bytes(wasmtime.wat2wasm(LOOP)), 1),
    ]
    print("ticks stepped one by one (padding skipped):")
    for name, kernel, count in cases:
        ticks, elapsed = stepped(pvm, kernel, count)
        print(
            f"  {name:24s} {count:4d} level(s): {ticks:>9,d} ticks in {elapsed:6.2f} s"
            f" = {ticks / elapsed:>9,.0f} ticks/s"
        )
    print("whole levels, padding and host-call ticks skipped in O(1):")
    for name, kernel, count in cases[:2]:
        print(f"  {name:24s} {per_level(pvm, kernel, count) * 1e3:7.2f} ms per level")
    print("one-step proofs (every executed tick of 3 levels + period ends):")
    for name in ("echo", "counter"):
        sizes, by_kind, produce, verify = proof_sizes(pvm, kernels.load(name))
        print(
            f"  {name:8s} {len(sizes):5d} proofs: median {statistics.median(sizes):6.0f} B,"
            f" mean {statistics.mean(sizes):6.0f} B, max {max(sizes):6d} B;"
            f" produce {produce * 1e3:.2f} ms, verify {verify * 1e3:.2f} ms per proof"
        )
        for kind, values in sorted(by_kind.items()):
            print(
                f"    {kind:16s} {len(values):5d}: median {statistics.median(values):6.0f} B,"
                f" max {max(values):6d} B"
            )
    print("  (Octez, echo kernel: about 2.2 KB on average, 5.2 KB at most)")
    print("fast-forward from a kernel_run boundary (counter, level 2):")
    for label, offset, reach, hashing in fast_forward(pvm, kernels.load("counter")):
        print(
            f"  +{offset:>17,d} ticks ({label}): reached in {reach * 1e3:8.2f} ms,"
            f" state hash in {hashing * 1e3:6.2f} ms"
        )


if __name__ == "__main__":
    main()
