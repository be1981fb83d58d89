"""Michelson text, canonical binary Micheline and PACK: Octez vectors, round trips, errors."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec.errors import EncodingError
from spec.michelson import (
    MAX_DEPTH,
    PRIMITIVES,
    Bytes,
    Int,
    Node,
    Prim,
    Seq,
    String,
    decode,
    encode,
    pack,
    parse_data,
    parse_type,
    prim_code,
    to_michelson,
    unpack,
)

# -- vectors from Octez --------------------------------------------------------

# `octez-client hash data TEXT of type TYPE` prints "Raw packed data: 0x05…".
# Source: tezos/tezos-mirror,
# tezt/tests/expected/hash_data.ml/Alpha- hash data ... of type ... (good).out
# (only cases where PACK of the typed value equals PACK of the literal as written).
HASH_DATA_VECTORS = [
    ("-92233720368547758089223372036854775807", "0500ffffffffffffffffff8180c09e91c191c79502"),
    ("-9223372036854775808", "0500c0808080808080808002"),
    ("-4611686018427387904", "0500c0808080808080808001"),
    ("-1", "050041"),
    ("0", "050000"),
    ("1", "050001"),
    ("2", "050002"),
    ("99999", "05009f9a0c"),
    ("1571659294", "05009ef8ecda0b"),
    ("4611686018427387903", "0500bfffffffffffffff7f"),
    ("9223372036854775807", "0500bfffffffffffffffff01"),
    ("92233720368547758079223372036854775807", "0500bfffbfe1eebeeeb8eaffffbf9e91c191c79502"),
    ("False", "050303"),
    ("True", "05030a"),
    ("Unit", "05030b"),
    ("None", "050306"),
    ("{}", "050200000000"),
    ("{ }", "050200000000"),
    ("{True; False}", "050200000004030a0303"),
    ("{-1; 0}", "05020000000400410000"),
    ("{ 0 ; 3 ; 4 }", "050200000006000000030004"),
    ("{ Some 10 ; None }", "0502000000060509000a0306"),
    ("{ Elt 0 0xCB ; Elt 1 0xAB }", "050200000014070400000a00000001cb070400010a00000001ab"),
    ("{ PUSH nat 1; ADD }", "0502000000080743036200010312"),
    ("0x", "050a00000000"),
    ("0xABCDEF42", "050a00000004abcdef42"),
    ('"foo"', "050100000003666f6f"),
    ('"ABC\\n123"', "0501000000074142430a313233"),
    ('Some "foo"', "0505090100000003666f6f"),
    ("(Left True)", "050505030a"),
    ('(Right "foo")', "0505080100000003666f6f"),
    ("(Pair 0 True)", "0507070000030a"),
    ("(Pair 0 (Pair True 0x))", "05070700000707030a0a00000000"),
]


@pytest.mark.parametrize(("text", "packed"), HASH_DATA_VECTORS)
def test_pack_matches_octez_client_hash_data(text: str, packed: str) -> None:
    node = parse_data(text)
    assert pack(node).hex() == packed
    assert unpack(bytes.fromhex(packed)) == node


# `octez-client convert data 'VALUE' from michelson to binary` outputs, as
# recorded in MIR's decoder tests. Source: tezos/tezos-mirror,
# contrib/mir/src/serializer/decode.rs (mod test).
MIR_VECTORS = [
    ("Unit", "030b"),
    ("True", "030a"),
    ("False", "0303"),
    ("0", "0000"),
    ("13", "000d"),
    ("63", "003f"),
    ("64", "008001"),
    ("123456789", "0095b4de75"),
    ("-36", "0064"),
    ("-63", "007f"),
    ("-64", "00c001"),
    ("-987654321", "00f1a2f3ad07"),
    ('Pair True ""', "0707030a0100000000"),
    ("Some Unit", "0509030b"),
    ("Elt True Unit", "0704030a030b"),
    ("{ DROP ; LAMBDA unit unit {} }", "02000000150320093100000009036c036c020000000000000000"),
    ('"abc"', "0100000003616263"),
    ("0x001234abff", "0a00000005001234abff"),
    ("{ {} ; { True } }", "020000000c02000000000200000002030a"),
    ("{ Pair 3 4 ; Pair 5 6 }", "020000000c070700030004070700050006"),
    ("(int %a)", "045b000000022561"),
    ("(int :a)", "045b000000023a61"),
    ("(int @abc123)", "045b0000000740616263313233"),
    ("(int %a :b @c %d)", "045b0000000b2561203a62204063202564"),
    ("(pair %a (int %b))", "0665045b000000022562000000022561"),
    (
        "LAMBDA (int %a) (int :b) {}",
        "093100000015045b000000022561045b000000023a62020000000000000000",
    ),
    (
        "LAMBDA (int %a %b %c %d) int {}",
        "093100000018045b0000000b2561202562202563202564035b020000000000000000",
    ),
]


@pytest.mark.parametrize(("text", "binary"), MIR_VECTORS)
def test_encoding_matches_octez_client_convert_data(text: str, binary: str) -> None:
    node = parse_data(text)
    assert encode(node).hex() == binary
    assert decode(bytes.fromhex(binary)) == node


def test_vectors_of_the_brief() -> None:
    assert encode(Int(0)) == bytes.fromhex("0000")
    assert encode(Prim("Unit")) == bytes.fromhex("030b")
    assert pack(String("a")).hex() == "05010000000161"


def test_long_string_and_list_lengths_are_four_bytes_big_endian() -> None:
    # contrib/mir/src/serializer/decode.rs: very_long_string, very_long_list
    assert encode(String("x" * 1000)) == bytes.fromhex("01000003e8") + b"x" * 1000
    assert encode(Seq((Prim("Unit"),) * 1000)) == bytes.fromhex("02000007d0") + b"\x03\x0b" * 1000


def test_primitive_codes() -> None:
    # contrib/kaitai-struct-files/alpha__script__prim.ksy (0..156) and
    # id_024__pttallin__*.ksy (157..160) in tezos/tezos-mirror
    assert len(PRIMITIVES) == 161 == len(set(PRIMITIVES))
    expected = {
        "parameter": 0, "Pair": 7, "Unit": 11, "PACK": 12, "ADD": 18, "DROP": 32,
        "LAMBDA": 49, "PUSH": 67, "RENAME": 88, "bool": 89, "int": 91, "nat": 98,
        "pair": 101, "unit": 108, "address": 110, "SLICE": 111, "ticket": 135,
        "view": 145, "constant": 146, "sapling_transaction": 150, "Lambda_rec": 152,
        "NAT": 156, "Ticket": 157, "IS_IMPLICIT_ACCOUNT": 158, "INDEX_ADDRESS": 159,
        "GET_ADDRESS_INDEX": 160,
    }  # fmt: skip
    assert {name: prim_code(name) for name in expected} == expected
    for code, name in enumerate(PRIMITIVES):
        assert encode(Prim(name)) == bytes((0x03, code))


def test_generic_tag_for_three_arguments_and_annotations() -> None:
    node = parse_data("Pair 1 2 3")
    assert node == Prim("Pair", (Int(1), Int(2), Int(3)))
    assert encode(node).hex() == "09070000000600010002000300000000"
    typed = parse_type("(pair %p nat nat nat)")
    assert encode(typed).hex() == "096500000006036203620362000000022570"


def test_parse_type_keeps_annotations() -> None:
    assert parse_type("or (int %a) (nat %b)") == Prim(
        "or", (Prim("int", (), ("%a",)), Prim("nat", (), ("%b",)))
    )
    assert parse_type("pair nat (list string)") == Prim(
        "pair", (Prim("nat"), Prim("list", (Prim("string"),)))
    )
    assert parse_type("(ticket :t @x string)") == Prim("ticket", (Prim("string"),), (":t", "@x"))
    assert parse_type("big_map string nat") == Prim("big_map", (Prim("string"), Prim("nat")))


# -- text syntax ----------------------------------------------------------------


def test_text_syntax() -> None:
    assert parse_data("Pair 1 2 3") == Prim("Pair", (Int(1), Int(2), Int(3)))
    assert parse_data("Pair (Pair 1 2) (Left (Some Unit))") == Prim(
        "Pair",
        (Prim("Pair", (Int(1), Int(2))), Prim("Left", (Prim("Some", (Prim("Unit"),)),))),
    )
    assert parse_data('"\\" \\\\ \\n \\t \\b \\r"') == String('" \\ \n \t \b \r')
    assert parse_data("0x00aB") == Bytes(b"\x00\xab")
    assert parse_data("-42") == Int(-42)
    assert parse_data("007") == Int(7)
    assert parse_data("{ 1 ; 2 ; }") == parse_data("{ ; 1 ; 2 }") == Seq((Int(1), Int(2)))
    assert parse_data("# comment\n Pair /* a /* nested */ b */ 1\n 2") == Prim(
        "Pair", (Int(1), Int(2))
    )
    assert parse_data("{ DUP @x ; PUSH @y nat 1 }") == Seq(
        (Prim("DUP", (), ("@x",)), Prim("PUSH", (Prim("nat"), Int(1)), ("@y",)))
    )
    # Leniency: octez-client wants this one in parentheses.
    assert parse_data("pair %p nat nat") == parse_data("(pair %p nat nat)")


def test_printer() -> None:
    node = Prim(
        "Pair",
        (Prim("Some", (Int(-1),)), Seq((Prim("Elt", (String("k\n"), Bytes(b"\x01"))),))),
    )
    assert to_michelson(node) == 'Pair (Some -1) { Elt "k\\n" 0x01 }'
    assert to_michelson(Prim("int", (), ("%a",))) == "(int %a)"
    assert to_michelson(Prim("pair", (Prim("int", (), ("%a",)), Prim("nat")))) == (
        "pair (int %a) nat"
    )
    assert to_michelson(Seq()) == "{}"
    assert to_michelson(Int(10**5000)) == "1" + "0" * 5000
    assert parse_data("-" + "9" * 5000) == Int(-(10**5000 - 1))


TEXT_ERRORS = [
    ("", "line 1, column 1: empty expression"),
    ("Pair 1 2 ;", "column 10: unexpected ';'"),
    ("1 2", "column 3: unexpected literal '2' after the end of the expression"),
    ("{ 1 2 }", "column 5: unexpected literal '2', expected ';' or '}'"),
    ("{ 1 ;; 2 }", "column 6: extra ';' in sequence"),
    ("{ 1 ; 2", "column 8: unclosed '{' opened at line 1, column 1"),
    ("Pair (Pair 1 2", "column 15: unclosed '(' opened at line 1, column 6"),
    ("Pair 1 2 )", "column 10: unexpected ')'"),
    ("(1)", "column 2: expected a primitive name after '(', found literal '1'"),
    ("{ (Pair 1 2) }", "column 3: a sequence item cannot be in parentheses"),
    ("Foo 1", "column 1: unknown primitive 'Foo'"),
    ("pair nat %a nat", "annotation '%a' on argument 'nat' must be written in parentheses"),
    ("Pair 1 2 %a", "annotation '%a' must come right after the primitive name"),
    ('"abc', "column 1: unterminated string"),
    ('"ab\ncd"', "column 1: unterminated string"),
    ('"a\\qb"', "column 3: undefined escape sequence '\\\\q'"),
    ('"a\tb"', "column 3: non-printable character U+0009"),
    ('"caf\u00e9"', "column 5: non-printable character U+00E9"),
    ("0x123", "odd number of hex digits in '0x123'"),
    ("12ab", "column 3: missing space between '12' and 'a'"),
    ("0xabz", "column 5: missing space between '0xab' and 'z'"),
    ("-", "'-' must be followed by a digit"),
    ("-0x12", "a byte string cannot be negative"),
    ("/* x", "unterminated comment"),
    ("Pair\t1", "column 5: unexpected character '\\t'"),
    ("Pair\n  1 ]", "line 2, column 5: unexpected character ']'"),
    ("(int %" + "a" * 255 + ")", "annotation longer than 255 characters"),
]


@pytest.mark.parametrize(("text", "message"), TEXT_ERRORS)
def test_text_errors_name_position_and_token(text: str, message: str) -> None:
    with pytest.raises(EncodingError, match="Michelson syntax error") as caught:
        parse_data(text)
    assert message in str(caught.value)


def test_text_nesting_limit() -> None:
    deep_ok = "Some (" * (MAX_DEPTH - 2) + "Some Unit" + ")" * (MAX_DEPTH - 2)
    node = parse_data(deep_ok)
    assert parse_data(to_michelson(node)) == node
    with pytest.raises(EncodingError, match=f"nests deeper than {MAX_DEPTH}"):
        parse_data("{" * (MAX_DEPTH + 1) + "}" * (MAX_DEPTH + 1))


def test_printer_rejects_what_text_cannot_express() -> None:
    with pytest.raises(EncodingError, match=r"U\+00E9 at index 3"):
        to_michelson(String("caf\u00e9"))
    with pytest.raises(EncodingError, match="unknown Michelson primitive 'Foo'"):
        to_michelson(Seq((Prim("Foo"),)))
    with pytest.raises(EncodingError, match="invalid annotation 'a'"):
        to_michelson(Prim("int", (), ("a",)))


# -- binary errors --------------------------------------------------------------

BINARY_ERRORS = [
    ("", "offset 0: truncated node tag"),
    ("03", "offset 1: truncated primitive code"),
    ("0700", "offset 2: truncated node tag"),
    ("030b00", "offset 2: 1 trailing byte(s) after the expression"),
    ("ff", "offset 0: unknown node tag 0xff"),
    ("0b", "offset 0: unknown node tag 0x0b"),
    ("03ff", "offset 1: unknown primitive code 0xff"),
    ("03a1", "offset 1: unknown primitive code 0xa1"),
    ("0080", "offset 1: truncated integer"),
    # contrib/mir/src/serializer/decode.rs: trailing_zero_rejected (Octez Trailing_zero)
    ("008100", "offset 2: non-canonical integer: trailing zero byte"),
    ("008000", "offset 2: non-canonical integer: trailing zero byte"),
    ("00b9c08100", "offset 4: non-canonical integer: trailing zero byte"),
    ("00c1c08100", "offset 4: non-canonical integer: trailing zero byte"),
    ("010000", "offset 1: truncated length of string"),
    ("0100000001", "offset 1: string declares 1 byte(s), only 0 left"),
    ("01ffffffff", "offset 1: length 4294967295 of string exceeds 1073741823"),
    ("0100000002c328", "offset 5: string is not valid UTF-8"),
    ("0100000001ff", "offset 5: string is not valid UTF-8"),
    ("0a00000003abcd", "offset 1: bytes declares 3 byte(s), only 2 left"),
    ("02000000050000", "offset 1: sequence declares 5 byte(s), only 2 left"),
    # an item running past the end of its sequence
    ("020000000100", "offset 6: truncated integer"),
    ("0200000002010000000161", "offset 6: truncated length of string"),
    ("0965000000020362", "offset 8: truncated length of annotation string"),
    ("046c", "offset 2: truncated length of annotation string"),
    # contrib/mir/src/serializer/decode.rs: bad_annotations
    ("045b00000002257f", "offset 2: invalid annotation '%\\x7f'"),
    ("045b000000026161", "offset 2: invalid annotation 'aa'"),
    ("045b0000000325612000", "invalid annotation '' in annotation string '%a '"),
    ("045b00000002c3a9", "offset 2: annotation string b'\\xc3\\xa9' is not ASCII"),
]


@pytest.mark.parametrize(("hex_data", "message"), BINARY_ERRORS)
def test_binary_errors_name_offset_and_problem(hex_data: str, message: str) -> None:
    with pytest.raises(EncodingError, match="malformed Micheline at byte offset") as caught:
        decode(bytes.fromhex(hex_data))
    assert message in str(caught.value)


def test_oversized_annotation() -> None:
    # Octez caps an annotation at 255 bytes, sigil included (micheline_parser.ml).
    ok = "@" + "a" * 254
    assert decode(encode(Prim("True", (), (ok,)))) == Prim("True", (), (ok,))
    too_long = bytes.fromhex("040a00000100") + b"@" + b"a" * 255
    with pytest.raises(EncodingError, match="annotation of 256 bytes exceeds 255"):
        decode(too_long)
    with pytest.raises(EncodingError, match="annotation of 256 bytes exceeds 255"):
        encode(Prim("True", (), ("@" + "a" * 255,)))


def test_binary_nesting_limit() -> None:
    deepest = bytes.fromhex("0509") * (MAX_DEPTH - 1) + bytes.fromhex("030b")
    node = decode(deepest)
    assert encode(node) == deepest
    assert node == decode(deepest) and hash(node) == hash(decode(deepest))
    assert repr(node).startswith("Prim('Some', (Prim('Some', ")
    with pytest.raises(EncodingError, match=f"offset {2 * MAX_DEPTH}: expression nests deeper"):
        decode(bytes.fromhex("0509") * MAX_DEPTH + bytes.fromhex("030b"))
    too_deep = Prim("Some", (node,))
    with pytest.raises(EncodingError, match=f"nests deeper than {MAX_DEPTH}"):
        encode(too_deep)
    with pytest.raises(EncodingError, match=f"nests deeper than {MAX_DEPTH}"):
        to_michelson(too_deep)


def test_non_minimal_forms_that_octez_also_accepts() -> None:
    # A reader cannot tell these apart from the minimal form; Octez accepts them.
    assert decode(bytes.fromhex("0040")) == Int(0)  # -0
    assert decode(bytes.fromhex("09650000000000000000")) == Prim("pair")  # tag 9, no args
    assert decode(bytes.fromhex("046c00000000")) == Prim("unit")  # tag 4, no annots
    assert encode(Prim("pair")).hex() == "0365"


def test_encode_errors() -> None:
    with pytest.raises(EncodingError, match="unknown Michelson primitive 'pear'"):
        encode(Prim("Pair", (Prim("pear"),)))
    with pytest.raises(EncodingError, match="primitive int: invalid annotation '%a b'"):
        encode(Prim("int", (), ("%a b",)))
    with pytest.raises(EncodingError, match="cannot be encoded in UTF-8"):
        encode(String("\ud800"))


def test_unpack_requires_the_pack_tag() -> None:
    with pytest.raises(EncodingError, match="must start with the 0x05 tag"):
        unpack(bytes.fromhex("030b"))
    with pytest.raises(EncodingError, match=r"after the 0x05 tag.*offset 1: truncated"):
        unpack(bytes.fromhex("0503"))


def test_nodes_are_frozen_hashable_and_picklable() -> None:
    node = parse_data('Pair 1 "a" 0x00 { Unit }')
    with pytest.raises(AttributeError):
        Prim("Pair").name = "Left"  # type: ignore[misc]
    assert {node: 1}[parse_data('Pair 1 "a" 0x00 { Unit }')] == 1
    assert pickle.loads(pickle.dumps(node)) == node
    assert Int(1) != String("1") and Int(1) != Bytes(b"\x01") and Prim("Unit") != Seq()
    assert (
        repr(node) == "Prim('Pair', (Int(1), String('a'), Bytes(b'\\x00'), Seq((Prim('Unit'),))))"
    )
    with pytest.raises(TypeError):
        Prim("Pair", [Int(1)])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Int(True)


# -- properties -----------------------------------------------------------------

ANNOTS = st.lists(st.from_regex(r"[@:$&%!?][A-Za-z0-9_.%@]{0,6}", fullmatch=True), max_size=3)
INTS = st.integers() | st.integers(min_value=-(2**200), max_value=2**200)
PRINTABLE = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("\n\t\b\r")
)
UNICODE = st.text(st.characters(codec="utf-8"))


def micheline(strings: st.SearchStrategy[str]) -> st.SearchStrategy[Node]:
    leaves: st.SearchStrategy[Node] = st.one_of(
        st.builds(Int, INTS),
        st.builds(String, strings),
        st.builds(Bytes, st.binary(max_size=16)),
        st.builds(Prim, st.sampled_from(PRIMITIVES), st.just(()), ANNOTS.map(tuple)),
    )

    def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        items = st.lists(children, max_size=4).map(tuple)
        return st.builds(Prim, st.sampled_from(PRIMITIVES), items, ANNOTS.map(tuple)) | st.builds(
            Seq, items
        )

    return st.recursive(leaves, extend, max_leaves=16)


@given(micheline(UNICODE))
def test_binary_round_trip(node: Node) -> None:
    data = encode(node)
    assert decode(data) == node
    assert unpack(pack(node)) == node
    assert hash(decode(data)) == hash(node)


@given(micheline(PRINTABLE))
def test_text_round_trip(node: Node) -> None:
    text = to_michelson(node)
    parsed = parse_data(text)
    assert parsed == node
    assert to_michelson(parsed) == text
    assert encode(parse_type(text)) == encode(node)


@given(micheline(UNICODE), st.data())
def test_every_strict_prefix_is_truncated(node: Node, data: st.DataObject) -> None:
    encoded = encode(node)
    cut = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    with pytest.raises(EncodingError, match="malformed Micheline"):
        decode(encoded[:cut])


@given(st.binary(max_size=64))
def test_decode_is_total(data: bytes) -> None:
    try:
        node = decode(data)
    except EncodingError:
        return
    assert decode(encode(node)) == node


TEXT_PIECES = [
    "Pair", "Unit", "nat", "Foo", "{", "}", "(", ")", ";", '"a', '"', "\\", "1", "-", "0x0a",
    "%a", "@b", " ", "\n", "\t", "#c\n", "/*", "*/", "\u00e9",
]  # fmt: skip


@given(st.lists(st.sampled_from(TEXT_PIECES), max_size=16).map("".join))
def test_parse_is_total(text: str) -> None:
    try:
        node = parse_data(text)
    except EncodingError:
        return
    assert parse_data(to_michelson(node)) == node
