"""What an Apache Ossie file of each version may hold, as a JSON Schema, and the checks of
the spec's own validator beyond it: our transcription of core-spec/osi-schema.json of
github.com/apache/ossie (0.1.1: tag osi-0.1.1-rc1, commit faf58105; 0.2.0.dev0: main at
commit 88e00111), written from the spec's text, not copied. When the official files are at
hand (`SEMANTIC_OSSIE_DIR`, see tests/fixtures/osi/README.md) the tests validate against
them too, and check that this transcription agrees with them.

>>> problems({"version": "0.1.1", "semantic_model": []}, "0.1.1")
[]
>>> problems({"version": "0.1.1", "semantic_model": [{"name": "m"}]}, "0.2.0.dev0")
["version: '0.2.0.dev0' was expected", "semantic_model/0: 'datasets' is a required property"]
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import sqlglot
from jsonschema import Draft202012Validator
from sqlglot.errors import ParseError, TokenError

VERSIONS = ("0.1.1", "0.2.0.dev0")
_DIALECTS = ["ANSI_SQL", "SNOWFLAKE", "MDX", "TABLEAU", "DATABRICKS", "MAQL"]
_VENDORS = ["COMMON", "SNOWFLAKE", "SALESFORCE", "DBT", "DATABRICKS", "GOODDATA"]
_DATATYPES = [
    "String",
    "Integer",
    "Decimal",
    "Float",
    "Boolean",
    "Date",
    "Time",
    "DateTime",
    "DateTimeTz",
    "Opaque",
]
_SQL = {
    "ANSI_SQL": "",
    "SNOWFLAKE": "snowflake",
    "DATABRICKS": "databricks",
    "BIGQUERY": "bigquery",
}

_TEXT = {"type": "string"}
_TEXTS = {"type": "array", "items": _TEXT}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _many(name: str, **more: Any) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name), **more}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    """An object with exactly these keys (None values are keys the version lacks)."""
    kept = {k.rstrip("_"): v for k, v in properties.items() if v is not None}
    return {
        "type": "object",
        "properties": kept,
        "required": required,
        "additionalProperties": False,
    }


def schema(version: str) -> dict[str, Any]:
    """The JSON Schema of an Ossie file of `version` (one of VERSIONS)."""
    old = version == "0.1.1"
    datatype = None if old else _ref("DataType")
    described = {"description": _TEXT, "ai_context": _ref("AIContext")}
    extended = {"custom_extensions": _many("CustomExtension")}
    root = _object(
        ["version", "semantic_model"],
        version={"type": "string", "const": version},
        dialects=_many("Dialect") if old else None,
        vendors=_many("Vendor") if old else None,
        semantic_model=_many("SemanticModel"),
    )
    root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    root["$defs"] = {
        "Dialect": {"type": "string", "enum": _DIALECTS + ([] if old else ["BIGQUERY"])},
        "Vendor": {"type": "string", "enum": _VENDORS} if old else {"type": "string"},
        "DataType": {"type": "string", "enum": _DATATYPES},
        "AIContext": {
            "oneOf": [
                _TEXT,
                {
                    "type": "object",
                    "properties": {"instructions": _TEXT, "synonyms": _TEXTS, "examples": _TEXTS},
                    "additionalProperties": True,
                },
            ]
        },
        "CustomExtension": _object(["vendor_name", "data"], vendor_name=_ref("Vendor"), data=_TEXT),
        "DialectExpression": _object(
            ["dialect", "expression"], dialect=_ref("Dialect"), expression=_TEXT
        ),
        "Expression": _object(["dialects"], dialects=_many("DialectExpression", minItems=1)),
        "Dimension": _object([], is_time={"type": "boolean"}),
        "Field": _object(
            ["name", "expression"],
            name=_TEXT,
            expression=_ref("Expression"),
            dimension=_ref("Dimension"),
            label=_TEXT,
            datatype=datatype,
            **described,
            **extended,
        ),
        "Dataset": _object(
            ["name", "source"],
            name=_TEXT,
            source=_TEXT,
            primary_key=_TEXTS,
            unique_keys={"type": "array", "items": _TEXTS},
            fields=_many("Field"),
            **described,
            **extended,
        ),
        "Relationship": _object(
            ["name", "from", "to", "from_columns", "to_columns"],
            name=_TEXT,
            from_=_TEXT,
            to=_TEXT,
            from_columns={**_TEXTS, "minItems": 1},
            to_columns={**_TEXTS, "minItems": 1},
            ai_context=_ref("AIContext"),
            **extended,
        ),
        "Metric": _object(
            ["name", "expression"],
            name=_TEXT,
            expression=_ref("Expression"),
            datatype=datatype,
            **described,
            **extended,
        ),
        "SemanticModel": _object(
            ["name", "datasets"],
            name=_TEXT,
            datasets=_many("Dataset", minItems=1),
            relationships=_many("Relationship"),
            metrics=_many("Metric"),
            **described,
            **extended,
        ),
    }
    return root


def schema_problems(document: Any, spec: dict[str, Any]) -> list[str]:
    """The JSON Schema errors of `document`, as `path: message`."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in Draft202012Validator(spec).iter_errors(document)
    ]


def problems(document: Any, version: str) -> list[str]:
    """Everything the spec's validator would say of `document` as a file of `version`: the
    schema, unique names (datasets, fields of a dataset, metrics, relationships), datasets
    that relationships name, and SQL that parses in its dialect."""
    found = schema_problems(document, schema(version))
    if found or not isinstance(document, dict):
        return found
    for model in document["semantic_model"]:
        datasets = model["datasets"]
        names = {
            "dataset": [d["name"] for d in datasets],
            "metric": [m["name"] for m in model.get("metrics") or []],
            "relationship": [r["name"] for r in model.get("relationships") or []],
        }
        for d in datasets:
            names[f"field of {d['name']}"] = [f["name"] for f in d.get("fields") or []]
        found += [
            f"{model['name']}: {what} '{name}' twice"
            for what, listed in names.items()
            for name, count in Counter(listed).items()
            if count > 1
        ]
        for r in model.get("relationships") or []:
            found += [
                f"{model['name']}: relationship '{r['name']}' names unknown dataset '{r[end]}'"
                for end in ("from", "to")
                if r[end] not in names["dataset"]
            ]
        items = [f for d in datasets for f in d.get("fields") or []]
        for item in items + list(model.get("metrics") or []):
            for d in item["expression"]["dialects"]:
                if d["dialect"] in _SQL:
                    try:
                        sqlglot.parse_one(d["expression"], read=_SQL[d["dialect"]])
                    except (ParseError, TokenError) as exc:
                        found.append(f"{item['name']}: {str(exc).splitlines()[0]}")
    return found


def official_dir() -> Path | None:
    """The folder of the official schemas and examples (see tests/fixtures/osi/README.md),
    when `SEMANTIC_OSSIE_DIR` names one."""
    where = os.environ.get("SEMANTIC_OSSIE_DIR")
    return Path(where) if where and Path(where, "schemas").is_dir() else None


def official_schema(version: str) -> dict[str, Any] | None:
    """The official JSON Schema of `version`, when at hand."""
    folder = official_dir()
    path = folder / "schemas" / f"osi-schema-{version}.json" if folder else None
    return json.loads(path.read_text()) if path and path.exists() else None
