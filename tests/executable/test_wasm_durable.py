"""Durable storage semantics (Octez: src/lib_scoru_wasm/durable.ml,
test_durable_storage.ml): paths, values and subtrees, read-only paths,
copy/move/delete quirks, limits, snapshots and the Merkle root."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executable.wasm import durable as d
from executable.wasm.durable import DurableStorage, key, parse_key
from executable.wasm.errors import HostError, HostFailure


def code(fn: object, *args: object, **kw: object) -> int:
    try:
        fn(*args, **kw)  # type: ignore[operator]
    except HostFailure as failure:
        return int(failure.code)
    return 0


def test_parse_key() -> None:
    assert parse_key(b"") == ()
    assert parse_key(b"/a/b.c/-_") == ("a", "b.c", "-_")
    assert parse_key(b"/..") == ("..",)
    for bad in (b"/", b"a", b"//a", b"/a/", b"/a//b", b"/a\x00", b"/@", b"/a b"):
        assert code(parse_key, bad) == HostError.STORE_INVALID_KEY


def test_readonly_paths() -> None:
    assert d.is_readonly(()) and d.is_readonly(key("/readonly"))
    assert d.is_readonly(key("/readonly/kernel/boot.wasm"))
    assert not d.is_readonly(key("/readonly.x")) and not d.is_readonly(key("/a/readonly"))
    s = DurableStorage()
    assert code(s.write_value, key("/readonly/x"), 0, b"1") == HostError.STORE_READONLY_VALUE
    s.write_value(key("/readonly/x"), 0, b"1", edit_readonly=True)
    assert s.read_all(key("/readonly/x")) == b"1"


def test_value_and_children_are_independent() -> None:
    s = DurableStorage()
    s.write_value(key("/a"), 0, b"v")
    s.write_value(key("/a/b"), 0, b"w")
    assert s.count_subtrees(key("/a")) == 2
    assert s.child_names(key("/a")) == ["", "b"]
    s.delete_value(key("/a"))
    assert s.exists(key("/a")) and not s.has_value(key("/a"))
    s.delete(key("/a/b"))
    assert not s.exists(key("/a"))  # no empty directories
    assert s.count_subtrees(()) == 0


def test_child_order_puts_value_between_digits_and_letters() -> None:
    s = DurableStorage()
    for name in ("b", "A", "_", "0", "-", "."):
        s.write_value(key(f"/d/{name}"), 0, b"")
    s.write_value(key("/d"), 0, b"")
    assert s.child_names(key("/d")) == ["-", ".", "0", "", "A", "_", "b"]


def test_write_grows_never_shrinks_and_checks_offset() -> None:
    s = DurableStorage()
    k = key("/v")
    s.write_value(k, 0, b"hello")
    s.write_value(k, 1, b"EL")
    assert s.read_all(k) == b"hELlo"
    assert code(s.write_value, k, 6, b"x") == HostError.STORE_INVALID_ACCESS
    assert code(s.write_value, k, -1, b"x") == HostError.GENERIC_INVALID_ACCESS
    assert code(s.write_value, k, 0, bytes(2049)) == HostError.INPUT_OUTPUT_TOO_LARGE
    s.write_value(k, 5, b"!")
    assert s.read_all(k) == b"hELlo!"


def test_read_value_checks() -> None:
    s = DurableStorage()
    k = key("/v")
    s.set_value(k, b"abc")
    assert s.read_value(k, 1, 10) == b"bc"
    assert code(s.read_value, k, 3, 1) == HostError.STORE_INVALID_ACCESS
    assert code(s.read_value, k, 0, 2049) == HostError.INPUT_OUTPUT_TOO_LARGE
    assert code(s.read_value, key("/none"), 0, 1) == HostError.STORE_NOT_A_VALUE
    assert code(s.read_value, k, 0, -1) == HostError.GENERIC_INVALID_ACCESS
    s.set_value(key("/empty"), b"")
    assert code(s.read_value, key("/empty"), 0, 0) == HostError.STORE_INVALID_ACCESS


def test_create_value_is_lazy_and_unique() -> None:
    s = DurableStorage()
    s.create_value(key("/big"), 2**31 - 1)
    assert s.value_size(key("/big")) == 2**31 - 1
    assert s.read_value(key("/big"), 2**31 - 10, 100) == bytes(9)
    assert code(s.create_value, key("/big"), 1) == HostError.STORE_VALUE_ALREADY_EXISTS
    assert code(s.create_value, key("/x"), -1) == HostError.STORE_VALUE_SIZE_EXCEEDED


def test_created_zeros_hash_differently_from_written_zeros() -> None:
    # As in Octez: only chunks ever written exist in the chunked vector.
    a, b = DurableStorage(), DurableStorage()
    a.create_value(key("/z"), 4)
    b.write_value(key("/z"), 0, bytes(4))
    assert a.read_all(key("/z")) == b.read_all(key("/z"))
    assert a.root_hash() != b.root_hash()


def test_copy_replaces_whole_destination_subtree() -> None:
    s = DurableStorage()
    s.write_value(key("/src/x"), 0, b"1")
    s.write_value(key("/dst"), 0, b"old")
    s.write_value(key("/dst/y"), 0, b"old")
    s.copy_tree(key("/src"), key("/dst"))
    assert not s.has_value(key("/dst")) and not s.exists(key("/dst/y"))
    assert s.read_all(key("/dst/x")) == b"1"
    s.write_value(key("/dst/x"), 0, b"2")  # the copy is independent
    assert s.read_all(key("/src/x")) == b"1"
    assert code(s.copy_tree, key("/nothing"), key("/q")) == HostError.STORE_NOT_A_NODE
    assert code(s.copy_tree, key("/src"), key("/readonly/q")) == HostError.STORE_READONLY_VALUE


def test_copy_into_own_subtree_and_from_readonly() -> None:
    s = DurableStorage()
    s.write_value(key("/a/b"), 0, b"1")
    s.copy_tree(key("/a"), key("/a/b/c"))
    assert s.read_all(key("/a/b/c/b")) == b"1" and s.read_all(key("/a/b")) == b"1"
    s.write_value(key("/readonly/r"), 0, b"r", edit_readonly=True)
    s.copy_tree(key("/readonly/r"), key("/w"))
    assert s.read_all(key("/w")) == b"r"


def test_move_semantics() -> None:
    s = DurableStorage()
    s.write_value(key("/a/b"), 0, b"1")
    s.move_tree(key("/a"), key("/a/b/c"))  # read, delete, write
    assert s.read_all(key("/a/b/c/b")) == b"1" and not s.has_value(key("/a/b"))
    s.move_tree(key("/a"), key("/a"))
    assert s.read_all(key("/a/b/c/b")) == b"1"
    assert code(s.move_tree, key("/zz"), key("/q")) == HostError.STORE_NOT_A_NODE
    s.write_value(key("/readonly/r"), 0, b"r", edit_readonly=True)
    assert code(s.move_tree, key("/readonly/r"), key("/q")) == HostError.STORE_READONLY_VALUE
    assert code(s.move_tree, key("/a"), key("/readonly/q")) == HostError.STORE_READONLY_VALUE


def test_delete_root_is_readonly_but_allowed_for_pvm() -> None:
    s = DurableStorage()
    s.write_value(key("/a"), 0, b"1")
    assert code(s.delete, ()) == HostError.STORE_READONLY_VALUE
    s.delete((), edit_readonly=True)
    assert s.count_subtrees(()) == 0


def test_snapshots_are_independent() -> None:
    s = DurableStorage()
    s.write_value(key("/a/b"), 0, b"1")
    before = s.root_hash()
    snap = s.snapshot()
    s.write_value(key("/a/b"), 0, b"2")
    s.write_value(key("/a/c"), 0, b"3")
    assert snap.read_all(key("/a/b")) == b"1" and not snap.exists(key("/a/c"))
    assert snap.root_hash() == before != s.root_hash()
    snap.write_value(key("/a/b"), 0, b"9")
    assert s.read_all(key("/a/b")) == b"2"
    assert d.diff(snap, s) == [("/a/b", b"2", 1), ("/a/c", b"3", 1)]
    s.delete(key("/a/c"))
    assert d.diff(snap, s) == [("/a/b", b"2", 1)]
    assert d.diff(s, snap) == [("/a/b", b"9", 1)]
    s.delete(key("/a"))
    assert d.diff(snap, s) == [("/a/b", None, 0)]
    s.set_value(key("/big"), b"x" * 100)
    assert d.diff(snap, s, max_bytes=3)[-1] == ("/big", b"xxx", 100)


def test_merkle_root_covers_paths_and_values() -> None:
    a, b = DurableStorage(), DurableStorage()
    a.set_value(key("/x/y"), b"1")
    b.set_value(key("/x"), b"1")
    assert a.root_hash() != b.root_hash()
    b.delete(key("/x"))
    b.set_value(key("/x/y"), b"1")
    assert a.root_hash() == b.root_hash()
    assert len(a.root_hash()) == 32


paths = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3).map(tuple)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["write", "delete", "delete_value", "copy", "move"]),
            paths,
            paths,
            st.binary(max_size=8),
        ),
        max_size=12,
    )
)
def test_hash_depends_only_on_contents(
    ops: list[tuple[str, tuple[str, ...], tuple[str, ...], bytes]],
) -> None:
    """Whatever the history (and sharing after snapshots), equal contents
    give equal roots, and a rebuilt tree has the same root."""
    s = DurableStorage()
    for op, p, q, data in ops:
        s.snapshot()
        if op == "write":
            size = s.value_size(p) if s.has_value(p) else 0
            s.write_value(p, min(size, 1), data)
        elif op == "delete":
            s.delete(p)
        elif op == "delete_value":
            s.delete_value(p)
        elif op == "copy" and s.exists(p):
            s.copy_tree(p, q)
        elif op == "move" and s.exists(p):
            s.move_tree(p, q)
    rebuilt = DurableStorage()
    for path, value in s.items():
        rebuilt.write_value(key(path), 0, value) if len(value) <= 2048 else None
    assert rebuilt.root_hash() == s.root_hash()


def test_walk_rebuilds_the_same_tree() -> None:
    """``walk`` gives every value with its written chunks; ``from_walk``
    rebuilds a storage with the same root, listing and never-written chunks."""
    s = DurableStorage()
    s.create_value(key("/big"), 10 * 512)
    s.write_value(key("/big"), 3 * 512 + 5, b"abc")
    s.set_value(key("/a/b"), b"x" * 1000)
    s.set_value(key("/a"), b"")
    walked = list(s.walk())
    assert [(k, n, sorted(c)) for k, n, c in walked] == [
        (("a",), 0, []),
        (("a", "b"), 1000, [0, 1]),
        (("big",), 5120, [3]),
    ]
    rebuilt = DurableStorage.from_walk(walked)
    assert rebuilt.root_hash() == s.root_hash()
    assert list(rebuilt.items()) == list(s.items())
    with pytest.raises(ValueError, match="malformed"):
        DurableStorage.from_walk([(("v",), 10, {1: bytes(512)})])


def test_value_hash_is_incremental_and_exact() -> None:
    """Writing chunks of a large value one at a time, hashing in between
    (the cached chunk tree is updated along one path), gives the root of a
    tree rebuilt from scratch; a never-written chunk differs from zeros."""
    s = DurableStorage()
    s.create_value(key("/v"), 64 * 512)
    for i in (0, 63, 17, 18, 40):
        s.write_value(key("/v"), i * 512, bytes([i]) * 512)
        s.root_hash()
        snap = s.snapshot()  # shared value: the next write copies it with its tree
        assert snap.root_hash() == DurableStorage.from_walk(list(snap.walk())).root_hash()
    s.write_value(key("/v"), 64 * 512, b"grow")  # the tree gains a level
    assert s.root_hash() == DurableStorage.from_walk(list(s.walk())).root_hash()
    zeros = DurableStorage()
    zeros.create_value(key("/v"), 512)
    before = zeros.root_hash()
    zeros.write_value(key("/v"), 0, bytes(512))
    assert zeros.root_hash() != before


@pytest.mark.parametrize("length", [240, 241])
def test_key_length_limit_constant(length: int) -> None:
    from executable.wasm.limits import MAX_KEY_LENGTH

    assert MAX_KEY_LENGTH == 240
    assert (length <= MAX_KEY_LENGTH) == (length == 240)
