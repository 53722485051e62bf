"""`semantic export dbt`: the project as a dbt project whose semantic models and metrics
(the classic MetricFlow YAML, `semantic_models:` and `metrics:`) MetricFlow parses; see
docs/importing.md#semantic-export-dbt.

What it writes, and from what:

- `dbt_project.yml`, `models/sources.yml` (the entities' tables as one dbt source) and one
  SQL model per table (`select * from {{ source(...) }}`): a semantic model sits on a dbt
  model, and `semantic import dbt` reads `ref('<table>')` back as the table;
- an entity -> a semantic model in `models/<entity>.yml`, beside the dbt model's column
  properties (`data_type` and description): its primary key -> the primary entity (named
  after the entity; a composite key as the concatenation of its columns), a many-to-one
  relationship -> a foreign entity named after its target;
- a dimension -> a categorical dimension, a time dimension -> a time dimension, a segment
  -> a categorical dimension holding its condition (MetricFlow has no segments);
- a metric over an entity -> a measure (one aggregate) and a simple metric (its filter as
  jinja over `Dimension(...)`, its `fill_null` as `fill_nulls_with`); a metric over metrics
  -> a derived metric; a window -> a cumulative metric with `period_agg: last`; a shift ->
  a derived metric with an `offset_window` input (`semantic.interchange.dbt.export_metrics`);
- a subject area -> a saved query;
- a daily time spine (`models/metricflow_time_spine.sql`), which MetricFlow needs for
  cumulative metrics and offsets.

MetricFlow aggregates a measure along an `agg_time_dimension` of its own semantic model: an
entity's first time dimension (in glossary order). A metric whose entity has none is
reported and left out: MetricFlow cannot aggregate it, and a date is not invented. Every
construct not carried, or carried differently, is reported (SEM224) with its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from semantic.interchange.common import Notice, dump_yaml, snake_id
from semantic.interchange.dbt.export_metrics import export_metrics, report_project
from semantic.interchange.dbt.export_models import Exporter
from semantic.model import Model

__all__ = ["DbtExport", "export_dbt"]

HEADER = "Exported by `semantic export dbt`: MetricFlow semantic models and metrics."
#: the days of the time spine: edit them to cover the data
SPINE_START, SPINE_END = "1990-01-01", "2040-01-01"


@dataclass(frozen=True)
class DbtExport:
    """The files of the dbt project (path -> text) and the report."""

    files: dict[str, str]
    notices: tuple[Notice, ...]


def export_dbt(model: Model, *, dialect: str = "duckdb", name: str | None = None) -> DbtExport:
    """The dbt project of `model` (path -> text) with the report of what MetricFlow cannot
    carry; SQL is written in `dialect`, the dbt adapter's."""
    exporter = Exporter(model, dialect)
    exporter.entities()
    exporter.fields()
    metrics, saved = export_metrics(exporter)
    report_project(exporter)
    project = snake_id(name or model.name)
    return DbtExport(_files(exporter, project, metrics, saved), tuple(exporter.notices))


def _files(
    exporter: Exporter, project: str, metrics: list[dict[str, Any]], saved: list[dict[str, Any]]
) -> dict[str, str]:
    files = {
        "dbt_project.yml": dump_yaml(
            {
                "name": project,
                "version": "1.0.0",
                "config-version": 2,
                "profile": project,
                "model-paths": ["models"],
            },
            HEADER,
        )
    }
    sources: dict[str, list[dict[str, Any]]] = {}
    for eid, table in exporter.dbt_models.items():
        parts = exporter.model.entities[eid].table.split(".")
        source = parts[-2] if len(parts) > 1 else project
        sources.setdefault(source, []).append({"name": table})
        files[f"models/{table}.sql"] = f"select * from {{{{ source('{source}', '{table}') }}}}\n"
    files["models/sources.yml"] = dump_yaml(
        {
            "version": 2,
            "sources": [
                {"name": s, **({"schema": s} if s != project else {}), "tables": tables}
                for s, tables in sources.items()
            ],
        },
        HEADER,
    )
    for eid, semantic in exporter.semantic.items():
        entity = semantic.entity
        dbt_model: dict[str, Any] = {"name": exporter.dbt_models[eid]}
        if entity.description:
            dbt_model["description"] = entity.description
        dbt_model["columns"] = [
            {
                "name": c.name,
                **({"data_type": c.type} if c.type else {}),
                **({"description": c.description} if c.description else {}),
            }
            for c in entity.columns.values()
        ]
        item: dict[str, Any] = {"name": eid}
        if entity.description:
            item["description"] = entity.description
        item["model"] = f"ref('{exporter.dbt_models[eid]}')"
        if semantic.agg_time:
            item["defaults"] = {"agg_time_dimension": semantic.agg_time}
        if not entity.primary_key:
            item["primary_entity"] = eid
        for key in ("entities", "dimensions", "measures"):
            if getattr(semantic, key):
                item[key] = getattr(semantic, key)
        files[f"models/{eid}.yml"] = dump_yaml(
            {"version": 2, "models": [dbt_model], "semantic_models": [item]}, HEADER
        )
    if metrics or saved:
        body: dict[str, Any] = {"version": 2, "metrics": metrics}
        if saved:
            body["saved_queries"] = saved
        files["models/metrics.yml"] = dump_yaml(body, HEADER)
    files["models/metricflow_time_spine.sql"] = (
        "-- the days MetricFlow lists periods from: edit them to cover the data\n"
        "select cast(date_day as date) as date_day\n"
        f"from ({{{{ dbt.date_spine('day', \"cast('{SPINE_START}' as date)\", "
        f"\"cast('{SPINE_END}' as date)\") }}}}) as days\n"
    )
    files["models/metricflow_time_spine.yml"] = dump_yaml(
        {
            "version": 2,
            "models": [
                {
                    "name": "metricflow_time_spine",
                    "time_spine": {"standard_granularity_column": "date_day"},
                    "columns": [{"name": "date_day", "granularity": "day"}],
                }
            ],
        },
        HEADER,
    )
    return files
