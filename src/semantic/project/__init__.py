"""The Python API: load a project, compile and run business queries.

>>> project = Project.load(".")
>>> print(project.compile("SELECT order_count"))
SELECT
  COUNT(*) AS order_count
FROM orders AS orders
>>> project.query("SELECT order_count WHERE order_date.year = DATE '1995-01-01'").to_pylist()
[{'order_count': 2204}]
>>> project.query_df("SELECT order_count WHERE order_date.year = DATE '1995-01-01'")
   order_count
0         2204
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from copy import deepcopy
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from semantic.project.importing import collector_paused

with collector_paused():  # no collection while the compiler and sqlglot are imported
    from semantic.audit import audited, note, recorded
    from semantic.compiler.dialects import column_types, dialect_of
    from semantic.compiler.jsonquery import QueryInput, query_text
    from semantic.compiler.localtime import known_time_zone
    from semantic.compiler.locate import relocated
    from semantic.compiler.memo import PlanMemo, memo_key
    from semantic.compiler.params import bind_params
    from semantic.compiler.parse import parse_query
    from semantic.compiler.plan import Plan, describe_plan, plan_query
    from semantic.compiler.policy import apply_policy
    from semantic.compiler.refs import BusinessQuery
    from semantic.compiler.render import render_sql, used_params
    from semantic.engines.base import Engine, Limits
    from semantic.engines.connect import open_engine
    from semantic.engines.datagen import ensure_tpch
    from semantic.engines.integrity import KeyMeasure, check_keys, key_diagnostics
    from semantic.engines.quality_gate import quality_failures
    from semantic.errors import Diagnostic, SemanticError, Span, error, suggest
    from semantic.files.loadcache import (
        config_key,
        file_content,
        files_key,
        kept_load,
        paused_gc,
    )
    from semantic.files.root import CONFIG_FILE, find_root
    from semantic.model.types import Model
    from semantic.project.keys import broken_key, read_by
    from semantic.project.loading import listed_files, read_project

if TYPE_CHECKING:
    # DuckDB and Arrow are imported by the methods that run queries, so that loading a
    # project and compiling a query (`semantic compile`) never pays for them
    import pyarrow as pa

    from semantic.compiler.translate import Translation
    from semantic.engines.duckdb import DuckDBEngine
    from semantic.files.schema import ProjectFile

#: the caller's attributes as a parse is kept by (see `Project.parse`)
Caller = tuple[tuple[str, str], ...]
#: names of the embedded engine for `--engine`
EMBEDDED = ("duckdb", "duckdb:")


@dataclass
class Project:
    """A loaded project: its configuration, its validated model and where its data is."""

    root: Path
    config: ProjectFile
    model: Model
    warnings: list[Diagnostic] = field(default_factory=list)
    _engines: dict[str, Engine] = field(default_factory=dict, repr=False)
    #: the key measures of the data of each engine used (see `key_measures`)
    _keys: dict[int, list[KeyMeasure]] = field(default_factory=dict, repr=False)
    #: what was found about the data each query read, by query text (see `query_warnings`)
    _read: dict[str, list[Diagnostic]] = field(default_factory=dict, repr=False)
    #: the last query parsed: ((query as given, role, caller), model, parse), see `parse`
    _parsed: tuple[tuple[QueryInput, str | None, Caller], Model, BusinessQuery] | None = field(
        default=None, repr=False, compare=False
    )
    #: the parses, plans and SQL of every query seen, when a server keeps them
    #: (`compiler.memo`); None: only the last parse is kept
    plans: PlanMemo | None = field(default=None, repr=False, compare=False)

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
        """Load what can be loaded and return every diagnostic (for `semantic check`).

        What the project's files load to is kept between runs while no file changed
        (`semantic.files.loadcache`): then no file is parsed."""
        with paused_gc():
            return cls._inspect(find_root(Path(path)))

    @classmethod
    def _inspect(cls, root: Path) -> tuple[Project | None, list[Diagnostic]]:
        config_bytes = file_content(root / CONFIG_FILE)
        key = config_key(root, config_bytes)
        contents: dict[Path, bytes | str] = {}

        def unchanged(kept_files: object) -> bool:
            """Whether the model and glossary files are those the kept load was made of
            (read here once: a load that is not kept parses these very bytes)."""
            names, policies, digest = cast(tuple[tuple[str, str], str, str], kept_files)
            listed = [*(f for _, fs in listed_files(root, names) for f in fs), root / policies]
            contents.update((f, file_content(f)) for f in listed)
            return files_key(contents) == digest

        kept = kept_load(root, key, unchanged)
        if isinstance(kept, tuple) and len(kept) == 3 and isinstance(kept[2], Model):
            config, diagnostics, model = cast("tuple[ProjectFile, list[Diagnostic], Model]", kept)
            if known_time_zone(config.time_zone):  # the system's zones may have changed
                warnings = [d for d in diagnostics if d.severity == "warning"]
                return cls(root, config, model, warnings), list(diagnostics)
        return cls._load(root, key, config_bytes, contents)

    @classmethod
    def _load(
        cls, root: Path, key: str, config_bytes: bytes | str, contents: dict[Path, bytes | str]
    ) -> tuple[Project | None, list[Diagnostic]]:
        """Read, check and build the project (`contents`: the files already read; see
        `project.loading`), and keep what it loads to when it has no error."""
        config, model, diagnostics = read_project(root, key, config_bytes, contents)
        if config is None or model is None:
            return None, diagnostics
        project = cls(root, config, model, [d for d in diagnostics if d.severity == "warning"])
        return project, diagnostics

    # --- compiling -----------------------------------------------------------------------

    @cached_property
    def column_types(self) -> dict[str, dict[str, str]]:
        """The declared type of each column of each entity table, for the dialect pass."""
        return column_types(self.model)

    def parse(
        self, query: QueryInput, role: str | None = None, user: Mapping[str, str] | None = None
    ) -> BusinessQuery:
        """A business query parsed, its names resolved against the model and, with a `role`
        of the policy file, the role's policy applied (`user`: the caller's attributes, for
        the role's filters); no role is the project owner's full access. The last one is
        kept (by the query as given, role and caller, for this model), so that a command
        that compiles a query, explains it and warns about it parses it once; planning and
        rendering never change it."""
        key = (query, role, tuple(sorted((user or {}).items())))
        kept = self._parsed
        if kept is not None and kept[1] is self.model and kept[0] == key:
            return kept[2]
        memo = memo_key("parse", query, role, user) if self.plans is not None else None
        found = self._recall(memo)
        if found is not None:
            return cast(BusinessQuery, found)
        text = query_text(query, self.model)
        parsed = parse_query(self.model, text)
        try:
            parsed = apply_policy(self.model, parsed, role, user)
        except SemanticError as exc:
            raise relocated(exc, text) from None  # a JSON query's errors, in its fields
        # a text (most queries) and the caller's attributes cannot change: a JSON query can
        self._parsed = (key if isinstance(query, str) else deepcopy(key), self.model, parsed)
        self._keep(memo, parsed)
        return parsed

    def _recall(self, key: Hashable | None) -> Any | None:
        """What `plans` keeps under `key`, if anything (see `compiler.memo`)."""
        return None if self.plans is None or key is None else self.plans.get(key)

    def _keep(self, key: Hashable | None, value: Any) -> None:
        if self.plans is not None and key is not None:
            self.plans.put(key, value)

    def plan(
        self, query: QueryInput, role: str | None = None, user: Mapping[str, str] | None = None
    ) -> Plan:
        """The plan of a business query: which aggregates, joins and filters (`role`, `user`:
        see `parse`; `plan.policy` says what the role's policy decided)."""
        memo = memo_key("plan", query, role, user) if self.plans is not None else None
        plan = cast(Plan | None, self._recall(memo))
        if plan is None:
            parsed = self.parse(query, role, user)
            try:
                plan = plan_query(self.model, parsed)
            except SemanticError as exc:
                raise relocated(exc, parsed.text) from None  # a JSON query's errors, in fields
            self._keep(memo, plan)
        if plan.policy is not None:  # the audit record of the call under way says what it did
            note(decisions=plan.policy.as_dict())
        return plan

    @audited("compile")
    def compile(
        self,
        query: QueryInput,
        dialect: str | None = None,
        *,
        pretty: bool = True,
        role: str | None = None,
        user: Mapping[str, str] | None = None,
    ) -> str:
        """The SQL of a business query in `dialect` (the project's default when None), as
        `role` may run it (see `parse`)."""
        target = dialect or self.config.dialect
        dialect_of(target)
        return self._sql(query, role, user, target, pretty=pretty)

    def _sql(
        self,
        query: QueryInput,
        role: str | None,
        user: Mapping[str, str] | None,
        dialect: str,
        *,
        pretty: bool,
    ) -> str:
        """The SQL of `query`'s plan in `dialect` (kept in `plans` when a server keeps them)."""
        plan = self.plan(query, role, user)
        memo = (
            memo_key("sql", query, role, user, dialect, pretty) if self.plans is not None else None
        )
        sql = cast(str | None, self._recall(memo))
        if sql is None:
            sql = render_sql(plan, dialect, pretty=pretty, schema=self.column_types)
            self._keep(memo, sql)
        return sql

    def query_warnings(
        self, query: QueryInput, role: str | None = None, user: Mapping[str, str] | None = None
    ) -> list[Diagnostic]:
        """What is worth knowing about a query that still compiles: deprecated terms; once
        it ran (`query`), the broken keys of the data it read (SEM441) and the rows its
        metrics leave out (SEM440)."""
        read = self._read.get(query_text(query, self.model), [])
        return self.parse(query, role, user).warnings(self.model) + read

    @audited("explain")
    def explain(
        self, query: QueryInput, role: str | None = None, user: Mapping[str, str] | None = None
    ) -> str:
        """The plan of a business query in plain words (with a role: what its policy did)."""
        return describe_plan(self.plan(query, role, user))

    def lineage(self, term: str) -> dict[str, Any]:
        """Where a term (any of its names) comes from, down to physical columns and tables,
        as plain data (`compiler.lineage.lineage_tree`, documented in docs/lineage.md)."""
        from semantic.compiler.lineage import lineage_tree, terms_of
        from semantic.compiler.resolve import resolve_name

        with recorded(self, "lineage", text=term, form="term") as record:
            tree = lineage_tree(self.model, resolve_name(self.model, term.strip(), Span(term)).id)
            record["terms"] = terms_of(tree)
        return tree

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
        from semantic.engines.duckdb import DuckDBEngine

        data_dir = self.data_dir  # SEM105 when the project has no data section
        assert self.config.data is not None
        return DuckDBEngine(self.model, data_dir, self.config.data.format)

    def engine_for(self, name_or_url: Engine | str | None = None, *, write: bool = False) -> Engine:
        """The engine named in semantic.yml's `engines:`, or opened from a URL (`duckdb:`,
        `postgresql://...`, `spark:local[*]`, ...); None is the engine marked `default: true`,
        else the embedded DuckDB. Each engine is opened once and kept until `close`. A DuckDB
        file that holds the tables itself is opened read-only unless `write` (views apply)."""
        if name_or_url is not None and not isinstance(name_or_url, str):
            return name_or_url  # an engine already
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
        storage = spec.storage_version if spec else None
        self._engines[name] = engine = open_engine(
            url, self.model, data, fmt, write=write, storage_version=storage
        )
        return engine

    def engine_label(self, name_or_url: Engine | str | None = None) -> str:
        """How the quality history names the engine `engine_for(name_or_url)` opens: its
        name in semantic.yml, `duckdb:` for the embedded one, else its URL without a
        password (an engine object: its dialect)."""
        if name_or_url is not None and not isinstance(name_or_url, str):
            return name_or_url.dialect
        name = name_or_url or next((n for n, s in self.config.engines.items() if s.default), None)
        if name is None or (name in EMBEDDED and name not in self.config.engines):
            return "duckdb:"
        return name if name in self.config.engines else re.sub(r":[^:@/]*@", ":***@", name)

    @property
    def quality_history(self) -> Path:
        """The file of the quality history (semantic.yml `quality: history:`)."""
        return self.root / self.config.quality.history

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

    @property
    def limits(self) -> Limits:
        """The statement time-out and result-size limits of semantic.yml's `limits:`."""
        spec = self.config.limits
        return Limits(spec.timeout, spec.max_rows, spec.max_megabytes)

    @audited("query")
    def query(
        self,
        query: QueryInput,
        params: Mapping[str, Any] | None = None,
        engine: Engine | str | None = None,
        *,
        limits: Limits | None = None,
        role: str | None = None,
        user: Mapping[str, str] | None = None,
    ) -> pa.Table:
        """Run a business query and return an Arrow table: on `engine` (an engine, or its
        name or URL, see `engine_for`), the project's default engine when None; within
        `limits` (the project's when None): SEM434 past the time-out, SEM435 past the size;
        as `role` may run it, `user` holding the caller's attributes (see `parse`).
        A parameter given as text is read as the type of what it is compared with (a number,
        a date...; SEM321 when it is not one); other values are bound as they are."""
        parsed = self.parse(query, role, user)
        plan = self.plan(query, role, user)
        # the role's own parameters (the caller's attributes) win over any given the same name
        bound = {**bind_params(self.model, parsed, params or {}), **parsed.bound}
        missing = [p for p in plan.params if p not in bound]
        if missing:
            raise error(
                "SEM309",
                f"parameter ${missing[0]} has no value",
                Span("<query>", 1, 1),
                f"pass --param {missing[0]}=VALUE",
            )
        target = self.engine_for(engine)
        found = self.data_warnings(plan, parsed.places, target)
        if self.config.broken_keys == "refuse":
            refused = [replace(d, severity="error") for d in found if d.code == "SEM441"]
            if refused:
                raise SemanticError(refused)
        found += self.quality_gate(plan, parsed.places, engine)
        self._read[query_text(query, self.model)] = found
        sql = self._sql(query, role, user, target.dialect, pretty=False)
        used = used_params(plan)
        return target.execute(sql, {p: bound[p] for p in used}, limits or self.limits)

    def translate(
        self,
        sql: str,
        engine: Engine | str | None = None,
        *,
        run: bool = True,
        dialect: str | None = None,
    ) -> Translation:
        """Physical SQL (written in `dialect`, the project's by default) in business terms:
        the terms it names and, where one exists, the equivalent business query; with
        `run`, both are run on `engine` (see `query`) and their rows compared (in order when
        the SQL orders them). SEM339/SEM264 when the SQL cannot be read; a query with no
        business form comes back with its `refusal`."""
        with recorded(self, "translate", text=sql, form="sql", engine=engine) as record:
            found = self._translated(sql, engine, run=run, dialect=dialect)
            # the rows the physical SQL returned: the business query's have their own record
            record["terms"], record["rows"] = found.terms, found.rows and found.rows[0]
        return found

    def _translated(
        self, sql: str, engine: Engine | str | None, *, run: bool, dialect: str | None
    ) -> Translation:
        """`translate`'s work, audited around it."""
        import sqlglot

        from semantic.compiler.translate import translate_sql
        from semantic.engines.rows import rows_difference

        source = dialect or self.config.dialect
        dialect_of(source)
        found = translate_sql(self.model, sql, source)
        if found.business is None:
            return found
        try:
            self.compile(found.business)
        except SemanticError as exc:  # found, but the compiler refuses it: no business form
            found.notes.append(f"the business query found does not compile: {found.business}")
            found.business, found.refusal = None, exc.diagnostics[0]
            return found
        if not run:
            return found
        target = self.engine_for(engine)
        physical = sqlglot.transpile(sql, read=source, write=target.dialect)[0]
        want = target.execute(physical, {}, self.limits).to_pylist()
        got = self.query(found.business, engine=target).to_pylist()
        found.engine, found.compared = target.dialect, True
        found.rows = (len(want), len(got))
        found.difference = rows_difference(
            [tuple(r.values()) for r in got],
            [tuple(r.values()) for r in want],
            ordered=found.ordered,
        )
        found.equal = found.difference is None
        return found

    def query_df(
        self,
        query: QueryInput,
        params: Mapping[str, Any] | None = None,
        engine: Engine | str | None = None,
        *,
        limits: Limits | None = None,
        role: str | None = None,
        user: Mapping[str, str] | None = None,
    ) -> Any:
        """`query` (see `query`) as a pandas DataFrame, which needs
        `pip install 'semantic[pandas]'` (SEM412 without it). `query(...).to_pandas()` is the
        same, through pyarrow, with pyarrow's own error when pandas is missing."""
        return to_pandas(self.query(query, params, engine, limits=limits, role=role, user=user))

    def key_measures(self, engine: Engine | str | None = None) -> list[KeyMeasure]:
        """Every key promise of the model measured on the data of `engine` (see `query`):
        measured once per session, and kept on disk while data files do not change (see
        `semantic.engines.integrity_cache`)."""
        from semantic.engines.integrity_cache import cached_key_measures

        return cached_key_measures(self.model, self.engine_for(engine), self._keys)

    def data_warnings(self, plan: Plan, named: Iterable[str], engine: Engine) -> list[Diagnostic]:
        """What the data that `plan` (of a query naming the terms `named`) reads breaks:
        the declared keys of its entities that hold NULL or repeated values (SEM441) and the
        rows its metrics leave out for lack of a match (SEM440). Nothing when `broken_keys:
        ignore` or when the keys cannot be measured (the query then says what is wrong)."""
        if self.config.broken_keys == "ignore":
            return []
        from semantic.engines.integrity_cache import cached_key_measures

        try:
            measures = cached_key_measures(self.model, engine, self._keys)
        except Exception:  # a table missing, a check the engine cannot run: no verdict
            self._keys[id(engine)] = []
            return []
        entities, metrics = read_by(plan, named, self.model)
        found = []
        for measure in measures:
            # a required relationship is relied on where a query joins its two ends
            reads = measure.entity in entities and (
                measure.kind != "total" or measure.detail in entities
            )
            if measure.broken and reads:
                found.append(broken_key(self.model, measure))
            elif measure.kind == "coverage" and measure.failing and measure.metric in metrics:
                found += key_diagnostics(self.model, [measure])
        return found

    def quality_gate(
        self, plan: Plan, named: Iterable[str], engine: Engine | str | None = None
    ) -> list[Diagnostic]:
        """The quality gate of a query (semantic.yml `quality: gate:`): the error rules
        whose latest results on `engine` fail, of the entities `plan` reads (and of the
        terms `named`), as SEM451 warnings (`warn`); `strict` raises them as errors; `off`
        (the default) never looks. Rules never measured say nothing."""
        gate = self.config.quality.gate
        if gate == "off":
            return []
        entities, _ = read_by(plan, named, self.model)
        used = set(self.model.terms_read(list(named)))
        failing = quality_failures(
            self.model, self.quality_history, self.engine_label(engine), entities, used
        )
        if gate == "strict" and failing:
            raise SemanticError([replace(d, severity="error") for d in failing])
        return failing

    def check_data(self, engine: Engine | str | None = None) -> list[Diagnostic]:
        """The model compared with the data: tables, columns, types, then keys (on `engine`,
        see `query`)."""
        target = self.engine_for(engine)
        found = target.check_schema()
        if not any(d.severity == "error" for d in found):
            found += check_keys(self.model, target.fetch, target.dialect)
        return found

    def check(self, *, data: bool = False) -> list[Diagnostic]:
        """Every problem of the project; with `data`, also compare the model with the data."""
        _, diagnostics = Project.inspect(self.root)
        if data:
            self.prepare_data()
            diagnostics += self.check_data()
        return diagnostics


def to_pandas(table: pa.Table) -> Any:
    """An Arrow result as a pandas DataFrame, or SEM412 naming the extra that installs
    pandas (an optional package: `pip install semantic` brings none)."""
    try:
        import pandas  # noqa: F401 (pyarrow's to_pandas imports it; this says what is missing)
    except ImportError:
        raise error(
            "SEM412",
            "a result as a pandas DataFrame needs pandas, which is not installed",
            None,
            "pip install 'semantic[pandas]' (or read the Arrow table: .to_pylist(), .to_pydict())",
        ) from None
    return table.to_pandas()
