"""`semantic import osi`: an Apache Ossie (Open Semantic Interchange, OSI) YAML file as our
models and glossary; see docs/importing.md#osi.

Every dataset becomes an entity, every field a dimension (a time dimension when it says
`is_time` or has a time datatype), every metric a metric term on the dataset it aggregates;
whatever has no place in the glossary (unique keys, other vendors' extensions, non-SQL
dialects, model-wide instructions) is reported. In a model that marks its dimensions (some
field has `dimension:`), a bare column field (no such mark, no label, no ai_context: see
`_Importer.is_column`) is a column of its entity, not a term. A field name that several
datasets share becomes `<dataset>_<field>` in each of them, and names that would clash
(SEM206) are settled by `names.settle_names`, each change reported.

A file written by `semantic export osi` carries our own `custom_extensions` (see
`osi_spec.extension`), read back so that the round trip is lossless, concept IRIs included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap
from sqlglot import exp
from sqlglot.errors import ParseError

from semantic.errors import Diagnostic, SemanticError, Span, error
from semantic.files.schema import GlossaryFile, ModelFile
from semantic.interchange.common import (
    ImportResult,
    Notice,
    config_text,
    english_label,
    line_of,
    read_yaml,
    snake_id,
    write_files,
    yaml_text,
)
from semantic.interchange.names import (
    ProjectNames,
    TakenIds,
    glossary_files,
    project_names,
    settle_names,
)
from semantic.interchange.osi_spec import (
    FILE_DIALECT,
    column_type,
    our_data,
    parse_sql,
    with_dataset,
)
from semantic.outputs.rdf.iris import Iris, default_base

__all__ = ["OsiImport", "OsiImporter", "import_osi", "import_osi_into"]

_DIALECTS = {
    "ANSI_SQL": "",
    "SNOWFLAKE": "snowflake",
    "DATABRICKS": "databricks",
    "BIGQUERY": "bigquery",
}

_TIME_TYPES = ("Date", "Time", "DateTime", "DateTimeTz")


def _fill_value(tree: exp.Expression) -> tuple[exp.Expression, float | None]:
    """`COALESCE(<metric>, 0)` is a metric with a fill value for groups without rows."""
    if (
        isinstance(tree, exp.Coalesce)
        and len(tree.expressions) == 1
        and isinstance(tree.expressions[0], exp.Literal)
        and tree.expressions[0].is_number
    ):
        number = float(tree.expressions[0].this)
        return tree.this, int(number) if number.is_integer() else number
    return tree, None


@dataclass(frozen=True)
class OsiImport(ImportResult):
    """What an import gives: the files to write (path -> text), the report, and the
    project settings the file carries (for a new semantic.yml)."""

    project: Mapping[str, Any] = field(default_factory=dict)


class OsiImporter:
    """`semantic import osi`: reads an OSI YAML file."""

    def read(self, source: Path) -> OsiImport:
        """The models and glossary files of the OSI file at `source`."""
        return import_osi(source)


@dataclass
class _Dataset:
    id: str
    node: CommentedMap
    columns: dict[str, str | None] = field(default_factory=dict)
    fields: dict[str, exp.Expression] = field(default_factory=dict)
    described: dict[str, str] = field(default_factory=dict)  # column -> description


class _Importer:
    def __init__(self, name: str, tree: Any, project: ProjectNames | None = None) -> None:
        self.name = name
        self.tree = tree
        self.notices: list[Notice] = []
        self.datasets: dict[str, _Dataset] = {}
        self.entities: dict[str, Any] = {}
        self.domains: dict[str, dict[str, Any]] = {}
        self.domain_specs: dict[str, Any] = {}
        self.taken = TakenIds(project)  # never an id or a name of the project's terms
        self.metric_names: dict[str, str] = {}
        self.where: dict[str, int] = {}  # term id -> line of its field or metric
        self.iris: dict[str, str] = {}  # term id -> its concept IRI in our extension
        self.shared: dict[str, int] = {}  # field name -> how many datasets have it
        self.marked = False  # whether the model marks its dimensions

    def skip(self, node: Any, key: str | None, what: str, why: str) -> None:
        self.notices.append(Notice(self.name, line_of(node, key), what, why))

    def bad(self, node: Any, key: str | None, message: str) -> SemanticError:
        return SemanticError(
            Diagnostic(
                "SEM223",
                message,
                Span(self.name, line_of(node, key), 1),
                "see the OSI core spec: semantic_model, datasets, fields, metrics",
            )
        )

    def ours(self, node: Any, report: bool = True) -> dict[str, Any]:
        """Our own extension's data on a node, or {}; other vendors' are reported (unless
        `report` is false)."""
        found: dict[str, Any] = {}
        for item in node.get("custom_extensions") or []:
            if not isinstance(item, CommentedMap):
                continue
            try:
                data = our_data(item.get("vendor_name"), item.get("data"))
            except ValueError as exc:
                raise self.bad(item, "data", str(exc)) from None
            if data is not None:
                found = data
            elif report:
                self.skip(
                    item,
                    None,
                    f"custom extension of vendor {item.get('vendor_name')}",
                    "other vendors' extensions are not read",
                )
        return found

    def expression(self, node: Any, what: str) -> exp.Expression | None:
        expression = node.get("expression")
        dialects = expression.get("dialects") if isinstance(expression, CommentedMap) else None
        if not dialects:
            raise self.bad(node, None, f"{what} has no expression.dialects")
        chosen = next((d for d in dialects if d.get("dialect") == "ANSI_SQL"), None)
        chosen = chosen or next((d for d in dialects if d.get("dialect") in _DIALECTS), None)
        if chosen is None:
            self.skip(
                node,
                "expression",
                what,
                "only SQL dialects are read: " + ", ".join(str(d.get("dialect")) for d in dialects),
            )
            return None
        try:
            return parse_sql(str(chosen.get("expression")), _DIALECTS[str(chosen.get("dialect"))])
        except ParseError as exc:
            self.skip(node, "expression", what, f"not valid SQL: {str(exc).splitlines()[0]}")
            return None

    def unique_id(self, name: str, prefix: str) -> str:
        base = snake_id(name)
        return self.taken.take(base, base, snake_id(f"{prefix}_{name}"))

    def add(self, domain: str, term_id: str, spec: Mapping[str, Any], node: Any = None) -> None:
        self.domains.setdefault(domain, {})[term_id] = spec
        self.where[term_id] = line_of(node)

    def run(self) -> OsiImport:
        if not isinstance(self.tree, CommentedMap) or not self.tree.get("semantic_model"):
            raise self.bad(self.tree, None, "no `semantic_model:` list")
        models = self.tree["semantic_model"]
        if isinstance(models, CommentedMap):
            models = [models]
        model = models[0]
        for other in models[1:]:
            self.skip(
                other,
                None,
                f"semantic model '{other.get('name')}'",
                "one semantic model is imported per file: the first",
            )
        if not isinstance(model, CommentedMap) or not model.get("name"):
            raise self.bad(model, None, "a semantic model needs a name")
        extension = self.ours(model)
        project = extension.get("project") or {"name": str(model.get("name"))}
        if model.get("description") and "description" not in project:
            project["description"] = " ".join(str(model["description"]).split())
        main = (project.get("languages") or ["en"])[0]
        self.domain_specs = extension.get("domains") or {}
        if model.get("ai_context"):
            self.skip(
                model,
                "ai_context",
                "ai_context of the semantic model",
                "the glossary has no place for model-wide instructions",
            )
        for node in model.get("datasets") or []:
            self.dataset(node)
        if not self.datasets:
            raise self.bad(model, "datasets", "a semantic model needs datasets")
        for node in model.get("relationships") or []:
            self.relationship(node)
        all_fields = [
            (ds, node) for ds in self.datasets.values() for node in ds.node.get("fields") or []
        ]
        self.marked = any(isinstance(n, CommentedMap) and n.get("dimension") for _, n in all_fields)
        for name in {str(n.get("name")) for _, n in all_fields if not self.is_column(n)}:
            self.shared[name] = len({ds.id for ds, n in all_fields if str(n.get("name")) == name})
        for ds, node in all_fields:
            self.field(ds, node, main)
        metric_nodes: list[tuple[_Dataset | None, Any]] = [
            (None, n) for n in model.get("metrics") or []
        ]
        for scope in self.datasets.values():  # dataset-scoped metrics of drafts of the spec
            metric_nodes += [(scope, n) for n in scope.node.get("metrics") or []]
        for _, node in metric_nodes:
            if isinstance(node, CommentedMap) and node.get("name"):
                self.metric_names[str(node["name"])] = self.unique_id(str(node["name"]), "metric")
        for owner, node in metric_nodes:
            self.metric(owner, node, main)
        for tid, kept in (extension.get("terms") or {}).items():
            self.taken.add(tid)
            self.add(kept.get("domain", "imported"), tid, kept["term"], model)
            self.iris[tid] = str(kept.get("iri") or "")
        terms = {tid: spec for specs in self.domains.values() for tid, spec in specs.items()}
        self.notices += settle_names(
            terms,
            lambda tid: (self.name, self.where.get(tid, 0)),
            self.taken.project,
            moved=self.taken.moved,
        )
        self.keep_iris(project, str(extension.get("base") or ""), terms)
        return OsiImport(self.files(str(model["name"])), tuple(self.notices), project)

    def keep_iris(self, project: Mapping[str, Any], base: str, terms: Mapping[str, Any]) -> None:
        """Concept IRIs of our extension: the RDF export of the project names each term
        `<base>term/<id>`; another base is reported (give it with `--base`), and an IRI of
        another shape is kept as the term's `exact_match`."""
        iris = {tid: iri for tid, iri in self.iris.items() if iri}
        if not iris:
            return
        if base and base != default_base(str(project.get("name"))):
            self.notices.append(
                Notice(
                    self.name,
                    0,
                    f"concept IRIs under {base}",
                    f"`semantic export rdf --base {base}` publishes the same IRIs",
                    "changed",
                )
            )
        for tid, iri in iris.items():
            if base and iri == str(Iris(base).term(tid)):
                continue
            term = terms[tid]
            term["exact_match"] = [*term.get("exact_match", []), iri]
            self.notices.append(
                Notice(
                    self.name,
                    self.where.get(tid, 0),
                    f"concept IRI {iri} of '{tid}'",
                    "not the IRI of its id: kept as `exact_match`",
                    "changed",
                )
            )

    def is_column(self, node: Any) -> bool:
        """A field that is only a column: a model that marks its dimensions does not mark
        it, and it has no label or ai_context, and is its own column (`expression` = name).
        Its description and datatype go to the entity's column."""
        if not self.marked or not isinstance(node, CommentedMap) or node.get("dimension"):
            return False
        if node.get("label") or node.get("ai_context") or self.ours(node, report=False):
            return False
        dialects = (node.get("expression") or {}).get("dialects") or []
        texts = {str(d.get("expression")).strip() for d in dialects}
        return texts == {str(node.get("name"))}

    def dataset(self, node: Any) -> None:
        if not isinstance(node, CommentedMap) or not node.get("name") or not node.get("source"):
            raise self.bad(node, None, "a dataset needs a name and a source")
        ds = _Dataset(snake_id(str(node["name"])), node)
        self.datasets[str(node["name"])] = ds
        ours = self.ours(node).get("entity")
        if ours is not None:
            self.entities[ds.id] = ours
            ds.columns = {c: (s or {}).get("type") for c, s in ours["columns"].items()}
            return
        entity: dict[str, Any] = {"table": str(node["source"])}
        if node.get("description"):
            entity["description"] = " ".join(str(node["description"]).split())
        if node.get("primary_key"):
            entity["primary_key"] = [str(c) for c in node["primary_key"]]
            for column in entity["primary_key"]:
                ds.columns.setdefault(column, None)
        for key in ("unique_keys", "ai_context"):
            if node.get(key):
                self.skip(
                    node,
                    key,
                    f"{key} of dataset '{node['name']}'",
                    "the model has primary keys only"
                    if key == "unique_keys"
                    else "the model has no place for it",
                )
        entity["relationships"] = []
        self.entities[ds.id] = entity

    def relationship(self, node: Any) -> None:
        if not isinstance(node, CommentedMap):
            raise self.bad(node, None, "a relationship is a mapping")
        source, target = (
            self.datasets.get(str(node.get("from"))),
            self.datasets.get(str(node.get("to"))),
        )
        if source is None or target is None:
            raise self.bad(
                node, None, f"relationship '{node.get('name')}' joins an unknown dataset"
            )
        entity = self.entities[source.id]
        self.ours(node)
        pairs = list(
            zip(node.get("from_columns") or [], node.get("to_columns") or [], strict=False)
        )
        if not pairs or len(node["from_columns"]) != len(node["to_columns"]):
            raise self.bad(
                node,
                None,
                f"relationship '{node.get('name')}' needs as many from_columns as to_columns",
            )
        if "columns" in entity:  # ours: the entity's own spec has its relationships
            return
        rel: dict[str, Any] = {
            "to": target.id,
            "cardinality": "many_to_one",
            "keys": {str(a): str(b) for a, b in pairs},
        }
        name = str(node.get("name") or "")
        if name and name != f"{node['from']}_to_{node['to']}":
            rel["name"] = snake_id(name.removeprefix(f"{node['from']}_"))
        entity["relationships"].append(rel)
        for a, _ in pairs:
            source.columns.setdefault(str(a), None)
        for _, b in pairs:
            target.columns.setdefault(str(b), None)

    def field(self, ds: _Dataset, node: Any, main: str) -> None:
        name = str(node.get("name"))
        ours = self.ours(node)
        tree = self.expression(node, f"field '{name}' of '{ds.id}'")
        if tree is None:
            return
        ds.fields[name] = tree
        if ours.get("column"):
            ds.columns.setdefault(name, ours.get("type"))
            return
        for column in tree.find_all(exp.Column):
            ds.columns.setdefault(column.name, None)
        if isinstance(tree, exp.Column):
            ds.columns[tree.name] = ds.columns.get(tree.name) or column_type(node.get("datatype"))
        if ours.get("term") is not None:
            self.taken.add(name)
            self.add(ours.get("domain", ds.id), name, ours["term"], node)
            self.iris[name] = str(ours.get("iri") or "")
            return
        if self.is_column(node):
            if node.get("description"):
                ds.described[name] = " ".join(str(node["description"]).split())
            return
        dimension = node.get("dimension") or {}
        is_time = dimension.get("is_time", node.get("datatype") in _TIME_TYPES)
        if self.shared.get(name, 0) > 1:  # the dataset in front, in every dataset
            term_id = self.unique_id(f"{ds.id}_{name}", ds.id)
            self.notices.append(
                Notice(
                    self.name,
                    line_of(node, "name"),
                    f"field '{name}' of dataset '{ds.id}'",
                    f"{self.shared[name]} datasets have a field of that name: written as "
                    f"term '{term_id}'",
                    "changed",
                )
            )
        else:
            term_id = self.unique_id(name, ds.id)
        spec = self.names(node, name if term_id == snake_id(name) else term_id, main)
        meaning = {"entity": ds.id, "expr": tree.sql(FILE_DIALECT)}
        spec["time_dimension" if is_time else "dimension"] = meaning
        self.add(ds.id, term_id, spec, node)

    def names(self, node: Any, name: str, main: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"label": {main: str(node.get("label") or english_label(name))}}
        context = node.get("ai_context")
        if isinstance(context, CommentedMap):
            if context.get("synonyms"):
                spec["synonyms"] = {main: [str(s) for s in context["synonyms"]]}
            if context.get("instructions"):
                spec["scope_note"] = {main: str(context["instructions"])}
            if context.get("examples"):
                spec["examples"] = {main: [str(s) for s in context["examples"]]}
        elif context:
            self.skip(node, "ai_context", f"ai_context of '{name}'", "a free text, not synonyms")
        if node.get("description"):
            spec["definition"] = {main: " ".join(str(node["description"]).split())}
        return spec

    def metric(self, ds: _Dataset | None, node: Any, main: str) -> None:
        name = str(node.get("name"))
        term_id = self.metric_names[name]
        ours = self.ours(node)
        if ours.get("term") is not None:
            self.add(ours.get("domain", "metrics"), term_id, ours["term"], node)
            self.iris[term_id] = str(ours.get("iri") or "")
            return
        tree = self.expression(node, f"metric '{name}'")
        if tree is None:
            self.taken.discard(term_id)
            return
        spec = self.names(node, name, main)
        tree, fill = _fill_value(tree)
        if tree.find(exp.AggFunc) is None:
            renamed = tree.transform(
                lambda n: (
                    exp.column(self.metric_names[n.name])
                    if isinstance(n, exp.Column) and n.name in self.metric_names
                    else n
                )
            )
            spec["metric"] = {"expr": renamed.sql(FILE_DIALECT)}
            if fill is not None:
                spec["metric"]["fill_null"] = fill
            self.add("metrics", term_id, spec, node)
            return
        owner = ds or self.owner(tree)
        if owner is None:
            self.skip(
                node,
                "expression",
                f"metric '{name}'",
                "its columns are not qualified with one dataset whose rows it counts",
            )
            self.taken.discard(term_id)
            return
        spec["metric"] = {"entity": owner.id, "expr": self.local(tree, owner).sql(FILE_DIALECT)}
        if fill is not None:
            spec["metric"]["fill_null"] = fill
        self.add(owner.id, term_id, spec, node)

    def owner(self, tree: exp.Expression) -> _Dataset | None:
        """The dataset a metric aggregates: the only one it names, or the one on the many
        side of relationships to the others it names."""
        named = [
            self.datasets[c.table] for c in tree.find_all(exp.Column) if c.table in self.datasets
        ]
        ids = list(dict.fromkeys(d.id for d in named))
        if len(ids) == 1:
            return named[0]
        for candidate in named:
            reach = {candidate.id}
            frontier = [candidate.id]
            while frontier:
                current = frontier.pop()
                for rel in self.entities[current].get("relationships") or []:
                    if rel["to"] not in reach:
                        reach.add(rel["to"])
                        frontier.append(rel["to"])
            if set(ids) <= reach:
                return candidate
        return None

    def local(self, tree: exp.Expression, owner: _Dataset) -> exp.Expression:
        """Columns of the owner lose their qualifier; a field that is an expression is
        replaced by it; other datasets' columns keep their entity in front."""

        def rewrite(node: exp.Expression) -> exp.Expression:
            if not isinstance(node, exp.Column):
                return node
            ds = self.datasets.get(node.table) if node.table else owner
            if ds is None:
                return node
            inner = ds.fields.get(node.name)
            if inner is not None and not isinstance(inner, exp.Column):
                qualified = inner.copy()
                if ds is not owner:
                    qualified = with_dataset(qualified, ds.id)
                return exp.Paren(this=qualified)
            column = inner.name if isinstance(inner, exp.Column) else node.name
            ds.columns.setdefault(column, None)
            return exp.column(column, table=None if ds is owner else ds.id)

        return tree.transform(rewrite)

    def files(self, name: str) -> dict[str, str]:
        entities = {}
        for ds in self.datasets.values():
            spec = dict(self.entities[ds.id])
            if "columns" not in spec:
                spec["columns"] = {c: ({"type": t} if t else {}) for c, t in ds.columns.items()}
                for column, text in ds.described.items():
                    spec["columns"][column]["description"] = text
            if not spec.get("relationships"):
                spec.pop("relationships", None)
            entities[ds.id] = spec
        files = {
            f"models/{snake_id(name)}.yml": yaml_text(
                {"entities": entities},
                ModelFile,
                "yaml-language-server: $schema=../schemas/model.schema.json\n"
                "Imported from Apache Ossie (OSI) by `semantic import osi`.",
            )
        }
        areas = {
            d: s["subject_areas"] for d, s in self.domain_specs.items() if s.get("subject_areas")
        }
        for domain in areas:  # a file of subject areas only
            self.domains.setdefault(domain, {})
        for domain, terms in self.domains.items():
            spec = self.domain_specs.get(domain, {})
            doc: dict[str, Any] = {"domain": domain}
            if domain not in self.domain_specs:  # a domain of ours keeps its names as they were
                doc["label"] = {"en": english_label(domain)}
            doc |= {key: spec[key] for key in ("label", "description") if spec.get(key)}
            doc["terms"] = terms
            if domain in areas:
                doc["subject_areas"] = areas[domain]
            files[f"glossary/{domain}.yml"] = yaml_text(
                doc,
                GlossaryFile,
                "yaml-language-server: $schema=../schemas/glossary.schema.json\n"
                "Imported from Apache Ossie (OSI) by `semantic import osi`.",
            )
        return files


def import_osi(path: Path, project: ProjectNames | None = None) -> OsiImport:
    """Read an OSI YAML file into models and glossary files, with the report of what could
    not be carried over (SEM223 when the file is not OSI). The names of `project`'s terms
    are theirs (`settle_names`)."""
    name = str(path)
    tree = read_yaml(path, name, "SEM223")
    try:
        return _Importer(name, tree, project).run()
    except SemanticError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise error(
            "SEM223",
            f"the file does not follow the OSI spec ({type(exc).__name__}: {exc})",
            Span(name),
            "see the OSI core spec: semantic_model, datasets, fields, metrics",
        ) from None


def import_osi_into(
    source: Path, root: Path, *, replace: bool = False
) -> tuple[OsiImport, list[Path]]:
    """`semantic import osi`: the OSI file at `source` written into the project at `root`
    (see `write_files`), with a new semantic.yml of the file's settings when `root` has none.
    Returns the import and the files written."""
    result = import_osi(source)
    if (root / "glossary").is_dir():  # the names of the terms kept are theirs
        result = import_osi(source, project_names(root / "glossary", glossary_files(result.files)))
    files = dict(result.files)
    if not (root / "semantic.yml").exists():
        files["semantic.yml"] = config_text(result.project)
    return result, write_files(root, files, replace=replace)
