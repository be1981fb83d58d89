"""Dissection chunks and the rules a dissection must obey.

A *chunk* is a claim ``(state_hash, tick)``: after ``tick`` ticks from the
parent commitment's state, the PVM state hash is ``state_hash`` (``None``
means the machine is blocked: it waits for an input beyond the disputed
inbox level). A *dissection* of a section ``[start, stop]`` is a list of
chunks that splits it into smaller sections; the opponent then picks one.

The checks below run in Octez's order and raise the error Octez raises.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_dissection_chunk_repr.ml``
(``default_check_sections_number``, ``default_check``), ``sc_rollup_arith.ml``
(``check_dissection``), ``sc_rollup_wasm.ml`` (``check_sections_number``,
``check_dissection``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import attrs

from spec.errors import ProtocolError
from spec.hashing import StateHash


def _tick(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be a non-negative integer tick, got {value!r}")


@attrs.frozen
class Chunk:
    """``Sc_rollup_dissection_chunk_repr.t``: an optional state hash at a tick.

    Octez: ``sc_rollup_dissection_chunk_repr.ml``, type ``t``.
    """

    state_hash: StateHash | None
    tick: int = attrs.field(validator=_tick)

    def to_json(self) -> dict[str, object]:
        """The RPC JSON form: ``{"state": srs1… (omitted if None), "tick": "n"}``."""
        out: dict[str, object] = {"tick": str(self.tick)}
        if self.state_hash is not None:
            out["state"] = str(self.state_hash)
        return out


Dissection = tuple[Chunk, ...]


def _hash_text(h: StateHash | None) -> str:
    return "None" if h is None else str(h)


# -- errors -------------------------------------------------------------------


class DissectionNumberOfSectionsMismatch(ProtocolError):
    """``Dissection_number_of_sections_mismatch {expected; given}``."""

    octez_error = "smart_rollup_dissection_number_of_sections_mismatch"

    def __init__(self, expected: int, given: int) -> None:
        super().__init__(f"the dissection must have {expected} sections, but it has {given}")
        self.expected = expected
        self.given = given


class DissectionInvalidNumberOfSections(ProtocolError):
    """``Dissection_invalid_number_of_sections n``: a one-tick section cannot be dissected."""

    octez_error = "smart_rollup_dissection_invalid_number_of_sections"

    def __init__(self, given: int) -> None:
        super().__init__(
            f"a dissection with {given} sections can never be valid here: "
            "a section of at most one tick must be refuted with a proof"
        )
        self.given = given


class DissectionStartHashMismatch(ProtocolError):
    """``Dissection_start_hash_mismatch {expected; given}``."""

    octez_error = "smart_rollup_dissection_start_hash_mismatch"

    def __init__(self, expected: StateHash | None, given: StateHash | None) -> None:
        if given is None:
            text = "the first chunk of a dissection must have a state hash, not None"
        else:
            text = (
                f"the first chunk of the dissection has state {given}, "
                f"but the chosen section starts at {_hash_text(expected)}"
            )
        super().__init__(text)
        self.expected = expected
        self.given = given


class DissectionStopHashMismatch(ProtocolError):
    """``Dissection_stop_hash_mismatch h``: the mover must disagree with the stop."""

    octez_error = "smart_rollup_dissection_stop_hash_mismatch"

    def __init__(self, stop_hash: StateHash | None) -> None:
        super().__init__(
            f"the last chunk of the dissection must differ from the chosen section's "
            f"stop state {_hash_text(stop_hash)}"
        )
        self.stop_hash = stop_hash


class DissectionEdgeTicksMismatch(ProtocolError):
    """``Dissection_edge_ticks_mismatch`` with the four ticks."""

    octez_error = "smart_rollup_dissection_edge_ticks_mismatch"

    def __init__(
        self,
        dissection_start_tick: int,
        dissection_stop_tick: int,
        chunk_start_tick: int,
        chunk_stop_tick: int,
    ) -> None:
        super().__init__(
            f"the dissection spans ticks {dissection_start_tick}..{dissection_stop_tick}, "
            f"but the chosen section spans ticks {chunk_start_tick}..{chunk_stop_tick}"
        )
        self.dissection_start_tick = dissection_start_tick
        self.dissection_stop_tick = dissection_stop_tick
        self.chunk_start_tick = chunk_start_tick
        self.chunk_stop_tick = chunk_stop_tick


class DissectionTicksNotIncreasing(ProtocolError):
    """``Dissection_ticks_not_increasing``."""

    octez_error = "smart_rollup_dissection_ticks_not_increasing"

    def __init__(self, tick: int, next_tick: int) -> None:
        super().__init__(
            f"ticks must strictly increase in a dissection, but tick {tick} "
            f"is followed by tick {next_tick}"
        )
        self.tick = tick
        self.next_tick = next_tick


class DissectionInvalidDistribution(ProtocolError):
    """``Dissection_invalid_distribution section_max_size``."""

    octez_error = "smart_rollup_dissection_invalid_distribution"

    def __init__(self, section_maximum_size: int, tick: int, next_tick: int) -> None:
        super().__init__(
            f"a section of a dissection may span at most {section_maximum_size} ticks, "
            f"but ticks {tick}..{next_tick} span {next_tick - tick}"
        )
        self.section_maximum_size = section_maximum_size
        self.tick = tick
        self.next_tick = next_tick


class DissectionInvalidSuccessiveStatesShape(ProtocolError):
    """``Dissection_invalid_successive_states_shape``: no state after a blocked one."""

    octez_error = "smart_rollup_dissection_invalid_successive_states_shape"

    def __init__(self, tick: int, next_tick: int) -> None:
        super().__init__(
            f"a dissection cannot recover from a blocked state: tick {tick} is None "
            f"but tick {next_tick} has a state hash"
        )
        self.tick = tick
        self.next_tick = next_tick


class WasmInvalidDissectionDistribution(ProtocolError):
    """``WASM_invalid_dissection_distribution``: WASM chunks sit on snapshot boundaries."""

    octez_error = "smart_rollup_wasm_invalid_dissection_distribution"

    def __init__(self, tick: int, ticks_per_snapshot: int) -> None:
        super().__init__(
            f"tick {tick} of the dissection is neither an edge of the section nor a "
            f"multiple of ticks_per_snapshot ({ticks_per_snapshot})"
        )
        self.tick = tick
        self.ticks_per_snapshot = ticks_per_snapshot


# -- the default check -----------------------------------------------------------

SectionsNumberCheck = Callable[[int, int, int], None]


def default_check_sections_number(
    default_number_of_sections: int, number_of_sections: int, dist: int
) -> None:
    """A section of ``dist ≥ N`` ticks is cut into exactly ``N`` sections, one of
    ``1 < dist < N`` ticks into ``dist`` one-tick sections; a section of at most
    one tick cannot be dissected.

    Octez: ``sc_rollup_dissection_chunk_repr.ml``, ``default_check_sections_number``.
    """
    if default_number_of_sections <= dist:
        if number_of_sections != default_number_of_sections:
            raise DissectionNumberOfSectionsMismatch(default_number_of_sections, number_of_sections)
    elif dist > 1:
        if number_of_sections != dist:
            raise DissectionNumberOfSectionsMismatch(dist, number_of_sections)
    else:
        raise DissectionInvalidNumberOfSections(number_of_sections)


def check_start_hash(first: Chunk, start_chunk: Chunk) -> None:
    """The dissection starts on the chosen section's start state, which is not None.

    Octez: ``sc_rollup_dissection_chunk_repr.ml``, ``default_check``.
    """
    if first.state_hash is None or first.state_hash != start_chunk.state_hash:
        raise DissectionStartHashMismatch(start_chunk.state_hash, first.state_hash)


def check_stop_hash(last: Chunk, stop_chunk: Chunk) -> None:
    """The dissection ends on a state other than the chosen section's stop state
    (compared as options: ``None = None``); the mover must disagree with it.

    Octez: ``sc_rollup_dissection_chunk_repr.ml``, ``default_check``.
    """
    if last.state_hash == stop_chunk.state_hash:
        raise DissectionStopHashMismatch(stop_chunk.state_hash)


def check_edge_ticks(first: Chunk, last: Chunk, start_chunk: Chunk, stop_chunk: Chunk) -> None:
    """The dissection spans exactly the ticks of the chosen section.

    Octez: ``sc_rollup_dissection_chunk_repr.ml``, ``default_check``.
    """
    if first.tick != start_chunk.tick or last.tick != stop_chunk.tick:
        raise DissectionEdgeTicksMismatch(first.tick, last.tick, start_chunk.tick, stop_chunk.tick)


def check_successive_chunks(dissection: Sequence[Chunk], section_maximum_size: int) -> None:
    """For each pair of consecutive chunks: no state hash after a None, strictly
    increasing ticks, and at most ``section_maximum_size`` ticks between them.

    Octez: ``sc_rollup_dissection_chunk_repr.ml``, ``default_check`` (``traverse``).
    """
    for a, b in itertools.pairwise(dissection):
        if a.state_hash is None and b.state_hash is not None:
            raise DissectionInvalidSuccessiveStatesShape(a.tick, b.tick)
        if not a.tick < b.tick:
            raise DissectionTicksNotIncreasing(a.tick, b.tick)
        if b.tick - a.tick > section_maximum_size:
            raise DissectionInvalidDistribution(section_maximum_size, a.tick, b.tick)


def default_check(
    *,
    section_maximum_size: int,
    check_sections_number: SectionsNumberCheck,
    default_number_of_sections: int,
    start_chunk: Chunk,
    stop_chunk: Chunk,
    dissection: Sequence[Chunk],
) -> None:
    """The generic dissection check: number of sections, start hash, stop hash,
    edge ticks, then every consecutive pair.

    Octez: ``sc_rollup_dissection_chunk_repr.ml``, ``default_check``.
    """
    number_of_sections = max(0, len(dissection) - 1)
    dist = stop_chunk.tick - start_chunk.tick
    check_sections_number(default_number_of_sections, number_of_sections, dist)
    if not dissection:
        raise DissectionInvalidNumberOfSections(number_of_sections)
    first, last = dissection[0], dissection[-1]
    check_start_hash(first, start_chunk)
    check_stop_hash(last, stop_chunk)
    check_edge_ticks(first, last, start_chunk, stop_chunk)
    check_successive_chunks(dissection, section_maximum_size)


def check_dissection_default(
    default_number_of_sections: int,
    start_chunk: Chunk,
    stop_chunk: Chunk,
    dissection: Sequence[Chunk],
) -> None:
    """The check of the arith and RISC-V PVMs: the default check with sections of
    at most ``floor(d / 2)`` ticks, ``d`` the chosen section's length.

    Octez: ``sc_rollup_arith.ml``, ``check_dissection``.
    """
    default_check(
        section_maximum_size=(stop_chunk.tick - start_chunk.tick) // 2,
        check_sections_number=default_check_sections_number,
        default_number_of_sections=default_number_of_sections,
        start_chunk=start_chunk,
        stop_chunk=stop_chunk,
        dissection=dissection,
    )


# -- the WASM override -----------------------------------------------------------


def wasm_check_sections_number(ticks_per_snapshot: int) -> SectionsNumberCheck:
    """WASM sections: ``min(N, d / S)`` when the stop tick is aligned on a snapshot
    (``d mod S = 0``), else ``min(N, d / S + 1)``.

    Octez: ``sc_rollup_wasm.ml``, ``check_sections_number``.
    """

    def check(default_number_of_sections: int, number_of_sections: int, dist: int) -> None:
        aligned = dist % ticks_per_snapshot == 0
        full = dist // ticks_per_snapshot
        expected = min(default_number_of_sections, full if aligned else full + 1)
        if number_of_sections != expected:
            raise DissectionNumberOfSectionsMismatch(expected, number_of_sections)

    return check


def check_dissection_wasm(
    default_number_of_sections: int,
    start_chunk: Chunk,
    stop_chunk: Chunk,
    dissection: Sequence[Chunk],
    ticks_per_snapshot: int,
) -> None:
    """The WASM PVM's check. A section of at most ``S = ticks_per_snapshot`` ticks
    uses the default check. A longer one is cut on ``kernel_run`` boundaries:
    sections of at most ``max(S, d' / 2)`` ticks, ``d'`` the distance to the
    last multiple of ``S`` not after the stop, and every inner chunk on a
    multiple of ``S``.

    Octez: ``sc_rollup_wasm.ml``, ``check_dissection``.
    """
    dist = stop_chunk.tick - start_chunk.tick
    if dist <= ticks_per_snapshot:
        check_dissection_default(default_number_of_sections, start_chunk, stop_chunk, dissection)
        return
    aligned = dist % ticks_per_snapshot == 0
    if aligned:
        considered = dist
    else:
        last_valid_stop = (stop_chunk.tick // ticks_per_snapshot) * ticks_per_snapshot
        considered = last_valid_stop - start_chunk.tick
    default_check(
        section_maximum_size=max(ticks_per_snapshot, considered // 2),
        check_sections_number=wasm_check_sections_number(ticks_per_snapshot),
        default_number_of_sections=default_number_of_sections,
        start_chunk=start_chunk,
        stop_chunk=stop_chunk,
        dissection=dissection,
    )
    for chunk in dissection:
        if not (
            chunk.tick % ticks_per_snapshot == 0
            or chunk.tick == start_chunk.tick
            or chunk.tick == stop_chunk.tick
        ):
            raise WasmInvalidDissectionDistribution(chunk.tick, ticks_per_snapshot)


def check_dissection(
    pvm_kind: str,
    default_number_of_sections: int,
    start_chunk: Chunk,
    stop_chunk: Chunk,
    dissection: Sequence[Chunk],
    ticks_per_snapshot: int,
) -> None:
    """``PVM.check_dissection`` of the rollup's PVM kind: the WASM override for
    ``wasm_2_0_0``, the default check for every other kind.

    Octez: ``sc_rollups.ml`` (``PVM.S.check_dissection``), ``sc_rollup_wasm.ml``,
    ``sc_rollup_arith.ml``, ``sc_rollup_riscv.ml``.
    """
    if pvm_kind == "wasm_2_0_0":
        check_dissection_wasm(
            default_number_of_sections, start_chunk, stop_chunk, dissection, ticks_per_snapshot
        )
    else:
        check_dissection_default(default_number_of_sections, start_chunk, stop_chunk, dissection)


# -- building dissections (rollup node side) --------------------------------------


def default_dissection_ticks(
    start_tick: int, stop_tick: int, default_number_of_sections: int
) -> list[int]:
    """The ticks of an honest default dissection of ``[start_tick, stop_tick]``:
    ``min(N, d)`` sections whose lengths differ by at most one tick (the longer
    ones first), so every section has at most ``ceil(d / k)`` ticks, which is at
    most ``floor(d / 2)`` whenever a valid dissection exists.

    Rollup-node side (not protocol); in the spirit of Octez's
    ``Game_helpers.default_new_dissection``.
    """
    dist = stop_tick - start_tick
    sections = min(default_number_of_sections, dist)
    base, extra = divmod(dist, sections)
    ticks = [start_tick]
    for i in range(sections):
        ticks.append(ticks[-1] + base + (1 if i < extra else 0))
    return ticks


def wasm_dissection_ticks(
    start_tick: int, stop_tick: int, default_number_of_sections: int, ticks_per_snapshot: int
) -> list[int]:
    """The ticks of an honest WASM dissection: the default one for sections of at
    most ``S`` ticks, else whole snapshots spread evenly over the sections, the
    unaligned remainder in the last one.

    Rollup-node side; in the spirit of Octez's ``Wasm.new_dissection``.
    """
    dist = stop_tick - start_tick
    if dist <= ticks_per_snapshot:
        return default_dissection_ticks(start_tick, stop_tick, default_number_of_sections)
    aligned = dist % ticks_per_snapshot == 0
    snapshots = dist // ticks_per_snapshot
    sections = min(default_number_of_sections, snapshots if aligned else snapshots + 1)
    base, extra = divmod(snapshots, sections)
    ticks = [start_tick]
    for i in range(sections - 1):
        ticks.append(ticks[-1] + (base + (1 if i < extra else 0)) * ticks_per_snapshot)
    ticks.append(stop_tick)
    return ticks
