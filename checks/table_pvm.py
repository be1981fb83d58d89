"""Replay a game counterexample with ``spec.game`` over a *table PVM*.

The game model leaves the PVM abstract (``step``, ``blocked``). A table PVM is
the concrete PVM a counterexample describes: its states are the abstract
state hashes of the trace, one tick from ``x`` goes to ``step(x)``, and a
``blocked`` state asks for the inbox message after the last one of the
disputed level (which ``cut_at_level`` turns into no input, so its proof
stops on ``None``, as for a real PVM). Proofs are produced and checked by
``spec.proof`` against a real inbox, and moves are judged by
``spec.game.play`` exactly as in a game between stakers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from checks.replay import ModelBug, Replayed, staker_account
from model import game as game_model
from model.bmc import Counterexample
from spec import game as game_
from spec import inbox as inbox_
from spec import proof as proof_
from spec.commitment import ZERO_COMMITMENT_HASH, Commitment
from spec.constants import Constants
from spec.dissection import Chunk
from spec.errors import EncodingError, ProtocolError
from spec.hashing import BlockHash, RollupAddress, StateHash, blake2b_160, blake2b_256
from spec.inbox import InboxInput
from spec.pvm import (
    FirstAfter,
    Input,
    InputRequest,
    Metadata,
    NoInputRequired,
    Output,
    PvmProofVerificationFailed,
    StepResult,
    VerifiedOutput,
)

if TYPE_CHECKING:
    from checks.properties import Property

ORIGINATION_LEVEL = 1


@attrs.frozen
class TablePvm:
    """A PVM given by a finite table: label → (next label, blocked)."""

    table: dict[str, dict[str, Any]]
    commit_level: int
    last_counter: int
    name: str = "table"

    @staticmethod
    def hash_of(label: str) -> StateHash:
        return StateHash(blake2b_256(b"scoru-spec table pvm " + label.encode()))

    def install_boot_sector(self, boot_sector: bytes) -> str:
        return boot_sector.decode()

    def state_hash(self, state: str) -> StateHash:
        return self.hash_of(state)

    def input_request(self, state: str) -> InputRequest:
        if self.table[state]["blocked"]:
            return FirstAfter(self.commit_level, self.last_counter)
        return NoInputRequired()

    def set_input(self, state: str, given: Input) -> str:
        raise PvmProofVerificationFailed(self.name, "a table state never consumes an input")

    def eval(self, state: str) -> str:
        return str(self.table[state]["step"])

    def tick(self, state: str) -> int:
        return 0

    def produce_proof(self, state: str, given: Input | None) -> bytes:
        return state.encode()

    def decode_step(self, step: bytes) -> object:
        try:
            label = step.decode()
        except UnicodeDecodeError:
            raise EncodingError("table pvm: step is not a label") from None
        if label not in self.table:
            raise EncodingError(f"table pvm: unknown state {label!r}")
        return label

    def verify_proof(self, given: Input | None, step: bytes) -> StepResult:
        label = str(self.decode_step(step))
        request = self.input_request(label)
        start = self.hash_of(label)
        if isinstance(request, NoInputRequired):
            if given is not None:
                raise PvmProofVerificationFailed(self.name, "input given to a computing state")
            return StepResult(start, self.hash_of(self.eval(label)), request)
        if given is not None:
            raise PvmProofVerificationFailed(self.name, "a blocked state got an input")
        return StepResult(start, None, request)

    def produce_output_proof(self, state: str, output: Output) -> bytes:
        raise PvmProofVerificationFailed(self.name, "no outputs")

    def verify_output_proof(self, proof: bytes) -> VerifiedOutput:
        raise PvmProofVerificationFailed(self.name, "no outputs")


def replay_game(prop: Property, cex: Counterexample, constants: Constants) -> Replayed:
    """Replay a game counterexample and check the property fails concretely."""
    ex = cex.extras
    honest = ex["honest"]
    period = constants.commitment_period_in_blocks
    commit_level = ORIGINATION_LEVEL + period
    inbox = inbox_.genesis(ORIGINATION_LEVEL, 0, BlockHash.zero(), "alpha_current", constants)
    for _ in range(period + 1):  # the disputed levels, and one after
        inbox = inbox_.add_level(
            inbox, [], constants, predecessor_timestamp=0, predecessor=BlockHash.zero()
        )
    last_counter = len(inbox.messages_of_level(commit_level)) - 1
    pvm = TablePvm(ex["table"], commit_level, last_counter)
    h = TablePvm.hash_of
    refuter, defender = staker_account(0), staker_account(1)
    stakers = game_.Index.make(refuter, defender)
    address = RollupAddress(blake2b_160(b"scoru-spec game replay"))
    metadata = Metadata(address, ORIGINATION_LEVEL)
    parent = Commitment(h(ex["truth"][0]), ORIGINATION_LEVEL, ZERO_COMMITMENT_HASH, 1)
    child = Commitment(h(ex["claimed_state"]), commit_level, parent.hash(), ex["claimed_ticks"])
    game = game_.initial(
        inbox_snapshot=inbox.snapshot(),
        start_level=0,
        pvm_kind=pvm.name,
        parent=parent,
        child=child,
        refuter=refuter,
        defender=defender,
        default_number_of_sections=constants.number_of_sections_in_dissection,
    )
    record = game_.GameRecord(game, game_.initial_timeout(0, constants))
    level = 0
    role = {refuter: "refuter", defender: "defender"}
    lines = [
        f"the defender claims {ex['claimed_ticks']} ticks; the true run blocks after "
        f"{ex['true_ticks']} (honest: {honest})"
    ]
    result: game_.GameResult | None = None
    moves = 0
    for i, step in enumerate(cex.steps):
        before = cex.states[i]
        p = step.params
        if result is not None:
            raise ModelBug("the model moved after the game ended")
        mover = stakers.staker(record.game.turn)
        if step.action == "advance_level":
            level += p["blocks"]
            lines.append(f"{p['blocks']} level(s) pass -> level {level}")
            continue
        if step.action == "timeout":
            if level <= game_.timeout_level(record):
                raise ModelBug("the model timed out a player whose clock had not run out")
            result = game_.timeout_result(record, stakers)
            lines.append(f"timeout of the {role[mover]}: {result}")
            moves += 1
            continue
        if before["phase"] == game_model.FINAL:
            # the choice of a second proof is ignored: the final section is used
            choice = record.game.game_state.agreed_start_chunk.tick  # type: ignore[union-attr]
        else:
            choice = before[f"tick_{p['choice']}"]
        move_step: game_.Step
        if step.action == "dissect":
            chunks = tuple(
                Chunk(h(str(p[f"hash_{k}"])) if p[f"some_{k}"] else None, p[f"tick_{k}"])
                for k in range(p["new_sections"] + 1)
            )
            move_step = game_.Dissection(chunks)
            lines.append(
                f"the {role[mover]} dissects the section at tick {choice} into "
                f"{[c.tick for c in chunks]}"
            )
        elif step.action == "prove":
            label = str(p["state"])
            proof = proof_.produce(
                pvm,
                label,
                metadata=metadata,
                inbox=inbox,
                snapshot=record.game.inbox_snapshot,
                commit_inbox_level=commit_level,
                reveal=lambda _h: None,
            )
            move_step = game_.Proof(proof)
            lines.append(f"the {role[mover]} proves one tick from the section at tick {choice}")
        else:
            raise ModelBug(f"unknown game action {step.action!r}")
        try:
            outcome = game_.play(
                record.game,
                stakers,
                game_.Move(choice, move_step),
                metadata=metadata,
                pvm=pvm,
                constants=constants,
            )
        except ProtocolError as exc:
            raise ModelBug(f"the model made a move the specification refuses: {exc}") from exc
        moves += 1
        if isinstance(outcome, game_.Game):
            record = game_.GameRecord(
                outcome, game_.update_timeout(record.timeout, record.game.turn, level)
            )
        else:
            result = outcome
            lines.append(f"the game ends: {result}")
    honest_account = refuter if honest == "refuter" else defender
    if prop.id in ("SR-013", "SR-014"):
        lost = isinstance(result, game_.Draw) or (
            isinstance(result, game_.Loser) and result.loser == honest_account
        )
        if not lost:
            raise ModelBug(
                f"{prop.id}: the replayed game does not end with the honest player losing"
            )
        lines.append(
            f"{prop.id} fails: the honest {honest} "
            + ("draws" if isinstance(result, game_.Draw) else "loses")
        )
    elif prop.id == "SR-015" and moves <= game_model.move_bound(game_model.DEFAULT_MAX_TICKS):
        raise ModelBug("SR-015: the replayed game stays within the move bound")
    return Replayed(tuple(lines), tuple((s.action, s.params) for s in cex.steps))


__all__ = ["InboxInput", "TablePvm", "replay_game"]
