"""The honest rollup node and the adversaries, as data.

A :class:`Behaviour` says what a node claims (its commitments and the state
hashes it puts in dissections), whether its PVM is subtly wrong, and how it
plays refutation games. Every adversary starts cheating at a given inbox
level ``L`` (``KIND@L`` on the command line) and behaves honestly before it:

* ``honest`` — commits to its PVM's states, starts a game against every
  conflicting commitment, plays perfectly, times out idle opponents, cements,
  executes outbox messages and recovers its bond once done;
* ``liar`` — from the first tick of level ``L``, claims a wrong hash for every
  state (its commitments carry a wrong state) and plays perfectly on that view;
* ``wrong_ticks`` — from level ``L``, commits to the right state but one tick
  too many (the machine "keeps its state" one extra tick);
* ``lazy`` — lies like ``liar`` but never plays: it neither starts games nor
  moves, and is timed out;
* ``timeout`` — lies like ``liar`` and moves only at the last level its clock
  allows, so it runs out of time;
* ``random_liar`` — from a seeded random tick of level ``L``, claims random
  hashes, and picks a random disputed section at each move;
* ``flipper`` — an honest player whose PVM is subtly wrong: one byte of its
  state is flipped after level ``L`` (:mod:`executable.nodes.backend`).

Octez: ``src/lib_smart_rollup_node/`` (``publisher.ml``, ``refutation_game.ml``,
``refutation_coordinator.ml``, ``outbox_execution.ml``); the cheaters of
``src/proto_alpha/lib_protocol/test/pbt/test_refutation_game.ml``.
"""

from __future__ import annotations

from typing import Literal

import attrs

from spec.errors import ScoruError

Lie = Literal["none", "state", "ticks", "random"]
Play = Literal["always", "never", "late"]


class UnknownNodeKind(ScoruError):
    """A node kind that does not exist, or a badly written node spec."""


@attrs.frozen
class Behaviour:
    """How one kind of node behaves (see the module documentation)."""

    kind: str
    description: str
    lie: Lie = "none"
    flips_pvm: bool = False
    plays: Play = "always"
    starts_games: bool = True
    random_choices: bool = False

    @property
    def honest(self) -> bool:
        """An honest node: true claims from a correct PVM."""
        return self.lie == "none" and not self.flips_pvm


BEHAVIOURS: dict[str, Behaviour] = {
    b.kind: b
    for b in (
        Behaviour("honest", "commits to its PVM's states and plays perfectly"),
        Behaviour("liar", "claims wrong states from level L, plays perfectly", lie="state"),
        Behaviour("wrong_ticks", "claims one tick too many from level L", lie="ticks"),
        Behaviour(
            "lazy",
            "claims wrong states from level L and never plays",
            lie="state",
            plays="never",
            starts_games=False,
        ),
        Behaviour(
            "timeout",
            "claims wrong states from level L and moves at the last level its clock allows",
            lie="state",
            plays="late",
            starts_games=False,
        ),
        Behaviour(
            "random_liar",
            "claims random states from a random tick of level L, picks sections at random",
            lie="random",
            random_choices=True,
        ),
        Behaviour(
            "flipper",
            "its PVM flips a state byte after level L; plays perfectly on its PVM",
            flips_pvm=True,
        ),
    )
}


@attrs.frozen
class NodeSpec:
    """One node of a simulation: its behaviour and the level it starts cheating at
    (None: the simulation's default)."""

    behaviour: Behaviour
    from_level: int | None = None

    @property
    def kind(self) -> str:
        return self.behaviour.kind


def parse_nodes(text: str) -> tuple[NodeSpec, ...]:
    """``honest,liar@20,flipper`` → node specs (``@L``: the level cheating starts)."""
    specs = []
    for item in text.split(","):
        name, _, level = item.strip().partition("@")
        behaviour = BEHAVIOURS.get(name)
        if behaviour is None:
            raise UnknownNodeKind(
                f"unknown node kind {name!r}; expected one of {', '.join(BEHAVIOURS)}"
            )
        from_level = None
        if level:
            if not level.isdigit() or int(level) < 1:
                raise UnknownNodeKind(f"{item.strip()!r}: the level after @ must be a positive int")
            from_level = int(level)
        specs.append(NodeSpec(behaviour, from_level))
    if not specs:
        raise UnknownNodeKind("at least one node is needed")
    return tuple(specs)
