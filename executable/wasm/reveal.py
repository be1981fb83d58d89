"""The reveal channel: requests, their answers, preimage directories and the
DAC page format used by installer kernels.

Octez: src/lib_scoru_wasm/wasm_pvm_state.ml (request bytes),
src/proto_alpha/lib_protocol/sc_rollup_PVM_sig.ml (``reveal_encoding``),
src/proto_alpha/lib_protocol/sc_rollup_wasm.ml (``decode_reveal``: an
undecodable request becomes a request for the well-known hash, whose preimage
is empty), src/proto_alpha/lib_sc_rollup_node/reveals.ml (preimage files),
src/kernel_sdk/encoding/src/dac/pages.rs (DAC pages).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import attrs

from executable.wasm import limits
from executable.wasm.errors import MissingPreimage

TAG_PREIMAGE = 0x00
TAG_METADATA = 0x01
TAG_DAL_PAGE = 0x02
TAG_DAL_PARAMETERS = 0x03


def preimage_hash(data: bytes) -> bytes:
    """The 33-byte reveal hash of ``data``: ``00`` ‖ Blake2b-256(data)."""
    return b"\x00" + hashlib.blake2b(data, digest_size=32).digest()


@attrs.frozen
class Metadata:
    """What ``reveal_metadata`` answers: the rollup address (20 raw bytes)
    and its origination level."""

    address: bytes = attrs.field()
    origination_level: int = attrs.field()

    @address.validator
    def _check_address(self, _attr: object, value: bytes) -> None:
        if len(value) != 20:
            raise ValueError("a rollup address is 20 raw bytes")

    @origination_level.validator
    def _check_level(self, _attr: object, value: int) -> None:
        if not 0 <= value < 2**31:
            raise ValueError("origination level must fit an int32")

    def encode(self) -> bytes:
        """Address ‖ origination level as int32 big-endian (24 bytes)."""
        return self.address + self.origination_level.to_bytes(4, "big")


@attrs.frozen
class DalParameters:
    """Answer to a DAL-parameters reveal (four int64 big-endian)."""

    number_of_slots: int
    attestation_lag: int
    slot_size: int
    page_size: int

    def encode(self) -> bytes:
        return b"".join(
            v.to_bytes(8, "big", signed=True)
            for v in (self.number_of_slots, self.attestation_lag, self.slot_size, self.page_size)
        )


PreimageSource = Callable[[bytes], bytes | None]
"""Given a 33-byte hash, the preimage or ``None`` when unknown."""

DalPageSource = Callable[[int, int, int], bytes | None]
"""Given (published level, slot index, page index), the page or ``None``
(not attested / not importable: the kernel receives 0 bytes)."""


class PreimageDirectory:
    """Preimages stored as files named by the hex of their 33-byte hash, as
    Octez's rollup node (``<data-dir>/wasm_2_0_0/``) and the debugger's
    ``--preimage-dir`` store them. A file whose content does not hash to its
    name is refused, as reveals.ml does."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def __call__(self, hash33: bytes) -> bytes | None:
        path = self.directory / hash33.hex()
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if preimage_hash(data) != hash33:
            raise MissingPreimage(b"\x00" + hash33, f"file {path} does not hash to its name")
        return data


@attrs.frozen
class RevealAnswer:
    """The bytes given back to the kernel for one request."""

    data: bytes


class RevealOracle:
    """Answers reveal requests the way the protocol decodes them.

    Request bytes (wasm_pvm_state.ml): ``reveal_preimage`` sends ``00`` ‖
    the kernel's hash bytes, ``reveal_metadata`` sends ``01``, ``reveal``
    sends its payload verbatim. A request that does not decode exactly
    (length, tag, trailing bytes), or whose kind is not available, is
    answered with the empty preimage of the well-known hash.
    """

    def __init__(
        self,
        metadata: Metadata,
        preimages: PreimageSource | None = None,
        dal_parameters: DalParameters | None = None,
        dal_pages: DalPageSource | None = None,
    ) -> None:
        self.metadata = metadata
        self.preimages = preimages
        self.dal_parameters = dal_parameters
        self.dal_pages = dal_pages
        self.supplied: dict[bytes, bytes] = {}

    def supply(self, hash33: bytes, data: bytes) -> None:
        """Add a preimage (checked against its hash)."""
        if preimage_hash(data) != hash33:
            raise MissingPreimage(b"\x00" + hash33, "supplied data does not hash to the request")
        self.supplied[hash33] = data

    def answer(self, request: bytes) -> bytes:
        """The answer to ``request``; raises :class:`MissingPreimage` when a
        well-formed preimage request cannot be answered (a real rollup node
        would block)."""
        if not request:
            return b""
        tag = request[0]
        if tag == TAG_PREIMAGE and len(request) == 1 + limits.PREIMAGE_HASH_SIZE:
            hash33 = request[1:]
            if hash33[0] != 0x00:
                return b""
            data = self.supplied.get(hash33)
            if data is None and self.preimages is not None:
                data = self.preimages(hash33)
            if data is None:
                raise MissingPreimage(request, "no such preimage")
            if len(data) > limits.MAX_PREIMAGE_SIZE:
                raise MissingPreimage(request, "preimage larger than 4,096 bytes")
            return data
        if tag == TAG_METADATA and len(request) == 1:
            return self.metadata.encode()
        if tag == TAG_DAL_PAGE and len(request) == 8:
            if self.dal_pages is None:
                return b""
            published = int.from_bytes(request[1:5], "big", signed=True)
            slot = request[5]
            page = int.from_bytes(request[6:8], "big", signed=True)
            return self.dal_pages(published, slot, page) or b""
        if tag == TAG_DAL_PARAMETERS and len(request) == 1:
            return b"" if self.dal_parameters is None else self.dal_parameters.encode()
        return b""


# -- DAC pages (installer format) -------------------------------------------

MAX_PAGE_SIZE = 4096
PAGE_HEADER = 5
MAX_CONTENT = MAX_PAGE_SIZE - PAGE_HEADER
HASHES_PER_PAGE = MAX_CONTENT // limits.PREIMAGE_HASH_SIZE


def _page(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + len(body).to_bytes(4, "big") + body


def dac_pages(data: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """Split ``data`` into DAC pages: 4,091-byte content pages (tag ``00``),
    then hash pages (tag ``01``) of at most 123 hashes until one hash
    remains. Returns (root hash, {hash: page}).

    Octez: src/kernel_sdk/encoding/src/dac/pages.rs.
    """
    pages: dict[bytes, bytes] = {}
    hashes: list[bytes] = []
    for i in range(0, max(len(data), 1), MAX_CONTENT):
        page = _page(0, data[i : i + MAX_CONTENT])
        h = preimage_hash(page)
        pages[h] = page
        hashes.append(h)
    while len(hashes) > 1:
        grouped: list[bytes] = []
        for i in range(0, len(hashes), HASHES_PER_PAGE):
            page = _page(1, b"".join(hashes[i : i + HASHES_PER_PAGE]))
            h = preimage_hash(page)
            pages[h] = page
            grouped.append(h)
        hashes = grouped
    return hashes[0], pages


def write_preimages(directory: Path, pages: dict[bytes, bytes]) -> None:
    """Store pages as files named by hex hash (rollup-node layout)."""
    directory.mkdir(parents=True, exist_ok=True)
    for h, page in sorted(pages.items()):
        (directory / h.hex()).write_bytes(page)
