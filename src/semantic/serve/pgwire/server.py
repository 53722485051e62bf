"""The PostgreSQL wire protocol (version 3) over TCP, a thread per connection: start-up,
the password (a bearer token of the server), the simple and the extended query protocols,
errors with their SQLSTATE. Framing and messages are pygwire's (a sans-I/O codec); what each
message means is here, and what each statement means is `statements`.

The password is asked in clear (AuthenticationCleartextPassword): the server keeps only the
tokens' hashes, so neither MD5 nor SCRAM (which need the password, or a salted key made from
it, on the server) can check it. Run the endpoint on 127.0.0.1, or behind TLS (a tunnel, a
proxy) when clients are elsewhere.
"""

from __future__ import annotations

import logging
import re
import secrets
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pygwire import BackendConnection, TransactionStatus, messages

from semantic.engines.cancel import Cancellation, cancellable
from semantic.errors import Diagnostic, SemanticError, Span
from semantic.serve.pgwire.statements import Result, Session
from semantic.serve.pgwire.types import (
    SIZES,
    binary_value,
    parameter_value,
    text_value,
    type_modifier,
    type_oid,
)

if TYPE_CHECKING:
    from semantic.serve.service import Service

log = logging.getLogger("semantic.serve.pgwire")

#: the SQLSTATE of each code that has one of its own (else by the code's family, `_FAMILY`)
SQLSTATES = {
    "SEM121": "28P01",  # invalid_password
    "SEM331": "42501",  # insufficient_privilege
    "SEM332": "42501",
    "SEM458": "42501",
    "SEM434": "57014",  # query_canceled
    "SEM469": "57014",
    "SEM435": "54000",  # program_limit_exceeded
    "SEM455": "54000",
    "SEM456": "53300",  # too_many_connections
    "SEM462": "0A000",  # feature_not_supported
    "SEM463": "42P01",  # undefined_table
    "SEM464": "42703",  # undefined_column
    "SEM465": "25006",  # read_only_sql_transaction
    "SEM466": "22P02",  # invalid_text_representation
    "SEM347": "0A000",
    "SEM348": "08P01",  # protocol_violation
}
#: a code's family: 2xx and 3xx are the query's own errors (names, syntax, meaning)
_FAMILY = {"2": "42000", "3": "42000", "4": "XX000", "1": "XX000"}


def sqlstate(code: str) -> str:
    """The SQLSTATE an error code is sent with."""
    return SQLSTATES.get(code) or _FAMILY.get(code[3:4], "XX000")


@dataclass
class _Portal:
    sql: str
    params: dict[str, Any]
    formats: list[int]
    result: Result | None = None
    sent: int = 0


@dataclass
class _Prepared:
    sql: str
    #: the parameters' types as Parse declared them (0: not declared)
    types: list[int]
    #: as Describe gave them (declared, else inferred), for binary values of undeclared ones
    described: list[int] = field(default_factory=list)


@dataclass
class _Connection:
    """One client: its socket, codec, session, prepared statements and portals."""

    sock: socket.socket
    service: Service
    #: the server's open connections by their cancel key (process id, secret)
    registry: dict[tuple[int, bytes], _Connection] = field(default_factory=dict)
    key: tuple[int, bytes] | None = None
    #: the handle of the message being handled: a CancelRequest cancels it
    running: Cancellation = field(default_factory=Cancellation)
    codec: BackendConnection = field(default_factory=lambda: BackendConnection(strict=False))
    session: Session | None = None
    startup: dict[str, str] = field(default_factory=dict)
    prepared: dict[str, _Prepared] = field(default_factory=dict)
    portals: dict[str, _Portal] = field(default_factory=dict)
    out: list[bytes] = field(default_factory=list)
    #: an error in the extended protocol: messages are skipped until Sync
    failed: bool = False
    done: bool = False

    def send(self, message: Any) -> None:
        self.out.append(self.codec.send(message))

    def flush(self) -> None:
        if self.out:
            self.sock.sendall(b"".join(self.out))
            self.out.clear()

    def serve(self) -> None:
        while not self.done:
            data = self.sock.recv(65536)
            if not data:
                return
            for message in self.codec.receive(data):
                # a fresh handle per message: a cancel stops what runs now, never what
                # the client sends after
                self.running = Cancellation()
                with cancellable(self.running):
                    self.handle(message)
                if self.done:
                    break
            self.flush()

    def close(self) -> None:
        """Forget the connection's cancel key (the client went)."""
        if self.key is not None:
            self.registry.pop(self.key, None)

    # --- start-up --------------------------------------------------------------------------

    def handle(self, message: Any) -> None:
        if isinstance(message, messages.SSLRequest):
            # no TLS here: the client goes on in clear, or gives up (sslmode=require)
            self.send(messages.SSLResponse(accepted=False))
            return
        if isinstance(message, messages.GSSEncRequest):
            self.send(messages.GSSResponse(accepted=False))
            return
        if isinstance(message, messages.CancelRequest):
            # sent on a connection of its own, which then closes: the query running on the
            # connection of that key is interrupted (its client gets SEM469, 57014), never
            # the connection itself
            target = self.registry.get((message.process_id, bytes(message.secret_key)))
            if target is not None:
                target.running.cancel()
            self.done = True
            return
        if isinstance(message, messages.StartupMessage):
            self.startup = dict(message.params)
            self.send(messages.AuthenticationCleartextPassword())
            return
        if isinstance(message, messages.PasswordMessage):
            self.authenticate(message.password)
            return
        if isinstance(message, messages.Terminate):
            self.done = True
            return
        if self.session is None:
            self.fatal(_diagnostic("SEM348", "the client sent a query before its password"))
            return
        self.dispatch(message)

    def authenticate(self, password: str | bytes) -> None:
        token = password.decode() if isinstance(password, bytes) else password
        token = token.rstrip("\x00")
        try:
            caller = self.service.authenticate(token or None)
        except SemanticError as exc:
            self.fatal(exc.diagnostics[0])
            return
        model = self.service.version.project.model
        database = self.startup.get("database") or "semantic"
        language = _language(self.startup, database, model.languages)
        self.session = Session(self.service, caller, database, language)
        self.send(messages.AuthenticationOk())
        status = dict(self.session.settings)
        status["application_name"] = self.startup.get("application_name", "")
        status["session_authorization"] = self.startup.get("user", caller.name)
        status["TimeZone"] = model.time_zone
        names = {"datestyle": "DateStyle", "intervalstyle": "IntervalStyle"}
        for name in (
            "server_version",
            "server_encoding",
            "client_encoding",
            "datestyle",
            "intervalstyle",
            "integer_datetimes",
            "standard_conforming_strings",
            "is_superuser",
            "application_name",
            "session_authorization",
            "TimeZone",
        ):
            self.send(messages.ParameterStatus(name=names.get(name, name), value=status[name]))
        self.key = (secrets.randbelow(2**31), secrets.token_bytes(4))
        self.registry[self.key] = self
        self.send(messages.BackendKeyData(process_id=self.key[0], secret_key=self.key[1]))
        self.send(messages.ReadyForQuery(status=_status("I")))

    def fatal(self, diagnostic: Diagnostic) -> None:
        self.send(messages.ErrorResponse(fields=_fields(diagnostic, "FATAL")))
        self.done = True

    # --- queries ---------------------------------------------------------------------------

    def dispatch(self, message: Any) -> None:
        assert self.session is not None
        if isinstance(message, messages.Query):
            self.simple(message.query_string)
            return
        if isinstance(message, messages.Sync):
            self.failed = False
            self.send(messages.ReadyForQuery(status=_status(self.session.status)))
            return
        if isinstance(message, messages.Flush):
            return
        if self.failed:
            return  # after an error, the extended protocol skips all until Sync
        try:
            self.extended(message)
        except SemanticError as exc:
            self.error(exc.diagnostics[0])
            self.failed = True
        except Exception as exc:  # noqa: BLE001 - the client gets an error, never a hang
            log.exception("pgwire: unexpected error")
            self.error(_diagnostic("SEM348", f"internal error: {exc}"))
            self.failed = True

    def simple(self, text: str) -> None:
        assert self.session is not None
        statements = _split(text)
        if not statements:
            self.send(messages.EmptyQueryResponse())
        for statement in statements:
            try:
                result = self.session.run(statement)
            except SemanticError as exc:
                self.error(exc.diagnostics[0])
                break
            except Exception as exc:  # noqa: BLE001
                log.exception("pgwire: unexpected error")
                self.error(_diagnostic("SEM348", f"internal error: {exc}"))
                break
            if result.table is not None:
                self.describe(result, [])
            self.rows(result, [], 0, 0)
        self.send(messages.ReadyForQuery(status=_status(self.session.status)))

    def error(self, diagnostic: Diagnostic) -> None:
        assert self.session is not None
        if self.session.status == "T":
            self.session.status = "E"
        self.send(messages.ErrorResponse(fields=_fields(diagnostic, "ERROR")))

    def extended(self, message: Any) -> None:
        assert self.session is not None
        if isinstance(message, messages.Parse):
            self.prepared[message.statement] = _Prepared(message.query, list(message.param_types))
            self.send(messages.ParseComplete())
        elif isinstance(message, messages.Bind):
            prepared = self.prepared.get(message.statement)
            if prepared is None:
                raise SemanticError(_diagnostic("SEM348", "unknown prepared statement"))
            values = list(message.param_values)
            formats = list(message.param_formats) or [0]
            types = prepared.types + [0] * (len(values) - len(prepared.types))
            described = prepared.described + [0] * (len(values) - len(prepared.described))
            params = {}
            for i, v in enumerate(values, 1):
                fmt = formats[(i - 1) % len(formats)]
                # an undeclared text value is typed by the business query; a binary one is
                # read as Describe said it is
                oid = types[i - 1] or (described[i - 1] if fmt == 1 else 0)
                params[str(i)] = parameter_value(v, oid, fmt)
            result_formats = list(message.result_formats)
            self.portals[message.portal] = _Portal(prepared.sql, params, result_formats)
            self.send(messages.BindComplete())
        elif isinstance(message, messages.Describe):
            if message.kind == "S":
                prepared = self.prepared.get(message.name)
                if prepared is None:
                    raise SemanticError(_diagnostic("SEM348", "unknown prepared statement"))
                oids, result = self.session.describe(prepared.sql, prepared.types)
                prepared.described = oids
                self.send(messages.ParameterDescription(type_oids=oids))
                self.describe(result, [])
            else:
                portal = self.portal(message.name)
                self.describe(self.result(portal), portal.formats)
        elif isinstance(message, messages.Execute):
            portal = self.portal(message.portal)
            result = self.result(portal)
            portal.sent = self.rows(result, portal.formats, message.max_rows, portal.sent)
        elif isinstance(message, messages.Close):
            (self.prepared if message.kind == "S" else self.portals).pop(message.name, None)
            self.send(messages.CloseComplete())

    def portal(self, name: str) -> _Portal:
        portal = self.portals.get(name)
        if portal is None:
            raise SemanticError(_diagnostic("SEM348", f"unknown portal '{name}'"))
        return portal

    def result(self, portal: _Portal) -> Result:
        assert self.session is not None
        if portal.result is None:
            portal.result = self.session.run(portal.sql, portal.params)
        return portal.result

    # --- answers ---------------------------------------------------------------------------

    def describe(self, result: Result, formats: list[int]) -> None:
        if result.table is None:
            if result.tag != "EMPTY":
                self.send(messages.NoData())
            return
        fields = []
        for i, column in enumerate(result.table.schema):
            oid = type_oid(column.type)
            fields.append(
                messages.FieldDescription(
                    name=column.name,
                    type_oid=oid,
                    type_size=SIZES.get(oid, -1),
                    type_modifier=type_modifier(column.type),
                    format_code=_format(formats, i),
                )
            )
        self.send(messages.RowDescription(fields=fields))

    def rows(self, result: Result, formats: list[int], limit: int, start: int) -> int:
        """Send the rows from `start` (at most `limit` when it is not 0), then
        CommandComplete, or PortalSuspended when rows are left; the rows sent so far."""
        if result.table is None:
            if result.tag == "EMPTY":
                self.send(messages.EmptyQueryResponse())
            else:
                self.send(messages.CommandComplete(tag=result.tag))
            return start
        table = result.table
        end = table.num_rows if not limit else min(table.num_rows, start + limit)
        oids = [type_oid(c.type) for c in table.schema]
        columns = [c.to_pylist() for c in table.slice(start, end - start).columns]
        binary = [_format(formats, i) == 1 for i in range(len(oids))]
        for row in zip(*columns, strict=True):
            self.send(
                messages.DataRow(
                    columns=[
                        binary_value(v, oids[i]) if binary[i] else text_value(v)
                        for i, v in enumerate(row)
                    ]
                )
            )
            if len(self.out) > 256:
                self.flush()
        if end < table.num_rows:
            self.send(messages.PortalSuspended())
        else:
            self.send(messages.CommandComplete(tag=result.tag))
        return end


def _format(formats: list[int], index: int) -> int:
    if not formats:
        return 0
    return formats[index] if len(formats) > 1 else formats[0]


def _status(code: str) -> TransactionStatus:
    return TransactionStatus(code)


def _fields(diagnostic: Diagnostic, severity: str) -> dict[str, str]:
    """An ErrorResponse's fields: severity, SQLSTATE, the message led by the SEM code, the
    place as detail, the hint."""
    fields = {
        "S": severity,
        "V": severity,
        "C": sqlstate(diagnostic.code),
        "M": f"{diagnostic.code} {diagnostic.message}",
    }
    span = diagnostic.span
    if span is not None and span.line:
        fields["D"] = f"at {span.file}:{span.line}:{span.col}"
    elif span is not None:
        fields["D"] = f"at {span.file}"
    if diagnostic.hint:
        fields["H"] = diagnostic.hint
    return fields


def _diagnostic(code: str, message: str) -> Diagnostic:
    return Diagnostic(code, message, Span("<connection>"), "see docs/serve.md")


def _language(startup: dict[str, str], database: str, languages: tuple[str, ...]) -> str:
    """The language of column names: `-c semantic.language=fr` in the start-up options, else
    a database named as a language, else the project's first."""
    options = startup.get("options", "")
    found = re.search(r"semantic\.language\s*=\s*(\w+)", options)
    if found and found.group(1) in languages:
        return found.group(1)
    return database if database in languages else languages[0]


def _split(text: str) -> list[str]:
    """The statements of a simple query, split at the semicolons outside quotes."""
    parts, current, quote = [], [], ""
    for char in text:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


class PgServer:
    """The wire endpoint listening on a port, each connection in a thread of its own;
    `close` stops it (open connections end with their client)."""

    def __init__(self, service: Service, host: str = "127.0.0.1", port: int = 5433) -> None:
        self.service = service
        #: the open connections by their cancel key
        self.connections: dict[tuple[int, bytes], _Connection] = {}
        handler = _handler(service, self.connections)
        self._server = _ThreadingServer((host, port), handler)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="semantic-pgwire", daemon=True
        )

    def start(self) -> PgServer:
        """Start listening, in a thread; returns self."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop listening and wait for the listening thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def serve_forever(self) -> None:
        """Listen in this thread until interrupted."""
        self._server.serve_forever()


class _ThreadingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _handler(
    service: Service, registry: dict[tuple[int, bytes], _Connection]
) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(sock, service, registry=registry)
            try:
                connection.serve()
                connection.flush()
            except (ConnectionError, OSError):
                pass  # the client went away
            finally:
                connection.close()

    return Handler


def start(service: Service, host: str = "127.0.0.1", port: int = 5433) -> PgServer:
    """The wire endpoint of `service` listening on `host`:`port` (0: a free port, read it
    from `.port`), started in a thread of its own; `close()` it when done."""
    return PgServer(service, host, port).start()
