"""Checkers of the warehouse formats `semantic export snowflake|databricks|lookml` writes,
transcribed from each vendor's published specification (the rules, not their text), and
small readers of what the exports write (the Snowflake DDL, LookML), for the tests.

Sources, read in April 2026:

- Snowflake CREATE SEMANTIC VIEW: https://docs.snowflake.com/en/sql-reference/sql/create-semantic-view
  (clause order TABLES, RELATIONSHIPS, FACTS, DIMENSIONS, METRICS, COMMENT; logicalTable,
  relationshipDef, semanticExpression) and the validation rules,
  https://docs.snowflake.com/en/user-guide/views-semantic/validation-rules (a relationship
  references the primary key of its table; expressions use table aliases).
- Snowflake semantic model YAML (Cortex Analyst):
  https://docs.snowflake.com/en/user-guide/snowflake-cortex/cortex-analyst/semantic-model-spec
  and https://docs.snowflake.com/en/user-guide/views-semantic/semantic-view-yaml-spec; the
  required fields are those the spec's protobuf (Snowflake-Labs/semantic-model-generator,
  semantic_model.proto) does not mark optional.
- Databricks metric views, YAML 1.1:
  https://docs.databricks.com/aws/en/metric-views/data-modeling/syntax and .../joins.
- LookML: https://cloud.google.com/looker/docs/reference/param-field-dimension,
  param-field-dimension-group, param-field-measure (the `type` values),
  param-explore-join-relationship and param-explore-join-type.
"""

from __future__ import annotations

import re
from typing import Any

# --- Snowflake: the semantic model YAML -------------------------------------------------------

#: object -> (required keys, allowed keys)
CORTEX: dict[str, tuple[set[str], set[str]]] = {
    "model": (
        {"name", "tables"},
        {
            "name",
            "description",
            "tables",
            "relationships",
            "metrics",
            "verified_queries",
            "custom_instructions",
            "module_custom_instructions",
        },
    ),
    "table": (
        {"name", "base_table"},
        {
            "name",
            "synonyms",
            "description",
            "base_table",
            "dimensions",
            "time_dimensions",
            "facts",
            "metrics",
            "primary_key",
            "filters",
        },
    ),
    "base_table": ({"database", "schema", "table"}, {"database", "schema", "table"}),
    "primary_key": ({"columns"}, {"columns"}),
    "dimension": (
        {"name", "expr", "data_type"},
        {
            "name",
            "synonyms",
            "description",
            "expr",
            "data_type",
            "unique",
            "sample_values",
            "is_enum",
            "cortex_search_service",
        },
    ),
    "fact": (
        {"name", "expr", "data_type"},
        {"name", "synonyms", "description", "expr", "data_type", "sample_values"},
    ),
    "metric": ({"name", "expr"}, {"name", "synonyms", "description", "expr", "filter"}),
    "filter": ({"name", "expr"}, {"name", "synonyms", "description", "expr"}),
    "relationship": (
        {"name", "left_table", "right_table", "relationship_columns"},
        {
            "name",
            "left_table",
            "right_table",
            "relationship_columns",
            "join_type",
            "relationship_type",
        },
    ),
    "relationship_column": ({"left_column", "right_column"}, {"left_column", "right_column"}),
}
JOIN_TYPES = {"inner", "left_outer"}
RELATIONSHIP_TYPES = {"one_to_one", "many_to_one"}


def keys_problems(node: dict[str, Any], kind: str, where: str) -> list[str]:
    """What `node` lacks or has too much for an object `kind` of the Cortex spec."""
    required, allowed = CORTEX[kind]
    found = [f"{where}: {kind} lacks '{k}'" for k in sorted(required - set(node))]
    found += [f"{where}: {kind} has unknown '{k}'" for k in sorted(set(node) - allowed)]
    return found


def cortex_problems(model: dict[str, Any]) -> list[str]:
    """Every breach of the Cortex Analyst semantic model spec in `model` (a loaded YAML)."""
    found = keys_problems(model, "model", "model")
    for table in model.get("tables", []):
        where = f"table {table.get('name')}"
        found += keys_problems(table, "table", where)
        found += keys_problems(table.get("base_table", {}), "base_table", where)
        if "primary_key" in table:
            found += keys_problems(table["primary_key"], "primary_key", where)
        for key, kind in (
            ("dimensions", "dimension"),
            ("time_dimensions", "dimension"),
            ("facts", "fact"),
            ("metrics", "metric"),
            ("filters", "filter"),
        ):
            for item in table.get(key, []):
                found += keys_problems(item, kind, f"{where} {key} {item.get('name')}")
    for rel in model.get("relationships", []):
        where = f"relationship {rel.get('name')}"
        found += keys_problems(rel, "relationship", where)
        for pair in rel.get("relationship_columns", []):
            found += keys_problems(pair, "relationship_column", where)
        if rel.get("join_type", "left_outer") not in JOIN_TYPES:
            found.append(f"{where}: join_type {rel['join_type']}")
        if rel.get("relationship_type", "many_to_one") not in RELATIONSHIP_TYPES:
            found.append(f"{where}: relationship_type {rel['relationship_type']}")
    for item in model.get("metrics", []):
        found += keys_problems(item, "metric", f"derived metric {item.get('name')}")
    return found


# --- Snowflake: the DDL ---------------------------------------------------------------------

CLAUSES = ("TABLES", "RELATIONSHIPS", "FACTS", "DIMENSIONS", "METRICS")
_IDENT = r"[A-Za-z_][A-Za-z0-9_$]*"
_STRING = r"'(?:[^'\\]|\\.|'')*'"
TABLE = re.compile(
    rf"^(?:(?P<alias>{_IDENT}) AS )?(?P<table>{_IDENT}(?:\.{_IDENT}){{0,2}})"
    rf"(?:\s+PRIMARY KEY \((?P<pk>[^)]*)\))?"
    rf"(?:\s+WITH SYNONYMS (?:= )?\((?P<synonyms>{_STRING}(?:, {_STRING})*)\))?"
    rf"(?:\s+COMMENT = (?P<comment>{_STRING}))?$",
    re.S,
)
RELATIONSHIP = re.compile(
    rf"^(?:(?P<name>{_IDENT}) AS )?(?P<table>{_IDENT}) \((?P<cols>[^)]*)\) REFERENCES "
    rf"(?P<ref>{_IDENT})(?: \((?P<refcols>[^)]*)\))?$"
)
EXPRESSION = re.compile(
    rf"^(?:(?:PRIVATE|PUBLIC) )?(?:(?P<table>{_IDENT})\.)?(?P<name>{_IDENT}) AS (?P<sql>.+?)"
    rf"(?:\s+WITH SYNONYMS (?:= )?\((?P<synonyms>{_STRING}(?:, {_STRING})*)\))?"
    rf"(?:\s+COMMENT = (?P<comment>{_STRING}))?$",
    re.S,
)
_GRAMMAR = {"TABLES": TABLE, "RELATIONSHIPS": RELATIONSHIP}


def read_ddl(text: str) -> dict[str, list[re.Match[str]]]:
    """The clauses of a CREATE SEMANTIC VIEW statement as written by the export (one item
    per line indented by four spaces, continuation lines deeper), each item matched against
    the documented grammar; AssertionError on anything else."""
    assert text.startswith("CREATE OR REPLACE SEMANTIC VIEW "), text[:80]
    assert text.rstrip().endswith(";"), "the statement ends with ;"
    body = text.rstrip()[:-1].split("\n", 1)[1] + "\n"
    clauses: dict[str, list[re.Match[str]]] = {}
    order = []
    for block in re.finditer(r"^  (\w+) \(\n(.*?)^  \)$", body, re.M | re.S):
        name = block.group(1)
        assert name in CLAUSES, name
        order.append(name)
        items = re.split(r",\n(?=    \S)", block.group(2).rstrip("\n"))
        grammar = _GRAMMAR.get(name, EXPRESSION)
        matched = []
        for item in items:
            found = grammar.match(item.strip())
            assert found, f"{name}: {item!r} does not follow the grammar"
            matched.append(found)
        clauses[name] = matched
    assert order == [c for c in CLAUSES if c in order], f"clauses out of order: {order}"
    assert "TABLES" in clauses and ("DIMENSIONS" in clauses or "METRICS" in clauses)
    tail = body[body.rindex("  )\n") + 4 :]
    assert re.fullmatch(rf"(  COMMENT = {_STRING}\n)?", tail), tail
    return clauses


# --- Databricks ------------------------------------------------------------------------------

METRIC_VIEW_KEYS = {
    "version",
    "comment",
    "source",
    "filter",
    "joins",
    "dimensions",
    "measures",
    "materialization",
}
JOIN_KEYS = {"name", "source", "on", "using", "joins"}
FIELD_KEYS = {"name", "expr", "comment", "display_name", "synonyms", "format"}


def metric_view_problems(view: dict[str, Any]) -> list[str]:
    """Every breach of the metric view YAML 1.1 reference in `view` (a loaded YAML)."""
    found = [f"unknown key '{k}'" for k in sorted(set(view) - METRIC_VIEW_KEYS)]
    found += [f"lacks '{k}'" for k in ("version", "source") if k not in view]
    if not isinstance(view.get("version"), str):
        found.append("version is not a string")
    if not (view.get("dimensions") or view.get("measures")):
        found.append("neither dimensions nor measures")

    def joins(items: list[dict[str, Any]], where: str) -> None:
        names = [j.get("name") for j in items]
        if len(names) != len(set(names)):
            found.append(f"{where}: two joins of one name")
        for join in items:
            found.extend(f"{where}: join has '{k}'" for k in sorted(set(join) - JOIN_KEYS))
            if not {"name", "source"} <= set(join) or ("on" in join) == ("using" in join):
                found.append(f"{where}: join {join.get('name')} needs name, source, on or using")
            joins(join.get("joins", []), f"{where}.{join.get('name')}")

    joins(view.get("joins", []), "joins")
    for key in ("dimensions", "measures"):
        names = [f.get("name") for f in view.get(key, [])]
        if len(names) != len(set(names)):
            found.append(f"{key}: two of one name")
        for item in view.get(key, []):
            found += [f"{key} {item.get('name')}: has '{k}'" for k in set(item) - FIELD_KEYS]
            found += [
                f"{key} {item.get('name')}: lacks '{k}'" for k in {"name", "expr"} - set(item)
            ]
    return found


# --- LookML ----------------------------------------------------------------------------------

DIMENSION_TYPES = {
    "string",
    "number",
    "yesno",
    "date",
    "tier",
    "zipcode",
    "location",
    "distance",
    "duration",
    "bin",
    "date_time",
}
MEASURE_TYPES = {
    "average",
    "average_distinct",
    "count",
    "count_distinct",
    "date",
    "list",
    "max",
    "median",
    "median_distinct",
    "min",
    "number",
    "percent_of_previous",
    "percent_of_total",
    "percentile",
    "percentile_distinct",
    "running_total",
    "string",
    "sum",
    "sum_distinct",
    "yesno",
}
TIMEFRAMES = {
    "raw",
    "time",
    "date",
    "week",
    "month",
    "quarter",
    "year",
    "fiscal_quarter",
    "fiscal_year",
    "fiscal_month_num",
    "day_of_week",
    "hour",
    "minute",
    "second",
}
RELATIONSHIPS = {"many_to_one", "one_to_one", "one_to_many", "many_to_many"}
JOIN_TYPES_LOOKML = {"left_outer", "full_outer", "inner", "cross"}
_TOKEN = re.compile(
    r"\s*(?:(?P<comment>#[^\n]*)|(?P<key>\w+):\s*(?:(?P<sql>[^\n]*?)\s*;;|"
    r"(?P<name>\w+)\s*\{|(?P<list>\[[^\]]*\])|(?P<quoted>\"(?:[^\"\\]|\\.)*\")|"
    r"(?P<open>\{)|(?P<word>[^\s{}]+))|(?P<close>\}))"
)


def read_lookml(text: str) -> list[tuple[str, Any]]:
    """A LookML file as a list of (key, value): a value is a string, a list of words, or for
    a block (`view: name { ... }`) the pair (name, its own list)."""
    stack: list[list[tuple[str, Any]]] = [[]]
    pos = 0
    while pos < len(text.rstrip()):
        found = _TOKEN.match(text, pos)
        assert found, f"cannot read LookML at {text[pos : pos + 60]!r}"
        pos = found.end()
        if found.group("comment"):
            continue
        if found.group("close"):
            stack.pop()
            continue
        key = found.group("key")
        if found.group("name") is not None or found.group("open") is not None:
            inner: list[tuple[str, Any]] = []
            stack[-1].append((key, (found.group("name"), inner)))
            stack.append(inner)
        elif found.group("list") is not None:
            words = found.group("list")[1:-1].split(",")
            stack[-1].append((key, [w.strip() for w in words if w.strip()]))
        elif found.group("sql") is not None and found.group("quoted") is None:
            stack[-1].append((key, found.group("sql")))
        else:
            stack[-1].append((key, found.group("quoted") or found.group("word")))
    assert len(stack) == 1, "unbalanced braces"
    return stack[0]
