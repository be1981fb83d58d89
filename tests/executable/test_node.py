"""Rollup nodes: their PVM back-ends, traces, flips, claims and node specs."""

from __future__ import annotations

from typing import Any

import pytest

from executable import kernels
from executable.node import RollupNode, account_of_name, executable_output
from executable.nodes.backend import (
    FLIP_FALLBACK_PATH,
    ArithBackend,
    Backend,
    LazySequence,
    WasmBackend,
    commitment_levels,
)
from executable.nodes.behaviour import BEHAVIOURS, UnknownNodeKind, parse_nodes
from executable.reference import ReferencePvm, fast_state_hash
from spec import michelson
from spec import outbox as outbox_
from spec import rollup as rollup_
from spec.arith import PVM as ARITH_PVM
from spec.constants import TEST
from spec.hashing import ContractHash
from spec.operations import AddMessages, Originate
from spec.origination import PvmKind
from spec.pvm import Metadata, Output
from spec.state import Layer1State

OPERATOR = account_of_name("test operator")
REFERENCE = ReferencePvm()
PVMS: dict[str, Any] = {"arith": ARITH_PVM, "wasm_2_0_0": REFERENCE}


def chain(kind: PvmKind, boot: bytes, messages: list[bytes], levels: int = 12) -> Layer1State:
    """A rollup originated at level 1 whose inbox has ``messages`` at every level."""
    state = rollup_.initial_state({OPERATOR: 0}, TEST)
    originate = Originate(OPERATOR, kind, boot, michelson.Prim("unit"))
    state = rollup_.apply(state, originate, TEST, pvms=PVMS)
    for _ in range(levels):
        state = rollup_.advance_level(state, TEST)
        state = rollup_.apply(state, AddMessages(OPERATOR, tuple(messages)), TEST)
    return rollup_.advance_level(state, TEST)


def metadata(state: Layer1State) -> Metadata:
    rollup = next(iter(state.rollups.values()))
    return Metadata(rollup.address, rollup.origination_level)


def backend(kind: PvmKind, state: Layer1State, boot: bytes, flip: int | None = None) -> Backend:
    if kind == "arith":
        return ArithBackend(TEST, metadata(state), boot, flip)
    return WasmBackend(TEST, metadata(state), boot, REFERENCE, flip)


CASES: list[tuple[PvmKind, bytes, list[bytes]]] = [
    ("arith", b"", [b"1 2 + out", b"3 x"]),
    ("wasm_2_0_0", kernels.load("echo"), [b"hello", b"world"]),
    ("wasm_2_0_0", kernels.load("counter"), [b"tick"]),
]


@pytest.mark.parametrize(("kind", "boot", "messages"), CASES)
def test_replaying_a_commitment_ends_on_its_mark(
    kind: PvmKind, boot: bytes, messages: list[bytes]
) -> None:
    """Following the inbox and replaying a commitment tick by tick agree."""
    state = chain(kind, boot, messages)
    b = backend(kind, state, boot)
    b.sync(state.inbox)
    assert (
        b.marks[1].state_hash == next(iter(state.rollups.values())).lcc_commitment.compressed_state
    )
    levels = commitment_levels(1, b.synced, TEST)
    assert sorted(b.marks) == [1, *levels]
    for start, stop in zip([1, *levels], levels, strict=False):
        trace = b.trace(start, stop, state.inbox)
        assert trace.origin + trace.final_tick == b.marks[stop].tick
        assert trace.hash_at(trace.final_tick) == b.marks[stop].state_hash
        assert trace.hash_at(0) == b.marks[start].state_hash
        # a state in the middle is reachable again, identically
        middle = trace.final_tick // 3
        assert trace.hash_at(middle) == trace.stepper.digest(trace.state_at(middle))


def test_wasm_commitments_are_whole_periods_and_reference_hashes() -> None:
    boot = kernels.load("echo")
    state = chain("wasm_2_0_0", boot, [b"m"])
    b = backend("wasm_2_0_0", state, boot)
    assert isinstance(b, WasmBackend)
    b.sync(state.inbox)
    budget = TEST.ticks_per_snapshot
    assert all(mark.tick % budget == 0 for mark in b.marks.values())
    assert b.marks[b.synced if b.synced in b.marks else max(b.marks)].tick > 0
    assert fast_state_hash(b.fast) == b.machine.digest()


@pytest.mark.parametrize(("kind", "boot", "messages"), CASES)
def test_a_flip_diverges_right_after_its_level(
    kind: PvmKind, boot: bytes, messages: list[bytes]
) -> None:
    """The flipped PVM agrees with the honest one up to the end of level L, not after;
    its own replays end on its own (flipped) marks."""
    state = chain(kind, boot, messages)
    honest, flipped = backend(kind, state, boot), backend(kind, state, boot, flip=6)
    honest.sync(state.inbox)
    flipped.sync(state.inbox)
    assert honest.marks[5] == flipped.marks[5]
    assert honest.marks[7].tick == flipped.marks[7].tick
    assert honest.marks[7].state_hash != flipped.marks[7].state_hash
    trace = flipped.trace(5, 7, state.inbox)
    other = honest.trace(5, 7, state.inbox)
    end_of_6 = flipped.level_ticks[6][1] - trace.origin
    assert trace.hash_at(end_of_6 - 1) == other.hash_at(end_of_6 - 1)
    assert trace.hash_at(end_of_6) != other.hash_at(end_of_6)
    expected = {"arith": "vars", "echo": FLIP_FALLBACK_PATH, "counter": "/counter"}
    name = "arith" if kind == "arith" else ("counter" if messages == [b"tick"] else "echo")
    assert flipped.flipped_path == expected[name]


def test_lazy_sequences_compute_on_demand() -> None:
    seen: list[int] = []

    def double(i: int) -> int:
        seen.append(i)
        return i * 2

    seq = LazySequence(10**15, double)
    assert len(seq) == 10**15 and seq[7] == 14 and seq[-1] == 2 * (10**15 - 1)
    assert seen == [7, 10**15 - 1]
    with pytest.raises(IndexError):
        seq[10**15]
    with pytest.raises(TypeError):
        seq[1:3]


def test_node_specs() -> None:
    specs = parse_nodes("honest, liar@20,flipper")
    assert [s.kind for s in specs] == ["honest", "liar", "flipper"]
    assert [s.from_level for s in specs] == [None, 20, None]
    assert BEHAVIOURS["honest"].honest and not BEHAVIOURS["flipper"].honest
    for bad in ("honest,bogus", "liar@x", "liar@0", "", "honest,"):
        with pytest.raises(UnknownNodeKind):
            parse_nodes(bad)


@pytest.mark.parametrize("kind", ["liar", "wrong_ticks", "random_liar"])
def test_claims_are_true_before_level_l_and_wrong_after(kind: str) -> None:
    state = chain("arith", b"", [b"1 2 + out"], levels=14)
    b = backend("arith", state, b"")
    b.sync(state.inbox)
    honest = RollupNode("h", BEHAVIOURS["honest"], b, from_level=8, seed=1)
    cheat = RollupNode("c", BEHAVIOURS[kind], b, from_level=8, seed=1)
    head_h = head_c = (1, next(iter(state.rollups.values())).lcc)
    for level in commitment_levels(1, b.synced, TEST):
        mine, theirs = honest.commitment(head_h, level), cheat.commitment(head_c, level)
        if level < 8:
            assert mine == theirs
        elif level == 9:
            assert mine != theirs and mine.predecessor == theirs.predecessor
            if kind == "wrong_ticks":
                assert theirs.number_of_ticks == mine.number_of_ticks + 1
                assert theirs.compressed_state == mine.compressed_state
            else:
                assert theirs.compressed_state != mine.compressed_state
        head_h, head_c = (level, mine.hash()), (level, theirs.hash())


def test_only_outbox_messages_are_executable() -> None:
    message = outbox_.encode_outbox_message(
        outbox_.AtomicTransactionBatch(
            (outbox_.Transaction(michelson.Int(1), ContractHash.zero()),)
        )
    )
    assert executable_output(Output(3, 0, message), TEST)
    assert not executable_output(Output(3, 0, b"hello"), TEST)
    assert not executable_output(Output(3, TEST.max_outbox_messages_per_level, message), TEST)
