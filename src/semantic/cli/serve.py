"""`semantic serve`: the glossary over HTTP, with the MCP server at /mcp and, with
`--pg-port`, the PostgreSQL wire endpoint, all on one service (docs/serve.md).

The command checks that the server's packages are there, opens the service (the project must
load), watches the files, and runs uvicorn until interrupted. FastAPI, uvicorn, the MCP SDK,
pygwire and watchfiles are imported here, in the body, only when the command runs
(`tests/test_startup.py`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from semantic.cli.app import reported, say, state
from semantic.errors import error

#: the packages of the optional extra `serve`, by the name they are imported as
PACKAGES = ("fastapi", "uvicorn", "mcp", "watchfiles")
#: the package of the optional extra `pgwire`, needed with --pg-port
PGWIRE = "pygwire"


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="HTTP port.")] = 8765,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch/--no-watch", help="Reload when the project's files change (default: on)."
        ),
    ] = True,
    pg_port: Annotated[
        int | None,
        typer.Option(
            "--pg-port",
            min=0,
            max=65535,
            help="Also serve the PostgreSQL wire protocol on this port (off unless given).",
        ),
    ] = None,
) -> None:
    """Serve the glossary over HTTP: compile and run business queries with each caller's
    role, read terms, search, lineage and RDF (docs/serve.md)."""
    with reported():
        missing_packages(pgwire=pg_port is not None)
        import uvicorn

        from semantic.serve.http import make_app
        from semantic.serve.mcphttp import asgi_app
        from semantic.serve.service import Service

        service = Service.open(state.project_path)
        # Front ends over the same service, each with its own audit surface: the MCP server
        # mounted on the HTTP app at /mcp, the PostgreSQL wire endpoint beside it
        mounts: dict[str, Any] = {"/mcp": asgi_app(service, host=host)}
        app = make_app(service, mounts)
        wire = None
        if pg_port is not None:
            from semantic.serve.pgwire import start as start_pgwire

            wire = start_pgwire(service, host, pg_port)
            say(f"PostgreSQL wire on {host}:{wire.port} (user: any, password: a token)")
        if watch:
            service.watch()
        version = service.version
        say(
            f"serving {version.project.model.name} (version {version.number}) on "
            f"http://{host}:{port}/v1 - API description at http://{host}:{port}/docs"
        )
        try:
            uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        finally:
            if wire is not None:
                wire.close()
            service.close()


def missing_packages(*, pgwire: bool = False) -> None:
    """SEM459 naming the first package of the `serve` extra (and with `pgwire`, of the
    `pgwire` extra) that is not installed."""
    from importlib.util import find_spec

    for name in (*PACKAGES, *((PGWIRE,) if pgwire else ())):
        if find_spec(name) is None:
            extras = "serve,pgwire" if pgwire else "serve"
            raise error(
                "SEM459",
                f"`semantic serve` needs {name}, which is not installed",
                None,
                f"pip install 'semantic[{extras}]'",
            )
