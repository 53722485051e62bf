"""Diagnostics: stable codes, source positions, hints and the one `suggest()` helper.

This module sits at the bottom of the package and imports nothing of ours.

>>> d = Diagnostic("SEM201", "unknown term 'net_revenu'", Span("glossary/sales.yml", 12, 7),
...                hint=suggest("net_revenu", ["net_revenue", "order_count"]))
>>> print(d.render())
glossary/sales.yml:12:7: SEM201 unknown term 'net_revenu'
  help: did you mean 'net_revenue'?
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

#: line breaks as the query's positions count them: \r\n, a lone \r or \n
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

#: Every code we emit, with a one-line meaning. docs/errors.md explains each one;
#: a test keeps the two in step.
CODES: dict[str, str] = {
    # SEM1xx: files and schema
    "SEM101": "file is not valid YAML",
    "SEM102": "file does not follow the schema (unknown key, missing key, wrong type)",
    "SEM103": "the same id is defined twice",
    "SEM104": "an expression in a file is not valid SQL",
    "SEM105": "project configuration is missing or invalid",
    "SEM106": "a file is not in the canonical layout (`semantic fmt --check`)",
    "SEM107": "a file cannot be formatted without changing its data or comments",
    "SEM108": "a file nests too deep, or its aliases expand it too much, to be read",
    "SEM109": "a project file name is not a regular file (a directory, a FIFO): skipped",
    "SEM110": "a YAML tag outside the core schema (`!!python/...`, `!custom`, `!!binary`)",
    "SEM114": "the audit file is a folder, a device, a pipe or a socket, not a regular file",
    "SEM111": "unknown confidentiality level (of a term, an entity or a role's clearance)",
    "SEM112": "a role's row filter cannot be used (invalid, unknown term, undeclared attribute)",
    "SEM113": "a role masks a term that is unknown or not a dimension",
    "SEM115": "a quality rule lacks a key its kind needs, or has one it does not take",
    "SEM116": "a quality rule's SQL is the wrong shape for its kind (row vs aggregate, query)",
    "SEM117": "a quality rule's pattern or max age cannot be read",
    "SEM120": "`semantic serve`'s configuration is wrong: a token's role or attributes",
    "SEM121": "`semantic serve`: a request without a valid bearer token (401)",
    "SEM122": "`semantic serve`: a request the API cannot read (its body, a parameter, a format)",
    # SEM2xx: references
    "SEM201": "unknown term",
    "SEM202": "unknown entity",
    "SEM203": "unknown column",
    "SEM204": "invalid relationship path",
    "SEM205": "derived metrics form a cycle",
    "SEM206": "a label or synonym names two terms in one language",
    "SEM207": "entity is unreachable: no relationship connects it to the model",
    "SEM208": "invalid metric, dimension or segment definition",
    "SEM209": "invalid relationship",
    "SEM210": "lint: a term has no label in a configured language",
    "SEM211": "lint: a term has no definition in a configured language",
    "SEM212": "lint: an orphan term, with no broader, narrower or related term",
    "SEM213": "lint: two terms share a label across languages",
    "SEM214": "a term is both related to and narrower than another (SKOS S27)",
    "SEM215": "a query or a subject area uses a deprecated term",
    "SEM216": "a subject area names an unknown term",
    "SEM217": "a subject area lists a term of the wrong kind, twice, or filters wrongly",
    "SEM218": "a subject area's query does not compile",
    "SEM219": "a subject area's view would have the name of an entity's view",
    "SEM220": "an import or init would overwrite existing files",
    "SEM221": "the database or folder to scaffold a project from cannot be read",
    "SEM222": "the dbt project cannot be read",
    "SEM223": "the OSI (Apache Ossie) file cannot be read",
    "SEM224": "a construct of the source was not carried over (reported, never dropped silently)",
    "SEM225": "a key or relationship was guessed from names: check it",
    "SEM226": "init left the password out of the new semantic.yml: export PGPASSWORD",
    "SEM227": "unknown time zone in semantic.yml",
    "SEM229": "a metric's fill_null does not fit the metric's type",
    "SEM230": "a relationship from an entity to itself has no role name or leads to the same row",
    "SEM232": "a BI tool's sum of a subject area column counts rows again (many-side dimension)",
    "SEM233": "a subject area column does not add up across the view's rows",
    "SEM234": "lint: a synonym or hidden label of a term names another term in another language",
    "SEM235": "a glossary term's MEASURE(...) PER (...) is not of a form its kind may hold",
    "SEM236": "MEASURE(...) PER in a glossary term names a term of the wrong kind",
    "SEM237": "a metric with a filter, window, shift or conversion reads a metric at another grain",
    "SEM241": "unknown Ossie (OSI) version asked of `semantic export osi`",
    "SEM243": "a term's labels break SKOS: two preferred labels, or one text of two kinds",
    "SEM245": "the RDF export's DCAT-AP catalog lacks recommended metadata (semantic.yml)",
    "SEM246": "`semantic export databricks --catalog` without --schema",
    "SEM252": "a DuckDB file is in a storage format newer than the engine's storage_version",
    "SEM253": "a window per day (`rolling: day`) over a metric that does not add up over days",
    "SEM264": "`semantic translate`: a table of the SQL is not an entity of the model",
    "SEM265": "`semantic translate`: a column of the SQL maps to no term at its place",
    "SEM256": "unknown role",
    "SEM257": "a role's filters need an attribute of the caller that was not given",
    "SEM260": "a custom quality rule reads a table that no entity declares",
    "SEM261": "a quality rule's kind does not fit the term it is written on",
    "SEM262": "unknown quality rule",
    "SEM266": "a conversion metric's base or conversion events are not a metric over an entity",
    "SEM267": "a conversion metric's entity, times or properties are not its events' own",
    "SEM273": "a semi-additive metric is not a base metric over a time dimension",
    "SEM275": "`required: true` on a relationship that is not to-one",
    "SEM276": "the data breaks a column declared `nullable: false` or a `required` relationship",
    # SEM3xx: query planning
    "SEM301": "query is not valid SQL",
    "SEM302": "not a business query",
    "SEM303": "unknown name in query",
    "SEM304": "ambiguous name in query",
    "SEM305": "expression mixes metrics and dimensions, or aggregates raw values",
    "SEM306": "no join path from a metric's entity to a dimension",
    "SEM307": "several join paths are equally short",
    "SEM308": "invalid time grain",
    "SEM309": "parameter has no value",
    "SEM310": "GROUP BY disagrees with the selected dimensions",
    "SEM311": "invalid ORDER BY, LIMIT or OFFSET",
    "SEM312": "unknown SQL dialect",
    "SEM313": "two output columns have the same name",
    "SEM314": "a window or shift cannot be computed at the query's time grain",
    "SEM315": "a business concept without physical meaning cannot be queried",
    "SEM316": "a construct cannot be compiled for the dialect with DuckDB's meaning",
    "SEM317": "sqlglot cannot write a construct of the query in the dialect",
    "SEM318": "a name in WHERE is an output column's name with another meaning",
    "SEM319": "a name with spaces or an apostrophe is not in double quotes",
    "SEM320": "a term's name in single quotes, which make a text value",
    "SEM321": "a parameter's value is not of the type of what it is compared with",
    "SEM324": "a construct that is not part of the business query language",
    "SEM325": "a function that a business query may not call",
    "SEM326": "unknown type name in a CAST",
    "SEM327": "a condition that is not true or false",
    "SEM339": "`semantic translate`: the SQL cannot be read (not one SELECT, not the model's)",
    "SEM340": "`semantic translate`: a construct of the SQL has no business form (a subquery...)",
    "SEM341": "`semantic translate`: an aggregate of the SQL is no metric of the glossary",
    "SEM342": "`semantic translate`: the SQL's tables are not joined along the relationships",
    "SEM347": "PostgreSQL wire: a catalog query the endpoint cannot answer",
    "SEM348": "PostgreSQL wire: the client broke the protocol, or the server failed on it",
    "SEM350": "MEASURE(...) PER names a dimension the query does not group by",
    "SEM351": "MEASURE(...) PER (...) names something other than ALL, dimensions or an entity",
    "SEM353": "a metric per entity of an entity without a primary key",
    "SEM331": "a query reaches a term above the role's clearance",
    "SEM332": "a term masked for the role is used otherwise than selected as it is",
    "SEM333": "the policy requires a role and the query names none",
    "SEM335": "a role's row filter cannot restrict an entity the query reads",
    "SEM337": "a project seen as one role is asked to run a query as another",
    "SEM338": "quality results cannot be shown to a role whose row filters hide rows",
    "SEM345": "a conversion metric's events repeat along a one-to-many relationship",
    "SEM354": "an existence (EXISTS, NOT EXISTS, ALL) is not written as one",
    "SEM355": "an existence's condition reads no row on the many side of what it is about",
    "SEM358": "all_periods() is not around a selected time dimension at a grain",
    "SEM359": "a semi-additive metric's rows repeat along a one-to-many relationship",
    "SEM360": "a window over a semi-additive metric would sum it over time",
    "SEM367": "via(term, through) is not written as one",
    "SEM368": "the path chosen with via() does not exist or has more than one meaning",
    "SEM365": "a rank or QUALIFY is written where it cannot be computed",
    "SEM366": "a ranking names a dimension the query does not group by",
    "SEM369": "a metric at a grain of the query's groups is read next to dimensions",
    "SEM370": "a role's row filter names a value counted per row over other rows",
    "SEM371": "a query of dimensions alone names no one entity whose rows list them",
    # SEM4xx: execution and publication
    "SEM401": "table is missing from the database",
    "SEM402": "column is missing from the table",
    "SEM403": "column type does not match the model",
    "SEM404": "query failed in the engine",
    "SEM405": "demo data could not be generated",
    "SEM406": "a key that the model says is unique repeats in the data",
    "SEM407": "foreign keys without a match in the data",
    "SEM408": "invalid export option",
    "SEM409": "the RDF export does not conform to the SHACL shapes",
    "SEM410": "invalid engine URL or engine name",
    "SEM411": "cannot connect to the engine",
    "SEM412": "an optional package is not installed (an engine's driver, pandas, openlineage)",
    "SEM413": "a password is written in semantic.yml",
    "SEM414": "the engine cannot do this",
    "SEM415": "views not published: the data fails its quality rules",
    "SEM416": "a view name is taken by an object the tool did not create",
    "SEM417": "publishing the views failed; nothing was changed",
    "SEM418": "a view column name is taken twice or too long for the database",
    "SEM419": "invalid views option (language, confidentiality, schema or engine)",
    "SEM420": "`semantic diff` needs a git repository",
    "SEM421": "unknown git revision",
    "SEM422": "the project cannot be read at the git revision",
    "SEM423": "loading would drop views that depend on a table",
    "SEM425": "the catalog site's output folder holds something else",
    "SEM426": "a search has nothing to look for",
    "SEM427": "unknown language",
    "SEM428": "the catalog site cannot be written",
    "SEM429": "no example query compiles for a term (catalog site)",
    "SEM432": "Spark already runs on another master in this process",
    "SEM434": "the query ran longer than the statement time-out",
    "SEM435": "the result is larger than the result-size limit",
    "SEM436": "a view has no column left: it is not published",
    "SEM437": "a DuckDB file holding the source tables cannot hide confidential terms",
    "SEM438": "`semantic fmt` cannot write a file (read-only, full disk); it is left as it was",
    "SEM439": "a primary key is NULL in some rows of the data",
    "SEM440": "a metric leaves out the rows without a match on a relationship it reads",
    "SEM441": "a query reads data that breaks a declared key",
    "SEM444": "the catalog site shows less than it could: no samples, or no interface translation",
    "SEM448": "the audit file cannot be opened: nothing is compiled or run",
    "SEM449": "the audit record cannot be written: the result is withheld",
    "SEM454": "`semantic translate`: the business query's rows differ from the SQL's",
    "SEM450": "a quality rule could not be measured on the engine",
    "SEM451": "a query reads an entity whose latest quality results fail an error rule",
    "SEM452": "a view was published with --force although its data fails quality rules",
    "SEM453": "the quality history cannot be read or written",
    "SEM445": "the database role of a role's views does not exist on the server",
    "SEM446": "another database role loses a view's grant, or gets a role's views by default",
    "SEM447": "views published for a role are granted to no database role",
    "SEM455": "`semantic serve`: a query longer than the server's limit (413)",
    "SEM456": "`semantic serve`: a caller has as many queries running as the server allows (429)",
    "SEM457": "`semantic serve`: the changed files do not load; the last good version is served",
    "SEM458": "`semantic serve`: a term or an export the caller's role may not read (403)",
    "SEM459": "`semantic serve` needs its optional packages: pip install 'semantic[serve]'",
    "SEM460": "`semantic mcp` needs its optional packages: pip install 'semantic[serve]'",
    "SEM461": "MCP `run_query`: only the first max_rows rows of the result are shown (warning)",
    "SEM462": "PostgreSQL wire: SQL over a glossary table that no business query answers right",
    "SEM463": "PostgreSQL wire: a table that is no subject area or entity the role may read",
    "SEM464": "PostgreSQL wire: a column that is not one of the table's",
    "SEM465": "PostgreSQL wire: a statement that is not a query (the endpoint is read only)",
    "SEM466": "PostgreSQL wire: a bound parameter or a binary value that cannot be read",
    "SEM469": "the query was cancelled at its client's request",
}


@dataclass(frozen=True, slots=True)
class Span:
    """Where something is: a file (or `<query>`) and a 1-based line and column."""

    file: str
    line: int = 0
    col: int = 0

    def __reduce__(self) -> tuple[type[Span], tuple[str, int, int]]:
        # a loaded model keeps tens of thousands of spans (`files.loadcache`): the pickle
        # dataclasses give a slotted class asks for its fields on each one, 3 times slower
        return Span, (self.file, self.line, self.col)

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found, with its stable code, its place and a hint to fix it."""

    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    severity: Severity = "error"

    def render(self, sources: Mapping[str, str] | None = None) -> str:
        """The problem as `path:line:col: CODE message`, then `help: ...`; when `sources`
        holds the text of the span's file, its line is shown with a caret under the column.

        >>> d = Diagnostic("SEM303", "unknown term 'pays'", Span("<query>", 1, 8), "...")
        >>> print(d.render({"<query>": "SELECT pays, net_revenue"}))
        <query>:1:8: SEM303 unknown term 'pays'
          | SELECT pays, net_revenue
          |        ^
          help: ...
        """
        where = f"{self.span}: " if self.span else ""
        kind = "" if self.severity == "error" else "warning: "
        text = f"{where}{kind}{self.code} {self.message}"
        source = sources.get(self.span.file) if sources and self.span else None
        if source is not None and self.span is not None:
            lines = _LINE_BREAK.split(source)
            if 0 < self.span.line <= len(lines):
                line = lines[self.span.line - 1].expandtabs(1)  # one column per character
                caret = " " * (max(min(self.span.col, len(line) + 1), 1) - 1) + "^"
                text += f"\n  | {line}\n  | {caret}"
        if self.hint:
            text += f"\n  help: {self.hint}"
        return text

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form, for `--format json`."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.span.file if self.span else None,
            "line": self.span.line if self.span else None,
            "col": self.span.col if self.span else None,
            "hint": self.hint,
        }


class SemanticError(Exception):
    """Raised with one or more diagnostics; the CLI prints them without a traceback."""

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic]) -> None:
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    def located(self, span: Span) -> SemanticError:
        """The same error, placed at `span` where its diagnostics had no place yet."""
        return SemanticError(
            Diagnostic(d.code, d.message, d.span or span, d.hint, d.severity)
            for d in self.diagnostics
        )

    @property
    def code(self) -> str:
        """The code of the first diagnostic (handy in tests)."""
        return self.diagnostics[0].code


def error(
    code: str, message: str, span: Span | None = None, hint: str | None = None
) -> SemanticError:
    """Build a `SemanticError` holding a single diagnostic."""
    return SemanticError(Diagnostic(code, message, span, hint))


def unknown_choice(code: str, what: str, value: str, choices: Sequence[str]) -> SemanticError:
    """The error for a value outside a closed list (`what`: a format, a level...), with the
    closest choices as its hint, or else all of them."""
    hint = suggest(value, choices) or f"use one of {', '.join(choices)}"
    return error(code, f"unknown {what} '{value}'", None, hint)


def suggest(
    name: str,
    candidates: Iterable[str],
    *,
    limit: int = 3,
    group: Mapping[str, str] | None = None,
) -> str | None:
    """A "did you mean" hint naming the closest candidates, or None when none is close.

    `group` maps candidates that name the same thing (a term's id, labels and synonyms) to
    one key, so that only the closest name of each is offered.
    """
    pool = sorted(set(candidates))
    if not pool:
        return None
    lowered = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=len(lowered), cutoff=0.6)
    names: list[str] = []
    seen: set[str] = set()
    for match in close:
        original = lowered[match]
        key = group.get(original, original) if group else original
        if key not in seen:
            seen.add(key)
            names.append(f"'{original}'")
    names = names[:limit]
    if not names:
        return None
    if len(names) == 1:
        return f"did you mean {names[0]}?"
    return f"did you mean {', '.join(names[:-1])} or {names[-1]}?"
