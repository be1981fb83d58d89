"""Sphinx extension: generate ``properties.rst`` from the catalogue and the latest results.

The page lists every property of ``checks.properties`` with its statement,
severity, dependencies, Octez source, rationale and, when
``docs/_build/check-results.json`` exists (written by ``make docs`` through
``scoru check --json``), the latest result under the ``TEST`` preset.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "_build" / "check-results.json"


def _results() -> dict[str, dict[str, Any]]:
    if not RESULTS.exists():
        return {}
    data = json.loads(RESULTS.read_text(encoding="utf-8"))
    return {r["id"]: r for r in data.get("results", [])}


def render() -> str:
    from checks.properties import catalogue

    results = _results()
    lines = [
        "Property catalogue",
        "==================",
        "",
        "Every safety property ``scoru check`` verifies, generated from",
        "``checks/properties.py``. *Latest result* is the last ``make docs`` run of",
        "``scoru check`` (preset ``TEST``, mode ``intended``).",
        "",
    ]
    for prop in catalogue():
        title = f"{prop.id} — {prop.statement}"
        lines += [title, "-" * len(title), ""]
        lines += [f":Severity: {prop.severity}"]
        if prop.depends:
            lines += [f":Depends on: {', '.join(prop.depends)}"]
        lines += [
            f":Octez: {prop.octez}",
            f":Concrete predicate: ``{prop.concrete}``",
            f":Symbolic model: ``{prop.system.__module__}``",
        ]
        result = results.get(prop.id)
        if result is not None:
            lines += [
                f":Latest result: {result['verdict']} (depth/k {result['depth']}, "
                f"{result['seconds']} s)"
            ]
        else:
            lines += [":Latest result: not run in this build"]
        if prop.octez_finding:
            lines += [f":In octez mode: {prop.octez_finding}"]
        lines += ["", prop.rationale, ""]
    return "\n".join(lines) + "\n"


def generate(app: Any) -> None:
    target = HERE / "properties.rst"
    text = render()
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True}
