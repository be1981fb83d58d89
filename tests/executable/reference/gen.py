"""Hypothesis strategies: small kernels in WebAssembly text, from a grammar,
and inboxes for them.

A kernel has a few locals and globals, two helper functions, one table for
indirect calls, and a ``kernel_run`` made of statements: assignments,
memory loads and stores, ``if``/``else``, blocks with conditional exits,
loops with bounded iterations, direct and indirect calls, bulk memory
instructions, and host calls (``read_input``, ``write_output``,
``store_write``, ``store_read``, ``write_debug``, ``reveal_metadata``).
After reading an input a kernel may ask for a reboot (so reboots end when
the inbox is read). Division and out-of-bounds accesses may trap.
Memory 0..1023 is for host buffers; the kernel's own data lives above.
"""

from __future__ import annotations

from hypothesis import strategies as st

HEADER = """
  (import "smart_rollup_core" "read_input"
    (func $read_input (param i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "write_output" (func $write_output (param i32 i32) (result i32)))
  (import "smart_rollup_core" "write_debug" (func $write_debug (param i32 i32)))
  (import "smart_rollup_core" "store_write"
    (func $store_write (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_read"
    (func $store_read (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "reveal_metadata"
    (func $reveal_metadata (param i32 i32) (result i32)))
  (type $bin (func (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "/k0/k1")
  (data (i32.const 120) "/kernel/env/reboot")
  (global $g0 (mut i32) (i32.const 7))
  (global $g1 (mut i64) (i64.const -3))
  (table 4 funcref)
  (elem (i32.const 0) $f1 $f3)
"""

BIN32 = [
    "i32.add", "i32.sub", "i32.mul", "i32.and", "i32.or", "i32.xor", "i32.shl",
    "i32.shr_s", "i32.shr_u", "i32.rotl", "i32.rotr", "i32.eq", "i32.ne", "i32.lt_s",
    "i32.lt_u", "i32.gt_s", "i32.ge_u", "i32.le_s",
]  # fmt: skip
TRAPPING32 = ["i32.div_s", "i32.div_u", "i32.rem_s", "i32.rem_u"]
UN32 = ["i32.eqz", "i32.clz", "i32.ctz", "i32.popcnt", "i32.extend8_s", "i32.extend16_s"]
BIN64 = ["i64.add", "i64.sub", "i64.mul", "i64.and", "i64.xor", "i64.shl", "i64.shr_s", "i64.rotr"]
UN64 = ["i64.clz", "i64.popcnt", "i64.extend32_s"]

LOCALS32 = ["$a", "$b", "$r"]


def addr(inner: str) -> str:
    """An address in the kernel's data area (1024..5119), 8-aligned."""
    return f"(i32.add (i32.const 1024) (i32.and {inner} (i32.const 4088)))"


@st.composite
def expr32(draw: st.DrawFn, depth: int = 0, helper: bool = False) -> str:
    """An i32 expression; in a helper function the locals are its two
    parameters and there are no calls."""
    leaf = depth >= 3 or draw(st.integers(0, 3)) == 0
    if leaf:
        kind = draw(st.sampled_from(["const", "local", "global"]))
        if kind == "const":
            v = draw(st.sampled_from([0, 1, 2, 7, 31, 32, -1, 0x7FFFFFFF, -(2**31), 255, 4096]))
            return f"(i32.const {v})"
        if kind == "local":
            names = ["0", "1"] if helper else LOCALS32
            return f"(local.get {draw(st.sampled_from(names))})"
        return "(global.get $g0)"
    kinds = ["bin", "bin", "un", "wrap", "load", "select", "trap"]
    if not helper:
        kinds += ["call", "icall"]
    kind = draw(st.sampled_from(kinds))
    sub = expr32(depth + 1, helper)
    if kind == "bin":
        return f"({draw(st.sampled_from(BIN32))} {draw(sub)} {draw(sub)})"
    if kind == "trap":  # a division, by zero in 1 case out of 8
        divisor = draw(sub)
        if draw(st.integers(0, 7)):
            divisor = f"(i32.or {divisor} (i32.const 1))"
        return f"({draw(st.sampled_from(TRAPPING32))} {draw(sub)} {divisor})"
    if kind == "un":
        return f"({draw(st.sampled_from(UN32))} {draw(sub)})"
    if kind == "wrap":
        return f"(i32.wrap_i64 {draw(expr64(depth + 1, helper))})"
    if kind == "load":
        op = draw(st.sampled_from(["i32.load", "i32.load8_s", "i32.load16_u"]))
        return f"({op} {addr(draw(sub))})"
    if kind == "call":
        return f"(call $f1 {draw(sub)} {draw(sub)})"
    if kind == "icall":
        index = draw(st.sampled_from([0, 1] * 6 + [2]))  # 2: a null element, traps
        return f"(call_indirect (type $bin) {draw(sub)} {draw(sub)} (i32.const {index}))"
    return f"(select {draw(sub)} {draw(sub)} {draw(sub)})"


@st.composite
def expr64(draw: st.DrawFn, depth: int = 0, helper: bool = False) -> str:
    if depth >= 3 or draw(st.integers(0, 2)) == 0:
        kind = draw(
            st.sampled_from(["const", "global"] if helper else ["const", "local", "global"])
        )
        if kind == "const":
            v = draw(st.sampled_from([0, 1, -1, 2**40, -(2**63), 12345678901]))
            return f"(i64.const {v})"
        return "(local.get $x)" if kind == "local" else "(global.get $g1)"
    kind = draw(st.sampled_from(["bin", "un", "extend", "load"] + ([] if helper else ["call"])))
    sub = expr64(depth + 1, helper)
    if kind == "bin":
        return f"({draw(st.sampled_from(BIN64))} {draw(sub)} {draw(sub)})"
    if kind == "un":
        return f"({draw(st.sampled_from(UN64))} {draw(sub)})"
    if kind == "extend":
        op = draw(st.sampled_from(["i64.extend_i32_s", "i64.extend_i32_u"]))
        return f"({op} {draw(expr32(depth + 1, helper))})"
    if kind == "load":
        return f"(i64.load {addr(draw(expr32(depth + 1, helper)))})"
    return f"(call $f2 {draw(sub)})"


@st.composite
def statement(draw: st.DrawFn, depth: int = 0) -> str:
    kinds = ["set", "set64", "global", "store", "store64", "host_read", "host_write"]
    kinds += ["store_write", "store_read", "debug", "reboot", "fill", "copy"]
    if depth < 2:
        kinds += ["if", "loop", "block", "loop"]
    kind = draw(st.sampled_from([*kinds, "metadata", "trap_oob", "unreachable"]))
    e = expr32()
    if kind == "set":
        return f"(local.set {draw(st.sampled_from(['$a', '$b']))} {draw(e)})"
    if kind == "set64":
        return f"(local.set $x {draw(expr64())})"
    if kind == "global":
        if draw(st.booleans()):
            return f"(global.set $g0 {draw(e)})"
        return f"(global.set $g1 {draw(expr64())})"
    if kind == "store":
        op = draw(st.sampled_from(["i32.store", "i32.store8", "i32.store16"]))
        return f"({op} {addr(draw(e))} {draw(e)})"
    if kind == "store64":
        return f"(i64.store {addr(draw(e))} {draw(expr64())})"
    if kind == "host_read":
        n = draw(st.sampled_from([0, 3, 64, 4096]))
        return f"(local.set $r (call $read_input (i32.const 8) (i32.const 256) (i32.const {n})))"
    if kind == "host_write":
        return f"(drop (call $write_output (i32.const 256) (i32.and {draw(e)} (i32.const 127))))"
    if kind == "store_write":
        key = draw(
            st.sampled_from(["(i32.const 100) (i32.const 3)", "(i32.const 103) (i32.const 3)"])
        )
        off = draw(st.sampled_from([0, 1, 600]))
        return (
            f"(drop (call $store_write {key} (i32.const {off}) (i32.const 256)"
            f" (i32.and {draw(e)} (i32.const 63))))"
        )
    if kind == "store_read":
        return (
            "(local.set $b (call $store_read (i32.const 100) (i32.const 3) (i32.const 0)"
            " (i32.const 512) (i32.const 64)))"
        )
    if kind == "debug":
        return "(call $write_debug (i32.const 256) (i32.const 4))"
    if kind == "reboot":
        return (
            "(if (i32.gt_s (local.get $r) (i32.const 0)) (then (drop (call $store_write"
            " (i32.const 120) (i32.const 18) (i32.const 0) (i32.const 256) (i32.const 1)))))"
        )
    if kind == "fill":
        return f"(memory.fill {addr(draw(e))} {draw(e)} (i32.const {draw(st.integers(0, 40))}))"
    if kind == "copy":
        return (
            f"(memory.copy {addr(draw(e))} {addr(draw(e))} (i32.const {draw(st.integers(0, 40))}))"
        )
    if kind == "metadata":
        return "(drop (call $reveal_metadata (i32.const 600) (i32.const 24)))"
    if kind == "trap_oob":
        return "(drop (i32.load (i32.const 65533)))" if draw(st.integers(0, 9)) == 0 else "(nop)"
    if kind == "unreachable":
        return "(unreachable)" if draw(st.integers(0, 9)) == 0 else "(nop)"
    body = " ".join(draw(st.lists(statement(depth + 1), min_size=0, max_size=3)))
    if kind == "if":
        other = " ".join(draw(st.lists(statement(depth + 1), max_size=2)))
        return f"(if {draw(e)} (then {body}) (else {other}))"
    if kind == "block":
        return f"(block $out{depth} {body} (br_if $out{depth} {draw(e)}) {body})"
    n = draw(st.integers(1, 20))
    counter = f"$n{depth}"
    return (
        f"(local.set {counter} (i32.const {n})) (loop $l{depth} {body}"
        f" (br_if $l{depth} (i32.gt_s (local.tee {counter} (i32.sub (local.get {counter})"
        " (i32.const 1))) (i32.const 0))))"
    )


@st.composite
def kernel_wat(draw: st.DrawFn) -> str:
    f1 = draw(expr32(1, helper=True))
    body = " ".join(draw(st.lists(statement(), min_size=2, max_size=10)))
    return f"""(module {HEADER}
  (func $f1 (param i32 i32) (result i32) {f1})
  (func $f2 (param i64) (result i64) (i64.xor (local.get 0) (i64.const 0x5555)))
  (func $f3 (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
  (func (export "kernel_run")
    (local $a i32) (local $b i32) (local $r i32) (local $x i64) (local $n0 i32) (local $n1 i32)
    (local $n2 i32)
    {body}))"""


def inbox() -> st.SearchStrategy[list[list[bytes]]]:
    """1 to 3 levels of 0 to 3 external messages."""
    message = st.binary(min_size=0, max_size=40)
    return st.lists(st.lists(message, max_size=3), min_size=1, max_size=3)
