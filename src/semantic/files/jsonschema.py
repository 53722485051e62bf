"""JSON Schema of the project files, for editors: autocompletion and validation as you type.

The schemas come from the pydantic models of `schema`, descriptions included, so the files,
the loader and the editor agree by construction.

>>> sorted(schemas())  # doctest: +NORMALIZE_WHITESPACE
['glossary.schema.json', 'model.schema.json', 'policy.schema.json', 'project.schema.json',
 'tokens.schema.json']
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from semantic.files.atomic import write_atomically
from semantic.files.schema import GlossaryFile, ModelFile, PolicyFile, ProjectFile, TokensFile

#: The folder of a project where `semantic schema` writes the schemas.
SCHEMA_DIR = "schemas"
_FILES: dict[str, tuple[type[BaseModel], str]] = {
    "project.schema.json": (ProjectFile, "semantic.yml: the project configuration"),
    "model.schema.json": (ModelFile, "models/*.yml: entities, columns, keys, relationships"),
    "glossary.schema.json": (GlossaryFile, "glossary/*.yml: a domain of business terms"),
    "policy.schema.json": (PolicyFile, "policies.yml: the roles of the access policy"),
    "tokens.schema.json": (TokensFile, "the tokens file of semantic serve: hashed tokens, roles"),
}
#: The comment that points YAML editors (yaml-language-server) at a schema.
MODELINE = "# yaml-language-server: $schema={path}"


def schemas() -> dict[str, str]:
    """Each schema file name with its JSON text (stable: sorted keys, a final newline)."""
    texts = {}
    for name, (model, title) in _FILES.items():
        schema = model.model_json_schema()
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
        schema["title"] = title
        texts[name] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return texts


def write_schemas(folder: Path) -> list[Path]:
    """Write the schemas into `folder` (atomically, one file each); the paths written."""
    written = []
    for name, text in schemas().items():
        path = folder / name
        write_atomically(path, text)
        written.append(path)
    return written
