"""Sample values for the catalog's pages, read from the data when the site is built: what a
dimension's values look like (its most frequent values, counted by a count metric that
reaches it; a time dimension's periods at its coarsest grain, in order), and what a metric
gives (its total, and by one dimension).

Every sample is a business query, compiled and run like any other (`Project.query`): the
compiler chooses the joins, the project's limits and key rules apply, no SQL is written by
hand. The query is kept, and the page shows it next to its rows.

Values of a term above the site's confidentiality level are never read: neither the term's
own nor those of a query that reads it (a metric filtered on it, the dimension a metric is
shown by). A site built for a role (`outputs.access.project_for`) reads its samples as that
role: its hidden terms are not there to sample, its row filters apply inside every count and
total, and its masked dimensions show masked values (sorted by their count only, since a
masked value may not be sorted on). A query that fails is a warning (SEM444) and its sample
is left out; so are the terms still waiting when the time budget is spent.

>>> from semantic.project import Project
>>> project = Project.load(".")
>>> samples = collect_samples(project, project.engine_for(None), rows=3)
>>> samples.terms["market_segment"].values.query
'SELECT market_segment, customer_count ORDER BY customer_count DESC, market_segment LIMIT 4'
>>> samples.terms["customer_name"].withheld
'customer_name'
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from semantic.compiler.resolve import find_path
from semantic.engines.base import Engine, Limits
from semantic.errors import Diagnostic, SemanticError, Span
from semantic.model import Model, Term
from semantic.outputs.access import RoleProject, access_for
from semantic.outputs.catalog.examples import GRAINS, metric_dimensions
from semantic.project import Project

#: Rows a sample shows at most.
SAMPLE_ROWS = 10
#: The highest confidentiality whose values a site shows unless told otherwise.
DEFAULT_MAX_CONFIDENTIALITY = "internal"
#: Seconds one sample query may run (the project's own time-out when it is shorter).
QUERY_TIMEOUT = 10.0
#: Seconds all the samples of a build may take; the terms left then get none.
BUDGET = 120.0
#: Candidate queries compiled per sample before giving up.
MAX_TRIES = 12


@dataclass(frozen=True, slots=True)
class SampleTable:
    """The rows of one sample query: its columns as written (`order_date.year`) with the
    term and grain of each, the rows, and whether more rows were cut off."""

    query: str
    columns: tuple[tuple[str, str | None], ...]
    rows: tuple[tuple[Any, ...], ...]
    more: bool


@dataclass(frozen=True, slots=True)
class TermSample:
    """What a term's page shows of the data: a dimension's `values` (each with its count),
    a metric's `total` and its values `by` one dimension; or `withheld`, the term too
    confidential for the site that hides them; `failed` when a query failed."""

    values: SampleTable | None = None
    total: SampleTable | None = None
    by: SampleTable | None = None
    withheld: str | None = None
    failed: bool = False


@dataclass
class Samples:
    """The samples of a build: per term id, the engine they were read from, the level
    allowed, and what went wrong (SEM444 warnings)."""

    engine: str
    max_confidentiality: str
    terms: dict[str, TermSample] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)


def read_samples(
    project: Project,
    wanted: bool | None,
    max_confidentiality: str | None = None,
    rows: int = SAMPLE_ROWS,
) -> tuple[Samples | None, list[Diagnostic]]:
    """The samples of a site build, or None without them, and what to warn of.

    `wanted` None (the default of `semantic docs build`): samples when the data is there,
    read on the project's default engine (the one marked `default: true`, else the embedded
    DuckDB over the data folder, never generated for this); True: the demo data is
    generated if the project says how, and a project without data is a warning; False:
    none. An engine that cannot be opened is a warning, and the site has no samples.
    """
    if wanted is False:
        return None, []
    default = next((n for n, s in project.config.engines.items() if s.default), None)
    if default is None and not (wanted and project.prepare_data()) and not project.has_data():
        if not wanted:
            return None, []
        return None, [_no_data(project, "the project has no data folder to read")]
    try:
        engine = project.engine_for(default)
    except SemanticError as exc:
        first = exc.diagnostics[0]
        return None, [_no_data(project, f"{first.code} {first.message}")]
    found = collect_samples(project, engine, rows=rows, max_confidentiality=max_confidentiality)
    return found, found.warnings


def _no_data(project: Project, why: str) -> Diagnostic:
    return Diagnostic(
        "SEM444",
        f"the site shows no sample values: {why}",
        Span("semantic.yml"),
        "generate or load the data (`make demo` for the example project), or build with "
        "--no-samples",
        severity="warning",
    )


def collect_samples(
    project: Project,
    engine: Engine,
    *,
    rows: int = SAMPLE_ROWS,
    max_confidentiality: str | None = None,
    budget: float = BUDGET,
) -> Samples:
    """The sample of each dimension, time dimension and metric of `project`, read on
    `engine`, at most `rows` rows each, none above `max_confidentiality` (see
    `samples_level`)."""
    model = project.model
    level = samples_level(project, max_confidentiality)
    found = Samples(engine.dialect, level)
    runner = _Runner(project, engine, rows, model.rank_of(level))
    deadline = time.monotonic() + budget
    terms = [
        t
        for t in sorted(model.terms.values(), key=lambda t: t.id)
        if t.kind in ("dimension", "time_dimension", "metric")
    ]
    for done, term in enumerate(terms):
        if time.monotonic() >= deadline:
            found.warnings.append(_out_of_time(budget, [t.id for t in terms[done:]]))
            break
        withheld = runner.withheld([term.id])
        if withheld is not None:
            found.terms[term.id] = TermSample(withheld=withheld)
            continue
        sample = runner.metric(term) if term.is_metric else runner.dimension(term)
        if sample is not None:
            found.terms[term.id] = sample
    found.warnings += runner.warnings
    return found


def samples_level(project: Project, level: str | None = None) -> str:
    """The highest confidentiality whose values samples show: `level` (SEM419 when it is none
    of the project's levels) and, for a project seen as a role (`RoleProject`), the role's
    clearance, the stricter of the two; without either, `DEFAULT_MAX_CONFIDENTIALITY`."""
    role = project.role if isinstance(project, RoleProject) else None
    access = access_for(project.model, level, role)
    found = [x for x in (level, access.role.clearance if access.role else None) if x]
    if not found:
        return DEFAULT_MAX_CONFIDENTIALITY
    return min(found, key=project.model.rank_of)


class _Runner:
    """Finds and runs the sample queries of one build."""

    def __init__(self, project: Project, engine: Engine, rows: int, rank: int) -> None:
        self.project = project
        self.model: Model = project.model
        self.engine = engine
        self.rows = rows
        self.rank = rank
        own = project.limits.timeout
        self.limits = Limits(
            timeout=min(own, QUERY_TIMEOUT) if own else QUERY_TIMEOUT,
            max_rows=rows + 1,
            max_megabytes=64.0,
        )
        self.warnings: list[Diagnostic] = []

    def withheld(self, ids: Iterable[str]) -> str | None:
        """The first term that the given terms read (themselves included) and that is above
        the level allowed, or None."""
        for tid in sorted(_reads(self.model, ids)):
            if self.model.rank_of(self.model.level_of(tid)) > self.rank:
                return tid
        return None

    def masked(self, term: Term) -> bool:
        """Whether the role the site is built for sees `term`'s values masked."""
        project = self.project
        if not isinstance(project, RoleProject):
            return False
        return self.model.policy.role(project.role).mask_of(term.id) is not None

    def dimension(self, term: Term) -> TermSample | None:
        """A dimension's most frequent values, or a time dimension's first periods, each
        with a count of the rows they describe."""
        grain = None
        if term.kind == "time_dimension":
            grain = next(g for g in (*GRAINS, *term.grains) if not term.grains or g in term.grains)
        written = f"{term.id}.{grain}" if grain else term.id
        for count in _counts(self.model, term)[:MAX_TRIES]:
            if self.withheld([count]) is not None:
                continue
            order = written if grain else f"{count} DESC, {written}"
            if self.masked(term):  # a masked value may not be sorted on (it would leak)
                order = f"{count} DESC"
            text = f"SELECT {written}, {count} ORDER BY {order} LIMIT {self.rows + 1}"
            if self._compiles(text):
                table = self._run(term, text, ((term.id, grain), (count, None)))
                return TermSample(values=table, failed=table is None)
        return None

    def metric(self, term: Term) -> TermSample | None:
        """A metric's total (unless it needs a period: a window or a shift, its own or that
        of a metric it is computed from), and its values by the first dimension that it is
        shown by in a query that compiles."""
        total = None
        text = f"SELECT {term.id}"
        if not term.is_over_time and self._compiles(text):  # not one computed over periods
            total = self._run(term, text, ((term.id, None),))
            if total is None:
                return TermSample(failed=True)
        by = None
        for tries, written in enumerate(metric_dimensions(self.model, term)):
            if tries >= MAX_TRIES:
                break
            tid, _, grain = written.partition(".")
            if self.withheld([tid]) is not None:
                continue
            order = written if grain else f"{term.id} DESC, {written}"
            text = f"SELECT {written}, {term.id} ORDER BY {order} LIMIT {self.rows + 1}"
            if self._compiles(text):
                by = self._run(term, text, ((tid, grain or None), (term.id, None)))
                if by is None:
                    return TermSample(total=total, failed=True)
                break
        if total is None and by is None:
            return None
        return TermSample(total=total, by=by)

    def _compiles(self, text: str) -> bool:
        try:
            self.project.compile(text)
        except SemanticError:
            return False
        return True

    def _run(
        self, term: Term, text: str, columns: tuple[tuple[str, str | None], ...]
    ) -> SampleTable | None:
        try:
            table = self.project.query(text, engine=self.engine, limits=self.limits)
        except Exception as exc:  # noqa: BLE001 - a sample never stops the build
            why = (
                f"{exc.diagnostics[0].code} {exc.diagnostics[0].message}"
                if isinstance(exc, SemanticError)
                else f"{type(exc).__name__}: {exc}"
            )
            self.warnings.append(
                Diagnostic(
                    "SEM444",
                    f"no sample values for term '{term.id}': {why}",
                    term.span,
                    f'run `semantic query "{text}"` to see why; or build with --no-samples',
                    severity="warning",
                )
            )
            return None
        found = list(zip(*(c.to_pylist() for c in table.columns), strict=True))
        return SampleTable(text, columns, tuple(found[: self.rows]), len(found) > self.rows)


def _reads(model: Model, ids: Iterable[str]) -> set[str]:
    """The terms the given ones read (see `Model.terms_read`)."""
    return model.terms_read(ids)


def _counts(model: Model, term: Term) -> list[str]:
    """Count metrics (`count(...)`, without a filter) to count a dimension's values by: those
    of its own entity first, then the nearest whose rows reach it through to-one
    relationships, then the others; by id among equals."""
    counts = [
        t
        for t in model.terms.values()
        if t.kind == "metric"
        and t.entity is not None
        and isinstance(t.expr, exp.Count)
        and t.filter is None
        and not t.is_over_time
        and t.status != "deprecated"
    ]
    return [t.id for t in sorted(counts, key=lambda t: (_distance(model, t, term), t.id))]


def _distance(model: Model, count: Term, term: Term) -> int:
    """How many relationships lead from a count metric's rows to a dimension's (1000: no
    to-one path)."""
    assert count.entity is not None and term.entity is not None
    if count.entity == term.entity and not term.path:
        return 0
    try:
        return len(find_path(model, count.entity, term.entity, term.path))
    except SemanticError:
        return 1000


def _out_of_time(budget: float, left: list[str]) -> Diagnostic:
    return Diagnostic(
        "SEM444",
        f"sample values stopped after {budget:g} s: {len(left)} terms have none "
        f"({', '.join(_first(left, 5))})",
        Span("semantic.yml"),
        "the data is large or slow to read: build with --no-samples, or on smaller data",
        severity="warning",
    )


def _first(items: list[str], n: int) -> Iterator[str]:
    yield from items[:n]
    if len(items) > n:
        yield "..."
