"""Every host function, success path and every error code, called from a
real WebAssembly module (Octez: src/lib_scoru_wasm/host_funcs.ml)."""

from __future__ import annotations

import pytest

from executable.wasm.durable import key
from executable.wasm.reveal import RevealOracle, preimage_hash
from executable.wasm.revisions import Revision
from tests.executable.wasm_helpers import IPL, METADATA, SOL, call, rec, run_snippet

A = 100  # "/a"
AB = 110  # "/a/b"
RO = 120  # "/readonly/x"
BAD = 140  # "/a//b"
C = 150  # "/c"
LONG = 400  # 241-byte valid path
BUF = 1024
PAY = 300  # "hello"
END = 65536  # first address past a 1-page memory

DATA = {
    A: b"/a",
    AB: b"/a/b",
    RO: b"/readonly/x",
    BAD: b"/a//b",
    C: b"/c",
    PAY: b"hello",
    LONG: b"/" + b"k" * 240,
}


def run(*exprs: str, durable: dict[str, bytes] | None = None, **kw: object) -> list[int]:
    values, _ = run_snippet("\n".join(exprs), data=DATA, durable=durable, **kw)  # type: ignore[arg-type]
    return values


# -- key checks, shared by every store_* function -----------------------------


@pytest.mark.parametrize(
    "name,extra",
    [
        ("store_has", ()),
        ("store_exists", ()),
        ("store_value_size", ()),
        ("store_delete", ()),
        ("store_delete_value", ()),
        ("store_create", (1,)),
        ("store_read", (0, BUF, 10)),
        ("store_write", (0, PAY, 5)),
        ("store_get_nth_key", (0, BUF, 10)),
        ("__internal_store_get_hash", (BUF, 32)),
    ],
)
def test_key_checks_in_order(name: str, extra: tuple[int, ...]) -> None:
    got = run(
        rec(call(name, LONG, 241, *extra)),  # > 240 bytes → −1 (before reading memory)
        rec(call(name, END + 100, 241, *extra)),  # still −1: length checked first
        rec(call(name, A, -1, *extra)),  # negative length → −8
        rec(call(name, END - 1, 2, *extra)),  # key out of memory → −6
        rec(call(name, BAD, 5, *extra)),  # unparsable → −2
    )
    assert got == [-1, -1, -8, -6, -2]


def test_list_size_key_checks_are_i64() -> None:
    got = run(
        rec(call("store_list_size", LONG, 241), i64=True),
        rec(call("store_list_size", A, -1), i64=True),
        rec(call("store_list_size", END - 1, 2), i64=True),
        rec(call("store_list_size", BAD, 5), i64=True),
    )
    assert got == [-1, -8, -6, -2]


@pytest.mark.parametrize(
    "path,ok",
    [
        (b"", None),
        (b"/", False),
        (b"//", False),
        (b"/a/", False),
        (b"a", False),
        (b"/a b", False),
        (b"/a/./..", True),
        (b"/A-Z_a.z09", True),
        (b"/\xc3\xa9", False),
        (b"/" + b"x" * 239, True),
    ],
)
def test_path_syntax(path: bytes, ok: bool | None) -> None:
    values, _ = run_snippet(
        rec(call("store_exists", 200, len(path))), data={200: path} if path else None
    )
    # the root always exists; other valid paths are absent here
    assert values == ([1] if ok is None else [0] if ok else [-2])


# -- read_input ---------------------------------------------------------------


def test_read_input_success_and_info_struct() -> None:
    _, pvm = run_snippet(
        "\n".join(
            [
                rec(call("read_input", 16, BUF, 4096)),
                rec("(i64.load (i32.const 16))", i64=True),
                rec(call("read_input", 16, BUF, 4096)),
                rec(call("read_input", 16, BUF, 3)),  # truncated: rest is lost
                rec("(i64.load (i32.const 16))", i64=True),
                rec(call("read_input", 16, BUF, 4096)),
                rec(call("read_input", 16, BUF, 4096)),
            ]
        ),
        externals=[b"hello"],
    )
    values = [
        int.from_bytes(pvm.runs[0].debug[i : i + 8], "little", signed=True)
        for i in range(0, len(pvm.runs[0].debug), 8)
    ]
    # SOL (2 bytes) at level 6 id 0; IPL (42); external cut to 3; EOL; empty
    assert values[0] == 2
    assert values[1] == 6 | (0 << 32)
    assert values[2] == len(IPL)
    assert values[3] == 3
    assert values[4] == 6 | (2 << 32)
    assert values[5] == 2
    assert values[6] == 0


def test_read_input_writes_message_bytes() -> None:
    values, _ = run_snippet(
        rec(call("read_input", 16, BUF, 4096)) + rec("(i64.load16_u (i32.const 1024))", i64=True),
    )
    assert values == [2, int.from_bytes(SOL, "little")]


def test_read_input_bounds_are_strict_and_consume_nothing() -> None:
    got = run(
        rec(call("read_input", END - 8, BUF, 10)),  # info ends at memory end: −6
        rec(call("read_input", END - 9, BUF, 10)),  # one byte earlier: fine (SOL)
        rec(call("read_input", 16, END - 10, 10)),  # dst + 10 == size: −6
        rec(call("read_input", 16, BUF, -1)),  # negative size: −6
        rec(call("read_input", -16, BUF, 10)),  # huge unsigned address: −6
        rec(call("read_input", 16, END - 4097, 99999)),  # clamped to 4096: fits
    )
    assert got == [-6, 2, -6, -6, -6, len(IPL)]


def test_read_input_zero_max_bytes_consumes_a_message() -> None:
    got = run(rec(call("read_input", 16, BUF, 0)), rec(call("read_input", 16, BUF, 4096)))
    assert got == [0, len(IPL)]


def test_read_input_ticks_42_per_byte() -> None:
    _, pvm = run_snippet(rec(call("read_input", 16, BUF, 4096)))
    _, pvm0 = run_snippet(rec(call("read_input", END, BUF, 4096)))
    assert pvm.runs[0].ticks_executed - pvm0.runs[0].ticks_executed == 42 * 2


# -- write_output / write_debug -----------------------------------------------


def test_write_output_success_and_errors() -> None:
    got, pvm = run_snippet(
        "\n".join(
            [
                rec(call("write_output", PAY, 5)),
                rec(call("write_output", PAY, 0)),  # empty outputs are accepted
                rec(call("write_output", PAY, 4097)),  # −7 before memory
                rec(call("write_output", END - 1, 4097)),  # still −7
                rec(call("write_output", END - 2, 5)),  # −6
                rec(call("write_output", PAY, -1)),  # −8
                rec(call("write_output", PAY, 4096)),  # exactly 4,096 is fine
            ]
        ),
        data=DATA,
    )
    assert got == [0, 0, -7, -7, -6, -8, 0]
    msgs = pvm.outbox_messages(6)
    assert [(m.level, m.index) for m in msgs] == [(6, 0), (6, 1), (6, 2)]
    assert msgs[0].payload == b"hello" and msgs[1].payload == b""


def test_write_output_full_outbox() -> None:
    again = "(br_if $l (i64.ne (i64.load (i32.const 0)) (i64.const -11)))"
    body = f"(loop $l {rec(call('write_output', PAY, 1))} {again})"
    got, pvm = run_snippet(body, data=DATA)
    assert got == [0] * 100 + [-11]
    assert len(pvm.outbox_messages(6)) == 100


def test_write_debug_never_fails() -> None:
    _, pvm = run_snippet(
        "\n".join(
            [
                call("write_debug", PAY, 5),
                call("write_debug", END - 1, 2),
                call("write_debug", -1, -1),
                call("write_debug", PAY, 0),
            ]
        ),
        data=DATA,
    )
    assert pvm.runs[0].debug == b"hello"


# -- store_write / store_read / store_value_size / store_create -----------------


def test_store_write_success_and_growth() -> None:
    got, pvm = run_snippet(
        "\n".join(
            [
                rec(call("store_write", AB, 4, 0, PAY, 5)),
                rec(call("store_write", AB, 4, 5, PAY, 2)),  # append at the end
                rec(call("store_write", AB, 4, 1, PAY, 1)),  # overwrite, no shrink
                rec(call("store_value_size", AB, 4)),
                rec(call("store_write", C, 2, 0, PAY, 0)),  # creates an empty value
                rec(call("store_value_size", C, 2)),
            ]
        ),
        data=DATA,
    )
    assert got == [0, 0, 0, 7, 0, 0]
    assert pvm.durable.read_all(key("/a/b")) == b"hhllohe"


def test_store_write_errors_in_precedence_order() -> None:
    got = run(
        rec(call("store_write", AB, 4, 1, PAY, 5)),  # offset 1 > size 0: −4
        rec(call("store_write", AB, 4, -1, PAY, 1)),  # negative offset: −8
        rec(call("store_write", RO, 11, 0, PAY, 5)),  # read-only: −9
        rec(call("store_write", AB, 4, 0, PAY, 2049)),  # > 2,048: −7
        rec(call("store_write", AB, 4, 0, END - 2, 5)),  # source out of memory: −6
        rec(call("store_write", AB, 4, 0, PAY, -1)),  # negative size: −5
        rec(call("store_write", RO, 11, 0, END - 2, 5)),  # −6 beats −9
        rec(call("store_write", RO, 11, 0, PAY, 2049)),  # −9 beats −7
        rec(call("store_write", AB, 4, 9, PAY, 2049)),  # −7 beats −4
    )
    assert got == [-4, -8, -9, -7, -6, -5, -6, -9, -7]


def test_store_write_size_overflow() -> None:
    got, _pvm = run_snippet(
        rec(call("store_create", AB, 4, 2**31 - 2))
        + rec(call("store_write", AB, 4, 0, PAY, 1))
        + rec(call("store_write", AB, 4, 0, PAY, 2)),
        data=DATA,
    )
    assert got == [0, 0, -5]


def test_store_read_success_and_errors() -> None:
    got = run(
        rec(call("store_read", AB, 4, 1, BUF, 10)),
        rec("(i64.load8_u (i32.const 1024))", i64=True),
        rec(call("store_read", AB, 4, 4, BUF, 10)),
        rec(call("store_read", AB, 4, 0, BUF, 0)),  # zero bytes
        rec(call("store_read", AB, 4, 5, BUF, 10)),  # offset == size: −4
        rec(call("store_read", AB, 4, -1, BUF, 10)),  # negative offset: −4
        rec(call("store_read", C, 2, 0, BUF, 10)),  # no value: −3
        rec(call("store_read", C, 2, 0, BUF, 2049)),  # −7 beats −3
        rec(call("store_read", AB, 4, 0, END - 2, 5)),  # destination: −6
        rec(call("store_read", AB, 4, 0, BUF, -1)),  # negative size: −8
        rec(call("store_read", A, 2, 0, BUF, 10)),  # /a has children, no value: −3
        durable={"/a/b": b"hello", "/e": b""},
    )
    assert got == [4, ord("e"), 1, 0, -4, -4, -3, -7, -6, -8, -3]


def test_store_read_empty_value_always_fails() -> None:
    got = run(
        rec(call("store_read", C, 2, 0, BUF, 10)),
        rec(call("store_value_size", C, 2)),
        durable={"/c": b""},
    )
    assert got == [-4, 0]


def test_store_read_write_chunk_boundaries() -> None:
    value = bytes(range(256)) * 12  # 3,072 bytes: crosses 512-byte chunks
    got, pvm = run_snippet(
        rec(call("store_read", AB, 4, 2047, BUF, 2048))
        + rec("(i64.load8_u (i32.const 1024))", i64=True)
        + rec(call("store_write", AB, 4, 3000, PAY, 5))
        + rec(call("store_value_size", AB, 4)),
        data=DATA,
        durable={"/a/b": value},
    )
    assert got == [3072 - 2047, value[2047], 0, 3072]
    assert pvm.durable.read_all(key("/a/b")) == value[:3000] + b"hello" + value[3005:]


def test_store_value_size() -> None:
    got = run(
        rec(call("store_value_size", AB, 4)),
        rec(call("store_value_size", A, 2)),
        rec(call("store_value_size", C, 2)),
        durable={"/a/b": b"xyz"},
    )
    assert got == [3, -3, -3]


def test_store_create() -> None:
    got, _pvm = run_snippet(
        "\n".join(
            [
                rec(call("store_create", AB, 4, 5000)),
                rec(call("store_value_size", AB, 4)),
                rec(call("store_read", AB, 4, 4000, BUF, 8)),
                rec("(i64.load (i32.const 1024))", i64=True),
                rec(call("store_create", AB, 4, 1)),  # exists: −13
                rec(call("store_create", C, 2, -1)),  # negative: −5
                rec(call("store_create", RO, 11, -1)),  # −5 beats −9
                rec(call("store_create", RO, 11, 1)),  # read-only: −9
                rec(call("store_create", C, 2, 0)),  # empty value
                rec(call("store_has", C, 2)),
            ]
        ),
        data=DATA,
    )
    assert got == [0, 5000, 8, 0, -13, -5, -5, -9, 0, 1]


def test_store_create_is_lazy() -> None:
    # 2 GiB − 1 of zeros cost nothing until written.
    got = run(rec(call("store_create", AB, 4, 2**31 - 1)), rec(call("store_value_size", AB, 4)))
    assert got == [0, 2**31 - 1]


def test_store_create_needs_v1() -> None:
    _, pvm = run_snippet(rec(call("store_has", A, 2)), revision=Revision.V0)
    assert pvm.runs[0].outcome.value == "returned"


# -- store_has / store_exists / store_list_size / store_get_nth_key --------------


TREE = {"/a": b"v", "/a/b": b"1", "/a/c/d": b"2", "/e": b"3"}


def test_store_has() -> None:
    got, _ = run_snippet(
        "\n".join(
            [
                rec(call("store_has", A, 2)),
                rec(call("store_has", AB, 4)),
                rec(call("store_has", C, 2)),
                rec(call("store_has", 200, 4)),
                rec(call("store_has", 210, 3)),
            ]
        ),
        data=DATA | {200: b"/a/c", 210: b"/zz"},
        durable=TREE,
    )
    assert got == [3, 1, 0, 2, 0]


def test_store_exists() -> None:
    got, _ = run_snippet(
        rec(call("store_exists", A, 2))
        + rec(call("store_exists", 200, 4))
        + rec(call("store_exists", C, 2))
        + rec(call("store_exists", 220, 0)),
        data=DATA | {200: b"/a/c"},
        durable=TREE,
    )
    assert got == [1, 1, 0, 1]


def test_store_exists_needs_v2() -> None:
    from executable.wasm import host, module_check

    kernel = __import__("tests.executable.wasm_helpers", fromlist=["x"]).snippet_kernel(
        rec(call("store_exists", A, 2)), revision=Revision.V2
    )
    with pytest.raises(module_check.KernelLoadError) as err:
        module_check.scan(kernel, host.offered(Revision.V1))
    assert err.value.stage == "link"


def test_store_list_size_counts_the_value() -> None:
    got, _ = run_snippet(
        rec(call("store_list_size", A, 2), i64=True)
        + rec(call("store_list_size", AB, 4), i64=True)
        + rec(call("store_list_size", C, 2), i64=True),
        data=DATA,
        durable=TREE,
    )
    assert got == [3, 1, 0]


def test_store_get_nth_key() -> None:
    got, _pvm = run_snippet(
        "\n".join(
            [
                rec(call("store_get_nth_key", A, 2, 0, BUF, 10)),  # "" (value, '@' < 'b')
                rec(call("store_get_nth_key", A, 2, 1, BUF, 10)),  # "b"
                rec("(i64.load8_u (i32.const 1024))", i64=True),
                rec(call("store_get_nth_key", A, 2, 2, BUF, 0)),  # "c" truncated to 0
                rec(call("store_get_nth_key", A, 2, 3, BUF, 10)),  # −12
                rec(call("store_get_nth_key", A, 2, -1, BUF, 10)),  # −12
                rec(call("store_get_nth_key", C, 2, 0, BUF, 10)),  # nothing: −10
                rec(call("store_get_nth_key", A, 2, 1, END, 10)),  # −6
                rec(call("store_get_nth_key", A, 2, 1, BUF, -1)),  # −8
            ]
        ),
        data=DATA,
        durable=TREE,
    )
    assert got == [0, 1, ord("b"), 0, -12, -12, -10, -6, -8]


# -- delete / copy / move ---------------------------------------------------------


def test_store_delete_and_delete_value() -> None:
    got, pvm = run_snippet(
        "\n".join(
            [
                rec(call("store_delete_value", A, 2)),
                rec(call("store_has", A, 2)),
                rec(call("store_delete", A, 2)),
                rec(call("store_has", A, 2)),
                rec(call("store_delete", A, 2)),  # absent: fine
                rec(call("store_delete_value", C, 2)),  # absent: fine
                rec(call("store_delete", RO, 11)),
                rec(call("store_delete_value", RO, 11)),
                rec(call("store_delete", 220, 0)),  # the root is read-only
            ]
        ),
        data=DATA,
        durable=TREE,
    )
    assert got == [0, 2, 0, 0, 0, 0, -9, -9, -9]
    assert pvm.durable.read_all(key("/e")) == b"3"
    assert not pvm.durable.exists(key("/a"))


def test_delete_value_prunes_empty_directories() -> None:
    _, pvm = run_snippet(
        rec(call("store_delete_value", 200, 6)), data={200: b"/a/c/d"}, durable=TREE
    )
    assert not pvm.durable.exists(key("/a/c"))
    assert pvm.durable.count_subtrees(key("/a")) == 2


def test_store_copy() -> None:
    got, pvm = run_snippet(
        "\n".join(
            [
                rec(call("store_copy", A, 2, C, 2)),
                rec(call("store_copy", 200, 3, C, 2)),  # nothing at /zz: −10
                rec(call("store_copy", A, 2, RO, 11)),  # read-only target: −9
                rec(call("store_copy", 200, 3, RO, 11)),  # −9 beats −10
                rec(call("store_copy", 210, 17, 230, 2)),  # from read-only is fine
                rec(call("store_copy", A, 2, AB, 4)),  # into its own subtree
            ]
        ),
        data=DATA | {200: b"/zz", 210: b"/readonly/version", 230: b"/v"},
        durable=TREE | {"/c/old": b"gone", "/readonly/version": b"r"},
    )
    assert got == [0, -10, -9, -9, 0, 0]
    d = pvm.durable
    assert d.read_all(key("/c")) == b"v" and d.read_all(key("/c/c/d")) == b"2"
    assert not d.exists(key("/c/old"))
    assert d.read_all(key("/v")) == b"r"
    assert d.read_all(key("/a/b/b")) == b"1" and d.read_all(key("/a/b")) == b"v"
    assert d.read_all(key("/c/b")) == b"1"  # the first copy is unaffected


def test_store_move() -> None:
    got, pvm = run_snippet(
        "\n".join(
            [
                rec(call("store_move", A, 2, C, 2)),
                rec(call("store_exists", A, 2)),
                rec(call("store_move", 200, 3, 520, 2)),  # −10
                rec(call("store_move", 500, 17, 520, 2)),  # from read-only: −9
                rec(call("store_move", C, 2, RO, 11)),  # to read-only: −9
                rec(call("store_move", C, 2, 540, 4)),  # /c → /c/x: allowed
            ]
        ),
        data=DATA | {200: b"/zz", 500: b"/readonly/version", 520: b"/y", 540: b"/c/x"},
        durable=TREE | {"/readonly/version": b"r"},
    )
    assert got == [0, 0, -10, -9, -9, 0]
    d = pvm.durable
    assert d.read_all(key("/c/x")) == b"v" and d.read_all(key("/c/x/c/d")) == b"2"
    assert d.count_subtrees(key("/c")) == 1


def test_store_get_hash() -> None:
    got, _pvm = run_snippet(
        rec(call("__internal_store_get_hash", A, 2, BUF, 64))
        + rec(call("__internal_store_get_hash", A, 2, BUF, 3))
        + rec(call("__internal_store_get_hash", C, 2, BUF, 64))
        + rec(call("__internal_store_get_hash", A, 2, END - 1, 32))
        + rec(call("__internal_store_get_hash", A, 2, BUF, -1)),
        data=DATA,
        durable=TREE,
    )
    assert got == [32, 3, -10, -6, -8]


# -- reveals ----------------------------------------------------------------------


def test_reveal_metadata() -> None:
    got, _pvm = run_snippet(
        rec(call("reveal_metadata", BUF, 24))
        + rec("(i64.load (i32.const 1044))", i64=True)
        + rec(call("reveal_metadata", BUF, 100))
        + rec(call("reveal_metadata", BUF, 3))
        + rec(call("reveal_metadata", END - 1, 24))
        + rec(call("reveal_metadata", BUF, -1)),
    )
    level_be = int.from_bytes(METADATA.encode()[20:24] + bytes(4), "little", signed=True)
    assert got == [24, level_be, 24, 3, -6, -6]


def test_reveal_preimage() -> None:
    data = b"the preimage"
    h = preimage_hash(data)
    oracle = RevealOracle(METADATA)
    oracle.supply(h, data)
    got, _ = run_snippet(
        "\n".join(
            [
                rec(call("reveal_preimage", 200, 33, BUF, 4096)),
                rec("(i64.load8_u (i32.const 1024))", i64=True),
                rec(call("reveal_preimage", 200, 33, BUF, 3)),
                rec(call("reveal_preimage", 201, 32, BUF, 4096)),  # bare digest: empty
                rec(call("reveal_preimage", 300, 33, BUF, 4096)),  # tag 01: empty
                rec(call("reveal_preimage", 200, 4097, BUF, 4096)),  # −7
                rec(call("reveal_preimage", END - 1, 33, BUF, 4096)),  # −6
                rec(call("reveal_preimage", 200, 33, END - 1, 4096)),  # −6
            ]
        ),
        data={200: h, 300: b"\x01" + h[1:]},
        oracle=oracle,
    )
    assert got == [len(data), data[0], 3, 0, 0, -7, -6, -6]


def test_reveal_generic() -> None:
    data = b"generic"
    h = preimage_hash(data)
    oracle = RevealOracle(METADATA)
    oracle.supply(h, data)
    got, _ = run_snippet(
        "\n".join(
            [
                rec(call("reveal", 200, 34, BUF, 4096)),  # 00 ‖ hash
                rec(call("reveal", 200, 33, BUF, 4096)),  # truncated request: empty
                rec(call("reveal", 250, 1, BUF, 4096)),  # metadata
                rec(call("reveal", 250, 2, BUF, 4096)),  # trailing byte: empty
                rec(call("reveal", 260, 8, BUF, 4096)),  # DAL page: not attested
                rec(call("reveal", 270, 1, BUF, 4096)),  # DAL parameters: none
                rec(call("reveal", 280, 1, BUF, 4096)),  # unknown tag
                rec(call("reveal", 200, 4097, BUF, 4096)),  # −7
                rec(call("reveal", END - 1, 2, BUF, 4096)),  # −6
            ]
        ),
        data={
            200: b"\x00" + h,
            250: b"\x01\x01",
            260: b"\x02" + bytes(7),
            270: b"\x03",
            280: b"\x09",
        },
        oracle=oracle,
    )
    assert got == [len(data), 0, 24, 0, 0, 0, 0, -7, -6]


def test_reveal_needs_v3() -> None:
    from executable.wasm import host, module_check
    from tests.executable.wasm_helpers import snippet_kernel

    kernel = snippet_kernel(rec(call("reveal", 250, 1, BUF, 24)), revision=Revision.V3)
    module_check.scan(kernel, host.offered(Revision.V3))
    with pytest.raises(module_check.KernelLoadError):
        module_check.scan(kernel, host.offered(Revision.V2))


def test_nds_imports_link_under_v6_and_answer_not_enabled() -> None:

    from tests.executable.wasm_helpers import feed, level, new_pvm, wat

    text = """(module
      (import "smart_rollup_core" "nds_registry_resize" (func $r (param i64) (result i32)))
      (import "smart_rollup_core" "write_output" (func $o (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "kernel_run")
        (i32.store (i32.const 0) (call $r (i64.const 1)))
        (drop (call $o (i32.const 0) (i32.const 4)))))"""
    pvm = new_pvm(wat(text))
    feed(pvm, 6, level())
    assert pvm.outbox_messages(6)[0].payload == (-16).to_bytes(4, "little", signed=True)
    pvm5 = new_pvm(wat(text), revision=Revision.V5)
    feed(pvm5, 6, level())
    assert pvm5.stuck is not None and "link error" in pvm5.stuck.reason


def test_failing_calls_cost_no_host_ticks() -> None:
    _, ok = run_snippet(rec(call("store_has", A, 2)), data=DATA)
    _, bad = run_snippet(rec(call("store_has", BAD, 5)), data=DATA)
    assert ok.runs[0].ticks_executed - bad.runs[0].ticks_executed == 42 * 2 + 1


def test_sol_constant() -> None:
    assert SOL == b"\x00\x01"
