"""The access policy: roles read from the policy file (`policies.yml`) and checked against
the model, each with its clearance, its row filters and its masks.

A role sees a term when the term and everything it is computed from (the metrics of a
derived metric, the terms of a metric's filter, the time dimension of a window or shift)
are at most as secret as its clearance (`Model.level_of`: the most secret of a term's own
level and its entities'). The records are here, `roles` reads them from the file, and the
compiler enforces the rest (`compiler/policy.py`).

>>> from semantic.project import Project
>>> model = Project.load(".").model
>>> analyst = model.policy.role("analyst")
>>> analyst.clearance, analyst.may_see("net_revenue"), analyst.may_see("customer_name")
('internal', True, False)
>>> model.policy.role("analyts")
Traceback (most recent call last):
...
semantic.errors.SemanticError: policies.yml: SEM256 unknown role 'analyts'
  help: did you mean 'analyst' or 'emea_analyst'?
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlglot import exp

from semantic.errors import Span, error, suggest

#: the prefix of a caller's attribute in a role filter: `$user.nation`
USER = "user"

T = TypeVar("T", covariant=True)


class _Terms(Protocol[T]):
    """What has terms by id (a `Model`: this module sits below the records of `types`)."""

    @property
    def terms(self) -> Mapping[str, T]: ...


@dataclass(frozen=True, slots=True)
class RowFilter:
    """A condition every row a role reads must meet, over terms by id. A caller's attribute
    `$user.KEY` is the placeholder named `user.KEY` (bound by the compiler, never spliced)."""

    text: str
    condition: exp.Expression
    terms: tuple[str, ...]
    attributes: tuple[str, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Role:
    """A role of the policy file: what its users may read, which rows, masked how."""

    id: str
    description: str | None
    clearance: str
    filters: tuple[RowFilter, ...]
    #: term id -> hash, redact or partial
    masks: Mapping[str, str]
    #: the caller's attributes the filters use (`$user.KEY`)
    attributes: tuple[str, ...]
    database_role: str | None
    span: Span
    #: the terms the role may read, their inputs included (see the module)
    visible: frozenset[str] = frozenset()

    def may_see(self, term_id: str) -> bool:
        """Whether the role may read `term_id` (and everything it is computed from)."""
        return term_id in self.visible

    def visible_terms(self, model: _Terms[T]) -> list[T]:
        """The terms of `model` the role may read, in the model's order."""
        return [t for tid, t in model.terms.items() if tid in self.visible]

    def mask_of(self, term_id: str) -> str | None:
        """How the role sees `term_id`'s values masked (hash, redact, partial), or None."""
        return self.masks.get(term_id)


@dataclass(frozen=True)
class Policy:
    """The roles of the policy file; `require_role` refuses queries that name none."""

    roles: Mapping[str, Role] = field(default_factory=dict)
    require_role: bool = False
    file: str = "policies.yml"

    def role(self, name: str) -> Role:
        """The role `name`, or SEM256 with the closest names."""
        found = self.roles.get(name)
        if found is None:
            raise error(
                "SEM256",
                f"unknown role '{name}'",
                Span(self.file),
                suggest(name, self.roles)
                or (
                    f"the roles are {', '.join(sorted(self.roles))}"
                    if self.roles
                    else f"{self.file} defines no role: add one (see docs/governance.md)"
                ),
            )
        return found
