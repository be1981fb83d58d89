"""Michelson values and types: Micheline text, canonical binary, PACK.

Micheline is the generic tree syntax of Michelson: an expression is an
integer, a string, a byte string, a primitive application ``Name annot* arg*``
or a sequence ``{ e ; e ; ... }``. This module reads it from text (the
``payload`` field of an ``octez-smart-rollup-wasm-debugger`` inputs file, the
arguments of ``octez-client``), prints it back, and converts it to and from the
canonical binary form used in operations, inbox messages and ``PACK``.

Every decoder is total on untrusted input: malformed text or bytes raise
:class:`~spec.errors.EncodingError` naming what is wrong and where. No function
here recurses on the tree, so nesting is bounded only by :data:`MAX_DEPTH`, not
by Python's recursion limit; node equality, hashing and ``repr`` are iterative
as well.

Octez sources:

* ``src/lib_micheline/micheline_encoding.ml`` — binary node tags, annotation
  string (``canonical_encoding`` = semantics ``V2``);
* ``src/lib_micheline/micheline_parser.ml`` — lexer, grammar, ``check_annot``;
* ``src/proto_alpha/lib_protocol/michelson_v1_primitives.ml`` — the one-byte
  primitive codes (``prim_encoding``), also listed in
  ``contrib/kaitai-struct-files/*__script__prim.ksy``;
* ``src/proto_alpha/lib_protocol/script_repr.ml`` — ``expr_encoding``;
* data-encoding ``src/binary_reader.ml`` / ``binary_writer.ml`` — Zarith ``z``,
  ``uint30`` length prefixes of ``string``, ``bytes`` and ``list``.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Iterable
from typing import Final, TypeAlias, cast

import attrs

from spec.errors import EncodingError

__all__ = [
    "MAX_ANNOT_LENGTH",
    "MAX_DEPTH",
    "PRIMITIVES",
    "Bytes",
    "Int",
    "Node",
    "Prim",
    "Seq",
    "String",
    "decode",
    "encode",
    "pack",
    "parse_data",
    "parse_type",
    "prim_code",
    "to_michelson",
    "unpack",
]

MAX_DEPTH: Final = 10_000
"""Deepest nesting accepted anywhere (the root has depth 1, each child one more).

Octez has no such bound (its readers run on an 8 MiB OCaml stack); this is the
specification's own guard against resource exhaustion.
"""

MAX_ANNOT_LENGTH: Final = 255
"""Longest annotation, in bytes. Octez: ``micheline_parser.ml``, ``max_annot_length``."""

_MAX_UINT30: Final = (1 << 30) - 1
_PACK_TAG: Final = b"\x05"

# -- primitives ---------------------------------------------------------------

PRIMITIVES: Final[tuple[str, ...]] = (
    # 0x00 keywords and data constructors
    "parameter", "storage", "code", "False", "Elt", "Left", "None", "Pair",
    "Right", "Some", "True", "Unit",
    # 0x0c instructions
    "PACK", "UNPACK", "BLAKE2B", "SHA256", "SHA512", "ABS", "ADD", "AMOUNT",
    "AND", "BALANCE", "CAR", "CDR", "CHECK_SIGNATURE", "COMPARE", "CONCAT",
    "CONS", "CREATE_ACCOUNT", "CREATE_CONTRACT", "IMPLICIT_ACCOUNT", "DIP",
    "DROP", "DUP", "EDIV", "EMPTY_MAP", "EMPTY_SET", "EQ", "EXEC", "FAILWITH",
    "GE", "GET", "GT", "HASH_KEY", "IF", "IF_CONS", "IF_LEFT", "IF_NONE", "INT",
    "LAMBDA", "LE", "LEFT", "LOOP", "LSL", "LSR", "LT", "MAP", "MEM", "MUL",
    "NEG", "NEQ", "NIL", "NONE", "NOT", "NOW", "OR", "PAIR", "PUSH", "RIGHT",
    "SIZE", "SOME", "SOURCE", "SENDER", "SELF", "STEPS_TO_QUOTA", "SUB", "SWAP",
    "TRANSFER_TOKENS", "SET_DELEGATE", "UNIT", "UPDATE", "XOR", "ITER",
    "LOOP_LEFT", "ADDRESS", "CONTRACT", "ISNAT", "CAST", "RENAME",
    # 0x59 types
    "bool", "contract", "int", "key", "key_hash", "lambda", "list", "map",
    "big_map", "nat", "option", "or", "pair", "set", "signature", "string",
    "bytes", "mutez", "timestamp", "unit", "operation", "address",
    # 0x6f later additions, in the order protocols appended them
    "SLICE", "DIG", "DUG", "EMPTY_BIG_MAP", "APPLY", "chain_id", "CHAIN_ID",
    "LEVEL", "SELF_ADDRESS", "never", "NEVER", "UNPAIR", "VOTING_POWER",
    "TOTAL_VOTING_POWER", "KECCAK", "SHA3", "PAIRING_CHECK", "bls12_381_g1",
    "bls12_381_g2", "bls12_381_fr", "sapling_state",
    "sapling_transaction_deprecated", "SAPLING_EMPTY_STATE",
    "SAPLING_VERIFY_UPDATE", "ticket", "TICKET_DEPRECATED", "READ_TICKET",
    "SPLIT_TICKET", "JOIN_TICKETS", "GET_AND_UPDATE", "chest", "chest_key",
    "OPEN_CHEST", "VIEW", "view", "constant", "SUB_MUTEZ",
    "tx_rollup_l2_address", "MIN_BLOCK_TIME", "sapling_transaction", "EMIT",
    "Lambda_rec", "LAMBDA_REC", "TICKET", "BYTES", "NAT", "Ticket",
    "IS_IMPLICIT_ACCOUNT", "INDEX_ADDRESS", "GET_ADDRESS_INDEX",
)  # fmt: skip
"""Primitive names by one-byte code: ``PRIMITIVES[code]``.

The binary form of a primitive is its index in the ``string_enum`` of
``prim_encoding``; new primitives are only ever appended. Octez:
``michelson_v1_primitives.ml``; codes 0x9d–0xa0 (``Ticket``,
``IS_IMPLICIT_ACCOUNT``, ``INDEX_ADDRESS``, ``GET_ADDRESS_INDEX``) as listed in
``contrib/kaitai-struct-files/id_024__pttallin__*.ksy``.
"""

_PRIM_CODES: Final[dict[str, int]] = {name: code for code, name in enumerate(PRIMITIVES)}


def prim_code(name: str) -> int:
    """The one-byte code of primitive ``name``; unknown names are an :class:`EncodingError`."""
    code = _PRIM_CODES.get(name)
    if code is None:
        raise EncodingError(f"unknown Michelson primitive {name!r}")
    return code


_ANNOT_RE: Final = re.compile(r"[@:$&%!?][A-Za-z0-9_.%@]*")
_IDENT_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _annot_problem(annot: str) -> str | None:
    """Why ``annot`` is not a valid annotation, or ``None`` if it is.

    An annotation is one lexer token: a sigil among ``@ : $ & % ! ?`` then
    letters, digits and ``_ . % @``, at most 255 bytes. Octez:
    ``micheline_parser.ml``, ``check_annot``.
    """
    if len(annot) > MAX_ANNOT_LENGTH:
        return f"annotation of {len(annot)} bytes exceeds {MAX_ANNOT_LENGTH}"
    if not _ANNOT_RE.fullmatch(annot):
        return f"invalid annotation {annot!r}"
    return None


# -- nodes --------------------------------------------------------------------


class _NodeBase:
    """Iterative ``==``, ``hash`` and ``repr`` shared by the node classes.

    attrs would generate recursive ones, which fail a few hundred levels deep;
    these walk the tree with an explicit stack, in time linear in its size.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _NodeBase):
            return NotImplemented
        return _equal(cast("Node", self), cast("Node", other))

    def __hash__(self) -> int:
        return _hash(cast("Node", self))

    def __repr__(self) -> str:
        return _render(cast("Node", self), _repr_parts, validate=False)


@attrs.frozen(eq=False, repr=False)
class Int(_NodeBase):
    """An integer literal, of any size."""

    value: int

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.value, int) or isinstance(self.value, bool):
            raise TypeError(f"Int value must be an int, got {type(self.value).__name__}")


@attrs.frozen(eq=False, repr=False)
class String(_NodeBase):
    """A string literal (Unicode; its binary form is UTF-8)."""

    value: str

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise TypeError(f"String value must be a str, got {type(self.value).__name__}")


@attrs.frozen(eq=False, repr=False)
class Bytes(_NodeBase):
    """A byte-string literal, written ``0x…`` in text."""

    value: bytes

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.value, bytes):
            raise TypeError(f"Bytes value must be bytes, got {type(self.value).__name__}")


@attrs.frozen(eq=False, repr=False)
class Prim(_NodeBase):
    """A primitive application: name, arguments, annotations (``%a``, ``:t``, ``@x``).

    Arguments are kept as written: ``Pair 1 2 3`` has three arguments.
    """

    name: str
    args: tuple[Node, ...] = ()
    annots: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"Prim name must be a str, got {type(self.name).__name__}")
        _check_children("Prim args", self.args)
        if not isinstance(self.annots, tuple) or not all(isinstance(a, str) for a in self.annots):
            raise TypeError("Prim annots must be a tuple of str")


@attrs.frozen(eq=False, repr=False)
class Seq(_NodeBase):
    """A sequence ``{ e ; e ; ... }``: lists, sets, maps, code blocks."""

    items: tuple[Node, ...] = ()

    def __attrs_post_init__(self) -> None:
        _check_children("Seq items", self.items)


Node: TypeAlias = Int | String | Bytes | Prim | Seq
_NODE_TYPES: Final = (Int, String, Bytes, Prim, Seq)


def _check_children(what: str, children: object) -> None:
    if not isinstance(children, tuple) or not all(isinstance(c, _NODE_TYPES) for c in children):
        raise TypeError(f"{what} must be a tuple of nodes")


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Prim):
        return node.args
    if isinstance(node, Seq):
        return node.items
    return ()


def _equal(a: Node, b: Node) -> bool:
    """Structural equality, walking both trees side by side."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if x is y:
            continue
        if isinstance(x, Prim) and isinstance(y, Prim):
            if x.name != y.name or x.annots != y.annots or len(x.args) != len(y.args):
                return False
        elif isinstance(x, Seq) and isinstance(y, Seq):
            if len(x.items) != len(y.items):
                return False
        elif isinstance(x, Int | String | Bytes) and isinstance(y, Int | String | Bytes):
            if type(x) is not type(y) or x.value != y.value:
                return False
        else:
            return False
        pending.extend(zip(_children(x), _children(y), strict=True))
    return True


def _hash(root: Node) -> int:
    """Hash of the tree, from the hashes of the subtrees, computed bottom-up."""
    done: list[int] = []
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children and not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
            continue
        sub = tuple(done[len(done) - len(children) :])
        del done[len(done) - len(children) :]
        if isinstance(node, Prim):
            done.append(hash((Prim, node.name, node.annots, sub)))
        elif isinstance(node, Seq):
            done.append(hash((Seq, sub)))
        else:
            done.append(hash((type(node), node.value)))
    return done[0]


# -- rendering (text and repr) ------------------------------------------------

# A position in the output: top level, argument of a primitive, sequence item.
_TOP: Final = 0
_ARG: Final = 1
_ITEM: Final = 2

_Part: TypeAlias = str | tuple[Node, int]
_Expand: TypeAlias = Callable[[Node, int], list[_Part]]


def _render(root: Node, expand: _Expand, *, validate: bool) -> str:
    """Concatenate the text of ``root``: ``expand`` turns a node into text and
    (child, position) parts, consumed left to right with an explicit stack."""
    out: list[str] = []
    stack: list[tuple[_Part, int]] = [((root, _TOP), 1)]
    while stack:
        part, depth = stack.pop()
        if isinstance(part, str):
            out.append(part)
            continue
        if validate and depth > MAX_DEPTH:
            raise EncodingError(f"Michelson expression nests deeper than {MAX_DEPTH} levels")
        stack.extend((p, depth + 1) for p in reversed(expand(*part)))
    return "".join(out)


def _int_to_str(value: int) -> str:
    """Decimal digits of ``value``, beyond CPython's 4,300-digit ``str(int)`` limit too."""
    if value.bit_length() < 13_000:
        return str(value)
    return format(decimal.Decimal(value), "f")


def _str_to_int(digits: str) -> int:
    """Parse ``-?[0-9]+``, beyond CPython's 4,300-digit ``int(str)`` limit too."""
    if len(digits) < 4_000:
        return int(digits)
    return int(decimal.Decimal(digits))


def _repr_parts(node: Node, _position: int) -> list[_Part]:
    """``Int(1)``, ``String('a')``, ``Prim('Pair', (Int(1), Int(2)))``, ``Seq((…,))``."""
    if isinstance(node, Int):
        return [f"Int({_int_to_str(node.value)})"]
    if isinstance(node, String | Bytes):
        return [f"{type(node).__name__}({node.value!r})"]
    children = _children(node)
    if isinstance(node, Prim):
        parts: list[_Part] = [f"Prim({node.name!r}"]
        tail = f", {node.annots!r})" if node.annots else ")"
        opening = ", (" if children or node.annots else ""
    else:
        parts, tail, opening = ["Seq("], ")", "(" if children else ""
    if opening:
        parts.append(opening)
        for i, child in enumerate(children):
            parts.extend((", ", (child, _ARG)) if i else ((child, _ARG),))
        parts.append(",)" if len(children) == 1 else ")")
    parts.append(tail)
    return parts


_STRING_CHARS_RE: Final = re.compile(r"[\x20-\x7e\n\t\b\r]*")
_STRING_ESCAPES: Final = str.maketrans(
    {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\b": "\\b", "\r": "\\r"}
)


def _quote(value: str) -> str:
    """A Michelson string literal: printable ASCII, ``\\" \\\\ \\n \\t \\b \\r`` escaped.

    Other characters cannot be written in Michelson text. Octez:
    ``micheline_parser.ml`` (escapes), ``micheline_printer.ml``.
    """
    match = _STRING_CHARS_RE.match(value)
    assert match is not None
    if match.end() != len(value):
        bad = value[match.end()]
        raise EncodingError(
            f"string {value[:40]!r} has character U+{ord(bad):04X} at index {match.end()}, "
            "which Michelson text cannot express (printable ASCII and \\n \\t \\b \\r only)"
        )
    return '"' + value.translate(_STRING_ESCAPES) + '"'


def _check_prim(node: Prim) -> None:
    prim_code(node.name)
    for annot in node.annots:
        problem = _annot_problem(annot)
        if problem is not None:
            raise EncodingError(f"primitive {node.name}: {problem}")


def _text_parts(node: Node, position: int) -> list[_Part]:
    if isinstance(node, Int):
        return [_int_to_str(node.value)]
    if isinstance(node, String):
        return [_quote(node.value)]
    if isinstance(node, Bytes):
        return ["0x" + node.value.hex()]
    if isinstance(node, Seq):
        if not node.items:
            return ["{}"]
        parts: list[_Part] = ["{ "]
        for i, item in enumerate(node.items):
            parts.extend([" ; "] if i else [])
            parts.append((item, _ITEM))
        parts.append(" }")
        return parts
    _check_prim(node)
    parts = [" ".join((node.name, *node.annots))]
    for arg in node.args:
        parts.extend((" ", (arg, _ARG)))
    wrap = (
        bool(node.annots)
        if position == _TOP
        else position == _ARG and bool(_children(node) or node.annots)
    )
    return ["(", *parts, ")"] if wrap else parts


def to_michelson(node: Node) -> str:
    """Michelson text for ``node``, which :func:`parse_data` reads back to ``node``.

    Arguments that are applications with arguments or annotations are put in
    parentheses; so is an annotated application at top level, as
    ``octez-client`` requires. Raises :class:`EncodingError` for what Michelson
    text cannot express: unknown primitives, invalid annotations, strings with
    characters outside printable ASCII and ``\\n \\t \\b \\r``, nesting deeper
    than :data:`MAX_DEPTH`.
    """
    return _render(node, _text_parts, validate=True)


# -- text: lexer --------------------------------------------------------------

_EOF: Final = "end of input"
_LITERAL: Final = "literal"
_IDENT: Final = "identifier"
_ANNOT: Final = "annotation"
_PUNCTUATION: Final = frozenset("{}();")


@attrs.frozen
class _Token:
    """A lexer token: ``kind`` is a punctuation character or one of the names above."""

    kind: str
    pos: int
    text: str
    node: Int | String | Bytes | None = None


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"at line {line}, column {column}"


def _text_error(text: str, pos: int, message: str) -> EncodingError:
    return EncodingError(f"Michelson syntax error {_where(text, pos)}: {message}")


def _describe(token: _Token) -> str:
    if token.kind == _EOF:
        return _EOF
    shown = token.text if len(token.text) <= 24 else token.text[:21] + "..."
    return f"{token.kind} {shown!r}" if token.kind not in _PUNCTUATION else repr(shown)


_NUMBER_RE: Final = re.compile(r"-?[0-9]+")
_HEX_RE: Final = re.compile(r"0x([0-9a-fA-F]*)")
_STRING_RUN_RE: Final = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]+")
_ESCAPED: Final = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "b": "\b", "r": "\r"}


def _lex_string(text: str, start: int) -> tuple[_Token, int]:
    """A ``"…"`` literal starting at ``start``; returns the token and the end offset.

    Raw characters must be printable ASCII; ``\\" \\\\ \\n \\t \\b \\r`` are
    the only escapes. Octez: ``micheline_parser.ml``, ``tokenize`` (``string``).
    """
    chunks: list[str] = []
    i = start + 1
    while True:
        run = _STRING_RUN_RE.match(text, i)
        if run:
            chunks.append(run.group())
            i = run.end()
        if i >= len(text) or text[i] in "\n\r":
            raise _text_error(text, start, "unterminated string")
        char = text[i]
        if char == '"':
            value = "".join(chunks)
            return _Token(_LITERAL, start, text[start : i + 1], String(value)), i + 1
        if char == "\\":
            if i + 1 >= len(text):
                raise _text_error(text, start, "unterminated string")
            escaped = _ESCAPED.get(text[i + 1])
            if escaped is None:
                raise _text_error(
                    text, i, f"undefined escape sequence {text[i : i + 2]!r} in string"
                )
            chunks.append(escaped)
            i += 2
            continue
        raise _text_error(
            text, i, f"non-printable character U+{ord(char):04X} in string (escape it or remove it)"
        )


def _lex_number(text: str, start: int) -> tuple[_Token, int]:
    """An integer ``-?[0-9]+`` or a byte string ``0x[0-9a-fA-F]*`` (even length).

    A number glued to a letter (``12ab``) is an error, as in Octez
    (``Missing_break_after_number``).
    """
    hexa = _HEX_RE.match(text, start)
    if hexa:
        digits, end = hexa.group(1), hexa.end()
        if len(digits) % 2:
            raise _text_error(text, start, f"odd number of hex digits in {hexa.group()!r}")
        token = _Token(_LITERAL, start, hexa.group(), Bytes(bytes.fromhex(digits)))
    elif text.startswith("-0x", start):
        raise _text_error(text, start, "a byte string cannot be negative")
    else:
        number = _NUMBER_RE.match(text, start)
        if number is None:
            raise _text_error(text, start, "'-' must be followed by a digit")
        end = number.end()
        token = _Token(_LITERAL, start, number.group(), Int(_str_to_int(number.group())))
    if end < len(text) and text[end].isascii() and text[end].isalpha():
        raise _text_error(text, end, f"missing space between {token.text!r} and {text[end]!r}")
    return token, end


def _skip_comment(text: str, start: int) -> int:
    """End of the ``/* … */`` comment opened at ``start`` (comments nest)."""
    level, i = 0, start + 2
    while True:
        close, reopen = text.find("*/", i), text.find("/*", i)
        if close < 0:
            raise _text_error(text, start, "unterminated comment")
        if 0 <= reopen < close:
            level, i = level + 1, reopen + 2
        elif level:
            level, i = level - 1, close + 2
        else:
            return close + 2


def _tokenize(text: str) -> list[_Token]:
    """Split Michelson text into tokens, the last one being end of input.

    Whitespace is space and newline only; ``#`` comments run to the end of the
    line, ``/* */`` comments nest. Octez: ``micheline_parser.ml``, ``tokenize``.
    """
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in " \n":
            i += 1
        elif char == "#":
            newline = text.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            i = _skip_comment(text, i)
        elif char in _PUNCTUATION:
            tokens.append(_Token(char, i, char))
            i += 1
        elif char == '"':
            token, i = _lex_string(text, i)
            tokens.append(token)
        elif char == "-" or "0" <= char <= "9":
            token, i = _lex_number(text, i)
            tokens.append(token)
        elif ident := _IDENT_RE.match(text, i):
            tokens.append(_Token(_IDENT, i, ident.group()))
            i = ident.end()
        elif annot := _ANNOT_RE.match(text, i):
            if len(annot.group()) > MAX_ANNOT_LENGTH:
                raise _text_error(text, i, f"annotation longer than {MAX_ANNOT_LENGTH} characters")
            tokens.append(_Token(_ANNOT, i, annot.group()))
            i = annot.end()
        else:
            raise _text_error(text, i, f"unexpected character {char!r}")
    tokens.append(_Token(_EOF, n, ""))
    return tokens


# -- text: parser -------------------------------------------------------------


@attrs.define
class _SeqFrame:
    """An open ``{``: items so far; whether an item or a ``;`` came last."""

    open_pos: int
    items: list[Node] = attrs.Factory(list)
    after_item: bool = False
    after_semi: bool = False


@attrs.define
class _AppFrame:
    """An open application: wrapped in ``( )``, or bare (top level or sequence item)."""

    name: str
    annots: tuple[str, ...]
    open_pos: int
    wrapped: bool
    in_seq: bool
    args: list[Node] = attrs.Factory(list)

    def node(self) -> Prim:
        return Prim(self.name, tuple(self.args), self.annots)


@attrs.define
class _Parser:
    """Iterative parser over the token list (no recursion, depth bounded by MAX_DEPTH).

    Grammar, after ``micheline_parser.ml`` (``parse_expression``)::

        top  := atom | seq | app | '(' app ')'
        app  := IDENT ANNOT* arg*          -- up to ';' or '}' in a sequence
        arg  := atom | seq | IDENT | '(' app ')'
        seq  := '{' [ item (';' item)* ] [';'] '}'     -- also one leading ';'
        item := atom | seq | app
        atom := INT | STRING | BYTES
    """

    text: str
    tokens: list[_Token]
    i: int = 0
    stack: list[_SeqFrame | _AppFrame] = attrs.Factory(list)
    result: Node | None = None

    def error(self, token: _Token, message: str) -> EncodingError:
        return _text_error(self.text, token.pos, message)

    def unexpected(self, token: _Token, context: str = "") -> EncodingError:
        return self.error(token, f"unexpected {_describe(token)}{context}")

    def check_depth(self, token: _Token) -> None:
        if len(self.stack) + 1 > MAX_DEPTH:
            raise self.error(token, f"expression nests deeper than {MAX_DEPTH} levels")

    def deliver(self, node: Node) -> None:
        if not self.stack:
            self.result = node
            return
        frame = self.stack[-1]
        if isinstance(frame, _SeqFrame):
            frame.items.append(node)
            frame.after_item, frame.after_semi = True, False
        else:
            frame.args.append(node)

    def literal(self, token: _Token) -> None:
        assert token.node is not None
        self.check_depth(token)
        self.deliver(token.node)
        self.i += 1

    def prim_name(self, token: _Token) -> str:
        if token.text not in _PRIM_CODES:
            raise self.error(token, f"unknown primitive {token.text!r}")
        return token.text

    def open_seq(self, token: _Token) -> None:
        self.check_depth(token)
        self.stack.append(_SeqFrame(token.pos))
        self.i += 1

    def open_app(self, *, wrapped: bool, in_seq: bool) -> None:
        """Open an application at ``tokens[i]`` (``(`` if ``wrapped``, else its name)."""
        start = self.tokens[self.i]
        if wrapped:
            self.i += 1
            if self.tokens[self.i].kind != _IDENT:
                raise self.error(
                    self.tokens[self.i],
                    f"expected a primitive name after '(', found {_describe(self.tokens[self.i])}",
                )
        self.check_depth(start)
        name = self.prim_name(self.tokens[self.i])
        self.i += 1
        annots: list[str] = []
        while self.tokens[self.i].kind == _ANNOT:
            annots.append(self.tokens[self.i].text)
            self.i += 1
        self.stack.append(_AppFrame(name, tuple(annots), start.pos, wrapped, in_seq))

    def close(self) -> None:
        frame = self.stack.pop()
        self.deliver(frame.node() if isinstance(frame, _AppFrame) else Seq(tuple(frame.items)))

    def step_top(self, token: _Token) -> None:
        if self.result is not None:
            raise self.unexpected(token, " after the end of the expression")
        if token.kind == _LITERAL:
            self.literal(token)
        elif token.kind == "{":
            self.open_seq(token)
        elif token.kind == _IDENT:
            self.open_app(wrapped=False, in_seq=False)
        elif token.kind == "(":
            self.open_app(wrapped=True, in_seq=False)
        elif token.kind == _EOF:
            raise self.error(token, "empty expression")
        else:
            raise self.unexpected(token)

    def step_seq(self, frame: _SeqFrame, token: _Token) -> None:
        if token.kind == "}":
            self.i += 1
            self.close()
        elif token.kind == ";":
            if frame.after_semi:
                raise self.error(token, "extra ';' in sequence")
            frame.after_item, frame.after_semi = False, True
            self.i += 1
        elif token.kind == _EOF:
            raise self.error(token, f"unclosed '{{' opened {_where(self.text, frame.open_pos)}")
        elif frame.after_item:
            raise self.unexpected(token, ", expected ';' or '}' after a sequence item")
        elif token.kind == _LITERAL:
            self.literal(token)
        elif token.kind == "{":
            self.open_seq(token)
        elif token.kind == _IDENT:
            self.open_app(wrapped=False, in_seq=True)
        elif token.kind == "(":
            raise self.error(token, "a sequence item cannot be in parentheses")
        else:
            raise self.unexpected(token, " in sequence")

    def step_app(self, frame: _AppFrame, token: _Token) -> None:
        if token.kind == _LITERAL:
            self.literal(token)
        elif token.kind == _IDENT:
            following = self.tokens[self.i + 1]
            if following.kind == _ANNOT:
                raise self.error(
                    following,
                    f"annotation {following.text!r} on argument {token.text!r} must be "
                    f"written in parentheses: ({token.text} {following.text} ...)",
                )
            self.check_depth(token)
            self.deliver(Prim(self.prim_name(token)))
            self.i += 1
        elif token.kind == "{":
            self.open_seq(token)
        elif token.kind == "(":
            self.open_app(wrapped=True, in_seq=False)
        elif token.kind == ")" and frame.wrapped:
            self.i += 1
            self.close()
        elif token.kind in (";", "}", _EOF) and frame.wrapped:
            raise self.error(token, f"unclosed '(' opened {_where(self.text, frame.open_pos)}")
        elif (token.kind in (";", "}") and frame.in_seq) or token.kind == _EOF:
            self.close()
        elif token.kind == _ANNOT:
            raise self.error(
                token, f"annotation {token.text!r} must come right after the primitive name"
            )
        else:
            raise self.unexpected(token)

    def run(self) -> Node:
        while True:
            token = self.tokens[self.i]
            if not self.stack:
                if self.result is not None and token.kind == _EOF:
                    return self.result
                self.step_top(token)
            elif isinstance(frame := self.stack[-1], _SeqFrame):
                self.step_seq(frame, token)
            else:
                self.step_app(frame, token)


def _parse(text: str) -> Node:
    if not isinstance(text, str):
        raise EncodingError(f"Michelson text must be a str, got {type(text).__name__}")
    return _Parser(text, _tokenize(text)).run()


def parse_data(text: str) -> Node:
    """Parse a Michelson data expression: ``0``, ``"a\\n"``, ``0xab``, ``Pair 1 2 3``,
    ``(Left Unit)``, ``{ Elt "k" 1 }``, ``{ PUSH nat 1 ; ADD }`` …

    Follows the Micheline grammar of ``octez-client`` (``micheline_parser.ml``):
    annotations come right after the primitive name; an argument with
    arguments or annotations is parenthesised; sequence items are separated by
    ``;``. Primitive names must be Michelson primitives. Errors name the line,
    the column and the offending token. Two differences with Octez: the
    indentation of multi-line text is not checked, and annotations are also
    accepted on an unparenthesised top-level application (``pair %p nat nat``).
    """
    return _parse(text)


def parse_type(text: str) -> Node:
    """Parse a Michelson type, e.g. ``or (int %a) (nat %b)`` or ``pair nat (list string)``.

    Same grammar as :func:`parse_data`; annotations are kept on their :class:`Prim`.
    """
    return _parse(text)


# -- binary: encoding ---------------------------------------------------------


def _encode_z(value: int) -> bytes:
    """Zarith ``z``: first byte = continuation bit 0x80, sign bit 0x40, 6 low bits of
    ``|value|``; then 7 bits per byte, least significant first, 0x80 on all but the
    last. Octez: data-encoding ``binary_writer.ml`` (``z``)."""
    magnitude = -value if value < 0 else value
    first = (magnitude & 0x3F) | (0x40 if value < 0 else 0)
    rest = magnitude >> 6
    if not rest:
        return bytes((first,))
    out = bytearray((first | 0x80,))
    acc, bits = 0, 0
    for byte in rest.to_bytes((rest.bit_length() + 7) // 8, "little"):
        acc |= byte << bits
        bits += 8
        while bits >= 7:
            out.append((acc & 0x7F) | 0x80)
            acc >>= 7
            bits -= 7
    if acc:
        out.append(acc | 0x80)
    while out[-1] == 0x80:  # drop high groups that are zero
        out.pop()
    out[-1] &= 0x7F
    return bytes(out)


def _length_prefix(length: int, what: str) -> bytes:
    """A ``uint30`` big-endian length on 4 bytes, as data-encoding's ``dynamic_size``."""
    if length > _MAX_UINT30:
        raise EncodingError(f"{what} of {length} bytes exceeds the {_MAX_UINT30}-byte limit")
    return length.to_bytes(4, "big")


def _encode_string(value: str) -> bytes:
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodingError(
            f"string {value[:40]!r} cannot be encoded in UTF-8 ({exc.reason})"
        ) from None
    return _length_prefix(len(data), "string") + data


def _encode_annots(annots: tuple[str, ...]) -> bytes:
    """(Checked) annotations joined by single spaces, as a length-prefixed string.

    Octez: ``micheline_encoding.ml``, ``annots_encoding`` (``String.concat " "``).
    """
    data = " ".join(annots).encode("ascii")
    return _length_prefix(len(data), "annotation string") + data


def encode(node: Node) -> bytes:
    """Canonical binary Micheline, as ``Script_repr.expr_encoding``.

    One tag byte per node (Octez: ``micheline_encoding.ml``):

    * ``0x00`` int: Zarith ``z``;
    * ``0x01`` string: 4-byte big-endian length, UTF-8 bytes;
    * ``0x02`` sequence: 4-byte byte length, then the items;
    * ``0x03``–``0x08`` application with 0, 1 or 2 arguments, without / with
      annotations: primitive code byte, the arguments, then (with) the
      annotation string (4-byte length, annotations joined by one space);
    * ``0x09`` any other application: primitive code, 4-byte byte length and
      the arguments, then the annotation string (even when empty);
    * ``0x0a`` bytes: 4-byte length, the bytes.

    Unknown primitives, invalid annotations, strings that are not encodable
    in UTF-8 and nesting deeper than :data:`MAX_DEPTH` raise :class:`EncodingError`.
    """
    out = bytearray()
    # Work items: a node with its depth, bytes to append, or the offset of a
    # 4-byte length to fill in once everything after it is written.
    stack: list[tuple[Node, int] | bytes | int] = [(node, 1)]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):
            out += item
        elif isinstance(item, int):
            out[item : item + 4] = _length_prefix(len(out) - item - 4, "sequence")
        else:
            current, depth = item
            if depth > MAX_DEPTH:
                raise EncodingError(f"Michelson expression nests deeper than {MAX_DEPTH} levels")
            children: Iterable[Node] = ()
            if isinstance(current, Int):
                out += b"\x00" + _encode_z(current.value)
            elif isinstance(current, String):
                out += b"\x01" + _encode_string(current.value)
            elif isinstance(current, Bytes):
                out += b"\x0a" + _length_prefix(len(current.value), "bytes") + current.value
            elif isinstance(current, Seq):
                out.append(0x02)
                stack.append(len(out))
                out += bytes(4)
                children = current.items
            else:
                _check_prim(current)
                code = _PRIM_CODES[current.name]
                if len(current.args) <= 2:
                    out += bytes((3 + 2 * len(current.args) + bool(current.annots), code))
                    if current.annots:
                        stack.append(_encode_annots(current.annots))
                else:
                    out += bytes((0x09, code))
                    stack.extend((_encode_annots(current.annots), len(out)))
                    out += bytes(4)
                children = current.args
            stack.extend((child, depth + 1) for child in reversed(tuple(children)))
    return bytes(out)


def pack(node: Node) -> bytes:
    """``PACK`` bytes: ``0x05`` then :func:`encode`.

    Octez: ``script_ir_translator.ml``, ``pack_node``. ``PACK`` of typed data
    packs its normalised form (e.g. ``Pair 1 2 3`` becomes
    ``Pair 1 (Pair 2 3)``); this function packs ``node`` as given.
    """
    return _PACK_TAG + encode(node)


# -- binary: decoding ---------------------------------------------------------


def _binary_error(pos: int, message: str) -> EncodingError:
    return EncodingError(f"malformed Micheline at byte offset {pos}: {message}")


_Z_END_RE: Final = re.compile(rb"[\x80-\xff]*[\x00-\x7f]")


@attrs.define
class _Reader:
    """A cursor over ``data``; every read stays below a ``limit`` (the end of the
    enclosing length-prefixed region)."""

    data: bytes
    pos: int = 0

    def take(self, size: int, limit: int, what: str) -> bytes:
        if size > limit - self.pos:
            raise _binary_error(
                self.pos, f"truncated {what}: needs {size} byte(s), {limit - self.pos} left"
            )
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def u8(self, limit: int, what: str) -> int:
        return self.take(1, limit, what)[0]

    def region(self, limit: int, what: str) -> int:
        """Read a 4-byte length; return the end offset of the region it announces."""
        start = self.pos
        size = int.from_bytes(self.take(4, limit, f"length of {what}"), "big")
        if size > _MAX_UINT30:
            raise _binary_error(start, f"length {size} of {what} exceeds {_MAX_UINT30}")
        if size > limit - self.pos:
            raise _binary_error(
                start, f"{what} declares {size} byte(s), only {limit - self.pos} left"
            )
        return self.pos + size

    def sized(self, limit: int, what: str) -> bytes:
        end = self.region(limit, what)
        return self.take(end - self.pos, end, what)

    def z(self, limit: int) -> int:
        """Zarith ``z``; a last byte ``0x00`` after the first is non-canonical and
        rejected (data-encoding ``binary_reader.ml``: ``Trailing_zero``).
        A lone ``0x40`` (−0) reads as 0, as in Octez."""
        start = self.pos
        first = self.u8(limit, "integer")
        value = first & 0x3F
        if first & 0x80:
            match = _Z_END_RE.match(self.data, self.pos, limit)
            if match is None:
                raise _binary_error(start, "truncated integer: no final byte before the end")
            groups = match.group()
            if groups[-1] == 0:
                raise _binary_error(
                    match.end() - 1, "non-canonical integer: trailing zero byte (Trailing_zero)"
                )
            self.pos = match.end()
            packed, acc, bits = bytearray(), 0, 0
            for byte in groups:
                acc |= (byte & 0x7F) << bits
                bits += 7
                if bits >= 8:
                    packed.append(acc & 0xFF)
                    acc >>= 8
                    bits -= 8
            packed.append(acc)
            value |= int.from_bytes(packed, "little") << 6
        return -value if first & 0x40 else value

    def annots(self, limit: int) -> tuple[str, ...]:
        """The annotation string: empty, or annotations separated by single spaces,
        each valid per ``check_annot`` (Octez: ``micheline_encoding.ml``, ``V2``)."""
        start = self.pos
        raw = self.sized(limit, "annotation string")
        if not raw:
            return ()
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise _binary_error(start, f"annotation string {raw[:40]!r} is not ASCII") from None
        annots = tuple(text.split(" "))
        for annot in annots:
            problem = _annot_problem(annot)
            if problem is not None:
                raise _binary_error(start, f"{problem} in annotation string {text[:60]!r}")
        return annots


@attrs.define
class _Open:
    """A node whose children are being read.

    ``want`` is the number of arguments (1 or 2), or ``None`` to read until
    ``end``; ``annots`` says an annotation string follows the children.
    """

    kind: type[Prim] | type[Seq]
    name: str
    want: int | None
    end: int
    annots: bool
    children: list[Node] = attrs.Factory(list)


def _read_leaf_or_open(r: _Reader, limit: int) -> Node | _Open:
    """Read one node header: a finished leaf, or an :class:`_Open` node to fill."""
    start = r.pos
    tag = r.u8(limit, "node tag")
    if tag == 0x00:
        return Int(r.z(limit))
    if tag == 0x01:
        raw = r.sized(limit, "string")
        try:
            return String(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise _binary_error(start + 5 + exc.start, "string is not valid UTF-8") from None
    if tag == 0x0A:
        return Bytes(r.sized(limit, "bytes"))
    if tag == 0x02:
        return _Open(Seq, "", None, r.region(limit, "sequence"), annots=False)
    if 0x03 <= tag <= 0x09:
        code_pos = r.pos
        code = r.u8(limit, "primitive code")
        if code >= len(PRIMITIVES):
            raise _binary_error(code_pos, f"unknown primitive code {code:#04x}")
        name = PRIMITIVES[code]
        if tag == 0x09:
            return _Open(Prim, name, None, r.region(limit, f"{name} arguments"), annots=True)
        nargs, with_annots = divmod(tag - 0x03, 2)
        if nargs == 0:
            return Prim(name, (), r.annots(limit) if with_annots else ())
        return _Open(Prim, name, nargs, limit, annots=bool(with_annots))
    raise _binary_error(start, f"unknown node tag {tag:#04x}")


def decode(data: bytes) -> Node:
    """Read canonical binary Micheline (the inverse of :func:`encode`).

    Total on untrusted input: truncation, unknown tags or primitive codes,
    inconsistent lengths, trailing bytes, non-canonical Zarith integers,
    invalid UTF-8 strings, invalid annotations and nesting deeper than
    :data:`MAX_DEPTH` raise :class:`EncodingError` with the byte offset.
    Like Octez, it accepts the non-minimal forms a reader cannot tell apart
    (tag 0x09 with fewer than 3 arguments, an empty annotation string under
    tags 0x04/0x06/0x08, ``0x40`` for 0); :func:`encode` writes the minimal one.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise EncodingError(f"Micheline bytes expected, got {type(data).__name__}")
    r = _Reader(bytes(data))
    size = len(r.data)
    stack: list[_Open] = []
    while True:
        limit = stack[-1].end if stack else size
        if len(stack) + 1 > MAX_DEPTH:
            raise _binary_error(r.pos, f"expression nests deeper than {MAX_DEPTH} levels")
        node = _read_leaf_or_open(r, limit)
        while True:
            if isinstance(node, _Open):
                if (node.want is None and r.pos < node.end) or (
                    node.want is not None and len(node.children) < node.want
                ):
                    stack.append(node)
                    break
                parent_limit = stack[-1].end if stack else size
                if node.kind is Seq:
                    node = Seq(tuple(node.children))
                else:
                    annots = r.annots(parent_limit) if node.annots else ()
                    node = Prim(node.name, tuple(node.children), annots)
            if not stack:
                if r.pos != size:
                    raise _binary_error(
                        r.pos, f"{size - r.pos} trailing byte(s) after the expression"
                    )
                return node
            stack[-1].children.append(node)
            node = stack.pop()


def unpack(data: bytes) -> Node:
    """Inverse of :func:`pack`: ``0x05`` then canonical binary Micheline."""
    if not data or bytes(data[:1]) != _PACK_TAG:
        raise EncodingError("packed Michelson data must start with the 0x05 tag")
    try:
        return decode(bytes(data[1:]))
    except EncodingError as exc:
        raise EncodingError(f"in packed data (offsets after the 0x05 tag): {exc}") from None
