"""Run the catalogue: BMC to a depth, then k-induction, in parallel processes.

Each property is checked in its own worker process (Z3 objects cannot cross
processes, so a worker rebuilds the transition system from the constants).
A property that holds to the depth is then tried by k-induction; a violated
one has its counterexample replayed on the concrete ``spec`` machine before it
is reported (:mod:`checks.replay`), and a counterexample that does not replay
is a model bug and fails loudly.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import time
from collections.abc import Sequence
from pathlib import Path

import attrs
import z3

from checks import properties as catalogue
from checks import replay
from checks.itf import trace_document, write_trace
from checks.report import PropertyResult
from model.bmc import Result, bmc
from model.induction import prove
from spec.constants import Constants


@attrs.frozen
class Config:
    """What to check and how hard."""

    constants: Constants
    depth: int = 12
    induction_k: int = 3
    timeout_s: float = 300.0
    itf_dir: Path | None = None


def check_one(prop_id: str, config: Config) -> PropertyResult:
    """Check one property (runs in a worker process)."""
    prop = next(p for p in catalogue.catalogue() if p.id == prop_id)
    ts = prop.system(config.constants)
    symbolic = prop.symbolic(config.constants)
    deadline = time.monotonic() + config.timeout_s
    timeout_ms = int(config.timeout_s * 1000)
    result: Result | None = None
    if prop.lemmas is not None and config.induction_k > 0:
        # Prove the property together with the model's lemmas: k-induction of P ∧ L.
        lemma = prop.lemmas(config.constants)
        proof = prove(
            ts,
            lambda s: z3.And(symbolic(s), lemma(s)),
            max_k=config.induction_k,
            timeout_ms=timeout_ms,
        )
        if proof.verdict == "proved":
            result = attrs.evolve(proof, reason="proved with the model's lemmas")
    if result is None:
        remaining = max(1.0, deadline - time.monotonic())
        result = bmc(
            ts,
            symbolic,
            config.depth,
            timeout_ms=int(remaining * 1000),
            deadline=time.monotonic() + remaining,
        )
        if result.verdict == "holds" and prop.lemmas is None and config.induction_k > 0:
            remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
            proof = prove(ts, symbolic, max_k=config.induction_k, timeout_ms=remaining_ms)
            if proof.verdict == "proved":
                result = attrs.evolve(
                    proof,
                    seconds=result.seconds + proof.seconds,
                    seconds_per_depth=result.seconds_per_depth,
                )
    trace: tuple[str, ...] = ()
    itf_path = None
    if result.verdict == "violated":
        assert result.counterexample is not None
        replayed = replay.replay(prop, result.counterexample, config.constants)
        trace = replayed.lines
        if config.itf_dir is not None:
            config.itf_dir.mkdir(parents=True, exist_ok=True)
            path = (
                config.itf_dir
                / f"{prop.id}-{config.constants.name}-{config.constants.mode}.itf.json"
            )
            write_trace(
                path,
                trace_document(
                    result.counterexample.states,
                    [(s.action, s.params) for s in result.counterexample.steps],
                    description=f"{prop.id} {prop.statement} violated ({config.constants.name}, "
                    f"{config.constants.mode})",
                ),
            )
            replay.write_regression_test(
                path.with_suffix("").with_suffix(".py"), prop, result.depth, config.constants
            )
            itf_path = str(path)
    return PropertyResult(
        id=prop.id,
        statement=prop.statement,
        system=ts.name,
        preset=config.constants.name,
        mode=config.constants.mode,
        result=result,
        itf_path=itf_path,
        trace=trace,
    )


def run(ids: Sequence[str], config: Config, jobs: int) -> list[PropertyResult]:
    """Check ``ids`` (all when empty) with ``jobs`` worker processes, in id order."""
    props = catalogue.by_id(list(ids))
    if jobs <= 1 or len(props) == 1:
        return [check_one(p.id, config) for p in props]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {p.id: pool.submit(check_one, p.id, config) for p in props}
        out = []
        for p in props:
            try:
                out.append(futures[p.id].result())
            except replay.ModelBug:
                raise
            except Exception as exc:  # a crashed worker: report, do not hide
                out.append(
                    PropertyResult(
                        p.id,
                        p.statement,
                        "?",
                        config.constants.name,
                        config.constants.mode,
                        Result("unknown", -1, 0.0, reason=f"worker failed: {exc!r}"),
                    )
                )
        return out
