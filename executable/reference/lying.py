"""A lying variant of the reference PVM: one byte of durable storage flipped
at one tick.

:class:`ByteFlipPvm` computes exactly like :class:`ReferencePvm`, except that
the step from tick ``at_tick`` to ``at_tick + 1`` is followed by a flip of
one byte of a durable value (``byte ^= mask``). Every state after that tick
differs from the honest one (as long as the byte is not overwritten), while
every state up to it is honest: a rollup node running this PVM commits to a
wrong state and, playing the refutation game on its own view, must lose it
exactly at ``at_tick``, the one step it cannot prove. Its proofs are the
honest PVM's (:mod:`.proof` re-runs the honest tick), since no valid proof
of the flip exists.

This is the ``wrong state from tick t`` adversary of DESIGN.md (rollup
nodes), made concrete on a real kernel; Octez's own tests corrupt the PVM
state the same way in ``tezt/tests/sc_rollup.ml`` (``Wrong_state`` /
``--unsafe-pvm-patches`` style faults injected into a rollup node).
"""

from __future__ import annotations

import attrs

from executable.reference.interp import Env
from executable.reference.pvm import ReferencePvm, RevealSource, advance, input_request, step
from executable.reference.state import Machine
from executable.wasm import durable as durable_mod
from executable.wasm.errors import HostFailure, InvalidPvmCall
from executable.wasm.pvm import PvmConfig
from spec.errors import ScoruError
from spec.inbox import InboxInput
from spec.pvm import Input, InputRequest, NeedsReveal, NoInputRequired


class LieNotApplicable(ScoruError):
    """The byte to flip does not exist in the state at the lie's tick."""

    def __init__(self, path: str, offset: int, tick: int, reason: str) -> None:
        super().__init__(f"cannot flip byte {offset} of {path or '/'} at tick {tick}: {reason}")
        self.path = path
        self.offset = offset
        self.tick = tick


@attrs.frozen
class ByteFlip:
    """Flip ``byte ^= mask`` at ``offset`` of the durable value at ``path``
    right after the step from absolute tick ``at_tick``. ``path`` None: the
    first value in path order outside ``/kernel`` and ``/readonly`` at that
    tick, else ``/readonly/wasm_version`` (which the PVM itself never reads)."""

    at_tick: int = attrs.field(validator=attrs.validators.ge(0))
    path: str | None = None
    offset: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    mask: int = attrs.field(
        default=0x01, validator=[attrs.validators.ge(1), attrs.validators.le(255)]
    )


FALLBACK_PATH = "/readonly/wasm_version"


def target_path(m: Machine, flip: ByteFlip) -> str:
    """The path the flip applies to in ``m`` (see :class:`ByteFlip`)."""
    if flip.path is not None:
        return flip.path
    for path, value in m.durable.items():
        steps = path.split("/")[1:2]
        if steps and steps[0] not in ("kernel", "readonly") and len(value) > flip.offset:
            return path
    return FALLBACK_PATH


def apply_flip(m: Machine, flip: ByteFlip) -> str:
    """Flip the byte in ``m`` (in place); returns the path flipped."""
    path = target_path(m, flip)
    try:
        k = durable_mod.key(path)
        old = m.durable.read_value(k, flip.offset, 1)
        m.durable.write_value(k, flip.offset, bytes([old[0] ^ flip.mask]), edit_readonly=True)
    except HostFailure as failure:
        raise LieNotApplicable(path, flip.offset, m.tick, failure.code.name) from None
    return path


class ByteFlipPvm(ReferencePvm):
    """The reference PVM with a :class:`ByteFlip` lie (see the module doc).

    Every way of moving a state forward (``eval``, ``set_input``,
    ``step_in_place``, ``advance``, ``run_level``) applies the flip when it
    performs the step from ``flip.at_tick``; proofs are the honest PVM's."""

    def __init__(self, flip: ByteFlip, config: PvmConfig | None = None) -> None:
        super().__init__(config)
        self.flip = flip
        self.flipped_path: str | None = None
        """The path flipped last (set when the lie happens)."""

    def _after(self, before_tick: int, state: Machine) -> None:
        if before_tick == self.flip.at_tick and state.tick == before_tick + 1:
            self.flipped_path = apply_flip(state, self.flip)

    def eval(self, state: Machine) -> Machine:
        out = super().eval(state)
        self._after(state.tick, out)
        return out

    def set_input(self, state: Machine, given: Input) -> Machine:
        out = super().set_input(state, given)
        self._after(state.tick, out)
        return out

    def step_in_place(
        self, state: Machine, given: Input | None, env: Env | None = None
    ) -> InputRequest:
        before = state.tick
        request = step(state, env if env is not None else self.env(record=False), given)
        self._after(before, state)
        return request

    def advance(self, state: Machine, env: Env, target: int | None = None) -> None:
        at = self.flip.at_tick
        if state.tick <= at and (target is None or target > at):
            advance(state, env, at)
            if state.tick < at or not isinstance(input_request(state), NoInputRequired):
                return  # an input is required first (the caller's step will lie)
            self.step_in_place(state, None, env)
        advance(state, env, target)

    def run_level(
        self,
        state: Machine,
        env: Env,
        level: int,
        messages: list[bytes],
        reveal: RevealSource | None = None,
    ) -> None:
        for index, message in enumerate(messages):
            self.step_in_place(state, InboxInput(level, index, message), env)
        while True:
            self.advance(state, env)
            request = input_request(state)
            if not isinstance(request, NeedsReveal):
                return
            if reveal is None:
                raise InvalidPvmCall("the kernel asks for a reveal and no source was given")
            self.step_in_place(state, reveal(request), env)


__all__ = ["FALLBACK_PATH", "ByteFlip", "ByteFlipPvm", "LieNotApplicable", "apply_flip"]
