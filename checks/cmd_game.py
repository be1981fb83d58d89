"""``scoru game``: play a whole refutation game and print its transcript.

``scoru game --refuter STRATEGY [--defender STRATEGY] [--seed N] [--ticks N]
[--mode intended|octez] [--preset TEST|SEED|MAINNET] [--json]`` generates an
arith rollup (origination, random programs in its inbox), publishes both
players' commitments, starts the game and plays it to the end through
:mod:`spec.refutation`, one move per level. ``scoru game --list`` prints the
strategy names. The arith PVM is enabled for the generated rollup whatever
the preset says (mainnet disables it).

``scoru game --pvm wasm [--kernel NAME|FILE] --refuter S --defender S``
plays a real WASM dispute (:mod:`executable.dispute`): a ``wasm_2_0_0``
rollup with the kernel (bundled ``counter`` by default) and seeded external
messages, two rollup nodes running it on wasmtime, one of them (strategy
``byte_flip``) with a PVM that flips one byte of durable storage after tick
``--lie-tick`` of level ``--lie-level`` (default: ten ticks into the first
kernel_run of the disputed period's last level), the game played with the
reference PVM down to a one-step proof. The JSON document has the same
``moves`` and ``outcome`` as for arith, plus ``lie``, ``resolved_tick`` and
``final_proof_size``.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

import attrs

from checks.cmd_run import load_kernel
from checks.errors import UsageError
from executable import dispute
from executable.wasm.limits import Limits
from spec import game as game_
from spec import strategies
from spec.constants import MODES, Constants, preset
from spec.dissection import Chunk
from spec.hashing import RevealHash
from spec.state import Layer1State

PVMS = ("arith", "wasm")
#: Strategies of ``--pvm wasm``: rollup nodes that run a real kernel.
WASM_STRATEGIES = {
    "honest": "runs the kernel faithfully",
    "byte_flip": "its PVM flips one byte of durable storage at one tick",
}


def register(sub: Any) -> None:
    p = sub.add_parser("game", help="play a refutation game between two strategies")
    p.add_argument("--list", action="store_true", help="print the strategy names and exit")
    p.add_argument("--refuter", metavar="STRATEGY", help="the refuter's strategy")
    p.add_argument(
        "--defender", metavar="STRATEGY", default="honest", help="the defender's (default honest)"
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    p.add_argument(
        "--ticks", type=int, metavar="N", help="arith: about N ticks to dispute (default 60)"
    )
    p.add_argument("--mode", default="intended", help="intended (default) or octez")
    p.add_argument("--preset", default="TEST", help="constants preset (default TEST)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--pvm", default="arith", help="arith (default) or wasm")
    p.add_argument(
        "--kernel", metavar="NAME|FILE", help="wasm: the kernel (bundled name or file; counter)"
    )
    p.add_argument("--preimages", metavar="DIR", help="wasm: a directory of reveal preimages")
    p.add_argument("--lie-level", type=int, metavar="L", help="wasm: the inbox level of the lie")
    p.add_argument(
        "--lie-tick", type=int, metavar="T", help="wasm: the tick of the lie within its level"
    )
    p.add_argument("--lie-path", metavar="PATH", help="wasm: the durable value to corrupt")
    p.set_defaults(run=run)


def _chunk(chunk: Chunk) -> dict[str, object]:
    return {
        "tick": chunk.tick,
        "state": None if chunk.state_hash is None else str(chunk.state_hash),
    }


def _clocks(turn: strategies.Turn, run: strategies.GameRun) -> dict[str, int] | None:
    if turn.clocks is None:
        return None
    stakers = game_.Index.make(run.roles["refuter"], run.roles["defender"])
    by_role = {
        "refuter" if stakers.alice == run.roles["refuter"] else "defender": turn.clocks.alice,
        "refuter" if stakers.bob == run.roles["refuter"] else "defender": turn.clocks.bob,
    }
    return {**by_role, "last_turn_level": turn.clocks.last_turn_level}


def _move_json(index: int, turn: strategies.Turn, run: strategies.GameRun) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": index, "level": turn.level, "player": turn.role}
    if turn.move is None:
        entry.update(step="timeout", accepted=True, error=None, clocks=None)
        return entry
    entry["staker"] = str(run.roles[turn.role])
    entry["choice"] = turn.move.choice
    entry["section"] = (
        None
        if turn.section is None
        else {"start": _chunk(turn.section[0]), "stop": _chunk(turn.section[1])}
    )
    step = turn.move.step
    if isinstance(step, game_.Dissection):
        entry["step"] = "dissection"
        entry["dissection"] = [_chunk(c) for c in step.chunks]
    else:
        entry["step"] = "proof"
        entry["proof"] = step.proof.to_json()
    entry["accepted"] = turn.error is None
    entry["error"] = (
        None
        if turn.error is None
        else {"octez_error": turn.error.octez_error, "message": str(turn.error)}
    )
    entry["clocks"] = _clocks(turn, run)
    entry["game_state"] = None if turn.game_state is None else turn.game_state.kind
    return entry


def _stakes(run: strategies.GameRun) -> dict[str, dict[str, int]]:
    def of(state: Layer1State, role: str) -> tuple[int, int]:
        account = run.roles[role]
        address = run.scenario.metadata.address
        return state.ledger.balance(account), state.ledger.frozen(account, address)

    out = {}
    for role in ("refuter", "defender"):
        b0, f0 = of(run.before, role)
        b1, f1 = of(run.after, role)
        out[role] = {"balance_change": b1 - b0, "frozen_bond_change": f1 - f0}
    return out


def _outcome_json(run: strategies.GameRun) -> dict[str, Any]:
    result = run.result
    outcome: dict[str, Any]
    if isinstance(result, game_.Loser):
        outcome = {"kind": "loser", "loser": run.result_role, "reason": result.reason}
    elif isinstance(result, game_.Draw):
        outcome = {"kind": "draw", "loser": None, "reason": None}
    else:
        outcome = {"kind": "unfinished", "loser": None, "reason": None}
    outcome["stakes"] = _stakes(run)
    outcome["burnt"] = run.after.ledger.burnt - run.before.ledger.burnt
    outcome["minted"] = run.after.ledger.minted - run.before.ledger.minted
    return outcome


def _player_json(run: strategies.GameRun, role: str, name: str) -> dict[str, Any]:
    commitment = run.commitments[role]
    return {
        "strategy": name,
        "staker": str(run.roles[role]),
        "commitment": str(commitment.hash()),
        "compressed_state": str(commitment.compressed_state),
        "number_of_ticks": commitment.number_of_ticks,
    }


def _dissection_text(chunks: list[dict[str, Any]]) -> str:
    def one(c: dict[str, Any]) -> str:
        return f"{c['tick']}:{'None' if c['state'] is None else c['state'][:10]}"

    if len(chunks) <= 8:
        return " ".join(one(c) for c in chunks)
    return f"{one(chunks[0])} {one(chunks[1])} … {one(chunks[-1])} ({len(chunks)} chunks)"


def _text(doc: dict[str, Any]) -> list[str]:
    pvm = doc["pvm"] if doc["pvm"] == "arith" else f"{doc['pvm']}, kernel {doc['kernel']}"
    lines = [
        f"refutation game ({pvm}, {doc['preset']}, {doc['mode']} mode, seed {doc['seed']}) "
        f"over inbox level {doc['inbox_level']}"
    ]
    lie = doc.get("lie")
    if lie is not None:
        lines.append(
            f"  the {lie['liar']}'s PVM flips byte {lie['offset']} of {lie['path']} "
            f"(xor {lie['mask']:#04x}) after tick {lie['tick']} "
            f"(tick {lie['tick_in_level']} of level {lie['level']})"
        )
    for role in ("refuter", "defender"):
        p = doc[role]
        lines.append(
            f"  {role:8} {p['strategy']:16} {p['staker']}  claims {p['number_of_ticks']} ticks "
            f"-> {p['compressed_state']}"
        )
    for m in doc["moves"]:
        if m["step"] == "timeout":
            lines.append(f"  [{m['level']}] timeout sent")
            continue
        section = m["section"]
        span = "?" if section is None else f"{section['start']['tick']}..{section['stop']['tick']}"
        if m["step"] == "dissection":
            what = "dissection " + _dissection_text(m["dissection"])
        else:
            kind = m["proof"].get("input_proof", {}).get("input_proof_kind", "no input")
            what = f"proof ({kind}, {len(m['proof']['pvm_step']) // 2}-byte step)"
        status = "" if m["accepted"] else f"  REJECTED: {m['error']['message']}"
        clocks = m.get("clocks")
        clock = "" if not clocks else f"  clocks R={clocks['refuter']} D={clocks['defender']}"
        lines.append(f"  [{m['level']}] {m['player']:8} section {span}: {what}{status}{clock}")
    o = doc["outcome"]
    if o["kind"] == "loser":
        lines.append(f"outcome: the {o['loser']} loses ({o['reason']})")
    else:
        lines.append(f"outcome: {o['kind']}")
    for role, change in o["stakes"].items():
        lines.append(
            f"  {role:8} balance {change['balance_change']:+} mutez, "
            f"frozen bond {change['frozen_bond_change']:+} mutez"
        )
    lines.append(f"  burnt {o['burnt']} mutez, minted {o['minted']} mutez")
    if doc.get("resolved_tick") is not None:
        lines.append(
            f"resolved at tick {doc['resolved_tick']} with a {doc['final_proof_size']}-byte proof"
        )
    return lines


def _print(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(doc, indent=2))
    else:
        print("\n".join(_text(doc)))


def wasm_messages(seed: int, levels: int) -> list[list[bytes]]:
    """Seeded external messages for ``levels`` levels (one to three each)."""
    rng = random.Random(seed)
    return [
        [f"seed {seed} level {i} message {j}".encode() for j in range(rng.randint(1, 3))]
        for i in range(levels)
    ]


def _preimages(directory: str | None) -> dict[RevealHash, bytes]:
    if directory is None:
        return {}
    root = Path(directory)
    if not root.is_dir():
        raise UsageError(f"--preimages {directory!r} is not a directory")
    out = {}
    for path in sorted(root.iterdir()):
        try:
            raw = bytes.fromhex(path.name)
        except ValueError:
            continue
        if len(raw) == 33 and raw[0] == 0:
            out[RevealHash(raw[1:])] = path.read_bytes()
    return out


def run_wasm(args: argparse.Namespace, constants: Constants) -> int:
    """``--pvm wasm``: one honest node against one ``byte_flip`` node."""
    names = {"refuter": args.refuter, "defender": args.defender}
    for role, name in names.items():
        if name not in WASM_STRATEGIES:
            raise UsageError(
                f"--{role} {name!r} is not a wasm strategy; expected one of "
                f"{', '.join(WASM_STRATEGIES)}"
            )
    liars = [role for role, name in names.items() if name == "byte_flip"]
    if len(liars) != 1:
        raise UsageError("--pvm wasm needs exactly one byte_flip node and one honest node")
    if args.ticks is not None:
        raise UsageError("--ticks is for --pvm arith (a WASM dispute covers whole levels)")
    kernel_name = args.kernel or "counter"
    period = constants.commitment_period_in_blocks
    disputed = dispute.setup(
        load_kernel(kernel_name),
        wasm_messages(args.seed, 2 * period),
        constants=constants,
        limits=Limits(),
        preimages=_preimages(args.preimages),
    )
    honest = dispute.Trajectory.compute(disputed)
    level = args.lie_level if args.lie_level is not None else disputed.scenario.commit_inbox_level
    tick = args.lie_tick if args.lie_tick is not None else disputed.tick_budget + 10
    result = dispute.play_dispute(
        disputed,
        dispute.Lie(level=level, tick=tick, path=args.lie_path),
        liar_role=liars[0],
        honest=honest,
    )
    game_run = result.run
    doc: dict[str, Any] = {
        "pvm": "wasm_2_0_0",
        "kernel": kernel_name,
        "preset": constants.name,
        "mode": constants.mode,
        "seed": args.seed,
        "inbox_level": disputed.scenario.commit_inbox_level,
        "refuter": _player_json(game_run, "refuter", names["refuter"]),
        "defender": _player_json(game_run, "defender", names["defender"]),
        "lie": {
            "liar": result.liar_role,
            "level": level,
            "tick_in_level": tick,
            "tick": result.lie.at_tick,
            "path": result.flipped_path,
            "offset": result.lie.offset,
            "mask": result.lie.mask,
        },
        "moves": [_move_json(i, t, game_run) for i, t in enumerate(game_run.turns)],
        "outcome": _outcome_json(game_run),
        "resolved_tick": result.resolved_tick,
        "final_proof_size": result.final_proof_size,
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }
    _print(doc, args.json)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.pvm not in PVMS:
        raise UsageError(f"--pvm must be one of {', '.join(PVMS)}, not {args.pvm!r}")
    if args.list:
        for name in strategies.STRATEGIES if args.pvm == "arith" else WASM_STRATEGIES:
            print(name)
        return 0
    if args.refuter is None:
        raise UsageError("--refuter STRATEGY is required (see scoru game --list)")
    if args.mode not in MODES:
        raise UsageError(f"--mode must be one of {', '.join(MODES)}, not {args.mode!r}")
    if args.pvm == "wasm":
        return run_wasm(args, preset(args.preset).with_mode(args.mode))
    wasm_only = ("kernel", "preimages", "lie_level", "lie_tick", "lie_path")
    given = [name for name in wasm_only if getattr(args, name) is not None]
    if given:
        raise UsageError(f"--{given[0].replace('_', '-')} is for --pvm wasm")
    ticks = 60 if args.ticks is None else args.ticks
    if ticks < 1:
        raise UsageError("--ticks must be positive")
    refuter = strategies.strategy(args.refuter)
    defender = strategies.strategy(args.defender)
    constants = attrs.evolve(preset(args.preset), arith_pvm_enable=True).with_mode(args.mode)
    scenario = strategies.generated_scenario(constants, args.seed, ticks)
    game_run = strategies.play_game(scenario, refuter=refuter, defender=defender, seed=args.seed)
    doc: dict[str, Any] = {
        "pvm": "arith",
        "preset": constants.name,
        "mode": constants.mode,
        "seed": args.seed,
        "inbox_level": scenario.commit_inbox_level,
        "refuter": _player_json(game_run, "refuter", refuter.name),
        "defender": _player_json(game_run, "defender", defender.name),
        "moves": [_move_json(i, t, game_run) for i, t in enumerate(game_run.turns)],
        "outcome": _outcome_json(game_run),
    }
    _print(doc, args.json)
    return 0
