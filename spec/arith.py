"""The arith PVM: a tiny, fully specified proof-generating machine.

In the spirit of Octez's ``sc_rollup_arith.ml``: a stack machine that reads
inbox messages and evaluates each external message (prefixed with the boot
sector) as an arithmetic program in reverse Polish notation, **one token per
tick**. Internal messages (Start_of_level, Info_per_level, End_of_level…) are
read and skipped; a transfer whose payload is a Michelson string is run
like an external message.

Tokens, separated by blanks (space, tab, newline):

* ``123`` pushes the number (values are unsigned 64-bit, arithmetic wraps);
* ``+``, ``-``, ``*`` pop two values and push the result;
* ``out`` emits the top of the stack as an outbox message (a transaction of
  that number to ``KT1`` zero, as Octez's arith ``out``);
* ``metadata`` asks for the rollup metadata and pushes its origination level;
* ``hash:<64 hex digits>`` asks for the preimage of that Blake2b hash and
  runs it in place of the token (the revealed data is code);
* a name (``[a-z][a-z0-9_]*``, at most 32 characters) stores the top of the
  stack in that variable.

An ill-formed token or a stack underflow ends the message; the stack is
emptied at the start of every message (as Octez's ``start_evaluating``).

**State and proofs.** The state is a Merkle tree of nine named fields
(:data:`FIELDS`). The state hash is Blake2b of the field hashes; the stack
is a hash-linked list of cells and the outbox a sparse Merkle tree of depth
16. A one-step proof holds the values of the fields the tick reads or
writes, the hashes of the others, the stack cells it pops, and the outbox
path it appends to: the verifier rebuilds the start hash from it, runs the
same tick on this partial state, and computes the stop hash. An output proof
holds the field hashes, the outbox field, the output and its Merkle path.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_arith.ml``,
``sc_rollup_PVM_sig.ml``.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping
from typing import Literal

import attrs

from spec import michelson, outbox
from spec.errors import EncodingError, ScoruError
from spec.hashing import ContractHash, RevealHash, StateHash, blake2b_256
from spec.inbox import InboxInput
from spec.inbox_message import External, Transfer, deserialize
from spec.pvm import (
    FirstAfter,
    Initial,
    Input,
    InputRequest,
    Metadata,
    NeedsReveal,
    NoInputRequired,
    Output,
    OutputProofVerificationFailed,
    PvmProofProductionFailed,
    PvmProofVerificationFailed,
    RawData,
    RevealInput,
    RevealMetadata,
    RevealRawData,
    StepResult,
    VerifiedOutput,
)

NAME = "arith"
#: Values are unsigned 64-bit integers.
MODULUS = 2**64
#: The longest program (boot sector + message, or after a reveal) the machine runs.
MAX_PROGRAM_SIZE = 8_192
#: The longest variable name.
MAX_NAME_SIZE = 32
#: Depth of the outbox Merkle tree: at most 2^16 outputs.
OUTBOX_DEPTH = 16
#: The names of the state's fields, in hashing order.
FIELDS = (
    "boot_sector",
    "status",
    "tick",
    "last_input",
    "program",
    "stack",
    "vars",
    "outbox",
    "level_outputs",
)
_BLANKS = b" \t\n"
_NAME = re.compile(rb"[a-z][a-z0-9_]*\Z")
_NUMBER = re.compile(rb"[0-9]{1,20}\Z")
_HASH_TOKEN = re.compile(rb"hash:[0-9a-f]{64}\Z")
EMPTY = bytes(32)

StatusKind = Literal[
    "waiting_for_input", "waiting_for_reveal", "waiting_for_metadata", "evaluating"
]
_STATUS_CODES: dict[str, int] = {
    "waiting_for_input": 0,
    "waiting_for_reveal": 1,
    "waiting_for_metadata": 2,
    "evaluating": 3,
}
_STATUS_NAMES: dict[int, StatusKind] = {
    0: "waiting_for_input",
    1: "waiting_for_reveal",
    2: "waiting_for_metadata",
    3: "evaluating",
}


class _Missing(ScoruError):
    """The proof does not reveal a part of the state the tick needs."""


# -- field values ---------------------------------------------------------------


@attrs.frozen
class Status:
    """The machine's status; ``reveal`` is the requested hash when waiting for a reveal."""

    kind: StatusKind
    reveal: RevealHash | None = None


@attrs.frozen
class Program:
    """The program being run and the position of the next token."""

    text: bytes
    cursor: int


@attrs.frozen
class StackRef:
    """The stack: its size and the hash of its top cell (:data:`EMPTY` if empty)."""

    size: int
    head: bytes


@attrs.frozen
class OutboxRef:
    """The outbox: how many outputs it holds and its Merkle root."""

    count: int
    root: bytes


FieldValue = bytes | Status | int | tuple[int, int] | None | Program | StackRef | OutboxRef


def _encode_field(name: str, value: object) -> bytes:
    match name, value:
        case "boot_sector", bytes() as raw:
            return raw
        case "status", Status(kind, reveal):
            return bytes([_STATUS_CODES[kind]]) + (b"" if reveal is None else reveal.raw)
        case "tick", int() as tick:
            return struct.pack(">Q", tick)
        case "last_input", None:
            return b"\x00"
        case "last_input", (int() as level, int() as counter):
            return b"\x01" + struct.pack(">iQ", level, counter)
        case "program", Program(text, cursor):
            return struct.pack(">I", cursor) + text
        case "stack", StackRef(size, head):
            return struct.pack(">I", size) + head
        case "vars", bytes() as head:
            return head
        case "outbox", OutboxRef(count, root):
            return struct.pack(">I", count) + root
        case "level_outputs", (int() as level, int() as count):
            return struct.pack(">iI", level, count)
    raise EncodingError(f"arith: {value!r} is not a value of field {name}")


def _decode_field(name: str, raw: bytes) -> FieldValue:
    def need(size: int) -> None:
        if len(raw) != size:
            raise EncodingError(f"arith proof: field {name} must be {size} bytes, got {len(raw)}")

    if name == "boot_sector":
        return raw
    if name == "status":
        if not raw or raw[0] not in _STATUS_NAMES:
            raise EncodingError("arith proof: unknown status")
        kind = _STATUS_NAMES[raw[0]]
        if kind == "waiting_for_reveal":
            need(33)
            return Status(kind, RevealHash(raw[1:]))
        need(1)
        return Status(kind)
    if name == "tick":
        need(8)
        return int(struct.unpack(">Q", raw)[0])
    if name == "last_input":
        if raw == b"\x00":
            return None
        need(13)
        if raw[0] != 1:
            raise EncodingError("arith proof: bad last_input tag")
        level, counter = struct.unpack(">iQ", raw[1:])
        return (int(level), int(counter))
    if name == "program":
        if len(raw) < 4 or len(raw) - 4 > MAX_PROGRAM_SIZE:
            raise EncodingError("arith proof: bad program field")
        (cursor,) = struct.unpack(">I", raw[:4])
        if cursor > len(raw) - 4:
            raise EncodingError("arith proof: program cursor beyond the program")
        return Program(raw[4:], int(cursor))
    if name == "stack":
        need(36)
        return StackRef(int(struct.unpack(">I", raw[:4])[0]), raw[4:])
    if name == "vars":
        need(32)
        return raw
    if name == "outbox":
        need(36)
        return OutboxRef(int(struct.unpack(">I", raw[:4])[0]), raw[4:])
    if name == "level_outputs":
        need(8)
        level, count = struct.unpack(">iI", raw)
        return (int(level), int(count))
    raise EncodingError(f"arith proof: unknown field {name}")  # pragma: no cover


def field_hash(name: str, value: object) -> bytes:
    """``H("arith:" ‖ name ‖ 00 ‖ encoded value)``."""
    return blake2b_256(b"arith:" + name.encode("ascii") + b"\x00" + _encode_field(name, value))


def root_hash(field_hashes: list[bytes]) -> StateHash:
    """The state hash: ``H("arith-state" ‖ field hash₀ ‖ … ‖ field hash₈)``."""
    return StateHash(blake2b_256(b"arith-state" + b"".join(field_hashes)))


def stack_cell_hash(value: int, rest: bytes) -> bytes:
    """A stack cell: ``H("arith-stack" ‖ value (u64) ‖ hash of the cell below)``."""
    return blake2b_256(b"arith-stack" + struct.pack(">Q", value) + rest)


def var_hash(name: bytes, value: int, previous: bytes) -> bytes:
    """An assignment appended to the variables:
    ``H("arith-var" ‖ len ‖ name ‖ value ‖ previous)``."""
    return blake2b_256(
        b"arith-var" + bytes([len(name)]) + name + struct.pack(">Q", value) + previous
    )


# -- the outbox Merkle tree -------------------------------------------------------


def encode_output(output: Output) -> bytes:
    """``outbox level (int32) ‖ message index (u32) ‖ message``."""
    return struct.pack(">iI", output.outbox_level, output.message_index) + output.message


def decode_output(raw: bytes) -> Output:
    if len(raw) < 8:
        raise EncodingError("arith: truncated output")
    level, index = struct.unpack(">iI", raw[:8])
    return Output(int(level), int(index), raw[8:])


def leaf_hash(output: Output) -> bytes:
    return blake2b_256(b"arith-leaf" + encode_output(output))


def _node(left: bytes, right: bytes) -> bytes:
    return blake2b_256(b"arith-node" + left + right)


def _empty_roots() -> tuple[bytes, ...]:
    roots = [EMPTY]
    for _ in range(OUTBOX_DEPTH):
        roots.append(_node(roots[-1], roots[-1]))
    return tuple(roots)


#: ``_EMPTY_ROOTS[d]`` is the root of an empty subtree of height ``d``.
_EMPTY_ROOTS = _empty_roots()


def _levels(leaves: tuple[bytes, ...]) -> list[list[bytes]]:
    """Every level of the tree (level 0 = leaves), without the empty right parts."""
    levels = [list(leaves)]
    for height in range(OUTBOX_DEPTH):
        below = levels[-1]
        above = []
        for i in range(0, len(below), 2):
            right = below[i + 1] if i + 1 < len(below) else _EMPTY_ROOTS[height]
            above.append(_node(below[i], right))
        levels.append(above)
    return levels


def outbox_root(leaves: tuple[bytes, ...]) -> bytes:
    """The root of the outbox tree whose first leaves are ``leaves``."""
    if not leaves:
        return _EMPTY_ROOTS[OUTBOX_DEPTH]
    return _levels(leaves)[OUTBOX_DEPTH][0]


def outbox_path(leaves: tuple[bytes, ...], position: int) -> tuple[bytes, ...]:
    """The siblings of leaf ``position``, from the leaves up."""
    levels = _levels(leaves)
    path = []
    index = position
    for height in range(OUTBOX_DEPTH):
        sibling = index ^ 1
        row = levels[height]
        path.append(row[sibling] if sibling < len(row) else _EMPTY_ROOTS[height])
        index >>= 1
    return tuple(path)


def root_of_path(leaf: bytes, position: int, path: tuple[bytes, ...]) -> bytes:
    """The root obtained from ``leaf`` at ``position`` and its siblings."""
    node = leaf
    index = position
    for sibling in path:
        node = _node(sibling, node) if index & 1 else _node(node, sibling)
        index >>= 1
    return node


def output_message(value: int) -> bytes:
    """The outbox message ``out`` emits: an untyped atomic transaction batch of one
    transaction of the Micheline int ``value`` to ``KT1`` zero, entrypoint
    ``default`` (encoded by :func:`spec.outbox.encode_outbox_message`).

    Octez: ``sc_rollup_arith.ml``, ``output``.
    """
    transaction = outbox.Transaction(michelson.Int(value), ContractHash.zero())
    return outbox.encode_outbox_message(outbox.AtomicTransactionBatch((transaction,)))


# -- the full state ---------------------------------------------------------------


@attrs.frozen
class ArithState:
    """A whole arith state: the nine fields plus what lies behind the stack and
    outbox references (the stack's values, top first, and every output)."""

    boot_sector: bytes
    status: Status
    tick: int
    last_input: tuple[int, int] | None
    program: Program
    vars_head: bytes
    level_outputs: tuple[int, int]
    stack: tuple[int, ...]
    stack_cells: tuple[bytes, ...]
    outputs: tuple[Output, ...]
    outbox_root: bytes

    def field(self, name: str) -> FieldValue:
        if name == "boot_sector":
            return self.boot_sector
        if name == "status":
            return self.status
        if name == "tick":
            return self.tick
        if name == "last_input":
            return self.last_input
        if name == "program":
            return self.program
        if name == "stack":
            return StackRef(len(self.stack), self.stack_cells[0] if self.stack_cells else EMPTY)
        if name == "vars":
            return self.vars_head
        if name == "outbox":
            return OutboxRef(len(self.outputs), self.outbox_root)
        if name == "level_outputs":
            return self.level_outputs
        raise KeyError(name)

    def field_hashes(self) -> list[bytes]:
        return [field_hash(name, self.field(name)) for name in FIELDS]


# -- the machine: one tick over a full or a partial state ----------------------------


class _Machine:
    """The state a tick runs on: the fields it may read (all of them for a full
    state, the revealed ones for a proof), the stack cells it may pop, and how to
    append to the outbox. Records what the tick touched, to build proofs."""

    def __init__(
        self,
        fields: Mapping[str, FieldValue],
        cells: Mapping[bytes, tuple[int, bytes]],
        append: Callable[[OutboxRef, Output], bytes],
    ) -> None:
        self.fields: dict[str, FieldValue] = dict(fields)
        self.cells = dict(cells)
        self.append = append
        self.touched: set[str] = set()
        self.popped: list[bytes] = []
        self.appended: list[Output] = []

    def get(self, name: str) -> FieldValue:
        if name not in self.fields:
            raise _Missing(f"the proof does not reveal the field {name}")
        self.touched.add(name)
        return self.fields[name]

    def put(self, name: str, value: FieldValue) -> None:
        self.get(name)
        self.fields[name] = value

    # typed accessors
    def status(self) -> Status:
        value = self.get("status")
        assert isinstance(value, Status)
        return value

    def program(self) -> Program:
        value = self.get("program")
        assert isinstance(value, Program)
        return value

    def stack(self) -> StackRef:
        value = self.get("stack")
        assert isinstance(value, StackRef)
        return value

    def int_field(self, name: str) -> int:
        value = self.get(name)
        assert isinstance(value, int)
        return value

    def pair(self, name: str) -> tuple[int, int] | None:
        value = self.get(name)
        assert value is None or isinstance(value, tuple)
        return value

    # stack
    def top(self) -> int | None:
        ref = self.stack()
        if ref.size == 0:
            return None
        if ref.head not in self.cells:
            raise _Missing("the proof does not reveal the top stack cell")
        self.popped.append(ref.head)
        return self.cells[ref.head][0]

    def pop(self) -> int | None:
        ref = self.stack()
        if ref.size == 0:
            return None
        if ref.head not in self.cells:
            raise _Missing("the proof does not reveal a popped stack cell")
        self.popped.append(ref.head)
        value, rest = self.cells[ref.head]
        self.put("stack", StackRef(ref.size - 1, rest))
        return value

    def push(self, value: int) -> None:
        ref = self.stack()
        head = stack_cell_hash(value, ref.head)
        self.cells[head] = (value, ref.head)
        self.put("stack", StackRef(ref.size + 1, head))


def _request(m: _Machine) -> InputRequest:
    """``is_input_state``: Initial before the first input, FirstAfter the last input
    read, the reveal asked for, or NoInputRequired while evaluating.

    Octez: ``sc_rollup_arith.ml``, ``is_input_state``.
    """
    status = m.status()
    if status.kind == "evaluating":
        return NoInputRequired()
    if status.kind == "waiting_for_reveal":
        assert status.reveal is not None
        return NeedsReveal(RevealRawData(status.reveal))
    if status.kind == "waiting_for_metadata":
        return NeedsReveal(RevealMetadata())
    last = m.pair("last_input")
    return Initial() if last is None else FirstAfter(last[0], last[1])


def _end_message(m: _Machine) -> None:
    m.put("status", Status("waiting_for_input"))
    m.put("program", Program(b"", 0))


def _start_program(m: _Machine, text: bytes) -> None:
    """Start running ``text`` on an empty stack (``start_parsing``, ``start_evaluating``)."""
    if len(text) > MAX_PROGRAM_SIZE:
        _end_message(m)
        return
    m.put("program", Program(text, 0))
    m.put("stack", StackRef(0, EMPTY))
    m.put("status", Status("evaluating"))


def _program_of_message(payload: bytes) -> bytes | None:
    """The program text of an inbox message: an external message's payload, or a
    transfer's Michelson string; None for every other message."""
    try:
        message = deserialize(payload)
    except EncodingError:
        return None
    if isinstance(message, External):
        return message.payload
    if isinstance(message, Transfer) and isinstance(message.payload, michelson.String):
        return message.payload.value.encode("utf-8")
    return None


def _set_input(m: _Machine, given: Input) -> None:
    """Consume an input: an inbox message while waiting for one (records its
    position; runs it if it is a program), revealed data while waiting for it.
    Any other input is ignored (the tick still counts).

    Octez: ``sc_rollup_arith.ml``, ``set_input_monadic``, ``reveal_monadic``.
    """
    status = m.status()
    if isinstance(given, InboxInput) and status.kind == "waiting_for_input":
        m.put("last_input", (given.inbox_level, given.message_counter))
        outputs = m.pair("level_outputs")
        assert outputs is not None
        if outputs[0] != given.inbox_level:
            m.put("level_outputs", (given.inbox_level, 0))
        text = _program_of_message(given.payload)
        if text is not None:
            boot = m.get("boot_sector")
            assert isinstance(boot, bytes)
            _start_program(m, boot + b" " + text if boot else text)
        return
    if not isinstance(given, RevealInput):
        return
    data = given.data
    if status.kind == "waiting_for_reveal" and isinstance(data, RawData):
        program = m.program()
        text = data.data + b" " + program.text[program.cursor :]
        m.put("status", Status("evaluating"))
        if len(text) > MAX_PROGRAM_SIZE:
            _end_message(m)
        else:
            m.put("program", Program(text, 0))
    elif status.kind == "waiting_for_metadata" and isinstance(data, Metadata):
        m.push(data.origination_level % MODULUS)
        m.put("status", Status("evaluating"))


def _next_token(program: Program) -> tuple[bytes, int] | None:
    text = program.text
    i = program.cursor
    while i < len(text) and text[i] in _BLANKS:
        i += 1
    if i == len(text):
        return None
    j = i
    while j < len(text) and text[j] not in _BLANKS:
        j += 1
    return text[i:j], j


def _binary(m: _Machine, token: bytes) -> bool:
    b = m.pop()
    a = m.pop()
    if a is None or b is None:
        return False
    if token == b"+":
        m.push((a + b) % MODULUS)
    elif token == b"-":
        m.push((a - b) % MODULUS)
    else:
        m.push((a * b) % MODULUS)
    return True


def _output(m: _Machine, value: int) -> bool:
    outbox = m.get("outbox")
    assert isinstance(outbox, OutboxRef)
    if outbox.count >= 2**OUTBOX_DEPTH:
        return False
    level_outputs = m.pair("level_outputs")
    assert level_outputs is not None
    level, index = level_outputs
    output = Output(level, index, output_message(value))
    root = m.append(outbox, output)
    m.appended.append(output)
    m.put("outbox", OutboxRef(outbox.count + 1, root))
    m.put("level_outputs", (level, index + 1))
    return True


def _run_token(m: _Machine, token: bytes) -> bool:
    """Run one token; False ends the message (ill-formed token, stack underflow)."""
    if _NUMBER.match(token):
        m.push(int(token) % MODULUS)
        return True
    if token in (b"+", b"-", b"*"):
        return _binary(m, token)
    if token == b"out":
        value = m.top()
        return value is not None and _output(m, value)
    if token == b"metadata":
        m.put("status", Status("waiting_for_metadata"))
        return True
    if _HASH_TOKEN.match(token):
        m.put("status", Status("waiting_for_reveal", RevealHash(bytes.fromhex(token[5:].decode()))))
        return True
    if len(token) <= MAX_NAME_SIZE and _NAME.match(token):
        value = m.top()
        if value is None:
            return False
        previous = m.get("vars")
        assert isinstance(previous, bytes)
        m.put("vars", var_hash(token, value, previous))
        return True
    return False


def _eval(m: _Machine) -> None:
    """One evaluation tick: read the next token and run it; at the end of the
    program, wait for the next input.

    Octez: ``sc_rollup_arith.ml``, ``eval`` (``parse``, ``evaluate``).
    """
    program = m.program()
    found = _next_token(program)
    if found is None:
        _end_message(m)
        return
    token, cursor = found
    m.put("program", Program(program.text, cursor))
    if not _run_token(m, token):
        _end_message(m)


def _step(m: _Machine, given: Input | None) -> InputRequest:
    """The transition a proof proves: ``eval`` when no input is required, else
    ``set_input`` if an input is given, else nothing (the machine is blocked).
    Every transition counts one tick. Returns the start state's request.

    Octez: ``sc_rollup_wasm.ml``, ``step_transition`` (same shape for arith).
    """
    request = _request(m)
    if isinstance(request, NoInputRequired):
        _eval(m)
    elif given is not None:
        _set_input(m, given)
    else:
        return request
    m.put("tick", m.int_field("tick") + 1)
    return request


# -- from full states to machines and back -------------------------------------------


def _cells_of(state: ArithState) -> dict[bytes, tuple[int, bytes]]:
    cells = {}
    for i, value in enumerate(state.stack):
        rest = state.stack_cells[i + 1] if i + 1 < len(state.stack_cells) else EMPTY
        cells[state.stack_cells[i]] = (value, rest)
    return cells


def _full_machine(state: ArithState) -> _Machine:
    def append(ref: OutboxRef, output: Output) -> bytes:
        leaves = tuple(leaf_hash(o) for o in state.outputs)
        return outbox_root((*leaves, leaf_hash(output)))

    return _Machine({name: state.field(name) for name in FIELDS}, _cells_of(state), append)


def _rebuild(state: ArithState, m: _Machine) -> ArithState:
    stack_ref = m.fields["stack"]
    assert isinstance(stack_ref, StackRef)
    values: list[int] = []
    cells: list[bytes] = []
    head = stack_ref.head
    for _ in range(stack_ref.size):
        value, rest = m.cells[head]
        values.append(value)
        cells.append(head)
        head = rest
    outbox = m.fields["outbox"]
    assert isinstance(outbox, OutboxRef)
    status = m.fields["status"]
    program = m.fields["program"]
    tick = m.fields["tick"]
    last_input = m.fields["last_input"]
    vars_head = m.fields["vars"]
    level_outputs = m.fields["level_outputs"]
    assert isinstance(status, Status) and isinstance(program, Program)
    assert isinstance(tick, int) and isinstance(vars_head, bytes)
    assert last_input is None or isinstance(last_input, tuple)
    assert isinstance(level_outputs, tuple)
    return ArithState(
        boot_sector=state.boot_sector,
        status=status,
        tick=tick,
        last_input=last_input,
        program=program,
        vars_head=vars_head,
        level_outputs=level_outputs,
        stack=tuple(values),
        stack_cells=tuple(cells),
        outputs=(*state.outputs, *m.appended),
        outbox_root=outbox.root,
    )


# -- proof encoding ----------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.offset = 0
        self.what = what

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise EncodingError(f"{self.what}: truncated at byte {self.offset}")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def end(self) -> None:
        if self.offset != len(self.data):
            raise EncodingError(f"{self.what}: {len(self.data) - self.offset} trailing bytes")


def _encode_fields(
    values: Mapping[str, FieldValue], reveal: set[str], hashes: list[bytes]
) -> bytes:
    out = bytearray()
    for name, h in zip(FIELDS, hashes, strict=True):
        if name in reveal:
            raw = _encode_field(name, values[name])
            out += b"\x01" + struct.pack(">I", len(raw)) + raw
        else:
            out += b"\x00" + h
    return bytes(out)


def _decode_fields(reader: _Reader) -> tuple[dict[str, FieldValue], list[bytes]]:
    values: dict[str, FieldValue] = {}
    hashes = []
    for name in FIELDS:
        tag = reader.byte()
        if tag == 0:
            hashes.append(reader.take(32))
        elif tag == 1:
            raw = reader.take(reader.u32())
            value = _decode_field(name, raw)
            values[name] = value
            hashes.append(field_hash(name, value))
        else:
            raise EncodingError(f"{reader.what}: field tag must be 00 or 01, got {tag:02x}")
    return values, hashes


def _encode_step(
    state: ArithState, touched: set[str], popped: list[bytes], path: tuple[bytes, ...] | None
) -> bytes:
    """A one-step proof: per field, its value if the tick touches it, else its hash;
    the stack cells the tick pops; the outbox path if it appends an output.

    Binary: version ``01`` ‖ per field (in :data:`FIELDS` order) ``00 ‖ hash (32)``
    or ``01 ‖ uint32 length ‖ value`` ‖ uint16 count ‖ cells (value u64 ‖ rest 32)
    ‖ ``00`` or ``01 ‖ 16 siblings (32 bytes each)``.
    """
    values = {name: state.field(name) for name in FIELDS}
    cells = _cells_of(state)
    body = _encode_fields(values, touched, state.field_hashes())
    used = list(dict.fromkeys(h for h in popped if h in cells))
    body += struct.pack(">H", len(used))
    for h in used:
        value, rest = cells[h]
        body += struct.pack(">Q", value) + rest
    body += b"\x00" if path is None else b"\x01" + b"".join(path)
    return b"\x01" + body


def _decode_step(
    step: bytes,
) -> tuple[
    dict[str, FieldValue], list[bytes], dict[bytes, tuple[int, bytes]], tuple[bytes, ...] | None
]:
    reader = _Reader(step, "arith proof")
    version = reader.byte()
    if version != 1:
        raise EncodingError(f"arith proof: unknown version {version}")
    values, hashes = _decode_fields(reader)
    cells = {}
    for _ in range(reader.u16()):
        (value,) = struct.unpack(">Q", reader.take(8))
        rest = reader.take(32)
        cells[stack_cell_hash(int(value), rest)] = (int(value), rest)
    tag = reader.byte()
    path: tuple[bytes, ...] | None
    if tag == 0:
        path = None
    elif tag == 1:
        path = tuple(reader.take(32) for _ in range(OUTBOX_DEPTH))
    else:
        raise EncodingError(f"arith proof: outbox path tag must be 00 or 01, got {tag:02x}")
    reader.end()
    return values, hashes, cells, path


# -- the PVM ------------------------------------------------------------------------


def genesis(boot_sector: bytes) -> ArithState:
    """The state after installing ``boot_sector``: waiting for its first input.

    Octez: ``sc_rollup_arith.ml``, ``initial_state``, ``install_boot_sector``.
    """
    return ArithState(
        boot_sector=boot_sector,
        status=Status("waiting_for_input"),
        tick=0,
        last_input=None,
        program=Program(b"", 0),
        vars_head=EMPTY,
        level_outputs=(0, 0),
        stack=(),
        stack_cells=(),
        outputs=(),
        outbox_root=_EMPTY_ROOTS[OUTBOX_DEPTH],
    )


class ArithPVM:
    """The arith PVM, an implementation of :class:`spec.pvm.PVM`.

    Octez: ``sc_rollup_arith.ml``, ``Make``.
    """

    name = NAME

    def install_boot_sector(self, boot_sector: bytes) -> ArithState:
        return genesis(boot_sector)

    def state_hash(self, state: ArithState) -> StateHash:
        return root_hash(state.field_hashes())

    def input_request(self, state: ArithState) -> InputRequest:
        return _request(_full_machine(state))

    def tick(self, state: ArithState) -> int:
        return state.tick

    def step(self, state: ArithState, given: Input | None) -> ArithState:
        """The transition of :func:`_step` on a full state."""
        m = _full_machine(state)
        _step(m, given)
        return _rebuild(state, m)

    def set_input(self, state: ArithState, given: Input) -> ArithState:
        if not isinstance(self.input_request(state), (Initial, FirstAfter, NeedsReveal)):
            raise PvmProofProductionFailed(NAME, "set_input on a state that requires no input")
        return self.step(state, given)

    def eval(self, state: ArithState) -> ArithState:
        if not isinstance(self.input_request(state), NoInputRequired):
            raise PvmProofProductionFailed(NAME, "eval on a state that waits for an input")
        return self.step(state, None)

    def produce_proof(self, state: ArithState, given: Input | None) -> bytes:
        m = _full_machine(state)
        _step(m, given)
        path = None
        if m.appended:
            leaves = tuple(leaf_hash(o) for o in state.outputs)
            path = outbox_path((*leaves, leaf_hash(m.appended[0])), len(leaves))
        return _encode_step(state, m.touched, m.popped, path)

    def decode_step(self, step: bytes) -> object:
        return _decode_step(step)

    def verify_proof(self, given: Input | None, step: bytes) -> StepResult:
        values, hashes, cells, path = _decode_step(step)
        start = root_hash(hashes)

        def append(ref: OutboxRef, output: Output) -> bytes:
            if path is None:
                raise _Missing("the proof does not reveal the outbox path")
            if root_of_path(EMPTY, ref.count, path) != ref.root:
                raise _Missing("the outbox path does not match the outbox root")
            return root_of_path(leaf_hash(output), ref.count, path)

        m = _Machine(values, cells, append)
        try:
            request = _step(m, given)
            if not isinstance(request, NoInputRequired) and given is None:
                return StepResult(start, None, request)
            stop_hashes = [
                field_hash(name, m.fields[name]) if name in m.fields else h
                for name, h in zip(FIELDS, hashes, strict=True)
            ]
        except _Missing as exc:
            raise PvmProofVerificationFailed(NAME, str(exc)) from None
        except (struct.error, OverflowError, ValueError) as exc:
            # A forged state at the limits of its fields (a tick, a size or an
            # inbox position that no longer fits): not a state of this machine.
            raise PvmProofVerificationFailed(NAME, f"out-of-range field: {exc}") from None
        return StepResult(start, root_hash(stop_hashes), request)

    def produce_output_proof(self, state: ArithState, output: Output) -> bytes:
        try:
            position = state.outputs.index(output)
        except ValueError:
            raise PvmProofProductionFailed(NAME, "the output is not in the outbox") from None
        leaves = tuple(leaf_hash(o) for o in state.outputs)
        fields = _encode_fields(
            {name: state.field(name) for name in FIELDS}, {"outbox"}, state.field_hashes()
        )
        encoded = encode_output(output)
        return (
            b"\x01"
            + fields
            + struct.pack(">I", position)
            + b"".join(outbox_path(leaves, position))
            + struct.pack(">I", len(encoded))
            + encoded
        )

    def verify_output_proof(self, proof: bytes) -> VerifiedOutput:
        try:
            reader = _Reader(proof, "arith output proof")
            if reader.byte() != 1:
                raise EncodingError("arith output proof: unknown version")
            values, hashes = _decode_fields(reader)
            position = reader.u32()
            path = tuple(reader.take(32) for _ in range(OUTBOX_DEPTH))
            output = decode_output(reader.take(reader.u32()))
            reader.end()
        except EncodingError as exc:
            raise OutputProofVerificationFailed(NAME, str(exc)) from None
        outbox = values.get("outbox")
        if not isinstance(outbox, OutboxRef):
            raise OutputProofVerificationFailed(NAME, "the proof does not reveal the outbox")
        if position >= outbox.count:
            raise OutputProofVerificationFailed(NAME, f"no output at position {position}")
        if root_of_path(leaf_hash(output), position, path) != outbox.root:
            raise OutputProofVerificationFailed(NAME, "the output is not in the outbox")
        return VerifiedOutput(root_hash(hashes), output)


#: The arith PVM.
PVM = ArithPVM()
