"""Origination: rollup addresses, PVM kinds, parameter types, whitelists, genesis info.

Octez: ``src/proto_alpha/lib_protocol/sc_rollup_operations.ml`` (``originate``,
``validate_ty``), ``sc_rollup_storage.ml`` (``originate``, ``new_address``,
``check_whitelist``), ``origination_nonce.ml``, ``sc_rollups.ml``,
``validate.ml`` (``assert_pvm_kind_enabled``).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Literal

import attrs

from spec import michelson
from spec.commitment import Commitment, genesis_commitment
from spec.constants import Constants
from spec.errors import ProtocolError
from spec.hashing import (
    CommitmentHash,
    ImplicitAccount,
    OperationHash,
    RollupAddress,
    StateHash,
    blake2b_160,
)

PvmKind = Literal["arith", "wasm_2_0_0", "riscv"]
PVM_KINDS: tuple[PvmKind, ...] = ("arith", "wasm_2_0_0", "riscv")

#: Binary size limit of the whitelist encoding. Octez: ``sc_rollup_whitelist_repr.ml``.
WHITELIST_MAX_ENCODED_SIZE = 4_094


# -- errors -------------------------------------------------------------------


class InvalidPvmKind(ProtocolError):
    """An origination whose PVM kind is not enabled by the constants
    (``validate.ml``, ``assert_pvm_kind_enabled``: ``Sc_rollup_arith_pvm_disabled``,
    ``Sc_rollup_riscv_pvm_disabled``)."""

    octez_error = "smart_rollup_pvm_disabled"

    def __init__(self, kind: str) -> None:
        super().__init__(f"PVM kind {kind!r} is not enabled by these constants")
        self.kind = kind


class InvalidParametersType(ProtocolError):
    """``Sc_rollup_invalid_parameters_type``: a forbidden type or an entrypoint annotation."""

    octez_error = "smart_rollup_invalid_parameters_type"

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid rollup parameters type: {reason}")
        self.reason = reason


class WhitelistDisabled(ProtocolError):
    """``Sc_rollup_whitelist_disabled``: private rollups are disabled."""

    octez_error = "smart_rollup_whitelist_disabled"

    def __init__(self) -> None:
        super().__init__("private rollups (whitelists) are disabled by these constants")


class EmptyWhitelist(ProtocolError):
    """``Sc_rollup_empty_whitelist``."""

    octez_error = "smart_rollup_empty_whitelist"

    def __init__(self) -> None:
        super().__init__("a whitelist must not be empty")


class DuplicatedKeyInWhitelist(ProtocolError):
    """``Sc_rollup_duplicated_key_in_whitelist``."""

    octez_error = "smart_rollup_duplicated_key_in_whitelist"

    def __init__(self, key: ImplicitAccount) -> None:
        super().__init__(f"the whitelist lists {key} more than once")
        self.key = key


class WhitelistTooLarge(ProtocolError):
    """The whitelist encoding exceeds 4,094 bytes."""

    octez_error = "smart_rollup_whitelist_too_large"

    def __init__(self, size: int) -> None:
        super().__init__(
            f"the whitelist encodes to {size} bytes; the limit is {WHITELIST_MAX_ENCODED_SIZE}"
        )
        self.size = size


# -- addresses ------------------------------------------------------------------


@attrs.frozen
class OriginationNonce:
    """``{operation_hash; origination_index}``: what makes each new address unique.

    Octez: ``origination_nonce.ml``.
    """

    operation_hash: OperationHash
    origination_index: int = 0

    def encode(self) -> bytes:
        """Operation hash (32 bytes) ‖ index (int32 BE). Octez: ``origination_nonce.ml``."""
        return self.operation_hash.raw + struct.pack(">i", self.origination_index)

    def incr(self) -> OriginationNonce:
        return attrs.evolve(self, origination_index=self.origination_index + 1)


def rollup_address(nonce: OriginationNonce) -> RollupAddress:
    """``sr1`` address = Blake2b-160 of the binary origination nonce.

    Octez: ``sc_rollup_storage.ml``, ``new_address``; ``sc_rollup_repr.ml``,
    ``Address.from_nonce``.
    """
    return RollupAddress(blake2b_160(nonce.encode()))


# -- parameters type -------------------------------------------------------------

#: Types allowed in a rollup's parameters type (and in typed outbox transactions).
ALLOWED_TYPES = frozenset(
    {
        "unit", "int", "nat", "signature", "string", "bytes", "key_hash", "key",
        "timestamp", "address", "bls12_381_g1", "bls12_381_g2", "bls12_381_fr", "bool",
        "never", "chain_id", "contract", "ticket", "set", "option", "list", "pair", "or",
        "map",
    }
)  # fmt: skip


def validate_parameters_type(ty: michelson.Node) -> None:
    """A rollup's parameter type: only allowed types, and no entrypoint annotation.

    Forbidden: ``mutez``, ``big_map``, ``sapling_*``, ``operation``, ``chest``,
    ``chest_key``, ``lambda`` and any ``%field`` annotation.
    Octez: ``sc_rollup_operations.ml``, ``validate_ty`` and
    ``check_no_entrypoint_annotation`` (via ``Script_ir_translator``).
    """
    stack: list[michelson.Node] = [ty]
    while stack:
        node = stack.pop()
        if not isinstance(node, michelson.Prim):
            raise InvalidParametersType(f"{michelson.to_michelson(node)} is not a type")
        if node.name not in ALLOWED_TYPES:
            raise InvalidParametersType(f"type {node.name!r} is not allowed in a rollup")
        for annot in node.annots:
            if annot.startswith("%"):
                raise InvalidParametersType(
                    f"entrypoint annotation {annot} is not allowed in a rollup"
                )
        stack.extend(reversed(node.args))


# -- whitelist -------------------------------------------------------------------


def check_whitelist(whitelist: Sequence[ImplicitAccount], constants: Constants) -> None:
    """A whitelist needs private rollups enabled, is non-empty, has no duplicate
    and encodes to at most 4,094 bytes.

    Octez: ``sc_rollup_storage.ml``, ``check_whitelist``;
    ``sc_rollup_whitelist_repr.ml``.
    """
    if not constants.private_enable:
        raise WhitelistDisabled()
    if not whitelist:
        raise EmptyWhitelist()
    seen: set[ImplicitAccount] = set()
    for key in whitelist:
        if key in seen:
            raise DuplicatedKeyInWhitelist(key)
        seen.add(key)
    size = 4 + 21 * len(whitelist)
    if size > WHITELIST_MAX_ENCODED_SIZE:
        raise WhitelistTooLarge(size)


# -- origination ----------------------------------------------------------------


@attrs.frozen
class GenesisInfo:
    """``{level; commitment_hash}`` of a rollup. Octez: ``sc_rollup_commitment_repr.ml``."""

    level: int
    commitment_hash: CommitmentHash


@attrs.frozen
class Origination:
    """What an origination stores: the rollup's fixed information.

    Octez: ``sc_rollup_storage.ml``, ``raw_originate``.
    """

    address: RollupAddress
    kind: PvmKind
    boot_sector: bytes
    parameters_ty: michelson.Node
    genesis_commitment: Commitment
    genesis_info: GenesisInfo
    whitelist: tuple[ImplicitAccount, ...] | None


def check_pvm_kind_enabled(kind: str, constants: Constants) -> None:
    """``arith`` needs ``arith_pvm_enable``, ``riscv`` needs ``riscv_pvm_enable``.

    Octez: ``validate.ml``, ``assert_pvm_kind_enabled``.
    """
    if kind not in PVM_KINDS:
        raise InvalidPvmKind(kind)
    if kind == "arith" and not constants.arith_pvm_enable:
        raise InvalidPvmKind(kind)
    if kind == "riscv" and not constants.riscv_pvm_enable:
        raise InvalidPvmKind(kind)


def originate(
    *,
    kind: PvmKind,
    boot_sector: bytes,
    parameters_ty: michelson.Node,
    genesis_state_hash: StateHash,
    nonce: OriginationNonce,
    level: int,
    constants: Constants,
    whitelist: Sequence[ImplicitAccount] | None = None,
) -> Origination:
    """Originate a rollup: checks in Octez's order, then the genesis commitment.

    ``genesis_state_hash`` is the PVM's state hash after installing the boot
    sector (computed by the PVM, which the specification takes as a parameter).
    Octez: ``sc_rollup_operations.ml``, ``originate``.
    """
    check_pvm_kind_enabled(kind, constants)
    validate_parameters_type(parameters_ty)
    if whitelist is not None:
        check_whitelist(whitelist, constants)
    commitment = genesis_commitment(genesis_state_hash, level)
    return Origination(
        address=rollup_address(nonce),
        kind=kind,
        boot_sector=boot_sector,
        parameters_ty=parameters_ty,
        genesis_commitment=commitment,
        genesis_info=GenesisInfo(level, commitment.hash()),
        whitelist=None if whitelist is None else tuple(whitelist),
    )
