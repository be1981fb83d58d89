"""The reference PVM's building blocks: Merkle trees and partial trees,
the durable storage against the fast VM's, fast-forwarding against
single ticks, the functional PVM interface, and the decoder's branches."""

from __future__ import annotations

import random

import pytest
import wasmtime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executable import kernels
from executable.reference import module as mod
from executable.reference.durable import Durable
from executable.reference.merkle import (
    H,
    MerkleTree,
    PartialTree,
    ProofIncomplete,
    depth_for,
    leaves_root,
    sibling_positions,
)
from executable.reference.pvm import ReferencePvm, input_request, step
from executable.wasm import engine as engine_mod
from executable.wasm.durable import DurableStorage, key
from executable.wasm.errors import HostFailure, InvalidPvmCall
from executable.wasm.limits import Limits
from executable.wasm.pvm import PvmConfig
from executable.wasm.revisions import LATEST
from spec.inbox import InboxInput
from spec.pvm import NoInputRequired
from tests.executable.reference.helpers import METADATA, level

DEFAULT = H(b"default")

SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=50, deadline=None, suppress_health_check=SLOW_DATA)
@given(st.dictionaries(st.integers(0, 200), st.binary(min_size=1, max_size=4), max_size=30))
def test_sparse_tree_matches_dense_roots(values: dict[int, bytes]) -> None:
    n = max(values, default=-1) + 1
    leaves = [H(values[i]) if i in values else DEFAULT for i in range(n)]
    tree = MerkleTree(DEFAULT, depth_for(n))
    for i, v in values.items():
        tree.set(i, H(v))
    assert tree.root(depth_for(n)) == leaves_root(leaves, DEFAULT)
    # a partial tree from any revealed subset gives the same root, and the
    # same new root after one revealed leaf changes
    revealed = set(list(values)[: len(values) // 2])
    sib = {pos: tree.node(*pos) for pos in sibling_positions(depth_for(n), revealed)}
    known = {i: H(values[i]) for i in revealed}
    partial = PartialTree(DEFAULT, depth_for(n), known, sib)
    assert partial.root(depth_for(n)) == tree.root(depth_for(n))
    if revealed:
        i = min(revealed)
        tree.set(i, H(b"new"))
        known[i] = H(b"new")
        assert partial.root(depth_for(n)) == tree.root(depth_for(n))
        other = next((j for j in range(n) if j not in revealed), None)
        if other is not None:
            known[other] = H(b"x")
            with pytest.raises(ProofIncomplete):
                PartialTree(DEFAULT, depth_for(n), known, {}).root(depth_for(n))


def test_tree_grows_without_rehashing_old_nodes() -> None:
    tree = MerkleTree(DEFAULT, 2)
    for i in range(4):
        tree.set(i, H(bytes([i])))
    small = tree.root(2)
    tree.ensure_height(5)
    assert tree.node(2, 0) == small
    assert tree.root(5) == leaves_root([H(bytes([i])) for i in range(4)] + [DEFAULT] * 28, DEFAULT)


PATHS = ["/a", "/a/b", "/a/b/c", "/x", "/readonly/k", "", "/a/c", "/x/y"]


@settings(max_examples=100, deadline=None, suppress_health_check=SLOW_DATA)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7), st.integers(0, 7)), max_size=30))
def test_durable_storage_agrees_with_the_fast_vms(ops: list[tuple[int, int, int]]) -> None:
    """Same results, error codes, contents, listings, root hashes and
    ``store_get_hash`` answers as :class:`DurableStorage`."""
    fast, ref = DurableStorage(), Durable()
    rng = random.Random(len(ops))
    for op, a, b in ops:
        k, k2 = key(PATHS[a]), key(PATHS[b])
        off = [0, 1, 511, 512, 600, 1100, 3000, 5][b]
        data = bytes(rng.randrange(256) for _ in range([0, 1, 5, 512, 700, 2048, 9, 3][a]))
        results: list[object] = []
        for d in (fast, ref):
            try:
                if op == 0:
                    d.write_value(k, off, data, edit_readonly=a == 4)
                elif op == 1:
                    d.set_value(k, data, edit_readonly=True)
                elif op == 2:
                    d.create_value(k, off)
                elif op == 3:
                    d.delete(k)
                elif op == 4:
                    d.delete_value(k, edit_readonly=True)
                elif op == 5:
                    d.copy_tree(k, k2)
                elif op == 6:
                    d.move_tree(k, k2)
                else:
                    results.append(d.read_value(k, off, 100))
                results.append("ok")
            except HostFailure as failure:
                results.append(failure.code)
        assert results[: len(results) // 2] == results[len(results) // 2 :]
        assert list(fast.items()) == list(ref.items())
        assert fast.root_hash() == ref.root_hash()  # incremental caches on both sides
    for p in PATHS:
        k = key(p)
        for name in ("count_subtrees", "exists", "has_value", "subtree_hash", "child_names"):
            outs = []
            for d in (fast, ref):
                try:
                    outs.append(getattr(d, name)(k))
                except HostFailure as failure:
                    outs.append(failure.code)
            assert outs[0] == outs[1], (name, p)


BULKY = """(module
  (import "smart_rollup_core" "write_output" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data $d "passive segment bytes")
  (func (export "kernel_run") (local $i i32)
    (loop $l
      (memory.fill (i32.const 100) (local.get $i) (i32.const 50))
      (memory.copy (i32.const 120) (i32.const 100) (i32.const 40))
      (memory.copy (i32.const 90) (i32.const 100) (i32.const 40))
      (memory.init $d (i32.const 300) (i32.const 1) (i32.const 10))
      (drop (call $out (i32.const 90) (i32.const 60)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (i32.const 5))))))"""


def test_fast_forward_equals_single_ticks() -> None:
    """``advance`` skips padding and host-call or bulk-memory ticks in O(1)
    and reaches exactly the states single ticks reach."""
    pvm = ReferencePvm(PvmConfig(metadata=METADATA, limits=Limits(tick_budget=20_000)))
    kernel = bytes(wasmtime.wat2wasm(BULKY))
    m = pvm.install_boot_sector(kernel)
    env = pvm.env(record=False)
    for i, msg in enumerate(level(b"x")):
        step(m, env, InboxInput(6, i, msg))
    hashes = {m.tick: m.digest()}
    single = m.copy()
    while isinstance(input_request(single), NoInputRequired):
        step(single, env, None)
        hashes[single.tick] = single.digest()
    rng = random.Random(5)
    targets = sorted(rng.sample(sorted(hashes), 60))
    for t in targets:
        jumped = m.copy()
        pvm.advance(jumped, env, t)
        assert jumped.tick == t and jumped.digest() == hashes[t]


def test_functional_interface_does_not_mutate() -> None:
    pvm = ReferencePvm(PvmConfig(metadata=METADATA, limits=Limits(tick_budget=1_000)))
    genesis = pvm.install_boot_sector(kernels.load("echo"))
    h0 = pvm.state_hash(genesis)
    after = pvm.set_input(genesis, InboxInput(6, 0, level()[0]))
    assert pvm.state_hash(genesis) == h0 and pvm.tick(after) == 1
    with pytest.raises(InvalidPvmCall):
        pvm.eval(genesis)
    state = after
    for i, msg in enumerate(level()[1:], start=1):
        state = pvm.set_input(state, InboxInput(6, i, msg))
    before = pvm.state_hash(state)
    nxt = pvm.eval(state)
    assert pvm.state_hash(state) == before != pvm.state_hash(nxt)
    with pytest.raises(InvalidPvmCall):
        pvm.set_input(state, InboxInput(7, 0, b""))


def test_branches_resolve_to_targets_and_heights() -> None:
    wat = """(module (func (export "f") (result i32)
      (block $b (result i32) (i32.const 1) (i32.const 2) (br_if $b (i32.const 0)) (drop))
      (loop $l (br_if $l (i32.const 0)))))"""
    binary = bytes(wasmtime.wat2wasm(wat))
    compiled = mod.load(binary, LATEST, engine_mod.engine(Limits().max_wasm_stack))
    code = compiled.module.code
    brif = next(ins for ins in code if ins[0] == 0x0D)
    end = next(i for i, ins in enumerate(code) if ins[0] == 0x0B)
    assert brif[1] == end + 1 and brif[2] == 1 and brif[3] == 0  # keep 1 over height 0
    loop_pc = next(i for i, ins in enumerate(code) if ins[0] == 0x03)
    back = [ins for ins in code if ins[0] == 0x0D][1]
    assert back[1:] == (loop_pc, 0, 1)  # to the loop, keeping nothing, over the block's result
    assert code[-1] == (0x0F, 1)


def test_simd_kernels_are_reported_unsupported() -> None:
    wat = """(module (memory (export "memory") 1)
      (func (export "kernel_run") (drop (v128.const i32x4 0 0 0 0))))"""
    binary = bytes(wasmtime.wat2wasm(wat))
    with pytest.raises(mod.UnsupportedKernel):
        mod.load(binary, LATEST, engine_mod.engine(Limits().max_wasm_stack))
