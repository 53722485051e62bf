"""A term's lineage as an OpenLineage run event (`semantic lineage TERM --format
openlineage`), built with the `openlineage-python` package's own classes.

The event is a COMPLETE run of the job `<project>.<term>` in namespace `semantic://<project>`:
its inputs are the physical tables the term reads (each with a `schema` facet of the columns
read), its one output is the term as a dataset `glossary.<term>` in the same namespace, with
a `schema` facet (the term as its one field) and a `columnLineage` facet: the term's field
comes from the columns read for their value (DIRECT: AGGREGATION for a metric,
TRANSFORMATION for an expression, IDENTITY for a plain column), and the columns that join
the tables or filter the rows affect the whole dataset (INDIRECT: JOIN, FILTER). The package
is an optional extra (`pip install 'semantic[lineage]'`): only this command imports it, and
SEM412 says how to install it when it is missing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlglot import exp

from semantic import __version__
from semantic.errors import error
from semantic.model import Model

#: Who made the event: a URI, as OpenLineage asks of every producer (the package and its
#: version; the project has no web address of its own)
PRODUCER = f"urn:python:semantic:{__version__}"


def openlineage_event(
    model: Model, tree: dict[str, Any], namespace: str | None = None, *, time: str | None = None
) -> str:
    """The OpenLineage run event of a term's lineage tree (`compiler.lineage.lineage_tree`)
    as JSON. `namespace` names the datasets' source (default `semantic://<project>`); `time`
    the event's time (default now, UTC), from which the run id is derived."""
    try:
        from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent
        from openlineage.client.event_v2 import RunState as EventType
        from openlineage.client.facet_v2 import column_lineage_dataset as cl
        from openlineage.client.facet_v2 import schema_dataset
        from openlineage.client.serde import Serde
        from openlineage.client.uuid import generate_static_uuid
    except ImportError:
        raise error(
            "SEM412",
            "the OpenLineage output needs the openlineage-python package, which is not installed",
            None,
            "pip install 'semantic[lineage]' (or use --format json)",
        ) from None
    space = namespace or f"semantic://{model.name}"
    when = time or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    term = tree["term"]
    columns = tree["all_columns"]
    types = {
        (e.table, name): c.type for e in model.entities.values() for name, c in e.columns.items()
    }
    inputs = []
    for table in tree["tables"]:
        read = sorted({c["column"] for c in columns if c["table"] == table})
        fields = [
            schema_dataset.SchemaDatasetFacetFields(name=c, type=types.get((table, c)))
            for c in read
        ]
        facet = schema_dataset.SchemaDatasetFacet(fields=fields)
        inputs.append(InputDataset(namespace=space, name=table, facets={"schema": facet}))
    subtype = _subtype(model, term)

    def field(column: dict[str, str], kind: str, sub: str) -> Any:
        change = cl.Transformation(type=kind, subtype=sub)
        return cl.InputField(
            namespace=space, name=column["table"], field=column["column"], transformations=[change]
        )

    direct = [field(c, "DIRECT", subtype) for c in columns if c["role"] == "value"]
    indirect = [
        field(c, "INDIRECT", c["role"].upper()) for c in columns if c["role"] in ("join", "filter")
    ]
    lineage = cl.ColumnLineageDatasetFacet(
        fields={
            term: cl.Fields(
                inputFields=direct,
                transformationDescription=tree["expression"],
                transformationType="IDENTITY" if subtype == "IDENTITY" else None,
            )
        },
        dataset=indirect,
    )
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=term, description=tree["label"])]
    )
    output = OutputDataset(
        namespace=space,
        name=f"glossary.{term}",
        facets={"schema": schema, "columnLineage": lineage},
    )
    instant = dt.datetime.fromisoformat(when)
    run = Run(runId=str(generate_static_uuid(instant, f"{space}/{term}".encode())))
    event = RunEvent(
        eventType=EventType.COMPLETE,
        eventTime=when,
        run=run,
        job=Job(namespace=space, name=f"{model.name}.{term}"),
        inputs=inputs,
        outputs=[output],
        producer=PRODUCER,
    )
    return str(Serde.to_json(event))


def _subtype(model: Model, term_id: str) -> str:
    """How the term's value is made from the columns it reads."""
    term = model.terms[term_id]
    if term.is_metric:
        return "AGGREGATION"
    return "IDENTITY" if isinstance(term.expr, exp.Column) else "TRANSFORMATION"
