"""The file formats, as pydantic models: `semantic.yml`, `models/*.yml`, `glossary/*.yml`.

These classes describe exactly what a modeler may write; unknown keys are refused.
They carry no behaviour: `files` reads YAML into them, `model` builds the catalog.

Each name is imported from its module when first asked for: a command on an unchanged project
unpickles semantic.yml's `ProjectFile` and needs no other schema (the classes of the
glossary and model files cost about 300 M instructions, a tenth of `semantic compile`).

>>> from semantic.files.schema import ColumnSpec
>>> ColumnSpec(type="bigint").type
'bigint'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from semantic.files.schema.access import (
        CallerName,
        Mask,
        PolicyFile,
        RoleSpec,
        TokensFile,
        TokenSpec,
    )
    from semantic.files.schema.base import (
        GRAINS,
        MAX_EXPR_DEPTH,
        Cardinality,
        Confidentiality,
        Grain,
        Id,
        LangText,
        Language,
        SqlText,
        Status,
        Strict,
        _shallow,
    )
    from semantic.files.schema.glossary import (
        MEANINGS,
        ConceptSpec,
        ConstantPropertySpec,
        ConversionSpec,
        ConversionWindowSpec,
        DimensionSpec,
        GlossaryFile,
        MetricSpec,
        SegmentSpec,
        SemiAdditiveSpec,
        ShiftSpec,
        SubjectAreaSpec,
        TermSpec,
        TimeDimensionSpec,
        WindowSpec,
    )
    from semantic.files.schema.models import (
        Bound,
        ColumnSpec,
        EntitySpec,
        ModelFile,
        QualityDimension,
        QualityRuleSpec,
        RelationshipSpec,
        RuleKind,
    )
    from semantic.files.schema.project import (
        AuditSpec,
        CatalogSpec,
        ContactSpec,
        DataSpec,
        EngineSpec,
        GenerateSpec,
        LimitsSpec,
        PeriodSpec,
        ProjectFile,
        PublisherSpec,
        QualitySpec,
        ServeLimitsSpec,
        ServeSpec,
        TpchGenerator,
    )

#: the module of each name
_MODULES = {
    "CallerName": "access",
    "Mask": "access",
    "PolicyFile": "access",
    "RoleSpec": "access",
    "TokensFile": "access",
    "TokenSpec": "access",
    "GRAINS": "base",
    "MAX_EXPR_DEPTH": "base",
    "Cardinality": "base",
    "Confidentiality": "base",
    "Grain": "base",
    "Id": "base",
    "LangText": "base",
    "Language": "base",
    "SqlText": "base",
    "Status": "base",
    "Strict": "base",
    "_shallow": "base",
    "MEANINGS": "glossary",
    "ConceptSpec": "glossary",
    "ConstantPropertySpec": "glossary",
    "ConversionSpec": "glossary",
    "ConversionWindowSpec": "glossary",
    "DimensionSpec": "glossary",
    "GlossaryFile": "glossary",
    "MetricSpec": "glossary",
    "SegmentSpec": "glossary",
    "SemiAdditiveSpec": "glossary",
    "ShiftSpec": "glossary",
    "SubjectAreaSpec": "glossary",
    "TermSpec": "glossary",
    "TimeDimensionSpec": "glossary",
    "WindowSpec": "glossary",
    "Bound": "models",
    "ColumnSpec": "models",
    "EntitySpec": "models",
    "ModelFile": "models",
    "QualityDimension": "models",
    "QualityRuleSpec": "models",
    "RelationshipSpec": "models",
    "RuleKind": "models",
    "AuditSpec": "project",
    "CatalogSpec": "project",
    "ContactSpec": "project",
    "DataSpec": "project",
    "EngineSpec": "project",
    "GenerateSpec": "project",
    "LimitsSpec": "project",
    "PeriodSpec": "project",
    "ProjectFile": "project",
    "PublisherSpec": "project",
    "QualitySpec": "project",
    "ServeLimitsSpec": "project",
    "ServeSpec": "project",
    "TpchGenerator": "project",
}


def __getattr__(name: str) -> Any:
    """`name` from its module, imported now (PEP 562)."""
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "AuditSpec",
    "Bound",
    "CallerName",
    "Cardinality",
    "CatalogSpec",
    "ColumnSpec",
    "ConceptSpec",
    "Confidentiality",
    "ConstantPropertySpec",
    "ContactSpec",
    "ConversionSpec",
    "ConversionWindowSpec",
    "SemiAdditiveSpec",
    "DataSpec",
    "DimensionSpec",
    "EngineSpec",
    "EntitySpec",
    "GRAINS",
    "GenerateSpec",
    "GlossaryFile",
    "Grain",
    "Id",
    "LangText",
    "Language",
    "LimitsSpec",
    "MAX_EXPR_DEPTH",
    "MEANINGS",
    "Mask",
    "MetricSpec",
    "ModelFile",
    "PeriodSpec",
    "PolicyFile",
    "ProjectFile",
    "PublisherSpec",
    "QualityDimension",
    "QualityRuleSpec",
    "QualitySpec",
    "RelationshipSpec",
    "RoleSpec",
    "RuleKind",
    "SegmentSpec",
    "ServeLimitsSpec",
    "ServeSpec",
    "ShiftSpec",
    "SqlText",
    "Status",
    "Strict",
    "SubjectAreaSpec",
    "TermSpec",
    "TimeDimensionSpec",
    "TokenSpec",
    "TokensFile",
    "TpchGenerator",
    "WindowSpec",
    "_shallow",
]
