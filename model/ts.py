"""Symbolic transition systems: the shape every Z3 encoding of a ``spec`` machine takes.

A transition system has state variables (named Z3 terms, one copy per step),
an initial-state predicate, and *actions*. Each action mirrors one ``spec``
operation: it has typed parameters (fresh Z3 constants at each step) and a
relation between the state before and after. The transition relation of a
step is the disjunction of the actions, with an integer selector recording
which action was taken, so a counterexample decodes into a list of named
operations with their parameter values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import z3

#: A state: variable name → Z3 term of that step.
State = dict[str, Any]
#: Parameters of one action at one step: name → Z3 constant.
Params = dict[str, Any]


@attrs.frozen
class Var:
    """A state variable: a name and a function making a Z3 constant of its sort."""

    name: str
    make: Callable[[str], Any]


@attrs.frozen
class Action:
    """One operation kind: parameters and the before/after relation.

    ``relation(s, t, params)`` is the guard of the operation on ``s`` and the
    effect that defines ``t``; it must constrain every variable of ``t``
    (use :func:`unchanged` for the ones the operation does not touch).
    """

    name: str
    params: Sequence[Var]
    relation: Callable[[State, State, Params], Any]


@attrs.frozen
class TransitionSystem:
    """Variables, initial states and actions of a bounded symbolic machine."""

    name: str
    variables: Sequence[Var]
    init: Callable[[State], Any]
    actions: Sequence[Action]
    #: Constraints every state satisfies by construction (bounds, typing); assumed
    #: at every step, including in induction.
    well_formed: Callable[[State], Any] = attrs.field(default=lambda _s: z3.BoolVal(True))
    #: Decodes the rigid symbols (uninterpreted functions, constants) a counterexample
    #: needs to be replayed: ``extras(model, states, params) -> dict``.
    extras: Callable[[z3.ModelRef, list[State], list[Params]], dict[str, Any]] | None = None

    def state(self, step: int, tag: str = "") -> State:
        """Fresh Z3 constants for the state at ``step``."""
        return {v.name: v.make(f"{v.name}{tag}@{step}") for v in self.variables}

    def params(self, action: Action, step: int, tag: str = "") -> Params:
        return {p.name: p.make(f"{action.name}.{p.name}{tag}@{step}") for p in action.params}

    def step(self, s: State, t: State, step: int, tag: str = "") -> tuple[Any, Any, list[Params]]:
        """The transition relation from ``s`` to ``t``: (formula, selector, params per action)."""
        selector = z3.Int(f"action{tag}@{step}")
        all_params = [self.params(a, step, tag) for a in self.actions]
        cases = [
            z3.And(selector == i, a.relation(s, t, p))
            for i, (a, p) in enumerate(zip(self.actions, all_params, strict=True))
        ]
        return z3.Or(*cases), selector, all_params


def unchanged(
    s: State, t: State, names: Sequence[str] | None = None, *, but: Sequence[str] = ()
) -> Any:
    """``t[x] == s[x]`` for every variable ``x`` in ``names`` (default: all) except ``but``."""
    keys = [k for k in (names if names is not None else s.keys()) if k not in but]
    return z3.And(*[t[k] == s[k] for k in keys]) if keys else z3.BoolVal(True)


def value_of(model: z3.ModelRef, term: Any) -> Any:
    """A Python value for a Z3 term under ``model``: ints, bools, else the value's text
    (for an uninterpreted sort, its element's name, e.g. ``StateHash!val!3``)."""
    v = model.eval(term, model_completion=True)
    if z3.is_int_value(v):
        return v.as_long()
    if z3.is_true(v):
        return True
    if z3.is_false(v):
        return False
    return str(v)


def state_values(model: z3.ModelRef, state: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value_of(model, term) for name, term in state.items()}
