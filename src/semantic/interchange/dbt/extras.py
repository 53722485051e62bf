"""What a dbt project has besides semantic models and metrics: saved queries become subject
areas; every other section (groups, unit tests, exports, exposures, snapshots...) is
reported by name with its file and line, since none has an equivalent in a glossary."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from semantic.interchange.common import english_label, snake_id
from semantic.interchange.dbt.metrics import _Metrics
from semantic.interchange.dbt.models import _JINJA, _Node

#: the sections of a dbt YAML file the import reads (`models:` for column types)
READ = frozenset({"version", "models", "seeds", "semantic_models", "metrics", "saved_queries"})

_WHY = {
    "groups": "dbt groups (ownership of models) have no equivalent; owners go on terms",
    "unit_tests": "dbt unit tests test models, not the glossary",
    "exposures": "downstream uses of models have no equivalent",
    "sources": "sources are tables our models name directly",
    "snapshots": "snapshots build tables; the glossary only reads them",
    "macros": "jinja macros have no equivalent",
    "analyses": "analyses have no equivalent",
    "data_tests": "dbt tests have no equivalent; write quality rules",
}


def metric_is_exposure(node: CommentedMap) -> bool:
    """A simple metric that only exposes the measure of its own name (no filter, no
    options): the measure's term is then the metric's."""
    params = node.get("type_params") or {}
    measure = params.get("measure")
    if str(node.get("type", "")).lower() != "simple" or node.get("filter") or measure is None:
        return False
    if isinstance(measure, CommentedMap):
        if set(measure) - {"name"}:
            return False
        measure = measure.get("name")
    return str(measure) == str(node.get("name"))


class _Extras(_Metrics):
    def unread_section(self, file: str, tree: CommentedMap, key: str) -> None:
        """Report a section the import does not read, item by item when it holds named
        items."""
        items = tree.get(key)
        why = _WHY.get(key, "no equivalent in a glossary")
        named = [i for i in items if isinstance(i, CommentedMap)] if isinstance(items, list) else []
        node = _Node(file, tree)
        if not named:
            self.skip(node, key, f"'{key}'", why)
        for item in named:
            self.skip(node.child(item), None, f"{key} entry '{item.get('name', '?')}'", why)

    def saved_query(self, node: _Node) -> None:
        """A saved query as a subject area: its metrics, its group-by dimensions (metric_time
        as the first metric's agg time dimension) and its where as the area's filter."""
        name = str(node.get("name"))
        what = f"saved query '{name}'"
        params = node.get("query_params") or {}
        metrics = [self.metric_ids.get(str(m)) for m in params.get("metrics") or []]
        if not metrics or None in metrics:
            self.skip(node, "query_params", what, "a metric of it was not imported")
            return
        first = str((params.get("metrics") or [])[0])
        time = self.time_of.get(first)
        dimensions: list[str] = []
        for text in params.get("group_by") or []:
            found = self.group_by(str(text), time)
            if found is None:
                self.skip(node, "query_params", what, f"its group_by {text} has no term")
                return
            dimensions.append(found)
        where = params.get("where")
        condition = self.filter(node, "query_params", where, time) if where else None
        if where and condition is None:
            return
        area: dict[str, Any] = {"label": {"en": str(node.get("label") or english_label(name))}}
        if node.get("description"):
            area["definition"] = {"en": " ".join(str(node.get("description")).split())}
        if dimensions:
            area["dimensions"] = dimensions
        area["metrics"] = list(dict.fromkeys(m for m in metrics if m))
        if condition:
            area["filter"] = condition
        area_id = snake_id(name)
        self.areas[area_id] = area
        for key in node.map:
            if key not in ("name", "label", "description", "query_params"):
                self.skip(node, key, f"'{key}' of {what}", "no equivalent in a subject area")

    def group_by(self, text: str, time: str | None) -> str | None:
        """The dimension of a group_by item: `TimeDimension('metric_time', 'month')`,
        `Dimension('customer__region')`, or None (entities have no term)."""
        found = self.jinja_ref(f"{{{{ {text.strip()} }}}}", time)
        return found

    def jinja_ref(self, text: str, time: str | None) -> str | None:
        match = _JINJA.fullmatch(text)
        if match is None:
            return None
        return self.dimension_ref(match.group(1), match.group(2), match.group(3), time)
