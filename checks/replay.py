"""Replay a model counterexample on the concrete ``spec`` machine.

A counterexample from :mod:`model.rollup` is a list of named actions with
parameter values. Each becomes the ``spec`` operation it mirrors, applied
with ``spec.rollup.apply`` / ``advance_level``; abstract state hashes become
concrete states of the reference output tree (``spec.outbox.OutputTree``)
holding exactly the outputs the trace executes, so output proofs are real.
The replay must accept every step the model took and end in a state where
the property's concrete predicate fails; anything else is a model bug
(:class:`ModelBug`), never a reported violation.

Game counterexamples (:mod:`model.game`) are replayed with ``spec.game.play``
over a table PVM whose one-tick steps are the model's ``step`` function
(:mod:`checks.table_pvm`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from model.bmc import Counterexample
from spec import invariants, michelson, outbox, rollup, staking
from spec.commitment import Commitment
from spec.constants import Constants
from spec.errors import ProtocolError
from spec.game import Draw, Loser, Start
from spec.hashing import CommitmentHash, ImplicitAccount, RollupAddress, blake2b_160, blake2b_256
from spec.operations import (
    Cement,
    ExecuteOutboxMessage,
    Operation,
    Originate,
    Publish,
    RecoverBond,
    Refute,
)
from spec.pvm import Output
from spec.state import Layer1State

if TYPE_CHECKING:
    from checks.properties import Property

KIND: Final = "wasm_2_0_0"
BOOT_SECTOR = b"scoru-spec model replay"


class ModelBug(AssertionError):
    """A counterexample the concrete machine does not reproduce: the model and the
    specification disagree, which is a bug in one of them."""


@attrs.frozen
class Replayed:
    """A replayed counterexample: readable lines and the concrete steps."""

    lines: tuple[str, ...]
    operations: tuple[tuple[str, Any], ...]


def staker_account(i: int) -> ImplicitAccount:
    """The implicit account playing model staker ``i``."""
    return ImplicitAccount(0, blake2b_160(b"scoru-spec model staker %d" % i))


def _label(value: Any) -> str:
    return str(value)


def replay(prop: Property, cex: Counterexample, constants: Constants) -> Replayed:
    """Replay ``cex`` and check that ``prop`` fails concretely at its end."""
    if cex.states and "phase" in cex.states[0]:
        from checks import table_pvm

        return table_pvm.replay_game(prop, cex, constants)
    return _replay_rollup(prop, cex, constants)


def _outputs_by_state(cex: Counterexample) -> dict[str, list[Output]]:
    """The outputs each abstract state must contain: every one the trace executes."""
    signal = outbox.encode_outbox_message(outbox.CanonicalRollupSignal(b"replay"))
    found: dict[str, list[Output]] = {}
    for before, step in zip(cex.states, cex.steps, strict=False):
        if step.action != "execute_outbox_message":
            continue
        j = step.params["j"]
        label = cex.extras["genesis_state"] if j == 0 else _cemented_state(before, j)
        out = Output(step.params["outbox_level"], step.params["message_index"], signal)
        found.setdefault(label, [])
        if out not in found[label]:
            found[label].append(out)
    return found


def _cemented_state(state: Mapping[str, Any], j: int) -> str:
    return _label(state[f"st_{j}_{state[f'cem_b_{j}']}"])


def _replay_rollup(prop: Property, cex: Counterexample, constants: Constants) -> Replayed:
    state, lines, ops, accounts, balance = run_rollup_trace(cex, constants)
    if _concrete_holds(prop, state, constants, accounts, balance):
        raise ModelBug(f"{prop.id}: the counterexample replays but the concrete predicate holds")
    lines.append(f"{prop.id} fails on the concrete state")
    return Replayed(tuple(lines), tuple(ops))


def run_rollup_trace(
    cex: Counterexample, constants: Constants
) -> tuple[Layer1State, list[str], list[tuple[str, Any]], list[ImplicitAccount], int]:
    """Apply a rollup-model trace to the ``spec`` machine: the final state, readable
    lines, the concrete operations, the stakers' accounts and their initial balance."""
    from model.rollup import Shape

    shape = Shape()
    balance = shape.balance_in_stakes * constants.stake_amount
    accounts = [staker_account(i) for i in range(shape.stakers)]
    state = rollup.initial_state({a: balance for a in accounts}, constants, level=0)
    genesis_tree = outbox.OutputTree(blake2b_256(KIND.encode() + b"\x00" + BOOT_SECTOR), ())
    outputs = _outputs_by_state(cex)
    genesis_label = str(cex.extras.get("genesis_state", "genesis"))
    if outputs.get(genesis_label):
        raise ModelBug("the trace executes an output of the genesis state, whose outbox is empty")
    trees: dict[str, outbox.OutputTree] = {genesis_label: genesis_tree}

    def tree(label: str) -> outbox.OutputTree:
        if label not in trees:
            trees[label] = outbox.OutputTree(
                blake2b_256(label.encode()), tuple(outputs.get(label, ()))
            )
        return trees[label]

    lines: list[str] = []
    ops: list[tuple[str, Any]] = []

    def do(op: Operation) -> None:
        nonlocal state
        try:
            state = rollup.apply(state, op, constants)
        except ProtocolError as exc:
            raise ModelBug(
                f"the model took a step the specification refuses: {op!r}: {exc}"
            ) from exc
        ops.append(("apply", op))

    origination = Originate(accounts[0], KIND, BOOT_SECTOR, michelson.parse_type("unit"))
    do(origination)
    address: RollupAddress = next(iter(state.rollups))
    lines.append(f"originate {address} at level {state.level}")
    # The model starts in the block after the origination block.
    state = rollup.advance_level(state, constants)
    genesis_hash = state.rollup(address).genesis_info.commitment_hash
    slot_hash: dict[tuple[int, int], CommitmentHash] = {}

    for i, step in enumerate(cex.steps):
        before, after = cex.states[i], cex.states[i + 1]
        p = step.params
        if step.action == "advance_level":
            for _ in range(p["blocks"]):
                state = rollup.advance_level(state, constants)
            ops.append(("advance_level", p["blocks"]))
            lines.append(f"advance {p['blocks']} level(s) -> level {state.level}")
        elif step.action == "publish":
            j = p["pred_j"] + 1
            pred = genesis_hash if p["pred_j"] == 0 else slot_hash[(p["pred_j"], p["pred_b"])]
            commitment = Commitment(
                tree(_label(p["state"])).state_hash(), p["inbox_level"], pred, p["ticks"]
            )
            do(Publish(accounts[p["staker"]], address, commitment))
            target = next(
                b
                for b in range(shape.branches)
                if after[f"ex_{j}_{b}"]
                and after[f"st_{j}_{b}"] == p["state"]
                and after[f"tk_{j}_{b}"] == p["ticks"]
                and after[f"pred_{j}_{b}"] == p["pred_b"]
            )
            slot_hash[(j, target)] = commitment.hash()
            lines.append(
                f"staker {p['staker']} publishes {commitment.hash()} "
                f"(level {p['inbox_level']}, {p['ticks']} ticks, on {pred})"
            )
        elif step.action == "cement":
            do(Cement(accounts[0], address))
            lines.append(f"cement -> LCC {state.rollup(address).last_cemented_commitment}")
        elif step.action == "recover_bond":
            do(RecoverBond(accounts[0], address, accounts[p["staker"]]))
            lines.append(f"recover the bond of staker {p['staker']}")
        elif step.action == "start_game":
            start = Start(slot_hash[(p["j"], p["b_refuter"])], slot_hash[(p["j"], p["b_defender"])])
            do(Refute(accounts[p["refuter"]], address, accounts[p["defender"]], start))
            lines.append(f"staker {p['refuter']} starts a game against staker {p['defender']}")
        elif step.action == "conclude_game":
            refuter, defender = before["game_refuter"], 1 - before["game_refuter"]
            pair = tuple(sorted((accounts[refuter], accounts[defender])))
            result: Loser | Draw
            if p["result"] == 2:
                result = Draw()
            else:
                loser = refuter if p["result"] == 0 else defender
                result = Loser(accounts[loser], "conflict_resolved")
            # The game's moves are abstracted by SR-013/SR-014; its result is applied as
            # spec.refutation does at the end of a game.
            state = staking.apply_game_result(state, address, pair, result, constants)
            ops.append(("apply_game_result", (pair, result)))
            lines.append(f"the game ends: {result}")
        elif step.action == "execute_outbox_message":
            j = p["j"]
            if j == 0:
                label, cemented = genesis_label, genesis_hash
            else:
                label, cemented = _cemented_state(before, j), slot_hash[(j, before[f"cem_b_{j}"])]
            t = tree(label)
            position = next(
                k
                for k, o in enumerate(t.outputs)
                if (o.outbox_level, o.message_index) == (p["outbox_level"], p["message_index"])
            )
            do(ExecuteOutboxMessage(accounts[0], address, cemented, t.prove(position)))
            lines.append(
                f"execute outbox message ({p['outbox_level']}, {p['message_index']}) "
                f"against {cemented}"
            )
        else:
            raise ModelBug(f"unknown model action {step.action!r}")
    return state, lines, ops, accounts, balance


def _concrete_holds(
    prop: Property,
    state: Layer1State,
    constants: Constants,
    accounts: list[ImplicitAccount],
    balance: int,
) -> bool:
    if prop.id == "SR-012":
        honest = accounts[0]
        frozen = sum(v for (who, _), v in state.ledger.frozen_bonds.items() if who == honest)
        return state.ledger.balance(honest) + frozen >= balance
    predicate: Callable[[Layer1State, Constants], bool] = next(
        inv.predicate for inv in invariants.INVARIANTS if inv.id == prop.id
    )
    return predicate(state, constants)


def write_regression_test(path: Path, prop: Property, depth: int, constants: Constants) -> None:
    """A ready-to-run pytest file: it searches the counterexample again at ``depth`` and
    replays it on the concrete machine (the ITF trace next to it keeps the steps)."""
    body = [
        f'"""Regression: {prop.id} ({prop.statement})',
        f"violated under {constants.name}/{constants.mode}.",
        "",
        "Generated by ``scoru check``; the ITF trace is next to this file.",
        '"""',
        "",
        "from checks import properties, replay",
        "from spec.constants import preset",
        "",
        "",
        f"def test_{prop.id.replace('-', '_').lower()}_counterexample_replays() -> None:",
        f"    constants = preset({constants.name!r}).with_mode({constants.mode!r})",
        f"    prop = properties.by_id([{prop.id!r}])[0]",
        "    from model.bmc import bmc",
        "    ts = prop.system(constants)",
        f"    result = bmc(ts, prop.symbolic(constants), {depth})",
        "    assert result.verdict == 'violated'",
        "    assert result.counterexample is not None",
        "    replay.replay(prop, result.counterexample, constants)",
        "",
    ]
    path.write_text("\n".join(body), encoding="utf-8")
