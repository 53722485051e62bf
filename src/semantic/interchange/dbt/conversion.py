"""MetricFlow conversion metrics (`type: conversion`) as conversion metrics of ours: the
base measure's term as `expr`, the conversion measure's term, the matched entity (the
semantic model whose primary entity it is), each measure's agg_time_dimension as its time,
the window, the calculation and the constant properties (see `semantic.compiler.conversion`
for what they compute: MetricFlow's numbers)."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from semantic.interchange.dbt.models import _WINDOW, _Model, _Models, _Node


def conversion_meaning(
    reader: _Models, node: _Node, params: CommentedMap, what: str, *, final: bool
) -> dict[str, Any] | bool:
    """The meaning of conversion metric `node`; True when reported (or its measures are not
    imported and this is the `final` pass), False while they may still be."""
    conv = params.get("conversion_type_params") or CommentedMap()
    found: list[tuple[str, _Model]] = []
    for role in ("base_measure", "conversion_measure"):
        ref = conv.get(role)
        name = str(ref.get("name") if isinstance(ref, CommentedMap) else ref)
        if isinstance(ref, CommentedMap) and set(ref) - {"name"}:
            options = ", ".join(str(k) for k in ref if k != "name")
            reader.skip(node, "type_params", what, f"options on its {role} ({options}): left out")
            return True
        term = reader.metric_ids.get(f"measure:{name}")
        if term is None or name not in reader.measures:
            if final:
                reader.skip(node, "type_params", what, f"its {role} '{name}' was not imported")
            return final
        found.append((term, reader.measures[name][0]))
    (base, base_model), (converted, conv_model) = found
    entity_name = str(conv.get("entity"))
    entity = reader.by_entity.get(entity_name)
    if entity is None:
        reader.skip(
            node,
            "type_params",
            what,
            f"entity '{entity_name}' is the primary entity of no semantic model: left out",
        )
        return True
    times = [m.time_dimensions.get(str(m.agg_time)) for m in (base_model, conv_model)]
    if None in times:
        reader.skip(node, "type_params", what, "a measure without agg_time_dimension: left out")
        return True
    spec: dict[str, Any] = {
        "metric": converted,
        "entity": entity.id,
        "base_time": times[0],
        "time": times[1],
    }
    if conv.get("window"):
        match = _WINDOW.match(str(conv.get("window")))
        if match is None:
            reader.skip(
                node,
                "type_params",
                f"window '{conv.get('window')}' of {what}",
                "a window in a unit our conversions lack (day to year): left out",
            )
            return True
        spec["window"] = {"last": int(match.group(1)), "grain": match.group(2).lower()}
    calculation = str(conv.get("calculation") or "conversion_rate").lower()
    if calculation not in ("conversion_rate", "conversions"):
        reader.skip(node, "type_params", what, f"unknown calculation '{calculation}': left out")
        return True
    if calculation != "conversion_rate":
        spec["calculation"] = calculation
    same = []
    for item in conv.get("constant_properties") or []:
        pair = [
            _dimension(model, str(item.get(key)))
            for model, key in ((base_model, "base_property"), (conv_model, "conversion_property"))
        ]
        if None in pair:
            reader.skip(
                node,
                "type_params",
                what,
                f"constant property '{item.get('base_property')}' / "
                f"'{item.get('conversion_property')}' names no dimension of its semantic "
                "model: left out",
            )
            return True
        same.append({"base": pair[0], "conversion": pair[1]})
    if same:
        spec["constant_properties"] = same
    reader.time_of[str(node.get("name"))] = times[0]
    return {"expr": base, "conversion": spec}


def _dimension(model: _Model, name: str) -> str | None:
    """The term of a dimension (or time dimension) of a semantic model, by its dbt name."""
    return model.dimensions.get(name) or model.time_dimensions.get(name)
