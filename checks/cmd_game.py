"""``scoru game``: play a whole refutation game and print its transcript.

``scoru game --refuter STRATEGY [--defender STRATEGY] [--seed N] [--ticks N]
[--mode intended|octez] [--preset TEST|SEED|MAINNET] [--json]`` generates an
arith rollup (origination, random programs in its inbox), publishes both
players' commitments, starts the game and plays it to the end through
:mod:`spec.refutation`, one move per level. ``scoru game --list`` prints the
strategy names. The arith PVM is enabled for the generated rollup whatever
the preset says (mainnet disables it).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import attrs

from checks.errors import UsageError
from spec import game as game_
from spec import strategies
from spec.constants import MODES, preset
from spec.dissection import Chunk
from spec.state import Layer1State


def register(sub: Any) -> None:
    p = sub.add_parser("game", help="play a refutation game between two strategies")
    p.add_argument("--list", action="store_true", help="print the strategy names and exit")
    p.add_argument("--refuter", metavar="STRATEGY", help="the refuter's strategy")
    p.add_argument(
        "--defender", metavar="STRATEGY", default="honest", help="the defender's (default honest)"
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    p.add_argument(
        "--ticks", type=int, default=60, metavar="N", help="about N ticks to dispute (default 60)"
    )
    p.add_argument("--mode", default="intended", help="intended (default) or octez")
    p.add_argument("--preset", default="TEST", help="constants preset (default TEST)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
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


def _text(doc: dict[str, Any]) -> list[str]:
    lines = [
        f"refutation game ({doc['preset']}, {doc['mode']} mode, seed {doc['seed']}) "
        f"over inbox level {doc['inbox_level']}"
    ]
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
            what = "dissection " + " ".join(
                f"{c['tick']}:{'None' if c['state'] is None else c['state'][:10]}"
                for c in m["dissection"]
            )
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
    return lines


def run(args: argparse.Namespace) -> int:
    if args.list:
        for name in strategies.STRATEGIES:
            print(name)
        return 0
    if args.refuter is None:
        raise UsageError("--refuter STRATEGY is required (see scoru game --list)")
    if args.mode not in MODES:
        raise UsageError(f"--mode must be one of {', '.join(MODES)}, not {args.mode!r}")
    if args.ticks < 1:
        raise UsageError("--ticks must be positive")
    refuter = strategies.strategy(args.refuter)
    defender = strategies.strategy(args.defender)
    constants = attrs.evolve(preset(args.preset), arith_pvm_enable=True).with_mode(args.mode)
    scenario = strategies.generated_scenario(constants, args.seed, args.ticks)
    game_run = strategies.play_game(scenario, refuter=refuter, defender=defender, seed=args.seed)
    doc: dict[str, Any] = {
        "preset": constants.name,
        "mode": constants.mode,
        "seed": args.seed,
        "inbox_level": scenario.commit_inbox_level,
        "refuter": _player_json(game_run, "refuter", refuter.name),
        "defender": _player_json(game_run, "defender", defender.name),
        "moves": [_move_json(i, t, game_run) for i, t in enumerate(game_run.turns)],
        "outcome": _outcome_json(game_run),
    }
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print("\n".join(_text(doc)))
    return 0
