"""One-step proofs of the reference PVM: produced at any tick, verified on
the witnesses alone, start and stop hashes equal to the states'; forged,
truncated or incomplete proofs rejected; small (never the whole memory);
and usable by :func:`spec.proof.valid` and :func:`spec.game.play`."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import pytest
import wasmtime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executable import kernels
from executable.reference import proof as proof_mod
from executable.reference.merkle import depth_for
from executable.reference.pvm import ReferencePvm, input_request, step
from executable.reference.state import Machine, Phase
from executable.wasm.limits import Limits
from executable.wasm.pvm import PvmConfig
from spec.errors import EncodingError
from spec.hashing import RollupAddress
from spec.inbox import InboxInput
from spec.pvm import (
    FirstAfter,
    Input,
    Metadata,
    NeedsReveal,
    NoInputRequired,
    Output,
    OutputProofVerificationFailed,
    PvmProofVerificationFailed,
    RawData,
    RevealInput,
    RevealMetadata,
)
from tests.executable.reference.gen import inbox, kernel_wat
from tests.executable.reference.helpers import ADDRESS, METADATA, ORIGINATION, level

SPEC_METADATA = Metadata(RollupAddress(ADDRESS), ORIGINATION)

SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large]


def make_pvm(budget: int = 20_000, **kw: int) -> ReferencePvm:
    return ReferencePvm(PvmConfig(metadata=METADATA, limits=Limits(tick_budget=budget, **kw)))


def answer(request: NeedsReveal) -> RevealInput:
    if isinstance(request.reveal, RevealMetadata):
        return RevealInput(SPEC_METADATA)
    h = request.reveal.hash.to_bytes()  # type: ignore[union-attr]
    return RevealInput(RawData((kernels.PREIMAGES_DIR / h.hex()).read_bytes()))


def walk(
    pvm: ReferencePvm,
    kernel: bytes,
    levels: Sequence[Sequence[bytes]],
    visit: Callable[[Machine, Input | None], object],
    choose: Callable[[Machine], bool],
) -> Machine:
    """Run ``kernel`` over ``levels`` tick by tick; before each chosen tick
    call ``visit(state, input)``. Padding is skipped except its last tick."""
    m = pvm.install_boot_sector(kernel)
    env = pvm.env(record=False)
    queue = [
        InboxInput(ORIGINATION + 1 + n, i, msg)
        for n, msgs in enumerate(levels)
        for i, msg in enumerate(msgs)
    ]
    while True:
        request = input_request(m)
        given_input: Input | None = None
        if isinstance(request, NeedsReveal):
            given_input = answer(request)
        elif not isinstance(request, NoInputRequired):
            if not queue:
                return m
            given_input = queue.pop(0)
        elif m.phase is Phase.PADDING:
            end = m.period_start + env.budget(m)
            if m.tick < end - 2:
                pvm.advance(m, env, end - 2)
        if choose(m):
            visit(m, given_input)
        step(m, env, given_input)


def check_tick(pvm: ReferencePvm, m: Machine, given_input: Input | None) -> bytes:
    """Produce the proof of this tick, verify it, compare with the states."""
    start = m.digest()
    proof = pvm.produce_proof(m, given_input)
    after = m.copy()
    step(after, pvm.env(record=False), given_input)
    result = pvm.verify_proof(given_input, proof)
    assert result.start_state.raw == start
    assert result.stop_state is not None and result.stop_state.raw == after.digest()
    return proof


@pytest.mark.parametrize("name", ["echo", "counter"])
def test_every_tick_of_a_level_is_proved(name: str) -> None:
    pvm = make_pvm()
    sizes: list[int] = []
    phases: set[Phase] = set()

    def visit(m: Machine, given_input: Input | None) -> None:
        phases.add(m.phase)
        sizes.append(len(check_tick(pvm, m, given_input)))

    walk(pvm, kernels.load(name), [level(b"hello", b"x")], visit, lambda m: True)
    assert {Phase.COLLECT, Phase.PADDING, Phase.LOAD, Phase.EVAL} <= phases
    assert max(sizes) < 4_000


def test_reveal_ticks_are_proved() -> None:
    """The installer's reveals: the call, the answering tick (an input),
    and the stall that follows."""
    pvm = make_pvm(budget=2_000_000)
    reveals: list[Input] = []
    rng = random.Random(1)

    def visit(m: Machine, given_input: Input | None) -> None:
        if isinstance(given_input, RevealInput):
            reveals.append(given_input)
        check_tick(pvm, m, given_input)

    def choose(m: Machine) -> bool:
        return m.phase in (Phase.REVEAL, Phase.LOAD) or rng.random() < 0.0005

    walk(pvm, kernels.load("installer"), [level(b"a")], visit, choose)
    assert len(reveals) == 4


def test_blocked_state_has_no_stop_hash() -> None:
    pvm = make_pvm()
    m = pvm.install_boot_sector(kernels.load("echo"))
    proof = pvm.produce_proof(m, None)
    result = pvm.verify_proof(None, proof)
    assert result.stop_state is None and result.start_state.raw == m.digest()


@settings(max_examples=25, deadline=None, suppress_health_check=SLOW_DATA)
@given(kernel_wat(), inbox(), st.randoms(use_true_random=False))
def test_random_ticks_of_generated_kernels(
    wat: str, messages: list[list[bytes]], rnd: random.Random
) -> None:
    pvm = make_pvm()

    def choose(m: Machine) -> bool:
        return m.phase is not Phase.EVAL or rnd.random() < 0.2

    walk(
        pvm,
        bytes(wasmtime.wat2wasm(wat)),
        [level(*e) for e in messages],
        lambda m, g: check_tick(pvm, m, g),
        choose,
    )


def _eval_states(kernel: bytes, n: int) -> list[tuple[Machine, Input | None]]:
    pvm = make_pvm()
    out: list[tuple[Machine, Input | None]] = []

    def visit(m: Machine, given_input: Input | None) -> None:
        out.append((m.copy(), given_input))

    rng = random.Random(7)
    walk(
        pvm, kernel, [level(b"hi")], visit, lambda m: m.phase is Phase.EVAL and rng.random() < 0.05
    )
    return out[:n]


def test_forged_and_truncated_proofs_are_rejected() -> None:
    """A changed byte makes the proof undecodable, incomplete, or about
    another start state; a truncated or extended proof never verifies."""
    pvm = make_pvm()
    rng = random.Random(3)
    for m, given_input in _eval_states(kernels.load("counter"), 6):
        proof = pvm.produce_proof(m, given_input)
        honest = pvm.verify_proof(given_input, proof)
        for _ in range(40):
            i = rng.randrange(len(proof))
            forged = proof[:i] + bytes([proof[i] ^ (1 << rng.randrange(8))]) + proof[i + 1 :]
            try:
                result = pvm.verify_proof(given_input, forged)
            except PvmProofVerificationFailed:
                continue
            assert result.start_state != honest.start_state
        for cut in sorted(rng.sample(range(len(proof)), 10)):
            with pytest.raises(PvmProofVerificationFailed):
                pvm.verify_proof(given_input, proof[:cut])
        with pytest.raises(PvmProofVerificationFailed):
            pvm.verify_proof(given_input, proof + b"\x00")


def _host_call_state(name: str) -> tuple[Machine, Input | None]:
    """The state just before the first call of host function ``name``."""
    pvm = make_pvm()
    found: list[tuple[Machine, Input | None]] = []
    host = {"$store_read": 4, "$store_write": 3, "$write_output": 1, "$read_input": 0}[name]

    def choose(m: Machine) -> bool:
        if found or m.phase is not Phase.EVAL or m.stall or m.entry or m.inst is None:
            return False
        ins: tuple[int, ...] = m.inst.code[m.inst.frames[-1].pc]
        return ins[0] == 0x10 and ins[1] == host

    walk(
        pvm,
        kernels.load("counter"),
        [level(b"x")],
        lambda m, g: found.append((m.copy(), g)),
        choose,
    )
    return found[0]


@pytest.mark.parametrize("name", ["$store_read", "$store_write", "$write_output", "$read_input"])
def test_withholding_what_a_host_call_reads_is_rejected(name: str) -> None:
    """An honest proof of a host call with its durable tree, outbox or
    inputs replaced by their hashes has the honest start hash, so it must be
    rejected rather than yield another stop state (e.g. an internal error)."""
    pvm = make_pvm()
    m, given_input = _host_call_state(name)
    proof = pvm.produce_proof(m, given_input)
    r = proof_mod.Reader(proof)
    r.u8()
    r.blob()
    start = r.pos
    proof_mod._read_node(r, 0)
    durable_end = r.pos
    proof_mod._read_outbox(r, 100)
    outbox_end = r.pos
    r.u32()
    proof_mod.read_vector(r, proof_mod.INPUT, b"", "inputs")
    inputs_end = r.pos
    honest = pvm.verify_proof(given_input, proof).start_state
    cuts = [
        proof[:start] + b"\x00" + m.durable.root_hash() + proof[durable_end:],
        proof[:outbox_end]
        + m.inputs.pos.to_bytes(4, "big")
        + len(m.inputs.items).to_bytes(4, "big")
        + bytes(8)
        + b"\x01"
        + m.inputs.cache.tree.root(depth_for(len(m.inputs.items)))
        + proof[inputs_end:],
    ]
    for forged in cuts:
        if forged == proof:
            continue
        try:
            result = pvm.verify_proof(given_input, forged)
        except PvmProofVerificationFailed:
            continue
        assert result.start_state != honest or result == pvm.verify_proof(given_input, proof)


def test_a_proof_lacking_a_part_is_incomplete() -> None:
    """Withholding everything but the header is reported as such."""
    pvm = make_pvm()
    m, given_input = _eval_states(kernels.load("echo"), 1)[0]
    hidden = proof_mod.Writer()
    hidden.u8(proof_mod.VERSION)
    hidden.blob(m.header())
    hidden.u8(0)
    hidden.raw(m.durable.root_hash())
    with pytest.raises(PvmProofVerificationFailed):
        pvm.verify_proof(given_input, bytes(hidden.out))
    with pytest.raises(EncodingError):
        pvm.decode_step(b"\x02")


def test_proofs_never_hold_the_whole_memory() -> None:
    """A kernel with 8 MiB of memory: its instruction proofs reveal chunks."""
    wat = """(module (memory (export "memory") 128)
      (data (i32.const 1000) "some data")
      (func (export "kernel_run") (local $i i32)
        (loop $l (i32.store (i32.mul (local.get $i) (i32.const 65536)) (local.get $i))
          (memory.copy (i32.const 5000000) (i32.const 1000) (i32.const 9))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                    (i32.const 100))))))"""
    pvm = make_pvm(budget=200_000)
    sizes: list[int] = []
    walk(
        pvm,
        bytes(wasmtime.wat2wasm(wat)),
        [level()],
        lambda m, g: sizes.append(len(check_tick(pvm, m, g))),
        lambda m: m.phase is Phase.EVAL,
    )
    assert len(sizes) > 1000 and max(sizes) < 3_000


def test_output_proofs() -> None:
    pvm = make_pvm()
    levels = [level(b"one", b"two"), level(b"three")]
    m = walk(pvm, kernels.load("echo"), levels, lambda *_: None, lambda m: False)
    for lvl, index, payload in [(6, 0, b"one"), (6, 1, b"two"), (7, 0, b"three")]:
        output = Output(lvl, index, payload)
        proof = pvm.produce_output_proof(m, output)
        verified = pvm.verify_output_proof(proof)
        assert verified.state.raw == m.digest() and verified.output == output
        for i in range(0, len(proof), 7):
            forged = proof[:i] + bytes([proof[i] ^ 1]) + proof[i + 1 :]
            try:
                result = pvm.verify_output_proof(forged)
            except OutputProofVerificationFailed:
                continue
            assert (result.state.raw, result.output) != (m.digest(), output)
        with pytest.raises(OutputProofVerificationFailed):
            pvm.verify_output_proof(proof[:-1])
    with pytest.raises(Exception, match="not in the outbox"):
        pvm.produce_output_proof(m, Output(6, 0, b"nope"))


def test_the_first_input_request_is_initial_then_first_after() -> None:
    pvm = make_pvm()
    m = pvm.install_boot_sector(kernels.load("echo"))
    assert type(input_request(m)).__name__ == "Initial"
    step(m, pvm.env(), InboxInput(6, 0, level()[0]))
    assert input_request(m) == FirstAfter(6, 0)
