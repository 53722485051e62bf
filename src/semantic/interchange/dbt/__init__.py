"""`semantic import dbt`: dbt semantic models and metrics (MetricFlow YAML) as our models and
glossary; see docs/importing.md#dbt.

Reads the YAML files under the project's `model-paths` (the `semantic_models:` and
`metrics:` of the dbt 1.6+ spec, the `models:` properties for column types, and the semantic
models declared inside `models:` of the latest spec of dbt 1.12 and Fusion, read as the
classic ones by `latest`) and maps:

- a semantic model -> an entity over the table of its dbt model (`ref('orders')` -> `orders`);
  its primary entity -> the primary key; a foreign entity whose name is another semantic
  model's primary (or unique) entity -> a many-to-one (one-to-one) relationship;
- a dimension -> a dimension term; a time dimension -> a time dimension with the grains
  from its `time_granularity` up;
- a measure -> a metric on the entity (sum, count, count_distinct, average, min, max,
  median, sum_boolean);
- a metric -> a metric term: simple (with `filter` and `fill_nulls_with`), ratio, derived
  (with aliases, input filters, `offset_window` and `offset_to_grain` as shifts), cumulative
  (`window` and `grain_to_date`), conversion (`compiler.conversion`); jinja filters
  `{{ Dimension('order__status') }}`, `{{ TimeDimension('order__ordered_at') }}` become
  term ids.

Everything else (offsets of cumulative metrics, percentiles, non-additive dimensions, SCD
validity, time spines, the `metric_time` alias in a filter, ...) is reported with its
file:line and why, and left out: nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from semantic.errors import Diagnostic, SemanticError, Span, error
from semantic.files.schema import GlossaryFile, ModelFile
from semantic.interchange.common import (
    ImportResult,
    config_text,
    english_label,
    new_config,
    read_yaml,
    write_files,
    yaml_text,
)
from semantic.interchange.dbt.extras import READ, metric_is_exposure
from semantic.interchange.dbt.latest import _Latest
from semantic.interchange.dbt.models import _Node
from semantic.interchange.names import (
    ProjectNames,
    glossary_files,
    project_names,
    settle_names,
)
from semantic.progress import task

__all__ = ["DbtImport", "DbtImporter", "import_dbt", "import_dbt_into"]


@dataclass(frozen=True)
class DbtImport(ImportResult):
    """What an import gives: the files to write (path -> text) and the report, the ids of
    the terms written, and the data section of a new semantic.yml (the seeds folder)."""

    terms: tuple[str, ...] = ()
    data: dict[str, str] | None = None


def _yaml_files(folder: Path) -> Iterator[Path]:
    for pattern in ("*.yml", "*.yaml"):
        yield from sorted(folder.rglob(pattern))


def _load(path: Path, name: str) -> Any:
    return read_yaml(path, name, "SEM222", "fix the dbt file")


class DbtImporter:
    """`semantic import dbt`: reads the folder of a dbt project."""

    def read(self, source: Path) -> DbtImport:
        """The models and glossary files of the dbt project at `source`."""
        return import_dbt(source)


class _Importer(_Latest):
    def run(self) -> DbtImport:
        project_file = self.root / "dbt_project.yml"
        if not project_file.is_file():
            raise error(
                "SEM222",
                f"no dbt_project.yml in {self.root}",
                Span(str(self.root)),
                "give the folder of a dbt project",
            )
        project = _load(project_file, "dbt_project.yml") or {}
        paths = list(project.get("model-paths") or project.get("source-paths") or ["models"])
        semantic: list[_Node] = []
        metrics: list[_Node] = []
        files = [path for folder in paths for path in _yaml_files(self.root / folder)]
        with task(f"reading the dbt project {self.root.name}", total=len(files)) as step:
            trees = []
            for path in files:
                name = str(path.relative_to(self.root))
                step(name)
                trees.append((name, _load(path, name)))
        saved: list[_Node] = []
        for name, tree in trees:
            if not isinstance(tree, CommentedMap):
                continue
            semantic += [_Node(name, m) for m in tree.get("semantic_models") or []]
            metrics += [_Node(name, m) for m in tree.get("metrics") or []]
            saved += [_Node(name, m) for m in tree.get("saved_queries") or []]
            for model in [*(tree.get("models") or []), *(tree.get("seeds") or [])]:
                self.model_properties(_Node(name, model))
                semantic += self.latest_model(_Node(name, model))  # the dbt 1.12 layout
                for metric in model.get("metrics") or [] if isinstance(model, CommentedMap) else []:
                    metrics.append(_Node(name, metric, str(model.get("name"))))
            for key in tree:
                if key not in READ:
                    self.unread_section(name, tree, str(key))
        self.metric_names = {str(m.get("name")) for m in metrics}
        metrics = self.latest_metrics(metrics)
        self.exposing = {str(m.get("name")) for m in metrics if metric_is_exposure(m.map)}
        if not semantic:
            raise error(
                "SEM222",
                f"no semantic_models in the YAML files under {', '.join(paths)}",
                Span(str(project_file)),
                "the importer reads the `semantic_models:` and `metrics:` of dbt 1.6+, and "
                "the models with `semantic_model:` settings of dbt 1.12",
            )
        for node in semantic:
            self.semantic_model(node)
        for model in self.models.values():
            self.relationships(model)
        for model in self.models.values():
            for item in model.node.get("dimensions") or []:
                name = str(item.get("name"))
                self.shared[name] = self.shared.get(name, 0) + 1
        for model in self.models.values():
            self.dimensions(model)
        for model in self.models.values():
            self.model_measures(model)
        pending = list(metrics)
        # a metric may use another one defined later: repeat until no progress
        while pending:
            waiting = [m for m in pending if not self.metric(m, final=False)]
            if len(waiting) == len(pending):
                for node in waiting:
                    self.metric(node, final=True)
                break
            pending = waiting
        for node in saved:
            self.saved_query(node)
        self.forget_helpers()
        self.seeds(project)
        terms = {tid: spec for specs in self.domains.values() for tid, spec in specs.items()}
        self.notices += settle_names(
            terms,
            lambda tid: self.where.get(tid, ("", 0)),
            self.taken.project,
            moved=self.taken.moved,
        )
        return DbtImport(self.files(), tuple(self.notices), tuple(self.terms), self.data)

    def seeds(self, project: Any) -> None:
        """When every table is a dbt seed (CSV), the project reads the seeds folder."""
        for folder in project.get("seed-paths") or ["seeds"]:
            found = {p.stem for p in (self.root / folder).glob("*.csv")}
            if found and all(m.table in found for m in self.models.values()):
                self.data = {"dir": str((self.root / folder).resolve()), "format": "csv"}
                return

    def files(self) -> dict[str, str]:
        entities = {}
        for model in self.models.values():
            entity: dict[str, Any] = {"table": model.table}
            described = model.node.get("description") or model.node.get("label")
            if described:
                entity["description"] = " ".join(str(described).split())
            if model.primary:
                entity["primary_key"] = [c for key in model.primary.values() for c in key]
            types = self.column_types.get(model.table, {})
            columns = dict.fromkeys([*model.columns, *types])
            entity["columns"] = {c: {"type": types[c]} if c in types else {} for c in columns}
            if model.relationships:
                entity["relationships"] = model.relationships
            entities[model.id] = entity
        files = {
            "models/dbt.yml": yaml_text(
                {"entities": entities},
                ModelFile,
                "yaml-language-server: $schema=../schemas/model.schema.json\n"
                "Imported from dbt semantic models by `semantic import dbt`.",
            )
        }
        if self.areas:
            self.domains.setdefault("metrics", {})
        for domain, terms in self.domains.items():
            doc: dict[str, Any] = {
                "domain": domain,
                "label": {"en": english_label(domain)},
                "terms": terms,
            }
            if domain == "metrics" and self.areas:
                doc["subject_areas"] = self.areas
            files[f"glossary/{domain}.yml"] = yaml_text(
                doc,
                GlossaryFile,
                "yaml-language-server: $schema=../schemas/glossary.schema.json\n"
                "Imported from dbt by `semantic import dbt`: review, then approve.",
            )
        return files


def import_dbt(root: Path, project: ProjectNames | None = None) -> DbtImport:
    """Read the dbt project at `root` and return the files of our models and glossary, with
    the report of every construct not carried over (SEM222 when it cannot be read). The
    names of `project`'s terms are theirs (`settle_names`)."""
    try:
        return _Importer(root, project).run()
    except SemanticError:
        raise
    except (KeyError, TypeError, AttributeError) as exc:
        raise SemanticError(
            Diagnostic(
                "SEM222",
                f"the dbt YAML does not follow the MetricFlow spec ({type(exc).__name__}: {exc})",
                Span(str(root)),
                "run `dbt parse` to find the problem",
            )
        ) from None


def import_dbt_into(
    source: Path, root: Path, *, replace: bool = False
) -> tuple[DbtImport, list[Path]]:
    """`semantic import dbt`: the dbt project at `source` written into the project at `root`
    (see `write_files`), with a new semantic.yml reading the seeds when `root` has none.
    Returns the import and the files written."""
    result = import_dbt(source)
    if (root / "glossary").is_dir():  # the names of the terms kept are theirs
        result = import_dbt(source, project_names(root / "glossary", glossary_files(result.files)))
    files = dict(result.files)
    if not (root / "semantic.yml").exists():
        files["semantic.yml"] = config_text(new_config(root, result.data))
    return result, write_files(root, files, replace=replace)
