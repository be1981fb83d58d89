"""``scoru simulate``: a smart rollup over time, with honest and adversarial nodes.

``scoru simulate [--kernel NAME|FILE] [--pvm wasm|arith] [--levels N]
[--nodes honest,liar,…] [--preset TEST|SEED|MAINNET] [--mode intended|octez]
[--seed N] [--json FILE] [--timeline normal|full|key|none]`` originates a
rollup, lets users post messages and nodes publish, refute, cement and
execute outbox messages for ``N`` levels (:mod:`executable.chain`), checks
every invariant at every level, and prints the timeline and a summary.

Node kinds: ``honest``, ``liar``, ``wrong_ticks``, ``lazy``, ``timeout``,
``random_liar``, ``flipper``; ``KIND@L`` makes an adversary cheat from inbox
level ``L`` (default: four commitment periods after origination). The exit
status is 0 when every check holds, 1 when one fails, 2 on a usage error.

With ``--pvm wasm`` (the default) the rollup runs a WASM kernel (default
``echo``, whose outbox messages are the users' messages, so they can be
executed on layer 1); refutation games are played with the reference WASM
PVM's one-step proofs. ``--pvm arith`` runs the arith PVM on arithmetic
programs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from checks.cmd_run import load_kernel
from checks.errors import UsageError
from executable.chain import (
    Event,
    MessageStyle,
    SimulationConfig,
    SimulationResult,
    Violation,
    short,
    simulate,
    tez,
)
from executable.nodes.behaviour import BEHAVIOURS, parse_nodes
from spec.constants import MODES, preset
from spec.invariants import INVARIANTS

TIMELINES = ("normal", "full", "key", "none")
#: Event kinds shown by ``--timeline key`` (besides wrong commitments).
KEY_EVENTS = {"game_started", "move", "game_ended", "bond", "rejected", "retired", "violation"}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "simulate", help="simulate a rollup with honest and adversarial nodes over many levels"
    )
    p.add_argument(
        "--kernel",
        metavar="NAME|FILE",
        help="WASM kernel: a bundled name (echo, counter, …) or a .wasm/.wat file (default echo)",
    )
    p.add_argument("--pvm", choices=("wasm", "arith"), default="wasm", help="PVM (default wasm)")
    p.add_argument("--levels", type=int, default=2_000, metavar="N", help="levels (default 2000)")
    p.add_argument(
        "--nodes",
        default="honest,liar",
        metavar="KIND[@L],…",
        help=f"nodes, among {', '.join(BEHAVIOURS)} (default honest,liar)",
    )
    p.add_argument("--preset", default="TEST", help="constants preset (default TEST)")
    p.add_argument("--mode", default="intended", help="intended (default) or octez")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    p.add_argument("--json", metavar="FILE", help="write the whole run as JSON (- for stdout)")
    p.add_argument(
        "--timeline",
        choices=TIMELINES,
        default="normal",
        help="normal (all but users' messages), full, key (games, bonds, wrong commitments) "
        "or none",
    )
    p.set_defaults(run=run)


# -- reading options --------------------------------------------------------------------


def config_of(args: argparse.Namespace) -> SimulationConfig:
    """The simulation the options describe; a :class:`UsageError` for bad ones."""
    if args.levels < 2:
        raise UsageError(f"--levels must be at least 2, not {args.levels}")
    if args.mode not in MODES:
        raise UsageError(f"--mode must be one of {', '.join(MODES)}, not {args.mode!r}")
    constants = preset(args.preset).with_mode(args.mode)
    nodes = parse_nodes(args.nodes)
    messages: MessageStyle
    if args.pvm == "arith":
        if args.kernel is not None:
            raise UsageError("--kernel is for --pvm wasm; the arith PVM runs arith programs")
        boot_sector, name, messages = b"", "arith programs", "arith"
    else:
        name = args.kernel or "echo"
        boot_sector = load_kernel(name)
        messages = "text" if Path(name).stem == "counter" else "outbox"
    return SimulationConfig(
        constants=constants,
        nodes=nodes,
        pvm=args.pvm,
        boot_sector=boot_sector,
        kernel_name=name,
        messages=messages,
        levels=args.levels,
        seed=args.seed,
    )


# -- printing ----------------------------------------------------------------------------


def _shown(event: Event, timeline: str) -> bool:
    if timeline == "none":
        return False
    if timeline == "full":
        return True
    if event.kind == "messages":
        return False
    if timeline == "key":
        wrong = event.kind == "published" and event.data.get("verdict") != "correct"
        return event.kind in KEY_EVENTS or wrong or event.kind == "originated"
    return True


def _node_label(kind: str, from_level: int | None) -> str:
    return kind if from_level is None else f"{kind}@{from_level}"


def summary_lines(result: SimulationResult) -> list[str]:
    """The summary printed after the timeline."""
    lines = ["", "summary"]
    lines.append(f"  games ({len(result.games)}):" if result.games else "  games: none")
    for g in result.games:
        span = f"levels {g.started}–{g.ended}" if g.ended is not None else f"from {g.started}"
        accepted = sum(1 for m in g.moves if m.accepted)
        outcome = "draw" if g.result == "draw" else f"{g.winner} wins" if g.winner else g.result
        lines.append(
            f"    {g.refuter} vs {g.defender} over inbox level {g.inbox_level} ({span}, "
            f"{accepted} moves): {outcome} — {g.why}"
        )
    lines.append("  nodes and bonds:")
    for n in result.nodes:
        lines.append(
            f"    {n.name:14} {_node_label(n.kind, n.from_level):16} balance "
            f"{'+' if n.balance_change > 0 else ''}{tez(n.balance_change)}, frozen "
            f"{tez(n.frozen)}, {n.commitments} commitments — {n.status}"
        )
    if result.cemented:
        first, last = result.cemented[0][1], result.cemented[-1][1]
        wrong = sum(1 for c in result.cemented if not c[3])
        verdict = "all of them the honest PVM's" if not wrong else f"{wrong} NOT the honest PVM's"
        lines.append(
            f"  cemented: {len(result.cemented)} commitments, inbox levels {first}–{last} "
            f"({verdict}); last cemented commitment {short(result.cemented[-1][2], 16)}"
        )
    else:
        lines.append("  cemented: none (the challenge window did not end within the run)")
    executed = result.executed
    keys = {(o, i) for _, o, i, _ in executed}
    lines.append(
        f"  outbox: {len(executed)} messages executed"
        + (", each exactly once" if len(keys) == len(executed) else ", SOME TWICE")
        + (
            f"; {result.skipped_outputs} outputs not executable (not outbox messages, or "
            "index past max_outbox_messages_per_level)"
            if result.skipped_outputs
            else ""
        )
    )
    lines.append(f"  users posted {result.messages_posted} messages")
    rejected = [e for e in result.events if e.kind == "rejected"]
    if rejected:
        honest = sum(1 for e in rejected if e.data.get("honest"))
        lines.append(f"  rejected operations: {len(rejected)} ({honest} of honest nodes)")
    lines.append(
        f"  invariants: {len(INVARIANTS)} invariants ({INVARIANTS[0].id}…{INVARIANTS[-1].id}) "
        f"checked at each of {result.levels_checked} levels ({result.invariant_checks:,} checks)"
        + (
            ", plus SIM-1 (no wrong commitment cemented) and SIM-2 (no honest bond lost)"
            if any(n.kind == "honest" for n in result.nodes)
            else " (no honest node: SIM-1 and SIM-2 do not apply)"
        )
    )
    if result.ok:
        lines.append("  result: every check holds")
    else:
        lines.append(f"  result: {len(result.violations)} VIOLATION(S)")
        for v in result.violations:
            lines.append(f"    level {v.level}: {v.id} {v.statement}")
    return lines


def render(result: SimulationResult, timeline: str) -> str:
    """The whole text report."""
    c = result.config
    nodes = ", ".join(f"{n.name} ({_node_label(n.kind, n.from_level)})" for n in result.nodes)
    kind = "wasm_2_0_0" if c.pvm == "wasm" else "arith"
    lines = [
        f"scoru simulate: {c.kernel_name} on the {kind} PVM, "
        f"{c.levels:,} levels, {result.constants.name} preset ({result.constants.mode} mode), "
        f"seed {c.seed}",
        f"  rollup {result.rollup} originated at level {result.origination_level}",
        f"  nodes: {nodes}",
        f"  disputes: {result.dispute_pvm}",
    ]
    lines.extend(f"  note: {note}" for note in result.notes)
    if timeline != "none":
        lines.extend(["", "timeline"])
        lines.extend(f"[{e.level:5}] {e.text}" for e in result.events if _shown(e, timeline))
    lines.extend(summary_lines(result))
    return "\n".join(lines)


class Progress:
    """Progress on standard error: a live counter on a terminal, else a line at
    every quarter of runs of 1,000 levels or more."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.step = max(1, total // 100) if self.tty else max(1, total // 4)
        self.enabled = self.tty or total >= 1_000
        self.start = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or (done % self.step and done != total):
            return
        rate = done / max(1e-9, time.monotonic() - self.start)
        text = f"simulated {done}/{total} levels ({rate:.0f} levels/s)"
        if self.tty:
            self.stream.write("\r" + text + ("\n" if done == total else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _shout(violation: Violation) -> None:
    """A violation is reported on standard error the moment it is found."""
    print(
        f"scoru: VIOLATION at level {violation.level}: {violation.id} {violation.statement}",
        file=sys.stderr,
    )


def run(args: argparse.Namespace) -> int:
    config = config_of(args)
    if args.json not in (None, "-") and not Path(args.json).resolve().parent.is_dir():
        raise UsageError(f"--json {args.json!r}: its directory does not exist")
    result = simulate(config, Progress(sys.stderr, config.levels), _shout)
    doc = result.to_json()
    if args.json == "-":
        print(json.dumps(doc, indent=2))
    else:
        print(render(result, args.timeline))
        if args.json is not None:
            try:
                Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            except OSError as exc:
                reason = exc.strerror
                raise UsageError(f"--json {args.json!r} cannot be written: {reason}") from None
    return 0 if result.ok else 1
