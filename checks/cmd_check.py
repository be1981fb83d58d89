"""``scoru check`` and ``scoru properties``: model-check the property catalogue.

Exit statuses: 0 every property holds (to the depth) or is proved, 1 a
property is violated, 2 a usage or input error, 3 a property is unknown
(timeout, solver gave up) and ``--strict`` was given.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from checks import properties as catalogue
from checks import report, runner
from checks.errors import UsageError
from spec.constants import MODES, preset


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="model-check the property catalogue (BMC, k-induction)")
    p.add_argument("ids", nargs="*", metavar="PROPERTY", help="property ids (default: all)")
    p.add_argument("--preset", default="TEST", help="constants preset (default TEST)")
    p.add_argument("--mode", default="intended", choices=MODES, help="refutation semantics")
    p.add_argument("--depth", type=int, default=12, help="BMC depth (default 12)")
    p.add_argument(
        "--induction",
        type=int,
        default=3,
        metavar="K",
        help="largest k tried by k-induction (default 3; 0 disables)",
    )
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    p.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="time budget per property (default 300)",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="write a JSON report")
    p.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report")
    p.add_argument(
        "--itf-dir",
        type=Path,
        metavar="DIR",
        help="write counterexamples as ITF traces and pytest regressions",
    )
    p.add_argument("--strict", action="store_true", help="exit 3 when a property is unknown")
    p.set_defaults(run=run)
    q = sub.add_parser("properties", help="list the property catalogue")
    q.add_argument("--verbose", "-v", action="store_true", help="rationale and sources too")
    q.set_defaults(run=run_properties)


def run(args: argparse.Namespace) -> int:
    if args.depth < 0:
        raise UsageError("--depth must be non-negative")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    constants = preset(args.preset).with_mode(args.mode)
    try:
        catalogue.by_id(args.ids)
    except KeyError as exc:
        raise UsageError(f"unknown property id(s): {exc.args[0]}; see 'scoru properties'") from None
    config = runner.Config(
        constants=constants,
        depth=args.depth,
        induction_k=args.induction,
        timeout_s=args.timeout,
        itf_dir=args.itf_dir,
    )
    print(
        f"scoru check: preset {constants.name}, mode {constants.mode}, depth {args.depth}, "
        f"{args.jobs} job(s)",
        flush=True,
    )
    results = runner.run(args.ids, config, args.jobs)
    print(report.table(results))
    if args.json is not None:
        report.write_json(args.json, results)
    if args.junit is not None:
        report.write_junit(args.junit, results, strict=args.strict)
    return report.exit_status(results, strict=args.strict)


def run_properties(args: argparse.Namespace) -> int:
    for prop in catalogue.catalogue():
        print(f"{prop.id}  {prop.statement}")
        print(
            f"        Severity: {prop.severity}."
            + (f" Depends on: {', '.join(prop.depends)}." if prop.depends else "")
        )
        print(f"        Octez: {prop.octez}")
        print(f"        Concrete: {prop.concrete}")
        print(f"        Symbolic: {prop.system.__module__}.{prop.system.__name__} / {prop.id}")
        if args.verbose:
            print(f"        Rationale: {prop.rationale}")
            if prop.octez_finding:
                print(f"        In octez mode: {prop.octez_finding}")
    return 0
