"""Reports of a ``scoru check`` run: a readable table, JSON, and JUnit XML.

Exit statuses: 0 every property holds (to its depth) or is proved; 1 a
property is violated; 3 a property is unknown and ``--strict`` was given.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from model.bmc import Result


@attrs.frozen
class PropertyResult:
    """The result of one property under one configuration."""

    id: str
    statement: str
    system: str
    preset: str
    mode: str
    result: Result
    itf_path: str | None = None
    trace: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        return self.result.verdict

    def describe(self) -> str:
        r = self.result
        if r.verdict == "proved":
            if r.reason.startswith("every run"):
                return f"proved (exhaustive, runs ≤ {r.depth} steps)"
            return f"proved ({r.depth}-inductive)"
        if r.verdict == "holds":
            return f"holds to depth {r.depth}"
        if r.verdict == "violated":
            return f"VIOLATED at depth {r.depth}"
        return f"unknown: {r.reason}"

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return {
            "id": self.id,
            "statement": self.statement,
            "system": self.system,
            "preset": self.preset,
            "mode": self.mode,
            "verdict": r.verdict,
            "depth": r.depth,
            "seconds": round(r.seconds, 3),
            "seconds_per_depth": [round(s, 4) for s in r.seconds_per_depth],
            "reason": r.reason,
            "trace": list(self.trace),
            "itf": self.itf_path,
        }


def exit_status(results: Sequence[PropertyResult], *, strict: bool) -> int:
    """0 all hold, 1 a violation, 3 an unknown under ``strict``."""
    if any(r.verdict == "violated" for r in results):
        return 1
    if strict and any(r.verdict == "unknown" for r in results):
        return 3
    return 0


def table(results: Sequence[PropertyResult]) -> str:
    """A fixed-width table: property, result, time, statement."""
    lines = [f"{'property':10} {'result':38} {'time':>8}  statement"]
    for r in results:
        lines.append(f"{r.id:10} {r.describe():38} {r.result.seconds:7.2f}s  {r.statement}")
        for step in r.trace:
            lines.append(f"{'':10}   {step}")
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    lines.append("summary: " + ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items())))
    return "\n".join(lines)


def write_json(path: Path, results: Sequence[PropertyResult]) -> None:
    path.write_text(
        json.dumps({"results": [r.to_json() for r in results]}, indent=2) + "\n",
        encoding="utf-8",
    )


def write_junit(path: Path, results: Sequence[PropertyResult], *, strict: bool) -> None:
    """One test case per property; violations are failures, unknowns errors under ``strict``
    (skipped otherwise)."""
    suite = ET.Element(
        "testsuite",
        name="scoru check",
        tests=str(len(results)),
        failures=str(sum(r.verdict == "violated" for r in results)),
        errors=str(sum(r.verdict == "unknown" for r in results) if strict else 0),
        skipped=str(0 if strict else sum(r.verdict == "unknown" for r in results)),
        time=f"{sum(r.result.seconds for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"scoru.{r.system}.{r.preset}.{r.mode}",
            name=f"{r.id} {r.statement}",
            time=f"{r.result.seconds:.3f}",
        )
        if r.verdict == "violated":
            failure = ET.SubElement(case, "failure", message=r.describe())
            failure.text = "\n".join(r.trace)
        elif r.verdict == "unknown":
            tag = "error" if strict else "skipped"
            ET.SubElement(case, tag, message=r.describe())
        else:
            out = ET.SubElement(case, "system-out")
            out.text = r.describe()
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
