"""The MCP server over streamable HTTP (`asgi_app`): one ASGI app that `semantic serve`
mounts at `/mcp`.

It is stateless (each request stands alone: its bearer token names its caller) and answers
in JSON. A request whose token the server does not know is answered 401 with the coded body
of an HTTP error before MCP reads it. The SDK's session manager must run while requests are
served; a mounted app gets no lifespan events from the app that mounts it, so the manager is
started with the first request, in a task of its own (and with the lifespan when this is the
server's own app).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings

from semantic.errors import SemanticError
from semantic.serve.mcp import bearer, error_body, make_server
from semantic.serve.service import Service

#: the loopback names: a server listening on one of them refuses other Host headers (a web
#: page cannot reach it through DNS rebinding)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def asgi_app(service: Service, *, host: str = "127.0.0.1") -> McpHttp:
    """The MCP server over streamable HTTP as one ASGI app, for `semantic serve` to mount at
    `/mcp` (`app.mount("/mcp", asgi_app(service, host=host))`); `host` is the address the
    server listens on (on a loopback address, requests naming another host are refused)."""
    return McpHttp(service, host)


class McpHttp:
    """The streamable-HTTP endpoint (see `asgi_app`): stateless, JSON answers; a request
    whose bearer token the server does not know is answered 401 with a coded body before
    MCP reads it."""

    def __init__(self, service: Service, host: str) -> None:
        self.service = service
        self.server = make_server(service, http=True)
        if host in LOOPBACK:
            security = TransportSecuritySettings(
                enable_dns_rebinding_protection=True,
                allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
                allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
            )
        else:  # listening beyond this machine: the tokens decide, whatever the Host says
            security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
        # builds the session manager; its routes are not used: `__call__` hands it every request
        self.server.streamable_http_app(
            stateless_http=True, json_response=True, transport_security=security, host=host
        )
        self._running: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        refused = self._refused(scope)
        if refused is not None:
            await refused(scope, receive, send)
            return
        await self.start()
        await self.server.session_manager.handle_request(scope, receive, send)

    def _refused(self, scope: Mapping[str, Any]) -> Any:
        """The 401 answer of a request whose token is not the server's, else None."""
        from starlette.responses import JSONResponse

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            self.service.authenticate(bearer(headers.get("authorization")))
        except SemanticError as exc:
            return JSONResponse(
                error_body(exc.diagnostics), status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        return None

    async def start(self) -> None:
        """Run the session manager, in a task of its own, from the first call on."""
        if self._running is None:
            self._running = asyncio.get_running_loop().create_task(self._run())
        await self._ready.wait()
        if self._running.done() and self._running.exception() is not None:
            raise RuntimeError("the MCP session manager stopped") from self._running.exception()

    async def _run(self) -> None:
        try:
            async with self.server.session_manager.run():
                self._ready.set()
                await self._stop.wait()
        finally:
            self._ready.set()  # a failure to start is raised to the waiting requests

    async def stop(self) -> None:
        """Stop the session manager (requests under way are finished first)."""
        if self._running is not None:
            self._stop.set()
            await self._running

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
