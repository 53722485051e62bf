"""The Python API: load a project, compile and run business queries.

>>> project = Project.load(".")
>>> print(project.compile("SELECT order_count"))
SELECT
  COUNT(*) AS order_count
FROM orders AS orders
>>> project.query("SELECT order_count WHERE order_date.year = DATE '1995-01-01'").to_pylist()
[{'order_count': 2204}]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from rdflib import Graph

import pyarrow as pa

from semantic.engines.base import Engine
from semantic.engines.connect import check_engines, open_engine
from semantic.engines.datagen import ensure_tpch
from semantic.engines.duckdb import DuckDBEngine
from semantic.errors import Diagnostic, SemanticError, Span, error, suggest
from semantic.files import Document, read_file
from semantic.model import Model, build_model
from semantic.plan import Plan, describe_plan, plan_query
from semantic.quality import QualityResult, check_keys, measure_quality
from semantic.query import QueryInput, parse_query, query_text
from semantic.render import dialect_of, render_sql
from semantic.resolve import find_path
from semantic.schema import GlossaryFile, ModelFile, ProjectFile
from semantic.views import check_subject_areas

CONFIG_FILE = "semantic.yml"
#: names of the embedded engine for `--engine`
EMBEDDED = ("duckdb", "duckdb:")


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding a `semantic.yml`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise error(
        "SEM105",
        f"no {CONFIG_FILE} in {start} or any folder above it",
        Span(str(start)),
        "run from a project folder or pass --project PATH",
    )


@dataclass
class Project:
    """A loaded project: its configuration, its validated model and where its data is."""

    root: Path
    config: ProjectFile
    model: Model
    warnings: list[Diagnostic] = field(default_factory=list)
    _engines: dict[str, Engine] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: str | Path = ".") -> Project:
        """Load and check the project at `path`; raise SemanticError listing every error."""
        project, diagnostics = cls.inspect(path)
        errors = [d for d in diagnostics if d.severity == "error"]
        if errors or project is None:
            raise SemanticError(errors)
        return project

    @classmethod
    def inspect(cls, path: str | Path = ".") -> tuple[Project | None, list[Diagnostic]]:
        """Load what can be loaded and return every diagnostic (for `semantic check`)."""
        root = find_root(Path(path))
        config_doc, diagnostics = read_file(root / CONFIG_FILE, ProjectFile, CONFIG_FILE)
        if config_doc is None:
            return None, diagnostics
        config = config_doc.data
        engines = config.engines.items()
        diagnostics += check_engines(
            {
                n: (e.url, e.default, config_doc.span(("engines", n, "url"), value=True))
                for n, e in engines
            }
        )
        models: list[Document[ModelFile]] = []
        glossaries: list[Document[GlossaryFile]] = []
        for folder, schema, bucket in (
            (config.models, ModelFile, cast(list[Document[Any]], models)),
            (config.glossary, GlossaryFile, cast(list[Document[Any]], glossaries)),
        ):
            files = sorted((root / folder).glob("*.yml")) + sorted((root / folder).glob("*.yaml"))
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
                doc, problems = read_file(file, schema, str(file.relative_to(root)))
                diagnostics += problems
                if doc is not None:
                    bucket.append(doc)
        complete = not any(d.code in ("SEM101", "SEM102") for d in diagnostics)
        model, problems = build_model(config, models, glossaries, complete=complete)
        diagnostics += problems
        diagnostics += _check_metric_paths(model)
        diagnostics += check_subject_areas(model)
        project = cls(root, config, model, [d for d in diagnostics if d.severity == "warning"])
        return project, diagnostics

    # --- compiling -----------------------------------------------------------------------

    def plan(self, query: QueryInput) -> Plan:
        """The plan of a business query: which aggregates, joins and filters."""
        return plan_query(self.model, parse_query(self.model, query_text(query)))

    def compile(self, query: QueryInput, dialect: str | None = None, *, pretty: bool = True) -> str:
        """The SQL of a business query in `dialect` (the project's default when None)."""
        target = dialect or self.config.dialect
        dialect_of(target)
        return render_sql(self.plan(query), target, pretty=pretty)

    def query_warnings(self, query: QueryInput) -> list[Diagnostic]:
        """What is worth knowing about a query that still compiles: deprecated terms."""
        return parse_query(self.model, query_text(query)).warnings(self.model)

    def explain(self, query: QueryInput) -> str:
        """The plan of a business query in plain words."""
        return describe_plan(self.plan(query))

    # --- running -------------------------------------------------------------------------

    @cached_property
    def data_dir(self) -> Path:
        """The folder of the embedded engine's data files."""
        data = self.config.data
        if data is None:
            raise error(
                "SEM105",
                f"{CONFIG_FILE} has no `data:` section",
                Span(CONFIG_FILE),
                "add data: {dir: data} to run queries on the embedded engine",
            )
        scale = data.generate.tpch.scale if data.generate else ""
        return (self.root / data.dir.replace("{scale}", f"{scale:g}" if scale else "")).resolve()

    def has_data(self) -> bool:
        """Whether the embedded engine's data folder exists (nothing is generated)."""
        return self.config.data is not None and self.data_dir.is_dir()

    def prepare_data(self) -> bool:
        """Generate the demo data if the project says how and it is missing; True if made."""
        data = self.config.data
        if data is None or data.generate is None:
            return False
        return ensure_tpch(self.data_dir, data.generate.tpch.scale, data.format)

    @cached_property
    def engine(self) -> DuckDBEngine:
        """The embedded DuckDB engine over the data files (see `prepare_data`)."""
        data_dir = self.data_dir  # SEM105 when the project has no data section
        assert self.config.data is not None
        return DuckDBEngine(self.model, data_dir, self.config.data.format)

    def engine_for(self, name_or_url: str | None = None, *, write: bool = False) -> Engine:
        """The engine named in semantic.yml's `engines:`, or opened from a URL (`duckdb:`,
        `postgresql://...`, `spark:local[*]`, ...); None is the engine marked `default: true`,
        else the embedded DuckDB. Each engine is opened once and kept until `close`. A DuckDB
        file that holds the tables itself is opened read-only unless `write` (views apply)."""
        name = name_or_url or next((n for n, s in self.config.engines.items() if s.default), None)
        if name is None or (name in EMBEDDED and name not in self.config.engines):
            if "engine" not in self.__dict__:  # first use: make the demo data if it is missing
                self.prepare_data()
            return self.engine
        cached = self._engines.pop(name, None)
        if cached is not None:
            if not (write and getattr(cached, "read_only", False)):
                self._engines[name] = cached
                return cached
            cached.close()  # opened read-only: reopened to write
        spec = self.config.engines.get(name)
        if spec is None and ":" not in name:
            raise error(
                "SEM410",
                f"no engine called '{name}' in {CONFIG_FILE}",
                None,
                suggest(name, [*self.config.engines, *EMBEDDED])
                or "give an engine URL such as postgresql://USER@HOST/DB, or add the engine "
                f"to `engines:` in {CONFIG_FILE}",
            )
        url = spec.url if spec else name
        data: str | Path | None = spec.data if spec and spec.data else None
        if isinstance(data, str) and "://" not in data:
            # a folder of semantic.yml is relative to the project, as `data: dir:` is
            data = (self.root / data).resolve()
        if data is None and self.config.data is not None:
            if not url.startswith(("postgresql:", "postgres:")):
                self.prepare_data()
            data = self.data_dir
        fmt = self.config.data.format if self.config.data else "parquet"
        self._engines[name] = engine = open_engine(url, self.model, data, fmt, write=write)
        return engine

    def close(self) -> None:
        """Close the engines opened by `engine_for` (the embedded one stays)."""
        for engine in self._engines.values():
            engine.close()
        self._engines.clear()

    def load_data(self, engine: Engine | str) -> list[tuple[str, int]]:
        """Copy the project's data files into a PostgreSQL database as typed tables
        (replacing them, in one transaction); each table and its row count."""
        from semantic.engines.load import load_postgres
        from semantic.engines.postgres import PostgresEngine

        target = self.engine_for(engine) if isinstance(engine, str) else engine
        if not isinstance(target, PostgresEngine):
            raise error(
                "SEM414",
                f"loading data is for PostgreSQL; the {target.dialect} engine reads the data "
                "files directly",
                None,
                "give a postgresql://... engine",
            )
        self.prepare_data()
        return load_postgres(self.engine, target)

    def query(
        self,
        query: QueryInput,
        params: Mapping[str, Any] | None = None,
        engine: Engine | str | None = None,
    ) -> pa.Table:
        """Run a business query and return an Arrow table: on `engine` (an engine, or its
        name or URL, see `engine_for`), the project's default engine when None."""
        plan = self.plan(query)
        bound = dict(params or {})
        missing = [p for p in plan.params if p not in bound]
        if missing:
            raise error(
                "SEM309",
                f"parameter ${missing[0]} has no value",
                Span("<query>", 1, 1),
                f"pass --param {missing[0]}=VALUE",
            )
        target = self.engine_for(engine) if engine is None or isinstance(engine, str) else engine
        sql = render_sql(plan, target.dialect, pretty=False)
        return target.execute(sql, {p: bound[p] for p in plan.params})

    def check_data(self, engine: Engine | str | None = None) -> list[Diagnostic]:
        """The model compared with the data: tables, columns, types, then keys (on `engine`,
        see `query`)."""
        target = self.engine_for(engine) if engine is None or isinstance(engine, str) else engine
        found = target.check_schema()
        if not any(d.severity == "error" for d in found):
            found += check_keys(self.model, target.fetch, target.dialect)
        return found

    def quality(self, engine: Engine | str | None = None) -> list[QualityResult]:
        """Every quality rule of the glossary and the model measured on the data (on
        `engine`, see `query`)."""
        target = self.engine_for(engine) if engine is None or isinstance(engine, str) else engine
        return measure_quality(self.model, target.fetch, target.dialect)

    def rdf(
        self,
        fmt: str = "turtle",
        base: str | None = None,
        *,
        quality: bool = False,
        validate: bool = False,
    ) -> str:
        """The vocabulary as RDF (SKOS, DCAT, CSVW, DQV, PROV) in `fmt`: turtle, json-ld, xml
        or nt; with `quality`, the latest quality measurements too; with `validate`, only
        when it conforms to the shipped SHACL shapes (SEM409 otherwise)."""
        # rdflib takes a fifth of a second to import: only exports pay for it
        from semantic.rdf.text import FORMATS, serialize

        if fmt not in FORMATS:
            raise error(
                "SEM408",
                f"unknown RDF format '{fmt}'",
                None,
                suggest(fmt, FORMATS) or f"use one of {', '.join(FORMATS)}",
            )
        graph = self.rdf_graph(base, quality=quality)
        if validate:
            from semantic.rdf.validate import validate_graph

            result = validate_graph(graph)
            if not result.conforms:
                raise SemanticError(
                    Diagnostic(
                        "SEM409",
                        f"{p.message} ({p.focus_node.n3(graph.namespace_manager)}"
                        + (f" {p.path}" if p.path is not None else "")
                        + (f" = {p.value.n3(graph.namespace_manager)}" if p.value else "")
                        + ")",
                        None,
                        "fix the glossary, or report the export bug",
                    )
                    for p in result.problems
                    if p.severity == "violation"
                )
        return serialize(graph, fmt)  # type: ignore[arg-type]

    def rdf_graph(self, base: str | None = None, *, quality: bool = False) -> Graph:
        """The vocabulary as an rdflib graph (see `rdf`)."""
        from semantic.rdf.export import add_measurements, export_graph
        from semantic.rdf.iris import default_base

        try:
            graph = export_graph(self.model, base)
        except ValueError as exc:
            raise _bad_base(exc) from None
        if quality:
            add_measurements(graph, base or default_base(self.model.name), self.quality())
        return graph

    def r2rml(self, base: str | None = None) -> str:
        """An R2RML mapping (Turtle) that materialises the entities' rows as RDF."""
        from semantic.rdf.r2rml import r2rml_graph
        from semantic.rdf.text import serialize

        try:
            return serialize(r2rml_graph(self.model, base))
        except ValueError as exc:
            raise _bad_base(exc) from None

    def check(self, *, data: bool = False) -> list[Diagnostic]:
        """Every problem of the project; with `data`, also compare the model with the data."""
        _, diagnostics = Project.inspect(self.root)
        if data:
            self.prepare_data()
            diagnostics += self.check_data()
        return diagnostics


def _bad_base(exc: ValueError) -> SemanticError:
    """An export's refusal of its base IRI, as a diagnostic."""
    return error(
        "SEM408",
        str(exc),
        None,
        "give an absolute IRI ending with / or #, e.g. https://data.example.com/",
    )


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
