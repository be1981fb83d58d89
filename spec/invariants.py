"""Invariants of the layer-1 rollup state, as plain predicates with catalogue ids.

Every entry states one property in a sentence, its severity and the Octez
code that enforces it (or the test that checks it); its predicate takes a
:class:`~spec.state.Layer1State` and the constants and returns whether the
property holds. ``checks/`` registers :data:`INVARIANTS`; the stateful tests
assert every one after every step.

Some properties are about history (at most once, ever). They read the ghost
fields of :class:`~spec.state.RollupState` (``ghost_cemented``,
``ghost_executed_outputs``), which are not part of Octez storage.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_stake_storage.ml``,
``sc_rollup_outbox_storage.ml``, ``sc_rollup_operations.ml``,
``sc_rollup_refutation_storage.ml``; reference §12.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Literal

import attrs

from spec.commitment import ZERO_COMMITMENT_HASH, next_commitment_level
from spec.constants import Constants
from spec.state import Layer1State, RollupState

Severity = Literal["critical", "high", "medium"]
Predicate = Callable[[Layer1State, Constants], bool]


@attrs.frozen
class Invariant:
    """A catalogue entry: id, one-line statement, severity, Octez source, predicate."""

    id: str
    statement: str
    severity: Severity
    source: str
    predicate: Predicate

    def holds(self, state: Layer1State, constants: Constants) -> bool:
        return self.predicate(state, constants)


# -- predicates ------------------------------------------------------------------------


def tez_is_conserved(state: Layer1State, constants: Constants) -> bool:
    """SR-001. Tez are conserved: the genesis total equals spendable balances plus
    frozen bonds plus burnt minus minted, and no balance or bond is negative.

    Severity: critical. Octez: ``token.ml`` (``transfer``);
    ``sc_rollup_stake_storage.ml`` (``deposit_stake``, ``withdraw_stake``,
    ``remove_staker``); ``sc_rollup_refutation_storage.ml`` (``apply_game_result``).
    """
    ledger = state.ledger
    if any(v < 0 for v in ledger.balances.values()):
        return False
    if any(v < 0 for v in ledger.frozen_bonds.values()):
        return False
    return ledger.burnt >= 0 and ledger.minted >= 0 and ledger.total() == ledger.initial_total


def _rollups(state: Layer1State) -> list[RollupState]:
    return list(state.rollups.values())


def one_cemented_commitment_per_level(state: Layer1State, constants: Constants) -> bool:
    """SR-002. At most one commitment is ever cemented per inbox level.

    Severity: critical. Octez: ``sc_rollup_stake_storage.ml``,
    ``find_commitment_to_cement`` (``Sc_rollup_disputed``); tests "cement will
    fail if commitment is contested", "no cement on conflict".
    """
    for rollup in _rollups(state):
        levels = [c.inbox_level for c in rollup.ghost_cemented]
        if len(levels) != len(set(levels)):
            return False
    return True


def cemented_chain_is_linear(state: Layer1State, constants: Constants) -> bool:
    """SR-003. The cemented commitments form one chain from the genesis commitment to
    the LCC, each on the next commitment level of the previous one; the stored
    cemented commitments are its last (at most
    ``max_number_of_stored_cemented_commitments``) elements.

    Severity: critical. Octez: ``sc_rollup_stake_storage.ml``,
    ``cement_commitment``, ``update_saved_cemented_commitments``; test "All
    cemented commitments are ancestors of last cemented commitment".
    """
    for rollup in _rollups(state):
        chain = rollup.ghost_cemented
        if not chain or chain[0].hash() != rollup.genesis_info.commitment_hash:
            return False
        if chain[0].predecessor != ZERO_COMMITMENT_HASH:
            return False
        for parent, child in itertools.pairwise(chain):
            if child.predecessor != parent.hash():
                return False
            if child.inbox_level != next_commitment_level(parent.inbox_level, constants):
                return False
        if chain[-1].hash() != rollup.last_cemented_commitment:
            return False
        stored = rollup.stored_cemented_commitments()
        if not 1 <= len(stored) <= constants.max_number_of_stored_cemented_commitments:
            return False
        expected = tuple(c.hash() for c in reversed(chain[-len(stored) :]))
        if stored != expected:
            return False
    return True


def _grid(rollup: RollupState, constants: Constants, up_to: int) -> set[int]:
    levels = {rollup.origination_level}
    level = rollup.origination_level
    while level <= up_to:
        level = next_commitment_level(level, constants)
        levels.add(level)
    return levels


def commitments_on_period_grid(state: Layer1State, constants: Constants) -> bool:
    """SR-004. Every stored commitment is for an inbox level on the commitment-period
    grid that starts at the origination level, after the LCC's unless cemented,
    at most ``max_lookahead_in_blocks`` after it, and before the current level.

    Severity: high. Octez: ``sc_rollup_stake_storage.ml``,
    ``assert_refine_conditions_met``, ``assert_commitment_period``; reference §12.4.
    """
    for rollup in _rollups(state):
        if not rollup.commitments:
            return False
        top = max(c.inbox_level for c in rollup.commitments.values())
        grid = _grid(rollup, constants, top)
        stored_cemented = set(rollup.stored_cemented_commitments())
        lcc_level = rollup.lcc_level
        for commitment_hash, commitment in rollup.commitments.items():
            level = commitment.inbox_level
            if level not in grid:
                return False
            if commitment_hash in stored_cemented:
                continue
            if not lcc_level < level <= lcc_level + constants.max_lookahead_in_blocks:
                return False
            if level >= state.level:
                return False
    return True


def one_stake_per_staker_per_level(state: Layer1State, constants: Constants) -> bool:
    """SR-005. A staker index stakes on at most one commitment per inbox level, and
    the newest staked level of an active staker bounds all its stakes.

    Severity: critical. Octez: ``sc_rollup_stake_storage.ml``,
    ``assert_staker_dont_double_stake``, ``set_staker_commitment``; test "publish
    will fail if staker is double staking".
    """
    for rollup in _rollups(state):
        for level, hashes in rollup.commitments_per_inbox_level.items():
            seen: set[int] = set()
            for commitment_hash in hashes:
                indices = rollup.commitment_stakers.get(commitment_hash, ())
                if seen & set(indices):
                    return False
                seen |= set(indices)
            for index in seen:
                newest = rollup.stakers.get(index)
                if newest is not None and newest < level:
                    return False
    return True


def outbox_messages_executed_at_most_once(state: Layer1State, constants: Constants) -> bool:
    """SR-006. No outbox message ``(outbox_level, message_index)`` of a rollup is
    ever executed twice, and every execution is recorded in its level's bitset
    while the slot holds that level.

    Severity: critical. Octez: ``sc_rollup_outbox_storage.ml``,
    ``record_applied_message``; tests "execute same message twice", "outbox
    message that overrides an old slot".
    """
    for rollup in _rollups(state):
        keys = [(e.outbox_level, e.message_index) for e in rollup.ghost_executed_outputs]
        if len(keys) != len(set(keys)):
            return False
        for outbox_level, index in keys:
            slot = outbox_level % constants.max_active_outbox_levels
            entry = rollup.applied_outbox_messages.get(slot)
            if entry is None or entry[0] < outbox_level:
                return False
            if entry[0] == outbox_level and not entry[1] >> index & 1:
                return False
    return True


def executed_outputs_are_cemented_and_active(state: Layer1State, constants: Constants) -> bool:
    """SR-007. Every executed outbox message was proven against a cemented
    commitment that was stored when it executed, for an outbox level in the active
    window ``(LCC level − max_active_outbox_levels, LCC level]``, with an index
    below ``max_outbox_messages_per_level``.

    Severity: critical. Octez: ``sc_rollup_operations.ml``,
    ``execute_outbox_message``, ``validate_outbox_level``; tests "invalid output
    proof", "execute outbox message against older cemented commitment".
    """
    for rollup in _rollups(state):
        cemented = {c.hash(): i for i, c in enumerate(rollup.ghost_cemented)}
        for executed in rollup.ghost_executed_outputs:
            position = cemented.get(executed.cemented_commitment)
            lcc_position = cemented.get(executed.lcc)
            if position is None or lcc_position is None or position > lcc_position:
                return False
            if lcc_position - position >= constants.max_number_of_stored_cemented_commitments:
                return False
            if rollup.ghost_cemented[lcc_position].inbox_level != executed.lcc_level:
                return False
            low = executed.lcc_level - constants.max_active_outbox_levels
            if not low < executed.outbox_level <= executed.lcc_level:
                return False
            if not 0 <= executed.message_index < constants.max_outbox_messages_per_level:
                return False
    return True


def frozen_bonds_match_active_stakers(state: Layer1State, constants: Constants) -> bool:
    """SR-008. For each rollup the frozen bonds equal ``stake_amount`` × the number of
    active stakers, and an account has a bond on a rollup iff it is a staker there.

    Severity: critical. Octez: ``sc_rollup_stake_storage.ml``
    (``deposit_stake``, ``withdraw_stake``, ``remove_staker``); reference §12.12.
    """
    for rollup in _rollups(state):
        frozen = {
            staker: amount
            for (staker, address), amount in state.ledger.frozen_bonds.items()
            if address == rollup.address
        }
        if set(frozen) != set(rollup.staker_index):
            return False
        if any(amount != constants.stake_amount for amount in frozen.values()):
            return False
        if sum(frozen.values()) != constants.stake_amount * len(rollup.stakers):
            return False
    return all(address in state.rollups for _staker, address in state.ledger.frozen_bonds)


def staker_tables_are_consistent(state: Layer1State, constants: Constants) -> bool:
    """SR-009. ``Staker_index`` and ``Stakers`` describe the same stakers, indices are
    unique and below ``Staker_index_counter`` (never reused), and every
    ``Commitment_stakers`` index was allocated.

    Severity: high. Octez: ``sc_rollup_staker_index_storage.ml``
    (``fresh_staker_index``, ``remove_staker``); test "staker come back after
    being slashed".
    """
    for rollup in _rollups(state):
        indices = list(rollup.staker_index.values())
        if len(indices) != len(set(indices)) or set(indices) != set(rollup.stakers):
            return False
        counter = rollup.staker_index_counter
        if any(not 0 <= i < counter for i in indices):
            return False
        for stakers in rollup.commitment_stakers.values():
            if len(stakers) != len(set(stakers)) or any(not 0 <= i < counter for i in stakers):
                return False
    return True


def commitment_tables_are_consistent(state: Layer1State, constants: Constants) -> bool:
    """SR-010. Commitment metadata only describes stored commitments: every hash in
    ``Commitments_per_inbox_level``, ``Commitment_stakers`` and ``Commitment_added``
    is stored (at the right level); uncemented commitments have ``Commitment_added``
    and a first publication for their level no later than it; cemented ones keep
    neither stakers nor metadata, except the genesis commitment, whose
    ``Commitment_added`` and level list Octez never removes (even once its
    contents are pruned).

    Severity: high. Octez: ``sc_rollup_stake_storage.ml`` (``refine_stake``,
    ``deallocate_inbox_level``); reference §5.1, §6.3.
    """
    for rollup in _rollups(state):
        stored_cemented = set(rollup.stored_cemented_commitments())
        genesis = rollup.genesis_info.commitment_hash
        for level, hashes in rollup.commitments_per_inbox_level.items():
            for commitment_hash in hashes:
                if commitment_hash == genesis and level == rollup.origination_level:
                    continue
                commitment = rollup.commitments.get(commitment_hash)
                if commitment is None or commitment.inbox_level != level:
                    return False
        for commitment_hash in rollup.commitment_stakers:
            if commitment_hash not in rollup.commitments or commitment_hash in stored_cemented:
                return False
        for commitment_hash in rollup.commitment_added:
            if commitment_hash == genesis:
                continue
            if commitment_hash not in rollup.commitments or commitment_hash in stored_cemented:
                return False
        for commitment_hash, commitment in rollup.commitments.items():
            if commitment_hash in stored_cemented:
                continue
            added = rollup.commitment_added.get(commitment_hash)
            first = rollup.commitment_first_publication_level.get(commitment.inbox_level)
            if added is None or first is None or first > added:
                return False
            if commitment_hash not in rollup.commitments_per_inbox_level.get(
                commitment.inbox_level, ()
            ):
                return False
    return True


def whitelist_is_well_formed(state: Layer1State, constants: Constants) -> bool:
    """SR-011. A rollup originated public stays public with no whitelist update
    record; a private rollup has a last whitelist update no earlier than its
    origination level.

    Severity: medium. Octez: ``sc_rollup_whitelist_storage.ml``;
    ``sc_rollup_operations.ml`` (whitelist updates); reference §10.
    """
    for rollup in _rollups(state):
        last = rollup.last_whitelist_update
        if last is None:
            if rollup.is_private:
                return False
            continue
        if last.outbox_level < rollup.origination_level or last.message_index < 0:
            return False
    return True


def publications_within_curfew(state: Layer1State, constants: Constants) -> bool:
    """SR-016. Every uncemented commitment was first published no later than
    ``challenge_window_in_blocks`` levels after the first commitment of its inbox
    level, so any conflict appears while the level is still uncementable.

    Severity: critical. Octez: ``sc_rollup_stake_storage.ml``,
    ``assert_commitment_is_not_past_curfew``; IT "the curfew functionality".
    """
    for rollup in _rollups(state):
        stored_cemented = set(rollup.stored_cemented_commitments())
        for commitment_hash, commitment in rollup.commitments.items():
            if commitment_hash in stored_cemented:
                continue
            added = rollup.commitment_added.get(commitment_hash)
            first = rollup.commitment_first_publication_level.get(commitment.inbox_level)
            if added is None or first is None:
                continue
            if added - first > constants.challenge_window_in_blocks:
                return False
    return True


def minting_bounded_by_burning(state: Layer1State, constants: Constants) -> bool:
    """SR-017. Refutation games never create tez: at most half of what they burn is
    minted as rewards (a decisive game burns a stake and mints half of it; a
    forfeit or a draw mints nothing).

    Severity: critical. Octez: ``sc_rollup_refutation_storage.ml``,
    ``apply_game_result``; tezt "participant of a refutation game are slashed-rewarded".
    """
    return 2 * state.ledger.minted <= state.ledger.burnt


#: The catalogue, in id order.
INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "SR-001",
        "Tez are conserved: genesis total = balances + frozen bonds + burnt − minted.",
        "critical",
        "token.ml; sc_rollup_stake_storage.ml; sc_rollup_refutation_storage.ml",
        tez_is_conserved,
    ),
    Invariant(
        "SR-002",
        "At most one commitment is cemented per inbox level.",
        "critical",
        "sc_rollup_stake_storage.ml, find_commitment_to_cement",
        one_cemented_commitment_per_level,
    ),
    Invariant(
        "SR-003",
        "Cemented commitments form one chain from genesis to the LCC; only the last "
        "max_number_of_stored_cemented_commitments are stored.",
        "critical",
        "sc_rollup_stake_storage.ml, cement_commitment, update_saved_cemented_commitments",
        cemented_chain_is_linear,
    ),
    Invariant(
        "SR-004",
        "Every commitment's inbox level is on the commitment-period grid and within the "
        "lookahead of the LCC.",
        "high",
        "sc_rollup_stake_storage.ml, assert_refine_conditions_met",
        commitments_on_period_grid,
    ),
    Invariant(
        "SR-005",
        "A staker has at most one commitment per inbox level.",
        "critical",
        "sc_rollup_stake_storage.ml, assert_staker_dont_double_stake",
        one_stake_per_staker_per_level,
    ),
    Invariant(
        "SR-006",
        "No outbox message is executed twice.",
        "critical",
        "sc_rollup_outbox_storage.ml, record_applied_message",
        outbox_messages_executed_at_most_once,
    ),
    Invariant(
        "SR-007",
        "Every executed outbox message belongs to a stored cemented commitment and an "
        "active outbox level.",
        "critical",
        "sc_rollup_operations.ml, execute_outbox_message, validate_outbox_level",
        executed_outputs_are_cemented_and_active,
    ),
    Invariant(
        "SR-008",
        "Frozen bonds = stake × active stakers, per rollup.",
        "critical",
        "sc_rollup_stake_storage.ml, deposit_stake, withdraw_stake, remove_staker",
        frozen_bonds_match_active_stakers,
    ),
    Invariant(
        "SR-009",
        "Staker indices are unique, consistent and never reused.",
        "high",
        "sc_rollup_staker_index_storage.ml",
        staker_tables_are_consistent,
    ),
    Invariant(
        "SR-010",
        "Commitment metadata only describes stored commitments.",
        "high",
        "sc_rollup_stake_storage.ml, refine_stake, deallocate_inbox_level",
        commitment_tables_are_consistent,
    ),
    Invariant(
        "SR-011",
        "Whitelist and last whitelist update are consistent; public rollups have neither.",
        "medium",
        "sc_rollup_whitelist_storage.ml",
        whitelist_is_well_formed,
    ),
    Invariant(
        "SR-016",
        "No commitment is published past the curfew of its inbox level.",
        "critical",
        "sc_rollup_stake_storage.ml, assert_commitment_is_not_past_curfew",
        publications_within_curfew,
    ),
    Invariant(
        "SR-017",
        "Refutation rewards never exceed half of the bonds burnt.",
        "critical",
        "sc_rollup_refutation_storage.ml, apply_game_result",
        minting_bounded_by_burning,
    ),
)


def violated(state: Layer1State, constants: Constants) -> list[Invariant]:
    """The invariants of :data:`INVARIANTS` that ``state`` violates."""
    return [inv for inv in INVARIANTS if not inv.holds(state, constants)]
