"""Traces in the Informal Trace Format (ITF), as Apalache and Quint write them.

A trace is ``{"#meta": …, "vars": [...], "states": [...]}``; each state maps
every variable to a value. Integers outside JSON's safe range are written as
``{"#bigint": "…"}``, tuples as ``{"#tup": […]}``, sets as ``{"#set": […]}``
and maps as ``{"#map": [[key, value], …]}``. The action that led to each
state is recorded in the variable ``action_taken`` and its parameters in
``action_params``, as Quint's model-based-testing traces do.

Format: https://apalache-mc.org/docs/adr/015adr-trace.html
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SAFE_INT = 2**53 - 1


def to_itf_value(value: Any) -> Any:
    """A Python value in ITF JSON form."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if abs(value) <= SAFE_INT else {"#bigint": str(value)}
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple):
        return {"#tup": [to_itf_value(v) for v in value]}
    if isinstance(value, frozenset | set):
        return {"#set": [to_itf_value(v) for v in sorted(value, key=repr)]}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return {k: to_itf_value(v) for k, v in value.items()}
        return {"#map": [[to_itf_value(k), to_itf_value(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [to_itf_value(v) for v in value]
    return {"#unserializable": str(value)}


def trace_document(
    states: Sequence[Mapping[str, Any]],
    actions: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    description: str,
    source: str = "scoru check",
) -> dict[str, Any]:
    """An ITF document; ``actions[i]`` leads from ``states[i]`` to ``states[i + 1]``."""
    variables = [*sorted({k for s in states for k in s}), "action_taken", "action_params"]
    out_states = []
    for i, state in enumerate(states):
        record: dict[str, Any] = {"#meta": {"index": i}}
        record.update({k: to_itf_value(v) for k, v in state.items()})
        if i == 0:
            record["action_taken"] = "init"
            record["action_params"] = {}
        else:
            name, params = actions[i - 1]
            record["action_taken"] = name
            record["action_params"] = to_itf_value(dict(params))
        out_states.append(record)
    return {
        "#meta": {
            "format": "ITF",
            "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
            "source": source,
            "description": description,
        },
        "vars": variables,
        "states": out_states,
    }


def write_trace(path: Path, document: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
