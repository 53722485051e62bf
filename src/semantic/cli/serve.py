"""`semantic serve`: the glossary over HTTP (docs/serve.md).

The command checks that the server's packages are there, opens the service (the project must
load), watches the files, and runs uvicorn until interrupted. FastAPI, uvicorn and watchfiles
are imported here, in the body, only when the command runs (`tests/test_startup.py`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from semantic.cli.app import reported, say, state
from semantic.errors import error

#: the packages of the optional extra `serve`, by the name they are imported as
PACKAGES = ("fastapi", "uvicorn", "watchfiles")


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
) -> None:
    """Serve the glossary over HTTP: compile and run business queries with each caller's
    role, read terms, search, lineage and RDF (docs/serve.md)."""
    with reported():
        missing_packages()
        import uvicorn

        from semantic.serve.http import make_app
        from semantic.serve.service import Service

        service = Service.open(state.project_path)
        # Front ends over the same service: the MCP server mounts itself on the HTTP app at
        # /mcp (add it to `mounts`), the PostgreSQL wire endpoint (`--pg-port`) listens
        # beside it; each calls `service` with its own audit surface ("mcp", "pgwire").
        mounts: dict[str, Any] = {}
        app = make_app(service, mounts)
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
            service.close()


def missing_packages() -> None:
    """SEM459 naming the first package of the `serve` extra that is not installed."""
    from importlib.util import find_spec

    for name in PACKAGES:
        if find_spec(name) is None:
            raise error(
                "SEM459",
                f"`semantic serve` needs {name}, which is not installed",
                None,
                "pip install 'semantic[serve]'",
            )
