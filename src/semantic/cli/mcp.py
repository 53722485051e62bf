"""`semantic mcp`: the glossary for AI agents over MCP on standard input and output
(docs/serve.md, "MCP").

The command checks that the MCP SDK is there, opens the service (the project must load),
watches the files, and serves until the client closes standard input. Standard output
carries MCP's messages only: anything for a person goes to standard error. The SDK is
imported here, in the body, only when the command runs (`tests/test_startup.py`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from semantic.cli.app import reported, state
from semantic.errors import error

#: the packages `semantic mcp` needs (of the optional extra `serve`), by import name
PACKAGES = ("mcp", "watchfiles")


def mcp(
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="SEMANTIC_TOKEN",
            show_default=False,
            help="A token of the server's tokens file: every call runs with its role "
            "(default: serve.anonymous_role). Prefer the SEMANTIC_TOKEN variable: a command "
            "line is visible to other users of the machine.",
        ),
    ] = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch/--no-watch", help="Reload when the project's files change (default: on)."
        ),
    ] = True,
) -> None:
    """Serve the glossary to AI agents over MCP on standard input and output: search and
    describe terms, compile, run and explain business queries (docs/serve.md)."""
    with reported():
        missing_packages(PACKAGES if watch else PACKAGES[:1])
        from semantic.serve.mcp import run_stdio
        from semantic.serve.service import Service

        service = Service.open(state.project_path)
        try:
            run_stdio(service, token or None, watch=watch)
        finally:
            service.close()


def missing_packages(packages: tuple[str, ...]) -> None:
    """SEM460 naming the first of `packages` that is not installed."""
    from importlib.util import find_spec

    for name in packages:
        if find_spec(name) is None:
            raise error(
                "SEM460",
                f"`semantic mcp` needs {name}, which is not installed",
                None,
                "pip install 'semantic[serve]'",
            )
