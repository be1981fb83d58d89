"""Smart-rollup protocol constants and their named presets.

Every protocol duration is counted in layer-1 levels (blocks), every amount
in mutez. Every function of the specification takes a :class:`Constants`
value explicitly; nothing reads a global.

Octez: ``src/proto_alpha/lib_parameters/default_parameters.ml``
(``make_sc_rollup_parameter``), ``constants_parametric_repr.ml``,
``constants_repr.ml`` (fixed constants and ``check_constants``),
``sc_rollup_wasm.ml`` (``V2_0_0`` PVM constants).
"""

from __future__ import annotations

from typing import Literal

import attrs

from spec.errors import ConstantsError

#: One tez in mutez.
TEZ = 1_000_000

#: Modes of the refutation game and inbox proofs: ``octez`` follows the code
#: to the letter, ``intended`` adds the checks the design intends (see
#: ``docs/concepts/modes``).
Mode = Literal["intended", "octez"]
MODES: tuple[Mode, ...] = ("intended", "octez")

INT32_MAX = 2**31 - 1
UINT8_MAX = 2**8 - 1


def _non_negative(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConstantsError(f"constant {attribute.name} must be an integer, got {value!r}")
    if value < 0:
        raise ConstantsError(f"constant {attribute.name} must be non-negative, got {value}")


def _int32(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    _non_negative(_inst, attribute, value)
    if value > INT32_MAX:
        raise ConstantsError(f"constant {attribute.name} must fit an int32, got {value}")


def _uint8(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    _non_negative(_inst, attribute, value)
    if value > UINT8_MAX:
        raise ConstantsError(f"constant {attribute.name} must fit a uint8, got {value}")


@attrs.frozen
class RevealActivationLevel:
    """The level from which each reveal kind is enabled.

    Octez: ``sc_rollup_reveal_activation_level`` in ``constants_parametric_repr.ml``.
    """

    raw_data_blake2b: int = attrs.field(default=0, validator=_int32)
    metadata: int = attrs.field(default=0, validator=_int32)
    dal_page: int = attrs.field(default=1, validator=_int32)
    dal_parameters: int = attrs.field(default=1, validator=_int32)
    dal_attested_slots_validity_lag: int = attrs.field(default=241_920, validator=_int32)


@attrs.frozen
class PastCommitmentPeriod:
    """A commitment period in force before the protocol activated at ``activation_level``.

    Octez: ``sc_rollup_storage.ml`` (``save_commitment_period``), stored in
    ``Past_commitment_periods`` at each protocol migration.
    """

    period: int = attrs.field(validator=_int32)
    activation_level: int = attrs.field(validator=_int32)

    def __attrs_post_init__(self) -> None:
        if self.period == 0:
            raise ConstantsError("a past commitment period must be positive")


@attrs.frozen
class Constants:
    """All smart-rollup constants of one protocol, parametric and fixed.

    Field names are Octez's (``smart_rollup_`` JSON prefix dropped).
    Octez: ``constants_parametric_repr.ml`` (record ``sc_rollup``) and
    ``constants_repr.ml`` (fixed ``sc_rollup_*`` values).
    """

    name: str
    # -- parametric (constants_parametric_repr.ml, record sc_rollup) ----------
    arith_pvm_enable: bool
    origination_size: int = attrs.field(validator=_int32)
    challenge_window_in_blocks: int = attrs.field(validator=_int32)
    stake_amount: int = attrs.field(validator=_non_negative)
    commitment_period_in_blocks: int = attrs.field(validator=_int32)
    max_lookahead_in_blocks: int = attrs.field(validator=_int32)
    max_active_outbox_levels: int = attrs.field(validator=_int32)
    max_outbox_messages_per_level: int = attrs.field(validator=_int32)
    number_of_sections_in_dissection: int = attrs.field(validator=_uint8)
    timeout_period_in_blocks: int = attrs.field(validator=_int32)
    max_number_of_stored_cemented_commitments: int = attrs.field(validator=_int32)
    max_number_of_parallel_games: int = attrs.field(validator=_int32)
    reveal_activation_level: RevealActivationLevel = RevealActivationLevel()
    private_enable: bool = True
    riscv_pvm_enable: bool = False
    #: ``sr1…`` address of the canonical rollup, or ``None`` (sandbox, tests).
    canonical_rollup_address: str | None = None
    # -- fixed (constants_repr.ml) --------------------------------------------
    message_size_limit: int = attrs.field(default=4_096, validator=_non_negative)
    max_number_of_messages_per_level: int = attrs.field(default=1_000_000, validator=_non_negative)
    # -- WASM PVM (sc_rollup_wasm.ml, V2_0_0) ---------------------------------
    ticks_per_snapshot: int = attrs.field(default=50_000_000_000_000, validator=_non_negative)
    wasm_outbox_validity_period: int = attrs.field(default=241_920, validator=_non_negative)
    wasm_outbox_message_limit: int = attrs.field(default=100, validator=_non_negative)
    # -- history and configuration --------------------------------------------
    #: Commitment periods of earlier protocols, sorted by activation level.
    past_commitment_periods: tuple[PastCommitmentPeriod, ...] = ()
    #: Refutation/inbox-proof semantics (see :data:`MODES`); not an Octez constant.
    mode: Mode = "intended"

    def __attrs_post_init__(self) -> None:
        check_constants(self)

    def with_mode(self, mode: str) -> Constants:
        """The same constants under another refutation mode."""
        if mode not in MODES:
            raise ConstantsError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
        return attrs.evolve(self, mode=mode)


def check_constants(c: Constants) -> None:
    """Refuse constants that Octez refuses, with the rule that failed.

    Octez: ``constants_repr.ml``, ``check_constants`` (smart-rollup part):
    origination size, challenge window and stake are non-negative (enforced
    by the field validators), the commitment period is positive, the maximal
    lookahead exceeds both the commitment period and the challenge window,
    and at least one cemented commitment is stored.
    """
    if c.commitment_period_in_blocks <= 0:
        raise ConstantsError(
            f"{c.name}: commitment_period_in_blocks must be positive, "
            f"got {c.commitment_period_in_blocks}"
        )
    if c.max_lookahead_in_blocks <= c.commitment_period_in_blocks:
        raise ConstantsError(
            f"{c.name}: max_lookahead_in_blocks ({c.max_lookahead_in_blocks}) must be greater "
            f"than commitment_period_in_blocks ({c.commitment_period_in_blocks})"
        )
    if c.max_lookahead_in_blocks <= c.challenge_window_in_blocks:
        raise ConstantsError(
            f"{c.name}: max_lookahead_in_blocks ({c.max_lookahead_in_blocks}) must be greater "
            f"than challenge_window_in_blocks ({c.challenge_window_in_blocks})"
        )
    if c.max_number_of_stored_cemented_commitments <= 0:
        raise ConstantsError(
            f"{c.name}: max_number_of_stored_cemented_commitments must be positive, "
            f"got {c.max_number_of_stored_cemented_commitments}"
        )
    # Not an Octez check, but required by the fields' meaning.
    if c.number_of_sections_in_dissection < 2:
        raise ConstantsError(
            f"{c.name}: number_of_sections_in_dissection must be at least 2, "
            f"got {c.number_of_sections_in_dissection}"
        )
    levels = [p.activation_level for p in c.past_commitment_periods]
    if levels != sorted(levels):
        raise ConstantsError(
            f"{c.name}: past_commitment_periods must be sorted by activation level"
        )


@attrs.frozen
class ProtocolRow:
    """One row of the historical table of block-count constants.

    Octez: ``docs/protocols/*.rst``, ``default_parameters.ml`` of each protocol.
    """

    protocols: str
    block_time_seconds: int
    commitment_period_in_blocks: int
    challenge_window_in_blocks: int
    timeout_period_in_blocks: int
    max_lookahead_in_blocks: int
    max_active_outbox_levels: int


#: Block-count constants per protocol family (stake, sections, stored
#: cemented commitments, parallel games, outbox limit and origination size
#: are the same in every row).
HISTORY: tuple[ProtocolRow, ...] = (
    ProtocolRow("016 Mumbai, 017 Nairobi, 018 Oxford", 15, 60, 80_640, 40_320, 172_800, 80_640),
    ProtocolRow("019 ParisB, 020 ParisC", 10, 90, 120_960, 60_480, 259_200, 120_960),
    ProtocolRow("021 Quebec, 022 Rio, 023 Seoul", 8, 112, 151_200, 75_600, 324_000, 151_200),
    ProtocolRow("024 Tallinn, 025 Ushuaia, alpha", 6, 150, 201_600, 100_800, 432_000, 151_200),
)


def _from_row(name: str, row: ProtocolRow) -> Constants:
    return Constants(
        name=name,
        arith_pvm_enable=False,
        origination_size=6_314,
        challenge_window_in_blocks=row.challenge_window_in_blocks,
        stake_amount=10_000 * TEZ,
        commitment_period_in_blocks=row.commitment_period_in_blocks,
        max_lookahead_in_blocks=row.max_lookahead_in_blocks,
        max_active_outbox_levels=row.max_active_outbox_levels,
        max_outbox_messages_per_level=100,
        number_of_sections_in_dissection=32,
        timeout_period_in_blocks=row.timeout_period_in_blocks,
        max_number_of_stored_cemented_commitments=5,
        max_number_of_parallel_games=32,
    )


#: The figures of the public developer documentation: 60-block commitment
#: periods, a 10,000 tez bond and a two-week refutation period at 15 s blocks
#: (protocols 016–018).
SEED: Constants = _from_row("SEED", HISTORY[0])

#: Current Octez mainnet values (Tallinn 024, Ushuaia 025, alpha), with the
#: mainnet canonical rollup.
MAINNET: Constants = attrs.evolve(
    _from_row("MAINNET", HISTORY[-1]),
    canonical_rollup_address="sr1Ghq66tYK9y3r8CC1Tf8i8m5nxh8nTvZEf",
)

#: Tiny values for model checking and fast tests; the arith PVM is enabled.
TEST: Constants = Constants(
    name="TEST",
    arith_pvm_enable=True,
    origination_size=6_314,
    challenge_window_in_blocks=4,
    stake_amount=10_000 * TEZ,
    commitment_period_in_blocks=2,
    max_lookahead_in_blocks=12,
    max_active_outbox_levels=8,
    max_outbox_messages_per_level=4,
    number_of_sections_in_dissection=4,
    timeout_period_in_blocks=6,
    max_number_of_stored_cemented_commitments=3,
    max_number_of_parallel_games=2,
)

PRESETS: dict[str, Constants] = {"SEED": SEED, "MAINNET": MAINNET, "TEST": TEST}


def preset(name: str) -> Constants:
    """The preset called ``name`` (case-insensitive)."""
    try:
        return PRESETS[name.upper()]
    except KeyError:
        raise ConstantsError(
            f"unknown constants preset {name!r}; expected one of {', '.join(PRESETS)}"
        ) from None
