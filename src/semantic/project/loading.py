"""Reading a project's files into its model: semantic.yml, the model and glossary folders and
the policy file, each read once (the bytes hashed for the kept load's key are the bytes
parsed), checked, and built (`semantic.model.build`, imported only when a project is built:
a kept load needs neither the file schemas nor the build's steps)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from semantic.compiler.areas import check_subject_areas
from semantic.compiler.localtime import known_time_zone, time_zone_names
from semantic.compiler.resolve import find_path
from semantic.engines.connect import check_engines
from semantic.errors import Diagnostic, SemanticError, suggest
from semantic.files.keptconfig import KeptConfig
from semantic.files.loadcache import file_content, files_key, keep_load
from semantic.files.root import CONFIG_FILE
from semantic.model.types import Model

if TYPE_CHECKING:
    from semantic.files.read import Document
    from semantic.files.schema import GlossaryFile, ModelFile, PolicyFile, ProjectFile


def read_project(
    root: Path, key: str, config_bytes: bytes | str, contents: dict[Path, bytes | str]
) -> tuple[ProjectFile | None, Model | None, list[Diagnostic]]:
    """Read and check semantic.yml, then read, check and build the model, glossary and
    policy files (`contents`: the files already read, by path; what is read here is added),
    and keep what they load to under `key` when there is no error (`files.loadcache`):
    semantic.yml, the model and every diagnostic; no model when semantic.yml cannot be read."""
    from semantic.files.read import read_file
    from semantic.files.schema import ProjectFile

    data = config_bytes if isinstance(config_bytes, bytes) else None
    config_doc, diagnostics = read_file(root / CONFIG_FILE, ProjectFile, CONFIG_FILE, data)
    if config_doc is None:
        return None, None, diagnostics
    config = config_doc.data
    engines = config.engines.items()
    diagnostics += check_engines(
        {
            n: (e.url, e.default, config_doc.span(("engines", n, "url"), value=True))
            for n, e in engines
        }
    )
    if not known_time_zone(config.time_zone):
        diagnostics.append(
            Diagnostic(
                "SEM227",
                f"unknown time zone '{config.time_zone}'",
                config_doc.span(("time_zone",), value=True),
                suggest(config.time_zone, time_zone_names())
                or "give an IANA time zone name such as UTC or Europe/Paris",
            )
        )
    names = (config.models, config.glossary)
    folders = listed_files(root, names)
    # the policy file is read with the model (its roles are checked against it)
    listed = [*(f for _, files in folders for f in files), root / config.policies]
    for file in listed:
        if file not in contents:
            contents[file] = file_content(file)
    read = {f: contents[f] for f in listed}
    model, found = _build(root, config_doc, folders, diagnostics, read)
    diagnostics += found
    if not any(d.severity == "error" for d in diagnostics):
        # the key is of the very bytes parsed: a file changed meanwhile is seen next time
        kept_files = (names, config.policies, files_key(read))
        # semantic.yml's object kept without pydantic's classes (`files.keptconfig`)
        keep_load(root, key, kept_files, (KeptConfig(config), diagnostics, model))
    return config, model, diagnostics


def build_model(
    config: ProjectFile,
    models: Sequence[Document[ModelFile]],
    glossaries: Sequence[Document[GlossaryFile]],
    *,
    complete: bool = True,
    policy: Document[PolicyFile] | None = None,
) -> tuple[Model, list[Diagnostic]]:
    """`semantic.model.build_model`, imported only when a project is built: a kept load
    (`files.loadcache`) needs neither the file schemas nor the steps of the build."""
    from semantic.model.build import build_model as build

    return build(config, models, glossaries, complete=complete, policy=policy)


def listed_files(root: Path, names: Sequence[str]) -> list[tuple[str, list[Path]]]:
    """The YAML files of each folder named (models, then glossary), in the order read."""
    return [
        (folder, sorted((root / folder).glob("*.yml")) + sorted((root / folder).glob("*.yaml")))
        for folder in names
    ]


def _build(
    root: Path,
    config_doc: Document[ProjectFile],
    folders: Sequence[tuple[str, list[Path]]],
    before: list[Diagnostic],
    contents: Mapping[Path, bytes | str],
) -> tuple[Model, list[Diagnostic]]:
    """The model of the files of `folders` (models, then glossary; `contents`: what each
    holds, as read for the key) and the diagnostics of reading and building them; `before`
    are semantic.yml's own."""
    from semantic.files.read import read_file
    from semantic.files.schema import GlossaryFile, ModelFile

    config = config_doc.data
    diagnostics: list[Diagnostic] = []
    models: list[Document[ModelFile]] = []
    glossaries: list[Document[GlossaryFile]] = []
    schemas: tuple[type[Any], ...] = (ModelFile, GlossaryFile)
    buckets = (cast("list[Document[Any]]", models), cast("list[Document[Any]]", glossaries))
    for (folder, files), schema, bucket in zip(folders, schemas, buckets, strict=True):
        if not files:
            diagnostics.append(
                Diagnostic(
                    "SEM105",
                    f"no YAML files in {folder}/",
                    config_doc.span((), value=True),
                    f"create {folder}/ or set `{folder}:` in {CONFIG_FILE}",
                )
            )
        for file in files:
            content = contents.get(file)
            data = content if isinstance(content, bytes) else None
            doc, problems = read_file(file, schema, str(file.relative_to(root)), data)
            diagnostics += problems
            if doc is not None:
                bucket.append(doc)
    complete = not any(d.code in ("SEM101", "SEM102") for d in (*before, *diagnostics))
    policy, problems = _read_policy(root, config_doc, contents)
    diagnostics += problems
    model, problems = build_model(config, models, glossaries, complete=complete, policy=policy)
    diagnostics += problems
    diagnostics += _check_metric_paths(model)
    diagnostics += check_subject_areas(model)
    return model, diagnostics


def _read_policy(
    root: Path, config_doc: Document[ProjectFile], contents: Mapping[Path, bytes | str]
) -> tuple[Document[PolicyFile] | None, list[Diagnostic]]:
    """The policy file of semantic.yml's `policies:` (policies.yml by default), or None
    when there is none: a missing default file means no roles; a missing file that
    semantic.yml names is SEM105 (`contents`: the file as read for the load's key)."""
    from semantic.files.read import read_file
    from semantic.files.schema import PolicyFile

    name = config_doc.data.policies
    path = root / name
    if not path.exists():
        if "policies" not in config_doc.data.model_fields_set:
            return None, []
        return None, [
            Diagnostic(
                "SEM105",
                f"the policy file {name} does not exist",
                config_doc.span(("policies",), value=True),
                "create it (see docs/governance.md) or fix `policies:` in semantic.yml",
            )
        ]
    content = contents.get(path)
    return read_file(path, PolicyFile, name, content if isinstance(content, bytes) else None)


def _check_metric_paths(model: Model) -> list[Diagnostic]:
    """Metrics that use a column of another entity need a to-one path to it."""
    from sqlglot import exp

    found = []
    for term in model.terms.values():
        if not term.is_metric or term.entity is None:
            continue
        for column in term.expr.find_all(exp.Column):
            if column.table and column.table in model.entities:
                try:
                    find_path(model, term.entity, column.table)
                except SemanticError as exc:
                    first = exc.diagnostics[0]
                    found.append(
                        Diagnostic(
                            "SEM204", f"metric '{term.id}': {first.message}", term.span, first.hint
                        )
                    )
    return found
