"""The checker checks itself: deliberate bugs in copies of the model's rules must be
reported as violations.

Each mutant is a textual change to a copy of a model module (``model/rollup.py``
or ``model/game.py``), loaded as a fresh module; the property it breaks must
come out ``violated`` — k-induction fails and BMC finds the counterexample.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest
import z3

from model.bmc import bmc
from model.induction import prove
from spec.constants import TEST

ROOT = Path(__file__).resolve().parents[2]

#: (name, module file, original text, mutated text, property id that must fail)
MUTANTS: list[tuple[str, str, str, str, str]] = [
    ("skip the curfew", "model/rollup.py",
     'z3.Or(first == NONE, s["level"] - first <= W),', "z3.BoolVal(True),", "SR-016"),
    ("forget to burn the loser's bond", "model/rollup.py",
     't["burnt"] == s["burnt"] + z3.If(burn_r, STAKE, 0) + z3.If(burn_d, STAKE, 0),',
     't["burnt"] == s["burnt"],', "SR-001"),
    ("allow a second outbox execution", "model/rollup.py",
     "z3.Not(z3.And(slot_level == ol, bit)),", "z3.BoolVal(True),", "SR-006"),
    ("swap winner and loser", "model/rollup.py",
     "reward_d = z3.And(result == 0, staked_r)", "reward_d = z3.And(result == 1, staked_r)",
     "SR-001"),
    ("let the honest side lose a game", "model/rollup.py",
     "tr, td = correct(s, j, br), correct(s, j, bd)",
     "td, tr = correct(s, j, br), correct(s, j, bd)",
     "SR-012"),
    ("allow double staking", "model/rollup.py",
     's[f"on_{j}_{x}_{st}"] != idx for x in branches if x != b',
     's[f"on_{j}_{x}_{st}"] != idx for x in branches if False', "SR-005"),
    ("deposit without freezing the bond", "model/rollup.py",
     't[f"frozen_{st}"] == s[f"frozen_{st}"] + z3.If(has_index, 0, STAKE),',
     't[f"frozen_{st}"] == s[f"frozen_{st}"],', "SR-008"),
    ("mint a full stake as reward", "model/rollup.py", "half = STAKE // 2", "half = STAKE",
     "SR-017"),
    ("execute outputs of a level not yet cemented", "model/rollup.py",
     'window = z3.And(lcc_level(s) - A < ol, ol <= lcc_level(s))',
     'window = z3.And(lcc_level(s) - A < ol, ol <= lcc_level(s) + P)', "SR-007"),
    ("execute against an uncemented commitment", "model/rollup.py",
     'related = z3.And(j >= 0, j <= s["lcc_j"], stored)',
     'related = z3.And(j >= 0, j <= s["lcc_j"] + 1)', "SR-007"),
    ("publish off the period grid", "model/rollup.py",
     "lvl == level_of(pj, constants) + P,", "lvl > level_of(pj, constants),", "SR-004"),
    ("cement a disputed level", "model/rollup.py",
     "*[z3.Not(cand[b]) for b in branches if b != c],", "", "SR-012"),
    ("accept a proof on a multi-tick section (intended mode)", "model/game.py",
     "first_guard = z3.And(first_guard, stop[2] - start[2] == 1, start[0])",
     "first_guard = z3.And(first_guard, start[0])", "SR-014"),
    ("let a player's clock run out at once", "model/game.py",
     's["level"] > s["last_turn_level"] + clock_of_turn(s)', "z3.BoolVal(True)", "SR-013"),
    ("let a first proof win when its stop state agrees", "model/game.py",
     "z3.Not(opt_eq(stop_proof, (stop[0], stop[1]))),", "z3.BoolVal(True),", "SR-014"),
    ("keep the turn after a move", "model/game.py",
     't["turn_refuter"] == z3.Not(s["turn_refuter"]),', 't["turn_refuter"] == s["turn_refuter"],',
     "SR-014"),
]  # fmt: skip


def load_mutant(relative: str, old: str, new: str) -> types.ModuleType:
    source = (ROOT / relative).read_text(encoding="utf-8")
    assert source.count(old) == 1, f"mutation anchor not found exactly once in {relative}: {old!r}"
    name = f"mutant_{relative.replace('/', '_').removesuffix('.py')}"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source.replace(old, new), f"<mutant of {relative}>", "exec"), module.__dict__)
    return module


def check_mutant(module: types.ModuleType, relative: str, prop_id: str) -> str:
    """The verdict ``scoru check`` would give for ``prop_id`` on the mutated model."""
    constants = TEST
    if relative == "model/rollup.py":
        ts = module.rollup_system(constants)
        prop = module.symbolic_predicates(constants)[prop_id]
        lemma = module.lemmas(constants)
        proof = prove(ts, lambda s: z3.And(prop(s), lemma(s)), max_k=1)
        if proof.verdict == "proved":
            return "proved"
        return bmc(ts, prop, 8).verdict
    honest = {"SR-013": "refuter", "SR-014": "defender", "SR-015": "defender"}[prop_id]
    ts, _ = module.game_system(constants, honest)
    if prop_id == "SR-015":
        prop = module.moves_bounded(module.DEFAULT_MAX_TICKS)
    else:
        prop = module.honest_never_loses(honest)
    return bmc(ts, prop, 12).verdict


def test_there_are_enough_mutants() -> None:
    assert len(MUTANTS) >= 12


@pytest.mark.parametrize(("name", "relative", "old", "new", "prop_id"), MUTANTS,
                         ids=[m[0] for m in MUTANTS])  # fmt: skip
def test_mutant_is_killed(name: str, relative: str, old: str, new: str, prop_id: str) -> None:
    module = load_mutant(relative, old, new)
    assert check_mutant(module, relative, prop_id) == "violated", f"mutant survived: {name}"


@pytest.mark.parametrize("relative", ["model/rollup.py", "model/game.py"])
def test_unmutated_models_pass(relative: str) -> None:
    module = load_mutant(
        relative, "from __future__ import annotations", "from __future__ import annotations"
    )
    prop_id = "SR-012" if relative == "model/rollup.py" else "SR-014"
    assert check_mutant(module, relative, prop_id) == "proved"
