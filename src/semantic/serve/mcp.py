"""The MCP server: the glossary for AI agents, with the official `mcp` SDK (Model Context
Protocol), over standard input and output (`semantic mcp`) and over streamable HTTP (mounted
by `semantic serve` at `/mcp`: `semantic.serve.mcphttp.asgi_app`).

Tools: `search_terms` (ids, labels, synonyms and definitions in every language of the
glossary), `list_terms`, `describe_term` (definition, owners, status, synonyms, lineage and,
for a metric, the dimensions it accepts), `compile_query`, `run_query` (rows capped, the
result as structured content and as JSON text) and `explain_query`. Resources: the term list
(`glossary://terms`), each term (`glossary://terms/{term}`) and the RDF export
(`glossary://rdf/{format}`). Every call goes through the `Service`, so the caller's role,
the server's limits, the audit trail (surface `mcp`) and the plan cache apply as on HTTP.

Who calls: over stdio, the token the server was started with (`semantic mcp --token`, or
SEMANTIC_TOKEN), else the anonymous role; over HTTP, the bearer token of each request. A
refusal is an MCP tool error whose structured content holds the SEM code, message, location
and hint, as the body of an HTTP error does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from semantic.errors import Diagnostic, SemanticError, Span, error
from semantic.serve import glossary
from semantic.serve.config import Caller
from semantic.serve.formats import json_value
from semantic.serve.problems import Problem
from semantic.serve.service import Service

#: the surface the audit records name
SURFACE = "mcp"
#: rows a `run_query` call returns unless it asks for more, and the most it may ask for: an
#: agent reads the rows into its context (the server's own `serve.limits.rows` bounds the work)
ROWS = 100
MOST_ROWS = 1000
#: where a request's own problems are placed
REQUEST = Span("<request>")
#: what the server tells an agent when it connects
INSTRUCTIONS = """\
A business glossary that compiles to SQL. Find the terms with search_terms (any language of
the glossary) and describe_term (definition, owners, and for a metric the dimensions it
accepts); then ask with run_query. A business query is a SQL SELECT over glossary terms, with
no FROM and no GROUP BY: SELECT customer_region, net_revenue WHERE order_date.year = 1995
ORDER BY net_revenue DESC LIMIT 10. Names may be ids, labels or synonyms in any language
("Chiffre d'affaires net" is net_revenue). compile_query shows the SQL, explain_query how the
numbers are computed. An error's structured content holds its code, location and hint."""
#: every tool reads and changes nothing
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


class Hit(BaseModel):
    """A term or an entity that matches a search."""

    id: str
    kind: str
    label: str
    matched: str = Field(description="What matched: id, label, synonym, definition...")
    language: str | None = Field(None, description="The language of what matched.")
    text: str = Field(description="The text that matched.")
    score: int


class Hits(BaseModel):
    """The matches of a search, best first."""

    hits: list[Hit]


class TermRow(BaseModel):
    """A term as the term list shows it, labelled in one language."""

    id: str
    kind: str
    label: str
    synonyms: str
    domain: str
    status: str
    definition: str


class TermList(BaseModel):
    """The terms the caller may read."""

    terms: list[TermRow]


class CompiledQuery(BaseModel):
    """The SQL of a business query, as the caller may run it."""

    sql: str
    dialect: str
    warnings: list[Problem]


class QueryRows(BaseModel):
    """The rows of a business query: `columns` name the cells of each row of `rows`."""

    columns: list[str]
    rows: list[list[Any]]
    row_count: int = Field(description="The rows the query returned (more than shown when cut).")
    truncated: bool = Field(description="Whether only the first max_rows rows are shown.")
    warnings: list[Problem]


class Explanation(BaseModel):
    """How a business query is computed, in plain words."""

    explanation: str


class Agent:
    """The tools and resources over one `Service`, for the callers of one transport: over
    stdio the caller of `token`, over HTTP (`http=True`) that of each request's bearer
    token."""

    def __init__(self, service: Service, token: str | None = None, *, http: bool = False):
        self.service = service
        self.token = token
        self.http = http

    def caller(self, ctx: Context | None) -> Caller:
        """Who makes the call (SEM121 when the token is not the server's)."""
        token = self.token
        if self.http:
            headers = ctx.headers if ctx is not None else None
            token = bearer((headers or {}).get("authorization"))
        return self.service.authenticate(token)

    # --- tools -----------------------------------------------------------------------------

    def search_terms(
        self,
        text: Annotated[str, Field(description="Words to find: an id, a label, a synonym.")],
        ctx: Context,
        language: Annotated[
            str | None,
            Field(description="Search this language only (en, fr...); every one when absent."),
        ] = None,
        limit: Annotated[int, Field(description="At most this many matches.")] = 20,
    ) -> Annotated[CallToolResult, Hits]:
        """Find glossary terms and entities by id, label, synonym or definition, in every
        language of the glossary (or one), best first."""

        def found(caller: Caller) -> dict[str, Any]:
            with self.service.request(caller, SURFACE) as version:
                hits = glossary.search(version, caller, text, language, _bounded(limit, 100))
            return {"hits": [_hit(h) for h in hits]}

        return self._answer(ctx, found)

    def list_terms(
        self,
        ctx: Context,
        language: Annotated[str | None, Field(description="Labels in this language.")] = None,
        kind: Annotated[
            str | None,
            Field(description="Only this kind: metric, dimension, time_dimension, segment."),
        ] = None,
    ) -> Annotated[CallToolResult, TermList]:
        """Every glossary term the caller may read, by domain, with its label, synonyms and
        definition in one language."""
        return self._answer(ctx, lambda caller: {"terms": self.terms(caller, language, kind)})

    def describe_term(
        self,
        term: Annotated[str, Field(description="An id, a label or a synonym, any language.")],
        ctx: Context,
    ) -> CallToolResult:
        """A term's card: definition, labels and synonyms in every language, owners, status,
        confidentiality, what it means physically, its lineage (the columns it reads, the
        terms it is computed from and those computed from it) and, for a metric, the
        dimensions it accepts."""
        return self._answer(ctx, lambda caller: self.card(caller, term))

    def compile_query(
        self,
        query: Annotated[
            str | dict[str, Any],
            Field(description="A business query: text, or its JSON form {select, where...}."),
        ],
        ctx: Context,
        params: Annotated[
            dict[str, Any] | None, Field(description="Values of its $parameters.")
        ] = None,
        dialect: Annotated[
            str | None,
            Field(description="SQL dialect (duckdb, postgres, spark...); the project's if absent."),
        ] = None,
    ) -> Annotated[CallToolResult, CompiledQuery]:
        """The SQL of a business query, with the caller's access rules applied."""

        def compiled(caller: Caller) -> dict[str, Any]:
            done = self.service.compile(caller, query, params, dialect, surface=SURFACE)
            return {"sql": done.sql, "dialect": done.dialect, "warnings": _problems(done.warnings)}

        return self._answer(ctx, compiled, query, text=_sql_text)

    def run_query(
        self,
        query: Annotated[
            str | dict[str, Any],
            Field(description="A business query: text, or its JSON form {select, where...}."),
        ],
        ctx: Context,
        params: Annotated[
            dict[str, Any] | None, Field(description="Values of its $parameters.")
        ] = None,
        language: Annotated[
            str | None, Field(description="Name the columns by the terms' labels in it.")
        ] = None,
        max_rows: Annotated[
            int, Field(description=f"Return at most this many rows (1 to {MOST_ROWS}).")
        ] = ROWS,
    ) -> Annotated[CallToolResult, QueryRows]:
        """Run a business query and return its rows (the first max_rows), with the caller's
        access rules applied."""
        return self._answer(
            ctx,
            lambda caller: self.rows(caller, query, params, language, max_rows),
            query,
            text=_rows_text,
        )

    def explain_query(
        self,
        query: Annotated[
            str | dict[str, Any],
            Field(description="A business query: text, or its JSON form {select, where...}."),
        ],
        ctx: Context,
    ) -> Annotated[CallToolResult, Explanation]:
        """How a business query is computed, in plain words: the grain of each metric, the
        joins, the filters (and what the caller's role changes)."""

        def explained(caller: Caller) -> dict[str, Any]:
            return {"explanation": self.service.explain(caller, query, surface=SURFACE)}

        return self._answer(ctx, explained, query, text=lambda found: found["explanation"])

    # --- what the tools and resources share ------------------------------------------------

    def terms(self, caller: Caller, language: str | None, kind: str | None) -> list[Any]:
        """The terms `caller` may read, labelled in `language`."""
        with self.service.request(caller, SURFACE) as version:
            return glossary.terms(version, caller, language, kind)

    def card(self, caller: Caller, term: str) -> dict[str, Any]:
        """The card of `term` as `caller` may read it."""
        with self.service.request(caller, SURFACE) as version:
            card = glossary.term(version, caller, term)
        # the terms computed from this one: only those the caller may read, in the lineage too
        lineage = dict(card.get("lineage") or {})
        if "used_by" in lineage:
            lineage["used_by"] = card["used_by"]
        card["lineage"] = lineage
        return _plain(card)

    def rows(
        self,
        caller: Caller,
        query: str | dict[str, Any],
        params: Mapping[str, Any] | None,
        language: str | None,
        max_rows: int,
    ) -> dict[str, Any]:
        """The first `max_rows` rows of `query` as `caller` may read them (SEM461 when more
        were found), in JSON's types; `_exact` keeps their text, every digit of a decimal."""
        if not 1 <= max_rows <= MOST_ROWS:
            raise error(
                "SEM122",
                f"max_rows is {max_rows}; it must be from 1 to {MOST_ROWS}",
                REQUEST,
                f"ask for at most {MOST_ROWS} rows, or aggregate more in the query",
            )
        answer = self.service.query(caller, query, params, language=language, surface=SURFACE)
        table = answer.table
        warnings = list(answer.warnings)
        if table.num_rows > max_rows:
            warnings.append(_cut(table.num_rows, max_rows))
            table = table.slice(0, max_rows)
        cells = [column.to_pylist() for column in table.columns]
        exact = [[json_value(v) for v in row] for row in zip(*cells, strict=True)]
        return {
            "columns": answer.headers,
            "rows": [[json.loads(v) for v in row] for row in exact],
            "row_count": answer.table.num_rows,
            "truncated": answer.table.num_rows > max_rows,
            "warnings": _problems(warnings),
            "_exact": exact,
        }

    def _answer(
        self,
        ctx: Context | None,
        make: Callable[[Caller], dict[str, Any]],
        query: str | dict[str, Any] | None = None,
        *,
        text: Callable[[dict[str, Any]], str] | None = None,
    ) -> CallToolResult:
        """The result of `make` for the caller of `ctx`: its structured content, and as text
        `text` of it (JSON when None); a SemanticError as a tool error with its codes."""
        try:
            found = make(self.caller(ctx))
        except SemanticError as exc:
            return tool_error(exc.diagnostics, query if isinstance(query, str) else None)
        shown = {k: v for k, v in found.items() if not k.startswith("_")}
        words = text(found) if text is not None else _json(shown)
        return CallToolResult(
            content=[TextContent(type="text", text=words)], structured_content=shown
        )


def tool_error(
    diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], query: str | None = None
) -> CallToolResult:
    """A refusal as an MCP tool error: as text, each problem at its place with its hint (a
    caret under the query's text); as structured content, the body of an HTTP error: the
    first problem's code, message, location and hint, then every problem."""
    sources = {"<query>": query} if query is not None else None
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(d.render(sources) for d in diagnostics))],
        structured_content=error_body(diagnostics),
        is_error=True,
    )


def error_body(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> dict[str, Any]:
    """The first problem's code, message, location and hint, and every problem."""
    first = diagnostics[0]
    return {
        "code": first.code,
        "message": first.message,
        "location": str(first.span) if first.span else None,
        "hint": first.hint,
        "errors": [d.as_dict() for d in diagnostics],
    }


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header (None without one); SEM121 for
    another scheme.

    >>> bearer("Bearer abc")
    'abc'
    >>> bearer(None) is None
    True
    """
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise error(
            "SEM121",
            "the Authorization header is not `Bearer TOKEN`",
            REQUEST,
            "send Authorization: Bearer TOKEN",
        )
    return token.strip()


def make_server(service: Service, token: str | None = None, *, http: bool = False) -> MCPServer:
    """The MCP server over `service`: its tools and resources (see the module)."""
    from semantic import __version__

    agent = Agent(service, token, http=http)
    server: MCPServer = MCPServer(
        "semantic",
        title=f"semantic: {service.version.project.model.name}",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",  # over stdio, standard error is the client's log
    )
    for tool in (
        agent.search_terms,
        agent.list_terms,
        agent.describe_term,
        agent.compile_query,
        agent.run_query,
        agent.explain_query,
    ):
        server.add_tool(tool, annotations=READ_ONLY)
    _add_resources(server, agent)
    return server


def _add_resources(server: MCPServer, agent: Agent) -> None:
    """The glossary as resources, read with the caller's role (a refusal carries its code).
    They are templates, which MCP gives the request's context: what a caller may read
    depends on who asks."""

    def read(ctx: Context, make: Callable[[Caller], Any]) -> Any:
        try:
            return make(agent.caller(ctx))
        except SemanticError as exc:
            raise ResourceError("\n".join(d.render() for d in exc.diagnostics)) from None

    @server.resource(
        "glossary://terms{?language,kind}",
        name="terms",
        description="The glossary's terms the caller may read (JSON), labelled in `language`.",
        mime_type="application/json",
    )
    def terms(ctx: Context, language: str | None = None, kind: str | None = None) -> str:
        return _json({"terms": read(ctx, lambda caller: agent.terms(caller, language, kind))})

    @server.resource(
        "glossary://terms/{term}",
        name="term",
        description="One term's card (JSON): definition, owners, status, lineage, dimensions.",
        mime_type="application/json",
    )
    def term(term: str, ctx: Context) -> str:
        return _json(read(ctx, lambda caller: agent.card(caller, term)))

    @server.resource(
        "glossary://rdf/{format}",
        name="rdf",
        description="The glossary as RDF (format: turtle or json-ld): SKOS, DCAT, PROV.",
        mime_type="text/plain",
    )
    def rdf(format: str, ctx: Context) -> str:
        def exported(caller: Caller) -> str:
            if format not in glossary.RDF_FORMATS:
                raise error(
                    "SEM122",
                    f"unknown RDF format '{format}'",
                    REQUEST,
                    f"the formats are {', '.join(glossary.RDF_FORMATS)}",
                )
            with agent.service.request(caller, SURFACE) as version:
                return glossary.rdf(version, caller, format)

        return str(read(ctx, exported))


def run_stdio(service: Service, token: str | None = None, *, watch: bool = False) -> None:
    """Serve `service` over standard input and output until the client closes them, every
    call as the caller of `token` (the anonymous role when None; the token is checked again
    at each call, so a token taken out of the tokens file stops working at the reload);
    SEM121 first when the server does not know the token, or needs one. `watch`: reload
    when the project's files change."""
    try:
        service.authenticate(token)
    except SemanticError as exc:
        first = exc.diagnostics[0]
        raise error(
            first.code,
            first.message,
            first.span,
            "give a token of the server's tokens file: --token TOKEN or SEMANTIC_TOKEN (or set "
            "serve.anonymous_role in semantic.yml)",
        ) from None
    if watch:
        service.watch()
    make_server(service, token).run("stdio")


def _bounded(value: int, most: int) -> int:
    return max(1, min(value, most))


def _hit(hit: Mapping[str, Any]) -> dict[str, Any]:
    return {k: hit.get(k) for k in Hit.model_fields}


def _problems(diagnostics: list[Diagnostic]) -> list[dict[str, Any]]:
    return [d.as_dict() for d in diagnostics]


def _cut(found: int, shown: int) -> Diagnostic:
    return Diagnostic(
        "SEM461",
        f"the query returned {found} rows; the first {shown} are shown",
        REQUEST,
        "aggregate or filter more, add ORDER BY ... LIMIT, or ask for more rows (max_rows)",
        "warning",
    )


def _plain(value: Any) -> Any:
    """`value` in JSON's types (a card holds tuples and, in its physical meaning, texts)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _sql_text(found: Mapping[str, Any]) -> str:
    """The SQL, and each warning as a comment after it."""
    notes = [f"-- {w['code']} {w['message']}" for w in found["warnings"]]
    return "\n".join([found["sql"], *notes])


def _rows_text(found: Mapping[str, Any]) -> str:
    """The rows as JSON text, every digit of a decimal kept (the structured content has them
    as JSON numbers, which a client reads as floats)."""
    rows = "[" + ", ".join("[" + ", ".join(row) + "]" for row in found["_exact"]) + "]"
    rest = {k: v for k, v in found.items() if k not in ("rows", "_exact", "columns")}
    tail = _json(rest)[1:]
    return '{"columns": ' + _json(found["columns"]) + ', "rows": ' + rows + ", " + tail
