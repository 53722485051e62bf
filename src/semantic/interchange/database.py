"""`semantic init`: a new project scaffolded from an existing database.

`semantic.engines.describe` reads the database (tables, columns, declared keys) and guesses
the keys it does not declare; this module writes what it found as a project: one entity per
table with its primary key and relationships (a guess is written with a comment saying so,
and reported, SEM225), and a glossary skeleton: a dimension per column that is not a key, a
time dimension per date, and a count metric per entity, all drafts with English labels made
from the names.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap
from sqlglot import exp

from semantic.engines.describe import (
    PASSWORD_VARIABLE,
    Catalog,
    EngineSource,
    Link,
    Source,
    Table,
    column_prefix,
    engine_source,
    files_source,
    guess_keys,
    read_catalog,
)
from semantic.errors import Diagnostic, SemanticError, Span
from semantic.files.schema import GlossaryFile, ModelFile, ProjectFile
from semantic.interchange.common import (
    ImportResult,
    Notice,
    english_label,
    new_id,
    snake_id,
    write_files,
    yaml_text,
)

__all__ = [
    "DatabaseImporter",
    "engine_notices",
    "scaffold",
    "scaffold_files",
    "scaffold_from_engine",
    "scaffold_from_files",
]


#: the name of the engine `init` writes into semantic.yml: the database it read
ENGINE_NAME = "source"
_TIME_TYPES = re.compile(r"^(date|timestamp|datetime)")


@dataclass(frozen=True)
class DatabaseImporter:
    """`semantic init`'s importer: reads a database (a `Source`), guesses the keys it does
    not declare and gives the files of a new project named `name` (see `scaffold_files`)."""

    name: str
    schema: str | None = None
    data: dict[str, str] | None = None
    origin: str = ""
    engine: str | None = None

    def read(self, source: Source) -> ImportResult:
        """The files of the project that describes the tables of `source` (of `schema`)."""
        catalog = read_catalog(source, self.schema)
        guess_keys(source, catalog)
        return scaffold_files(
            catalog, name=self.name, data=self.data, origin=self.origin, engine=self.engine
        )


def _entity_ids(catalog: Catalog) -> None:
    taken: set[str] = set()
    many_schemas = len({t.schema for t in catalog.tables.values()}) > 1
    for table in catalog.tables.values():
        table.id = new_id(
            taken, snake_id(f"{table.schema}_{table.name}" if many_schemas else table.name)
        )
        taken.add(table.id)


def scaffold_files(
    catalog: Catalog,
    *,
    name: str,
    data: dict[str, str] | None = None,
    origin: str = "",
    engine: str | None = None,
) -> ImportResult:
    """`semantic.yml`, `models/<name>.yml` and one glossary file per entity, as text; with
    `engine` (a URL without a password), an engine `source` that is the project's default."""
    _entity_ids(catalog)
    model_file = f"models/{snake_id(name)}.yml"
    guesses: list[tuple[str, str]] = []  # (what, why) of each relationship guessed
    links_by_source: dict[str, list[Link]] = {}
    for link in catalog.links:
        links_by_source.setdefault(link.source, []).append(link)
    entities = {}
    for key, table in catalog.tables.items():
        entity = CommentedMap()
        default_schema = table.schema in ("main", "public")
        entity["table"] = table.name if default_schema else f"{table.schema}.{table.name}"
        if table.primary_key:
            entity["primary_key"] = list(table.primary_key)
            if table.key_guessed:
                entity.yaml_add_eol_comment(
                    "guessed: unique and never null in the data", "primary_key"
                )
        entity["columns"] = {column: {"type": kind} for column, kind in table.columns.items()}
        relationships = []
        targets = [link.target for link in links_by_source.get(key, [])]
        for link in links_by_source.get(key, []):
            target = catalog.tables[link.target]
            unique = set(table.primary_key) == {a for a, _ in link.keys}
            rel = CommentedMap(to=target.id)
            rel["cardinality"] = "one_to_one" if unique else "many_to_one"
            rel["keys"] = dict(link.keys)
            # a role name tells relationships to one entity apart, and a row's other row
            # (an employee's manager) from the row itself
            if targets.count(link.target) > 1 or link.target == key:
                role = snake_id("_".join(a for a, _ in link.keys).removesuffix("_id"))
                rel["name"] = f"other_{role}" if role == target.id else role
            if link.guessed:
                rel.yaml_set_start_comment(f"{link.reason} (check it)", indent=6)
                guesses.append((f"relationship {table.id} -> {target.id}", link.reason))
            relationships.append(rel)
        if relationships:
            entity["relationships"] = relationships
        entities[table.id] = entity
    files = {
        model_file: yaml_text(
            {"entities": entities},
            ModelFile,
            f"yaml-language-server: $schema=../schemas/model.schema.json\n"
            f"Scaffolded by `semantic init`{' from ' + origin if origin else ''}: check the "
            "keys and relationships.",
        )
    }
    # each guess is reported at the line of its relationship in the model file
    lines = files[model_file].splitlines()
    notices = tuple(
        Notice(model_file, _line_after(lines, f"# {why} (check it)"), what, why, "guessed")
        for what, why in guesses
    )
    files.update(_glossary(catalog))
    config = CommentedMap(name=name, languages=["en"])
    if data:
        config["data"] = data
    if engine:
        config["engines"] = {ENGINE_NAME: {"url": engine, "default": True}}
        config.yaml_set_comment_before_after_key(
            "engines", before="the database init read: queries run there", indent=0
        )
    files["semantic.yml"] = yaml_text(
        config, ProjectFile, "yaml-language-server: $schema=schemas/project.schema.json"
    )
    return ImportResult(files, notices)


def _line_after(lines: list[str], comment: str) -> int:
    """The 1-based number of the line after the one that holds `comment`, or 0."""
    for number, line in enumerate(lines, start=1):
        if line.strip() == comment:
            return number + 1
    return 0


def _term_ids(catalog: Catalog) -> dict[tuple[str, str], str]:
    """The term id of each column that is not a key, by (entity, column): its name without
    the table's prefix, or with the entity's name in front when several tables share it."""
    keys: dict[str, set[str]] = {t.id: set(t.primary_key) for t in catalog.tables.values()}
    for link in catalog.links:
        keys[catalog.tables[link.source].id] |= {a for a, _ in link.keys}
    plain: dict[str, list[tuple[Table, str]]] = {}
    for table in catalog.tables.values():
        prefix = column_prefix(table)
        for column in table.columns:
            if column in keys[table.id]:
                continue
            plain.setdefault(snake_id(column.removeprefix(prefix)), []).append((table, column))
    ids: dict[tuple[str, str], str] = {}
    taken = {f"{t.id}_count" for t in catalog.tables.values()}
    for base, uses in plain.items():
        for table, column in uses:
            term_id = base if len(uses) == 1 else f"{table.id}_{base}"
            if term_id.startswith(f"{table.id}_{table.id}_"):
                term_id = term_id.removeprefix(f"{table.id}_")
            while term_id in taken:
                term_id = f"{table.id}_{term_id}"
            taken.add(term_id)
            ids[(table.id, column)] = term_id
    return ids


def _glossary(catalog: Catalog) -> dict[str, str]:
    ids = _term_ids(catalog)
    files = {}
    for table in catalog.tables.values():
        terms: dict[str, Any] = {
            f"{table.id}_count": {
                "label": {"en": english_label(f"{table.id}_count")},
                "definition": {"en": f"Number of rows of {table.name}."},
                "status": "draft",
                "metric": {"entity": table.id, "expr": "count(*)"},
            }
        }
        for column, data_type in table.columns.items():
            term_id = ids.get((table.id, column))
            if term_id is None:
                continue
            kind = "time_dimension" if _TIME_TYPES.match(data_type) else "dimension"
            terms[term_id] = {
                "label": {"en": english_label(term_id)},
                "status": "draft",
                kind: {"entity": table.id, "expr": _column_expr(column)},
            }
        doc = {"domain": table.id, "label": {"en": english_label(table.id)}, "terms": terms}
        files[f"glossary/{table.id}.yml"] = yaml_text(
            doc,
            GlossaryFile,
            "yaml-language-server: $schema=../schemas/glossary.schema.json\n"
            "Skeleton written by `semantic init`: give each term a definition, owners and better "
            "labels, then approve it.",
        )
    return files


def _column_expr(column: str) -> str:
    """The column as an expression of the file dialect, quoted only when it must be."""
    return (
        exp.column(column).sql("duckdb", identify=False)
        if re.match(r"^[a-z_][a-z0-9_]*$", column)
        else exp.column(column, quoted=True).sql("duckdb")
    )


def scaffold(
    source: Source,
    root: Path,
    *,
    name: str | None = None,
    schema: str | None = None,
    data: dict[str, str] | None = None,
    origin: str = "",
    engine: str | None = None,
) -> tuple[list[Path], tuple[Notice, ...]]:
    """Read the database behind `source`, guess what it does not declare, and write a new
    project at `root` (whose default engine is `engine`, when given); refuse (SEM220) when
    `root` already holds a project or its folders."""
    for existing in ("semantic.yml", "models", "glossary"):
        if (root / existing).exists():
            raise SemanticError(
                Diagnostic(
                    "SEM220",
                    f"init never overwrites a project, and {existing} is already here",
                    Span(str(root / existing)),
                    "run init in a new or empty folder",
                )
            )
    importer = DatabaseImporter(name or root.resolve().name, schema, data, origin, engine)
    result = importer.read(source)
    return write_files(root, result.files), result.notices


def engine_notices(opened: EngineSource) -> tuple[Notice, ...]:
    """What to tell about the engine URL written into the new semantic.yml: a password
    written in it was left out (SEM226)."""
    if not opened.hidden_password:
        return ()
    variable = "${" + PASSWORD_VARIABLE + "}"
    return (
        Notice(
            "semantic.yml",
            0,
            "the password of the engine URL",
            f"semantic.yml reads it from {variable}: export {PASSWORD_VARIABLE} before running "
            "semantic in the new project (or use ~/.pgpass and take it out of the URL)",
            "withheld",
        ),
    )


def scaffold_from_files(
    folder: Path, root: Path, *, name: str | None = None, schema: str | None = None
) -> tuple[list[Path], tuple[Notice, ...]]:
    """`semantic init --from-files`: a new project at `root` describing the parquet or CSV
    files of `folder` (one per table), which its semantic.yml reads (see `scaffold`)."""
    source, file_format = files_source(folder)
    where = os.path.relpath(folder.resolve(), root.resolve())
    data = {"dir": where, "format": file_format}
    return scaffold(source, root, name=name, schema=schema, data=data, origin=str(folder))


def scaffold_from_engine(
    url: str,
    root: Path,
    *,
    name: str | None = None,
    schema: str | None = None,
    origin: str = "",
) -> tuple[list[Path], tuple[Notice, ...]]:
    """`semantic init --engine`: a new project at `root` describing the database at `url`
    (the tables of `schema`, else the engine's default schema), which becomes the project's
    default engine (see `scaffold`); the database is closed afterwards. `origin` names the
    database in the files' headers (the URL without its password, say)."""
    opened = engine_source(url)
    try:
        written, notices = scaffold(
            opened.source,
            root,
            name=name,
            schema=schema or opened.schema,
            origin=origin,
            engine=opened.url,
        )
    finally:
        opened.source.close()
    return written, (*notices, *engine_notices(opened))
