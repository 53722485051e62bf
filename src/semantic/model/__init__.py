"""The catalog: entities, relationships, terms and the name index, checked for consistency.

`build_model` turns validated files into one immutable `Model` and reports every broken
reference at once, each with its file:line:col. The rooms:

- `types`: the frozen records (`Model`, `Entity`, `Edge`, `Term`, `SubjectArea`...)
- `build`: `build_model`, the steps in their order; `draft`: what the steps share
- `entities`, `terms`: the model and glossary files read; `checks`: each term's checks;
  `relations`: the checks across terms; `areas`: subject areas
- `names`: how names compare; `nodes`: small sqlglot node builders
"""

from typing import TYPE_CHECKING, Any

from semantic.model.types import (
    FILE_DIALECT,
    Cardinality,
    Column,
    Domain,
    Edge,
    Entity,
    Kind,
    Model,
    NameEntry,
    QualityRule,
    SubjectArea,
    Term,
)

if TYPE_CHECKING:
    from semantic.model.build import build_model


def __getattr__(name: str) -> Any:
    """`build_model`, imported when asked for: a model kept between runs is used without
    the steps of the build (nor the file schemas and YAML readers they import)."""
    if name == "build_model":
        from semantic.model.build import build_model

        return build_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FILE_DIALECT",
    "Cardinality",
    "Column",
    "Domain",
    "Edge",
    "Entity",
    "Kind",
    "Model",
    "NameEntry",
    "QualityRule",
    "SubjectArea",
    "Term",
    "build_model",
]
