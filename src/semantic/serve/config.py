"""Who may call the server and what a request may ask: semantic.yml's `serve:` block and the
tokens file it names, read and checked against the policy's roles.

A bearer token is kept as the SHA-256 of its text, never in clear: the server hashes what a
request brings and looks the hash up. Tokens are long random texts (`new_token`), so a fast
hash is enough (a password would need a slow, salted one: a token has nothing to guess).

>>> digest = hash_token("s3cr3t")
>>> digest[:16]
'4e738ca5563c06cf'
>>> tokens = {digest: Caller("ann", "emea_analyst", {})}
>>> authenticate(tokens, "s3cr3t", None).role
'emea_analyst'
>>> authenticate(tokens, "guess", None)
Traceback (most recent call last):
...
semantic.errors.SemanticError: <request>: SEM121 the bearer token is not one of the server's
  help: ask for a token; the server's tokens file holds only their hashes
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from semantic.errors import Diagnostic, Span, error, suggest
from semantic.files.read import read_file
from semantic.files.schema import ServeSpec, TokensFile
from semantic.model import Model

#: where an authentication error is placed (a request has no file)
REQUEST = Span("<request>")
#: the name the audit records give a request without a token
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Caller:
    """Who makes a request: the name the audit records give it, the role of the policy file
    it runs as (None: the project owner's full access) and its attributes (what the role's
    filters read, `$user.nation`)."""

    name: str
    role: str | None
    user: Mapping[str, str] = field(default_factory=dict)
    anonymous: bool = False

    def cache_key(self) -> tuple[str | None, tuple[tuple[str, str], ...]]:
        """What of the caller changes the SQL of a query: its role and its attributes."""
        return self.role, tuple(sorted(self.user.items()))


def hash_token(token: str) -> str:
    """The SHA-256 of `token`, in hexadecimal: what the tokens file holds."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """A new random token (256 bits, URL-safe text) and its hash."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def read_tokens(
    root: Path, spec: ServeSpec | None, model: Model
) -> tuple[dict[str, Caller], list[Diagnostic]]:
    """The callers of the tokens file that `spec` names, by the hash of their token, and
    the problems found: the file's own (SEM101, SEM102 at file:line:col), and SEM120 for a
    role the policy file lacks, an attribute a role's filters read that a token does not
    give, or a hash given twice."""
    if spec is None or spec.tokens is None:
        return {}, []
    name = spec.tokens
    path = root / name
    if not path.is_file():
        return {}, [
            Diagnostic(
                "SEM120",
                f"the tokens file {name} does not exist",
                Span("semantic.yml"),
                "create it (see docs/serve.md) or fix serve.tokens in semantic.yml",
            )
        ]
    doc, problems = read_file(path, TokensFile, name)
    if doc is None:
        return {}, problems
    callers: dict[str, Caller] = {}
    roles = model.policy.roles
    for caller, token in doc.data.tokens.items():
        place = doc.span(("tokens", caller), value=False)
        if token.role is not None and token.role not in roles:
            problems.append(
                Diagnostic(
                    "SEM120",
                    f"token '{caller}' runs as role '{token.role}', which "
                    f"{model.policy.file} does not define",
                    doc.span(("tokens", caller, "role"), value=True),
                    suggest(token.role, roles) or f"the roles are {', '.join(sorted(roles))}",
                )
            )
            continue
        needed = roles[token.role].attributes if token.role is not None else ()
        missing = [a for a in needed if a not in token.user]
        if missing:
            problems.append(
                Diagnostic(
                    "SEM120",
                    f"token '{caller}' runs as role '{token.role}', whose filters read "
                    f"$user.{missing[0]}, which the token does not give",
                    place,
                    f"add user: {{{missing[0]}: VALUE}} to the token",
                )
            )
            continue
        if token.sha256 in callers:
            problems.append(
                Diagnostic(
                    "SEM120",
                    f"token '{caller}' has the hash of token '{callers[token.sha256].name}'",
                    doc.span(("tokens", caller, "sha256"), value=True),
                    "give each caller a token of its own (see docs/serve.md)",
                )
            )
            continue
        callers[token.sha256] = Caller(caller, token.role, MappingProxyType(dict(token.user)))
    return callers, problems


def check_anonymous(spec: ServeSpec | None, model: Model) -> list[Diagnostic]:
    """SEM120 when `serve.anonymous_role` names a role the policy file lacks, or one whose
    filters read the caller's attributes (an anonymous request has none)."""
    role = spec.anonymous_role if spec is not None else None
    if role is None:
        return []
    roles = model.policy.roles
    if role not in roles:
        return [
            Diagnostic(
                "SEM120",
                f"serve.anonymous_role '{role}' is not a role of {model.policy.file}",
                Span("semantic.yml"),
                suggest(role, roles) or f"the roles are {', '.join(sorted(roles))}",
            )
        ]
    if roles[role].attributes:
        return [
            Diagnostic(
                "SEM120",
                f"serve.anonymous_role '{role}' has filters that read the caller's attributes "
                f"($user.{roles[role].attributes[0]}), which an anonymous request does not have",
                Span("semantic.yml"),
                "name a role without attributes, or give each caller a token",
            )
        ]
    return []


def authenticate(tokens: Mapping[str, Caller], token: str | None, anonymous: str | None) -> Caller:
    """The caller a request's bearer `token` names (None: the request brought none, and runs
    as the `anonymous` role when there is one). SEM121 for a token the server does not know,
    or for no token when anonymous requests are refused. The token itself is never kept nor
    written anywhere: only its hash is compared, in constant time."""
    if token is None:
        if anonymous is None:
            raise error(
                "SEM121",
                "this server needs a bearer token",
                REQUEST,
                "send Authorization: Bearer TOKEN (or set serve.anonymous_role in semantic.yml)",
            )
        return Caller(ANONYMOUS, anonymous, MappingProxyType({}), anonymous=True)
    digest = hash_token(token)
    found = None
    for known, caller in tokens.items():  # every hash compared: the time says nothing
        if hmac.compare_digest(known, digest):
            found = caller
    if found is None:
        raise error(
            "SEM121",
            "the bearer token is not one of the server's",
            REQUEST,
            "ask for a token; the server's tokens file holds only their hashes",
        )
    return found


def serve_spec(spec: ServeSpec | None) -> ServeSpec:
    """semantic.yml's `serve:` block, or its defaults when there is none."""
    return spec if spec is not None else ServeSpec()
