"""The schemas of the access files: `policies.yml` (roles) and the tokens file of
`semantic serve`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
)

from semantic.files.schema.base import (
    Confidentiality,
    Id,
    SqlText,
    Strict,
)

# --- policies.yml ---------------------------------------------------------------------------

Mask = Literal["hash", "redact", "partial"]


class RoleSpec(Strict):
    """A role: what its users may see (`clearance`), which rows (`filters`), masked how."""

    description: str | None = None
    clearance: Confidentiality = Field(description="The most secret level the role may read.")
    filters: list[SqlText] = Field(
        default_factory=list,
        description="Business conditions every row read must meet, on dimensions and segments "
        "by term id; `$user.KEY` is the caller's attribute KEY, e.g. customer_nation = "
        "$user.nation.",
    )
    masks: dict[Id, Mask] = Field(
        default_factory=dict,
        description="Dimensions shown masked: hash (md5 of the text), redact (a constant), "
        "partial (all but the last 4 characters hidden).",
    )
    attributes: list[Id] = Field(
        default_factory=list, description="The caller's attributes the filters use ($user.KEY)."
    )
    database_role: str | None = Field(
        None, description="The database role granted this role's views (`views apply`)."
    )


class PolicyFile(Strict):
    """`policies.yml`: the roles that may query the project (docs/governance.md)."""

    require_role: bool = Field(
        False, description="Refuse queries that name no role (else: the owner's full access)."
    )
    roles: dict[Id, RoleSpec] = Field(default_factory=dict)


# --- the tokens file of `semantic serve` ----------------------------------------------------

#: a caller's name: what the audit records say (`user.name`)
CallerName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@+-]*$", max_length=128)
]


class TokenSpec(Strict):
    """A bearer token of `semantic serve`, stored as the SHA-256 of its text, never in clear."""

    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="The SHA-256 of the token, in hexadecimal: printf %s TOKEN | sha256sum.",
    )
    role: Id | None = Field(
        default=None,
        description="The role of the policy file its requests run as; none: the project owner's "
        "full access.",
    )
    user: dict[Id, str] = Field(
        default_factory=dict, description="The caller's attributes the role's filters read."
    )


class TokensFile(Strict):
    """The tokens file of `semantic serve` (semantic.yml's `serve.tokens`): each caller's
    name, the hash of its token, its role and attributes (docs/serve.md)."""

    tokens: dict[CallerName, TokenSpec] = Field(default_factory=dict)
