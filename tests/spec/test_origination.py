"""Origination: addresses, PVM kinds, parameter types, whitelists."""

from __future__ import annotations

import attrs
import pytest

from spec import michelson
from spec.constants import MAINNET, TEST
from spec.hashing import ImplicitAccount, OperationHash, StateHash, blake2b_160
from spec.origination import (
    DuplicatedKeyInWhitelist,
    EmptyWhitelist,
    InvalidParametersType,
    InvalidPvmKind,
    OriginationNonce,
    WhitelistDisabled,
    WhitelistTooLarge,
    check_whitelist,
    originate,
    rollup_address,
    validate_parameters_type,
)

OP = OperationHash(bytes(range(32)))
ALICE = ImplicitAccount(0, b"\x01" * 20)
BOB = ImplicitAccount(1, b"\x02" * 20)


def test_address_is_blake2b_160_of_the_nonce() -> None:
    nonce = OriginationNonce(OP, 0)
    assert nonce.encode() == bytes(range(32)) + b"\x00\x00\x00\x00"
    assert rollup_address(nonce).raw == blake2b_160(nonce.encode())
    assert rollup_address(nonce) != rollup_address(nonce.incr())
    assert str(rollup_address(nonce)).startswith("sr1")


def test_originate_builds_the_genesis_commitment() -> None:
    o = originate(
        kind="wasm_2_0_0",
        boot_sector=b"\x00asm",
        parameters_ty=michelson.parse_type("unit"),
        genesis_state_hash=StateHash(b"\x05" * 32),
        nonce=OriginationNonce(OP),
        level=7,
        constants=MAINNET,
    )
    assert o.genesis_info.level == 7
    assert o.genesis_info.commitment_hash == o.genesis_commitment.hash()
    assert o.genesis_commitment.number_of_ticks == 0
    assert o.whitelist is None


def test_pvm_kinds_enabled_by_constants() -> None:
    args = {
        "boot_sector": b"",
        "parameters_ty": michelson.parse_type("unit"),
        "genesis_state_hash": StateHash.zero(),
        "nonce": OriginationNonce(OP),
        "level": 1,
    }
    with pytest.raises(InvalidPvmKind, match="'arith' is not enabled"):
        originate(kind="arith", constants=MAINNET, **args)  # type: ignore[arg-type]
    originate(kind="arith", constants=TEST, **args)  # type: ignore[arg-type]
    with pytest.raises(InvalidPvmKind, match="riscv"):
        originate(kind="riscv", constants=TEST, **args)  # type: ignore[arg-type]
    with pytest.raises(InvalidPvmKind, match="evm"):
        originate(kind="evm", constants=TEST, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "ty",
    [
        "unit",
        "pair nat (list string)",
        "or (ticket bytes) (map string (option key_hash))",
        "contract unit",
        "set chain_id",
    ],
)
def test_allowed_parameter_types(ty: str) -> None:
    validate_parameters_type(michelson.parse_type(ty))


@pytest.mark.parametrize(
    ("ty", "needle"),
    [
        ("mutez", "'mutez' is not allowed"),
        ("big_map nat nat", "'big_map' is not allowed"),
        ("lambda unit unit", "'lambda' is not allowed"),
        ("pair nat operation", "'operation' is not allowed"),
        ("or (nat %a) (int %b)", "entrypoint annotation %a"),
        ("sapling_state 8", "'sapling_state' is not allowed"),
    ],
)
def test_rejected_parameter_types(ty: str, needle: str) -> None:
    with pytest.raises(InvalidParametersType, match=needle):
        validate_parameters_type(michelson.parse_type(ty))


def test_whitelist_rules() -> None:
    check_whitelist([ALICE, BOB], MAINNET)
    with pytest.raises(EmptyWhitelist):
        check_whitelist([], MAINNET)
    with pytest.raises(DuplicatedKeyInWhitelist, match="more than once"):
        check_whitelist([ALICE, BOB, ALICE], MAINNET)
    with pytest.raises(WhitelistDisabled):
        check_whitelist([ALICE], attrs.evolve(MAINNET, private_enable=False))
    many = [ImplicitAccount(0, i.to_bytes(20, "big")) for i in range(200)]
    with pytest.raises(WhitelistTooLarge, match="limit is 4094"):
        check_whitelist(many, MAINNET)
