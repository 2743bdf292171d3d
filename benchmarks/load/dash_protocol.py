"""Dash's wire protocol as a browser speaks it, for the load test's simulated users.

The browser reads `/_dash-dependencies` once (every callback: its outputs, inputs and state) and
then POSTs `/_dash-update-component` bodies naming one callback's outputs with the current values
of its inputs and state. These helpers do the same from that list, so the load test follows the
app's real callbacks instead of a copy of their signatures. Pure functions: no network here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any


def _outputs(key: str) -> Any:
    """The ``outputs`` of a body from a dependency's ``output`` ("a.b" or "..a.b...c.d..")."""
    def one(part: str) -> dict[str, str]:
        ident, _, prop = part.rpartition(".")
        return {"id": ident, "property": prop.split("@")[0]}  # "@hash": an allow_duplicate output

    if key.startswith(".."):
        return [one(p) for p in key.strip(".").split("...")]
    return one(key)


def find(dependencies: list[dict[str, Any]], output: str, trigger: str) -> dict[str, Any]:
    """The callback writing ``output`` ("id.prop") that ``trigger`` ("id.prop") fires."""
    for dep in dependencies:
        outs = dep["output"].strip(".").split("...")
        if any(o.split("@")[0] == output for o in outs) and any(
            f"{i['id']}.{i['property']}" == trigger for i in dep["inputs"]
        ):
            return dep
    raise LookupError(f"no callback writes {output} on {trigger}")


def _values(specs: list[dict[str, Any]], values: Mapping[str, Any]) -> list[Any]:
    found: list[Any] = []
    for spec in specs:
        if str(spec["id"]).startswith("{"):  # a pattern-matching id (ALL): a list, one item per component matched
            found.append(values.get(pattern_key(spec), []))
            continue
        key = f"{spec['id']}.{spec['property']}"
        item: dict[str, Any] = {"id": spec["id"], "property": spec["property"]}
        if key in values:
            item["value"] = values[key]
        found.append(item)
    return found


def pattern_key(spec: dict[str, Any]) -> str:
    """How ``values`` names a pattern-matching input or state: "<type>[ALL].<prop>"."""
    return f"{json.loads(str(spec['id'])).get('type')}[ALL].{spec['property']}"


def matched(components: list[dict[str, Any]], prop: str) -> list[dict[str, Any]]:
    """The list a pattern-matching input or state carries: ``prop`` of each matched component."""
    return [{"id": c["props"]["id"], "property": prop, "value": c["props"].get(prop) if prop != "id"
             else c["props"]["id"]} for c in components]


def fill_blanks(components: list[dict[str, Any]], rng: Any) -> None:
    """Type a short value into each empty placeholder input (a name, or else a case reference), as an
    agent does before sending: one word, so no free text published under the template."""
    for c in components:
        if not c["props"].get("value"):
            name = str(c["props"]["id"].get("name", ""))
            c["props"]["value"] = "Alex" if "name" in name else f"REF-{rng.randrange(10_000, 99_999)}"


def with_type(tree: Any, kind: str) -> list[dict[str, Any]]:
    """The components of a serialised layout whose (dict) id has ``type`` ``kind`` (give their values and
    ids from the same list: Dash pairs them by position)."""
    return [n for n in walk(tree) if isinstance(n["props"].get("id"), dict) and n["props"]["id"].get("type") == kind]


def body(dep: dict[str, Any], trigger: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The POST body for ``dep`` fired by ``trigger``; ``values``: "id.prop" -> value for its inputs
    and state (a property left out is sent without a value, as Dash does for one never set), and
    "<type>[ALL].prop" -> the list for a pattern-matching one (`matched`; none matched: [])."""
    return {"output": dep["output"], "outputs": _outputs(dep["output"]),
            "inputs": _values(dep["inputs"], values), "state": _values(dep.get("state", []), values),
            "changedPropIds": [trigger]}


def response_value(answer: Any, component: str, prop: str) -> Any:
    """A property a callback's answer sets, or None (answers are ``{"response": {id: {prop: v}}}``)."""
    if not isinstance(answer, dict):
        return None
    return (answer.get("response", {}).get(component) or {}).get(prop)


def walk(tree: Any) -> Iterator[dict[str, Any]]:
    """Every component of a serialised layout (``{"type", "namespace", "props"}`` nested in props)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "props" in node and "type" in node:
                yield node
                stack.extend(v for v in node["props"].values() if isinstance(v, (list, dict)))
            else:
                stack.extend(v for v in node.values() if isinstance(v, (list, dict)))


def prop_of(tree: Any, component: str, prop: str) -> Any:
    """``prop`` of the component with id ``component`` in a serialised layout, or None."""
    for node in walk(tree):
        if node["props"].get("id") == component:
            return node["props"].get(prop)
    return None


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))
