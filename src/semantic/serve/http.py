"""The HTTP API of `semantic serve` (FastAPI): versioned paths under `/v1`, each a thin shell
over the `Service` (docs/serve.md lists them with examples; `/openapi.json` describes them).

Every request but `GET /v1/health` names its caller with `Authorization: Bearer TOKEN` (or
runs as `serve.anonymous_role`), and runs with that caller's role, in an audit scope of
surface `http`. An error answers with a 4xx and a body holding the first problem's SEM code,
message, location and hint, and every problem (`errors`); `Accept-Language` picks the
language of labels and of the columns of a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from semantic import __version__
from semantic.errors import Diagnostic, SemanticError, Span
from semantic.serve import glossary
from semantic.serve.config import Caller
from semantic.serve.formats import MEDIA_TYPES, encoded, json_rows
from semantic.serve.problems import Problem
from semantic.serve.service import Service

#: the surface the audit records name
SURFACE = "http"
#: the HTTP status of each code that is not a 400
STATUS = {
    "SEM121": 401,
    "SEM331": 403,
    "SEM332": 403,
    "SEM333": 403,
    "SEM458": 403,
    "SEM201": 404,
    "SEM434": 408,
    "SEM455": 413,
    "SEM122": 422,
    "SEM435": 422,
    "SEM456": 429,
    "SEM448": 503,
    "SEM449": 503,
}
#: the codes of a read by name, where an unknown name is a missing resource
NOT_FOUND = {"SEM201", "SEM303", "SEM304"}


class ErrorBody(BaseModel):
    """The body of every error answer: the first problem, then all of them."""

    code: str = Field(description="The first problem's SEM code (docs/errors.md).")
    message: str
    location: str | None = Field(None, description="file:line:col, <query>:line:col, ...")
    hint: str | None = None
    errors: list[Problem]


class QueryBody(BaseModel):
    """A business query: text, or its JSON form (`{"select": [...], "where": ...}`)."""

    model_config = ConfigDict(extra="forbid")

    query: str | dict[str, Any] = Field(
        description="The business query, as text or in its JSON form (docs/query-language.md).",
        examples=["SELECT customer_region, net_revenue ORDER BY customer_region"],
    )
    params: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict,
        description="Values of the query's $parameters; text is read as the type of what it "
        "is compared with.",
    )
    dialect: str | None = Field(
        None, description="compile: the SQL dialect (the project's when absent); query: unused."
    )
    format: Literal["json", "csv", "arrow", "parquet"] = Field(
        "json", description="query: the result's format; compile: unused."
    )


class Compiled(BaseModel):
    """The SQL of a query as the caller may run it."""

    sql: str
    dialect: str
    warnings: list[Problem]
    version: int = Field(description="The version of the project's files that compiled it.")


class Explained(BaseModel):
    """How a query is computed, in words."""

    explanation: str
    version: int


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": what}
    for code, what in (
        (400, "The query does not parse, names an unknown term, or cannot be computed."),
        (401, "No valid bearer token (SEM121)."),
        (403, "The caller's role may not read a term the request reaches (SEM331, SEM458)."),
        (413, "The query is longer than the server reads (SEM455)."),
        (
            422,
            "The request's body or parameters are wrong (SEM122), or the result is too "
            "large (SEM435).",
        ),
        (429, "The caller has as many queries running as allowed (SEM456)."),
    )
}


def make_app(service: Service, mounts: Mapping[str, Any] | None = None) -> FastAPI:
    """The HTTP API over `service`; `mounts` are other ASGI apps by path (the MCP server at
    `/mcp`)."""
    app = FastAPI(
        title="semantic",
        version=__version__,
        description="A business glossary that compiles to SQL: compile and run business "
        "queries, read the glossary. See docs/serve.md.",
        responses=ERRORS,
    )
    app.state.service = service
    _add_error_handlers(app)
    _add_routes(app, service)
    for path, mounted in (mounts or {}).items():
        app.mount(path, mounted)
    return app


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header (None without a header);
    SEM121 for another scheme."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SemanticError(
            Diagnostic(
                "SEM121",
                "the Authorization header is not `Bearer TOKEN`",
                Span("<request>"),
                "send Authorization: Bearer TOKEN",
            )
        )
    return token.strip()


def language_of(header: str | None, languages: list[str]) -> str | None:
    """The project language an `Accept-Language` header prefers most (`fr-CH, fr;q=0.9`
    picks `fr`), or None when it names none of them.

    >>> language_of("de-DE, fr;q=0.8, en;q=0.5", ["en", "fr"])
    'fr'
    >>> language_of("*", ["en", "fr"]) is None
    True
    """
    if not header:
        return None
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, rest = part.strip().partition(";")
        weight = 1.0
        if rest.strip().startswith("q="):
            try:
                weight = float(rest.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and weight > 0:
            wanted.append((-weight, i, tag.strip().lower()))
    for _, _, tag in sorted(wanted):
        for language in languages:
            if tag == language.lower() or tag.split("-")[0] == language.lower():
                return language
    return None


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SemanticError)
    async def semantic_error(request: Request, exc: SemanticError) -> JSONResponse:
        return error_response(exc.diagnostics, not_found=request.method == "GET")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = [
            Diagnostic(
                "SEM122",
                f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}",
                Span("<request>"),
                "see the endpoint in the API's description: GET /openapi.json, or /docs",
            )
            for e in exc.errors()
        ]
        return error_response(found or [Diagnostic("SEM122", "invalid request")])


def error_response(
    diagnostics: tuple[Diagnostic, ...] | list[Diagnostic],
    *,
    not_found: bool = False,
    status: int | None = None,
) -> JSONResponse:
    """The answer of an error: its status (by the first code), and the coded body."""
    first = diagnostics[0]
    code = status or STATUS.get(first.code, 400)
    if not_found and first.code in NOT_FOUND:
        code = 404
    body = {
        "code": first.code,
        "message": first.message,
        "location": str(first.span) if first.span else None,
        "hint": first.hint,
        "errors": [d.as_dict() for d in diagnostics],
    }
    headers = {"WWW-Authenticate": "Bearer"} if code == 401 else {}
    if code == 429:
        headers["Retry-After"] = "1"
    return JSONResponse(body, status_code=code, headers=headers)


def caller(
    request: Request,
    authorization: Annotated[
        str | None, Header(description="Bearer TOKEN (without: the anonymous role, if any).")
    ] = None,
) -> Caller:
    """The caller of a request, by its bearer token (SEM121 when none is valid)."""
    service: Service = request.app.state.service
    return service.authenticate(bearer(authorization))


Authorized = Annotated[Caller, Depends(caller)]
AcceptLanguage = Annotated[
    str | None, Header(description="Labels and column names in this language.")
]


def _add_routes(app: FastAPI, service: Service) -> None:
    def language(header: str | None) -> str | None:
        return language_of(header, list(service.version.project.model.languages))

    @app.get("/v1/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Whether the server answers (no token needed)."""
        return {"status": "ok", "version": service.version.number}

    @app.get("/v1/status", tags=["service"])
    def status(who: Authorized) -> dict[str, Any]:
        """The version served, the errors of the last reload that failed (file:line:col),
        the plan cache's hit rate, the queries running (by caller for the owner's tokens,
        a count for the others: the callers' names are not theirs to read)."""
        found = service.status()
        if who.role is not None:
            found["running"] = {"queries": sum(found["running"].values())}
        return found

    @app.post("/v1/compile", tags=["queries"])
    def compile_query(body: QueryBody, who: Authorized) -> Compiled:
        """The SQL of a business query, as the caller's role may run it."""
        done = service.compile(who, body.query, body.params, body.dialect, surface=SURFACE)
        return Compiled(
            sql=done.sql,
            dialect=done.dialect,
            warnings=[Problem(**d.as_dict()) for d in done.warnings],  # type: ignore[arg-type]
            version=done.version,
        )

    @app.post(
        "/v1/query",
        tags=["queries"],
        responses={
            200: {
                "description": "The rows: JSON (columns, rows as objects), CSV, an Arrow IPC "
                "stream or Parquet, as `format` asks.",
                "content": {t: {} for t in MEDIA_TYPES.values() if t != "application/json"},
            }
        },
    )
    def run_query(
        body: QueryBody, who: Authorized, accept_language: AcceptLanguage = None
    ) -> Response:
        """Run a business query with the caller's role; columns named as written, or by the
        terms' labels in the `Accept-Language` of the request."""
        chosen = language(accept_language)
        answer = service.query(who, body.query, body.params, language=chosen, surface=SURFACE)
        headers = {"X-Semantic-Version": str(answer.version)}
        if chosen:
            headers["Content-Language"] = chosen
        if answer.warnings:
            headers["X-Semantic-Warnings"] = ",".join(d.code for d in answer.warnings)
        if body.format != "json":
            data = encoded(answer.table, answer.headers, body.format)
            return Response(data, media_type=MEDIA_TYPES[body.format], headers=headers)
        import json

        warnings = json.dumps([d.as_dict() for d in answer.warnings], ensure_ascii=False)
        text = (
            f'{{"columns": {json.dumps(answer.headers, ensure_ascii=False)}, '
            f'"rows": {json_rows(answer.table, answer.headers)}, '
            f'"row_count": {answer.table.num_rows}, "warnings": {warnings}, '
            f'"version": {answer.version}}}'
        )
        return Response(text, media_type="application/json", headers=headers)

    @app.post("/v1/explain", tags=["queries"])
    def explain(body: QueryBody, who: Authorized) -> Explained:
        """How a business query is computed, in words (with the role's policy)."""
        text = service.explain(who, body.query, surface=SURFACE)
        return Explained(explanation=text, version=service.version.number)

    @app.get("/v1/terms", tags=["glossary"])
    def terms(
        who: Authorized,
        kind: Annotated[str | None, Query(description="dimension, metric, ...")] = None,
        accept_language: AcceptLanguage = None,
    ) -> dict[str, Any]:
        """The terms the caller may read, labelled in the `Accept-Language`."""
        with service.request(who, SURFACE) as version:
            chosen = language(accept_language)
            return {"terms": glossary.terms(version, who, chosen, kind)}

    @app.get("/v1/terms/{term}", tags=["glossary"])
    def term(term: str, who: Authorized) -> dict[str, Any]:
        """One term by id, label or synonym: definitions, owners, its physical meaning and,
        for a metric, the dimensions it accepts."""
        with service.request(who, SURFACE) as version:
            return glossary.term(version, who, term)

    @app.get("/v1/terms/{term}/lineage", tags=["glossary"])
    def lineage(term: str, who: Authorized) -> dict[str, Any]:
        """Where a term comes from, down to columns and tables (docs/lineage.md)."""
        with service.request(who, SURFACE) as version:
            return glossary.lineage(version, who, term)

    @app.get("/v1/search", tags=["glossary"])
    def search(
        who: Authorized,
        q: Annotated[str, Query(min_length=1, description="Words, a label, an id...")],
        language: Annotated[str | None, Query(description="Search this language only.")] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
    ) -> dict[str, Any]:
        """Terms and entities by id, label, synonym or definition, in every language."""
        with service.request(who, SURFACE) as version:
            return {"results": glossary.search(version, who, q, language, limit)}

    @app.get(
        "/v1/rdf",
        tags=["glossary"],
        response_class=PlainTextResponse,
        responses={200: {"content": {t: {} for t in glossary.RDF_FORMATS.values()}}},
    )
    def rdf(who: Authorized, format: Literal["turtle", "json-ld"] = "turtle") -> PlainTextResponse:
        """The glossary as RDF (SKOS, DCAT, PROV): Turtle or JSON-LD."""
        with service.request(who, SURFACE) as version:
            text = glossary.rdf(version, who, format)
        return PlainTextResponse(text, media_type=glossary.RDF_FORMATS[format])

    @app.get("/v1/quality", tags=["glossary"])
    def quality(who: Authorized) -> dict[str, Any]:
        """The quality rules measured on the data (once per version of the files)."""
        with service.request(who, SURFACE) as version:
            return {"results": glossary.quality(version, who)}
