"""The property catalogue: every safety property with its id, statement and sources.

Each entry has a stable id (``SR-…``), a one-line statement, a severity, the
properties it depends on, the Octez source it reflects, a rationale, the
name of the concrete predicate (over ``spec`` states) and a symbolic
predicate over a ``model`` transition system. ``SR-001``…``SR-011`` are the
rollup machine's invariants (``spec.invariants``); the game theorems follow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import attrs

from model import game as game_model
from model import rollup as rollup_model
from model.ts import State, TransitionSystem
from spec import invariants
from spec.constants import Constants

Severity = Literal["critical", "high", "medium"]


@attrs.frozen
class Property:
    """One catalogue entry.

    ``system(constants)`` builds the transition system the property is
    checked on; ``symbolic`` is the predicate over its states; ``concrete``
    names the predicate over ``spec`` states that must agree with it.
    """

    id: str
    statement: str
    severity: Severity
    depends: tuple[str, ...]
    octez: str
    rationale: str
    concrete: str
    system: Callable[[Constants], TransitionSystem]
    symbolic: Callable[[Constants], Callable[[State], Any]]
    #: Expected verdict in ``octez`` mode when it differs (a documented finding).
    octez_finding: str = ""
    #: Auxiliary invariants of the model proved together with the property
    #: (k-induction of ``symbolic ∧ lemmas``), or None.
    lemmas: Callable[[Constants], Callable[[State], Any]] | None = None


def _game(honest: game_model.Role) -> Callable[[Constants], TransitionSystem]:
    def build(constants: Constants) -> TransitionSystem:
        return game_model.game_system(constants, honest)[0]

    return build


def _invariant(inv_id: str) -> invariants.Invariant:
    for inv in invariants.INVARIANTS:
        if inv.id == inv_id:
            return inv
    raise KeyError(inv_id)


def _rollup_property(inv_id: str, severity: str, depends: tuple[str, ...] = ()) -> Property:
    inv = _invariant(inv_id)
    return Property(
        id=inv.id,
        statement=inv.statement,
        severity=severity,  # type: ignore[arg-type]
        depends=depends,
        octez=inv.source,
        rationale=(inv.predicate.__doc__ or "").strip().split("\n\n")[0],
        concrete=f"spec.invariants.{inv.predicate.__name__}",
        system=rollup_model.rollup_system,
        symbolic=rollup_model.symbolic_predicate(inv_id),
        lemmas=rollup_model.lemmas,
    )


def catalogue() -> list[Property]:
    """Every property, in id order."""
    props = [
        _rollup_property(inv_id, severity)
        for inv_id, severity in rollup_model.CHECKED_INVARIANTS.items()
    ]
    props += [
        Property(
            id="SR-012",
            statement="An honest staker never loses its bond.",
            severity="critical",
            depends=("SR-013", "SR-014"),
            octez="sc_rollup_game_repr.mli header (P1, P2); sc_rollup_refutation_storage.ml",
            rationale=(
                "Games are resolved in the rollup model by their proved outcome (SR-013, SR-014): "
                "the staker of the wrong commitment loses. An honest staker only ever "
                "stakes on the true chain, so it can only win games."
            ),
            concrete="spec.state.Ledger (the honest staker's balance plus frozen bond)",
            system=rollup_model.rollup_system,
            symbolic=rollup_model.symbolic_predicate("SR-012"),
            lemmas=rollup_model.lemmas,
        ),
        Property(
            id="SR-013",
            statement="An honest refuter wins every refutation game.",
            severity="critical",
            depends=("SR-015",),
            octez="sc_rollup_game_repr.mli header (P2: honest refuter wins)",
            rationale=(
                "Against a defender whose commitment is wrong, an honest refuter always has a "
                "move and ends up proving the first wrong tick."
            ),
            concrete="spec.game.play results (no Loser(refuter), no Draw)",
            system=_game("refuter"),
            symbolic=lambda _c: game_model.honest_never_loses("refuter"),
            octez_finding=(
                "reference §7.12/§7.13: a dishonest defender plays a proof on a multi-tick or "
                "blocked section, the game enters Final_move and ends in a Draw"
            ),
        ),
        Property(
            id="SR-014",
            statement="An honest defender wins every refutation game.",
            severity="critical",
            depends=("SR-015",),
            octez="sc_rollup_game_repr.mli header (P1: honest defender wins)",
            rationale=(
                "A refuter disputing a correct commitment is eventually left with a section "
                "the defender can prove."
            ),
            concrete="spec.game.play results (no Loser(defender), no Draw)",
            system=_game("defender"),
            symbolic=lambda _c: game_model.honest_never_loses("defender"),
            octez_finding=(
                "reference §7.12: the refuter plays a proof on the multi-tick initial "
                "section, the honest defender cannot prove it, and the game is a Draw"
            ),
        ),
        Property(
            id="SR-015",
            statement="A refutation game ends within ⌈log₂ ticks⌉ + 2 moves.",
            severity="high",
            depends=(),
            octez="sc_rollup_dissection_chunk_repr.ml (default_check: sections ≤ d/2)",
            rationale="Every dissection at least halves the disputed section.",
            concrete="spec.game.play (number of moves)",
            system=_game("defender"),
            symbolic=lambda _c: game_model.moves_bounded(game_model.DEFAULT_MAX_TICKS),
        ),
    ]
    return sorted(props, key=lambda p: p.id)


def by_id(ids: list[str]) -> list[Property]:
    """The properties named by ``ids`` (all when empty); unknown ids are a ``KeyError``."""
    props = catalogue()
    if not ids:
        return props
    known = {p.id: p for p in props}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise KeyError(", ".join(unknown))
    return [known[i] for i in ids]
