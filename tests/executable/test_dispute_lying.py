"""The lying reference PVM (:class:`ByteFlipPvm`): honest up to its tick,
one durable byte flipped by the next step, then the honest semantics on the
corrupted state, whichever way the state is moved forward."""

from __future__ import annotations

import pytest

from executable import kernels
from executable.reference.lying import ByteFlip, ByteFlipPvm, LieNotApplicable, apply_flip
from executable.reference.pvm import ReferencePvm, input_request
from executable.reference.state import Machine
from executable.wasm import durable as durable_mod
from executable.wasm.limits import Limits
from executable.wasm.pvm import PvmConfig
from spec.inbox import InboxInput
from spec.pvm import NoInputRequired
from tests.executable.reference.helpers import METADATA, level

BUDGET = 8_000
CONFIG = PvmConfig(metadata=METADATA, limits=Limits(tick_budget=BUDGET))
HONEST = ReferencePvm(CONFIG)
LEVELS = [level(b"a"), level(b"b", b"c")]
INPUTS = [InboxInput(6 + n, i, m) for n, msgs in enumerate(LEVELS) for i, m in enumerate(msgs)]
END = 7 * BUDGET
"""The second level's end: 3 + 4 periods (collection, then a run per
external message and one more)."""


def single_steps(pvm: ReferencePvm, until: int, keep: int = -1) -> tuple[list[bytes], Machine]:
    """The state hashes at ticks 0..until, one in-place step at a time, and a
    copy of the machine at tick ``keep``."""
    m = pvm.install_boot_sector(kernels.load("counter"))
    env = pvm.env(record=False)
    inputs = list(INPUTS)
    hashes = [m.digest()]
    kept = m.copy()
    while m.tick < until:
        given = None if isinstance(input_request(m), NoInputRequired) else inputs.pop(0)
        pvm.step_in_place(m, given, env)
        hashes.append(m.digest())
        if m.tick == keep:
            kept = m.copy()
    return hashes, kept


# a tick in the second level's first kernel_run, before it reads /counter
AT = 4 * BUDGET + 10


def test_honest_until_the_tick_then_one_byte_differs() -> None:
    liar = ByteFlipPvm(ByteFlip(AT), CONFIG)
    honest, h_next = single_steps(HONEST, END, keep=AT + 1)
    lying, l_next = single_steps(liar, END, keep=AT + 1)
    assert honest[: AT + 1] == lying[: AT + 1]
    assert all(h != x for h, x in zip(honest[AT + 1 :], lying[AT + 1 :], strict=True))
    assert liar.flipped_path == "/counter"
    k = durable_mod.key("/counter")
    a = h_next.durable.read_all(k)
    b = l_next.durable.read_all(k)
    assert a is not None and b is not None
    assert bytes(x ^ y for x, y in zip(a, b, strict=True)) == b"\x01" + bytes(len(a) - 1)
    # the functional interface lies at the same step
    _, at = single_steps(HONEST, AT, keep=AT)
    assert liar.eval(at).digest() == lying[AT + 1]
    assert HONEST.eval(at).digest() == honest[AT + 1]


@pytest.mark.parametrize("at", [0, 3, BUDGET, AT, 2 * BUDGET - 1])
def test_advance_and_run_level_lie_like_single_steps(at: int) -> None:
    """The in-place paths that skip padding (``advance``, ``run_level``) flip
    at the same step as single steps, and set_input at an input tick."""
    flip = ByteFlip(at, path="/readonly/wasm_version", mask=0x80)
    expected, _ = single_steps(ByteFlipPvm(flip, CONFIG), END)

    liar = ByteFlipPvm(flip, CONFIG)
    m = liar.install_boot_sector(kernels.load("counter"))
    env = liar.env(record=False)
    for n, msgs in enumerate(LEVELS):
        liar.run_level(m, env, 6 + n, msgs)
    assert m.tick == END and m.digest() == expected[END]

    liar = ByteFlipPvm(flip, CONFIG)
    m = liar.install_boot_sector(kernels.load("counter"))
    inputs = list(INPUTS)
    while m.tick < END:
        if isinstance(input_request(m), NoInputRequired):
            liar.advance(m, env, END)
        elif m.tick == at:
            m = liar.set_input(m, inputs.pop(0))
        else:
            liar.step_in_place(m, inputs.pop(0), env)
    assert m.digest() == expected[END]


def test_the_liars_proofs_are_the_honest_ones() -> None:
    liar = ByteFlipPvm(ByteFlip(AT), CONFIG)
    _, state = single_steps(HONEST, AT, keep=AT)
    assert liar.produce_proof(state, None) == HONEST.produce_proof(state, None)
    verified = HONEST.verify_proof(None, liar.produce_proof(state, None))
    assert verified.stop_state == HONEST.state_hash(HONEST.eval(state))


def test_a_missing_byte_is_a_typed_error() -> None:
    m = HONEST.install_boot_sector(kernels.load("counter"))
    with pytest.raises(LieNotApplicable, match="cannot flip byte 0 of /counter"):
        apply_flip(m, ByteFlip(0, path="/counter"))
    with pytest.raises(LieNotApplicable, match="cannot flip byte 99"):
        apply_flip(m, ByteFlip(0, path="/readonly/wasm_version", offset=99))
    assert apply_flip(m, ByteFlip(0)) == "/readonly/wasm_version"  # nothing else yet
