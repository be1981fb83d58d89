"""The layer-1 state of smart rollups: every table Octez stores, as frozen data.

Two levels of state:

* :class:`RollupState` — what Octez stores under ``Storage.Sc_rollup`` for one
  rollup (genesis info, last cemented commitment, commitments and their
  metadata, stakers, games, applied outbox messages, whitelist), plus the
  rollup's fixed origination data (kind, boot sector, parameters type).
* :class:`Layer1State` — the global state the rollup operations touch: the
  current level, the shared inbox (finished levels and the level being
  built), the ledger (spendable balances, frozen bonds, burnt and minted
  totals) and every rollup by address.

Representation choice: maps are :class:`FrozenMap`, a small immutable,
hashable mapping with copy-on-write helpers (``set``, ``remove``). Sets of
staker indices and of commitment hashes are tuples in Octez's list order
(``Set_out_of_list`` in ``sc_rollup_stake_storage.ml`` prepends), so a state
is plain data: equal states compare equal, and every state can be hashed and
stored (useful for model checking and for the "rejected operations leave the
state unchanged" tests).

Ghost fields — kept to state invariants, **not** part of Octez storage — are
named ``ghost_*`` and documented as such.

Octez: ``src/proto_alpha/lib_protocol/storage.mli`` (module ``Sc_rollup``),
``sc_rollup_stake_storage.ml``, ``sc_rollup_commitment_storage.ml``,
``sc_rollup_staker_index_storage.ml``, ``sc_rollup_outbox_storage.ml``,
``sc_rollup_whitelist_storage.ml``, ``sc_rollup_refutation_storage.ml``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import attrs

from spec import michelson
from spec.commitment import Commitment
from spec.errors import ProtocolError
from spec.game import GameRecord
from spec.hashing import CommitmentHash, ImplicitAccount, RollupAddress
from spec.inbox import Inbox, LevelWitness
from spec.origination import GenesisInfo, PvmKind

K = TypeVar("K")
V = TypeVar("V")


# -- an immutable mapping --------------------------------------------------------------


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """An immutable, hashable mapping; updates return a new map.

    Iteration follows insertion order; equality and hashing ignore it.
    """

    __slots__ = ("_data", "_hash")

    _data: dict[K, V]
    _hash: int | None

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        object.__setattr__(self, "_data", dict(items))
        object.__setattr__(self, "_hash", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("FrozenMap is immutable")

    def __reduce__(self) -> tuple[type[FrozenMap[K, V]], tuple[dict[K, V]]]:
        return (type(self), (self._data,))

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            object.__setattr__(self, "_hash", hash(frozenset(self._data.items())))
        assert self._hash is not None
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def set(self, key: K, value: V) -> FrozenMap[K, V]:
        """The same map with ``key`` bound to ``value``."""
        data = dict(self._data)
        data[key] = value
        return FrozenMap(data)

    def remove(self, key: K) -> FrozenMap[K, V]:
        """The same map without ``key`` (no error if absent)."""
        if key not in self._data:
            return self
        data = dict(self._data)
        del data[key]
        return FrozenMap(data)

    def remove_all(self, keys: Iterable[K]) -> FrozenMap[K, V]:
        """The same map without any of ``keys``."""
        drop = set(keys)
        if not drop & self._data.keys():
            return self
        return FrozenMap((k, v) for k, v in self._data.items() if k not in drop)


def _empty() -> FrozenMap[Any, Any]:
    return FrozenMap()


# -- shared errors ---------------------------------------------------------------------


class RollupDoesNotExist(ProtocolError):
    """``Sc_rollup_does_not_exist``: no rollup was originated at this address."""

    octez_error = "smart_rollup_does_not_exist"

    def __init__(self, rollup: RollupAddress) -> None:
        super().__init__(f"rollup {rollup} does not exist")
        self.rollup = rollup


# -- per-rollup state ------------------------------------------------------------------

#: A staker's index: allocated from ``Staker_index_counter``, never reused.
StakerIndex = int
#: A game key: the two stakers, normalised so that ``alice < bob``.
StakerPair = tuple[ImplicitAccount, ImplicitAccount]


def normalise_pair(a: ImplicitAccount, b: ImplicitAccount) -> StakerPair:
    """The game key of two stakers: ``(alice, bob)`` with ``alice < bob``.

    Octez: ``sc_rollup_game_repr.ml``, ``Index.make``.
    """
    return (a, b) if a < b else (b, a)


@attrs.frozen
class WhitelistUpdateInfo:
    """The position of the last applied whitelist update: ``{outbox_level; message_index}``.

    Octez: ``sc_rollup_whitelist_repr.ml``, ``last_whitelist_update``.
    """

    outbox_level: int
    message_index: int


@attrs.frozen
class ExecutedOutput:
    """Ghost record of one executed outbox message (not Octez storage).

    ``lcc`` and ``lcc_level`` are the last cemented commitment and its inbox
    level when the message was executed; ``cemented_commitment`` is the one
    the output proof was checked against; ``level`` is the layer-1 level.
    """

    outbox_level: int
    message_index: int
    cemented_commitment: CommitmentHash
    lcc: CommitmentHash
    lcc_level: int
    level: int
    message: bytes


@attrs.frozen
class RollupState:
    """Everything layer 1 stores for one rollup.

    Field ↔ Octez storage (``storage.mli``, module ``Sc_rollup``):

    * ``kind``, ``parameters_ty``, ``genesis_info`` — ``PVM_kind``,
      ``Parameters_type``, ``Genesis_info``; ``boot_sector`` is the kernel
      given at origination (Octez keeps only its effect, the genesis state).
    * ``last_cemented_commitment`` — ``Last_cemented_commitment``.
    * ``commitments`` — ``Commitments``: uncemented commitments plus the
      stored cemented ones (the LCC and its stored predecessors).
    * ``commitment_added`` — ``Commitment_added``: first publication level of
      each hash (challenge window).
    * ``commitment_first_publication_level`` —
      ``Commitment_first_publication_level``: first publication at each inbox
      level (curfew).
    * ``commitments_per_inbox_level`` — ``Commitments_per_inbox_level``.
    * ``commitment_stakers`` — ``Commitment_stakers``: indices staked on
      each uncemented commitment (removed stakers' indices stay, inactive).
    * ``staker_index_counter``, ``staker_index`` (pkh → index), ``stakers``
      (index → newest staked inbox level; its keys are the *active* indices) —
      ``Staker_index_counter``, ``Staker_index``, ``Stakers``.
    * ``games`` — ``Game_info`` and ``Game_timeout`` keyed by the normalised
      pair; a staker's opponents (Octez's ``Game`` table) are derived from the
      keys (:meth:`opponents`).
    * ``applied_outbox_messages`` — ``Applied_outbox_messages``: slot
      ``outbox_level mod max_active_outbox_levels`` → ``(level, bitset)``.
    * ``whitelist``, ``last_whitelist_update`` — ``Whitelist`` (private iff
      non-empty) and ``Last_whitelist_update``.

    Ghost fields (not in Octez): ``ghost_cemented`` lists every commitment
    ever cemented, genesis first; ``ghost_executed_outputs`` lists every
    executed outbox message.
    """

    address: RollupAddress
    kind: PvmKind
    boot_sector: bytes
    parameters_ty: michelson.Node
    genesis_info: GenesisInfo
    last_cemented_commitment: CommitmentHash
    commitments: FrozenMap[CommitmentHash, Commitment]
    commitment_added: FrozenMap[CommitmentHash, int]
    commitment_first_publication_level: FrozenMap[int, int]
    commitments_per_inbox_level: FrozenMap[int, tuple[CommitmentHash, ...]]
    commitment_stakers: FrozenMap[CommitmentHash, tuple[StakerIndex, ...]] = attrs.field(
        factory=_empty
    )
    staker_index_counter: int = 0
    staker_index: FrozenMap[ImplicitAccount, StakerIndex] = attrs.field(factory=_empty)
    stakers: FrozenMap[StakerIndex, int] = attrs.field(factory=_empty)
    games: FrozenMap[StakerPair, GameRecord] = attrs.field(factory=_empty)
    applied_outbox_messages: FrozenMap[int, tuple[int, int]] = attrs.field(factory=_empty)
    whitelist: frozenset[ImplicitAccount] = frozenset()
    last_whitelist_update: WhitelistUpdateInfo | None = None
    ghost_cemented: tuple[Commitment, ...] = ()
    ghost_executed_outputs: tuple[ExecutedOutput, ...] = ()

    # -- reading -------------------------------------------------------------

    @property
    def origination_level(self) -> int:
        """The level of the origination block (``Genesis_info.level``)."""
        return self.genesis_info.level

    @property
    def lcc(self) -> CommitmentHash:
        """Short name of :attr:`last_cemented_commitment`."""
        return self.last_cemented_commitment

    @property
    def lcc_commitment(self) -> Commitment:
        """The last cemented commitment (always stored)."""
        return self.commitments[self.last_cemented_commitment]

    @property
    def lcc_level(self) -> int:
        """The inbox level of the last cemented commitment."""
        return self.lcc_commitment.inbox_level

    @property
    def is_private(self) -> bool:
        """A rollup is private iff its whitelist is non-empty.

        Octez: ``sc_rollup_whitelist_storage.ml``, ``is_private``.
        """
        return bool(self.whitelist)

    def is_staker(self, staker: ImplicitAccount) -> bool:
        """``staker`` currently has a bond (an index). Octez: ``is_staker``."""
        return staker in self.staker_index

    def is_active(self, index: StakerIndex) -> bool:
        """``index`` is the index of a current staker. Octez: ``is_active``."""
        return index in self.stakers

    def active_stakers_of(self, commitment: CommitmentHash) -> tuple[StakerIndex, ...]:
        """The active indices staked on ``commitment``."""
        return tuple(i for i in self.commitment_stakers.get(commitment, ()) if i in self.stakers)

    def is_staked_on(self, staker: ImplicitAccount, commitment: CommitmentHash) -> bool:
        """The staker's current index is in ``Commitment_stakers[commitment]``.

        Octez: ``sc_rollup_stake_storage.ml``, ``is_staked_on``.
        """
        index = self.staker_index.get(staker)
        return index is not None and index in self.commitment_stakers.get(commitment, ())

    def opponents(self, staker: ImplicitAccount) -> tuple[ImplicitAccount, ...]:
        """The stakers ``staker`` has a game with (Octez's ``Game`` table)."""
        found: list[ImplicitAccount] = []
        for alice, bob in self.games:
            if alice == staker:
                found.append(bob)
            elif bob == staker:
                found.append(alice)
        return tuple(found)

    def stored_cemented_commitments(self) -> tuple[CommitmentHash, ...]:
        """The LCC and its predecessors still in ``Commitments``, newest first."""
        chain: list[CommitmentHash] = []
        current: CommitmentHash | None = self.last_cemented_commitment
        while current is not None and current in self.commitments:
            chain.append(current)
            current = self.commitments[current].predecessor
        return tuple(chain)


# -- the ledger ------------------------------------------------------------------------


@attrs.frozen
class Ledger:
    """The tez the rollup operations move, in mutez.

    * ``balances`` — spendable balances of implicit accounts;
    * ``frozen_bonds`` — ``Frozen_bonds (staker, Sc_rollup_bond_id rollup)``;
    * ``burnt`` — total sent to the ``Sc_rollup_refutation_punishments`` sink;
    * ``minted`` — total taken from the ``Sc_rollup_refutation_rewards`` source;
    * ``initial_total`` — ghost: the total at genesis, so that
      ``initial_total = Σ balances + Σ frozen + burnt − minted`` is checkable.

    Octez: ``token.ml`` (``transfer``), ``bond_id_repr.ml``.
    """

    balances: FrozenMap[ImplicitAccount, int] = attrs.field(factory=_empty)
    frozen_bonds: FrozenMap[tuple[ImplicitAccount, RollupAddress], int] = attrs.field(
        factory=_empty
    )
    burnt: int = 0
    minted: int = 0
    initial_total: int = 0

    def balance(self, account: ImplicitAccount) -> int:
        return self.balances.get(account, 0)

    def frozen(self, staker: ImplicitAccount, rollup: RollupAddress) -> int:
        return self.frozen_bonds.get((staker, rollup), 0)

    def total(self) -> int:
        """``Σ balances + Σ frozen + burnt − minted``: equals ``initial_total`` always."""
        return (
            sum(self.balances.values()) + sum(self.frozen_bonds.values()) + self.burnt - self.minted
        )

    @classmethod
    def of_balances(cls, balances: Mapping[ImplicitAccount, int]) -> Ledger:
        """A ledger with the given spendable balances and nothing else."""
        for account, amount in balances.items():
            if amount < 0:
                raise ValueError(f"negative balance for {account}: {amount}")
        return cls(balances=FrozenMap(balances), initial_total=sum(balances.values()))


# -- the global state ------------------------------------------------------------------


@attrs.frozen
class Layer1State:
    """The layer-1 state seen by rollup operations during the block at ``level``.

    * ``level`` — the current level (``Raw_context.current_level``);
    * ``timestamp`` — the current block's timestamp (seconds), given to the
      next level's ``Info_per_level``;
    * ``inbox`` — the shared inbox: every finished level, up to ``level − 1``;
    * ``witness`` — the level being built: Start_of_level, Info_per_level and
      the messages added so far (Octez's in-memory witness);
    * ``ledger`` — balances, frozen bonds, burnt and minted totals;
    * ``rollups`` — every originated rollup by address;
    * ``signals`` — ``Signals``: canonical-rollup signals and their levels;
    * ``origination_counter`` — how many rollups were originated (derives
      unique origination nonces; Octez uses operation hashes).
    """

    level: int
    timestamp: int
    inbox: Inbox
    witness: LevelWitness
    ledger: Ledger
    rollups: FrozenMap[RollupAddress, RollupState] = attrs.field(factory=_empty)
    signals: FrozenMap[bytes, int] = attrs.field(factory=_empty)
    origination_counter: int = 0

    def rollup(self, address: RollupAddress) -> RollupState:
        """The rollup at ``address``, or :class:`RollupDoesNotExist`.

        Octez: ``sc_rollup_commitment_storage.ml``, ``last_cemented_commitment``.
        """
        found = self.rollups.get(address)
        if found is None:
            raise RollupDoesNotExist(address)
        return found

    def with_rollup(self, rollup: RollupState) -> Layer1State:
        """The same state with ``rollup`` stored at its address."""
        return attrs.evolve(self, rollups=self.rollups.set(rollup.address, rollup))

    def with_ledger(self, ledger: Ledger) -> Layer1State:
        return attrs.evolve(self, ledger=ledger)
