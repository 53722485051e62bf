"""What a surface other than a query may show, and to whom: the terms up to a
confidentiality level (`--max-confidentiality`), and a role's rights (`--role`: its
clearance, row filters and masks, `semantic.model.policy`), both at once when both are
given (the stricter wins: a term must pass both).

The views (`views`), the catalog site, `semantic search` and `semantic show` read it from
here, so that every surface hides the same terms:

- `Access.sees` says whether a term may be shown at all; `Access.mask`, `Access.rows` and
  `Access.applied` are the role's masks, row filters and policy for the SQL of a view;
- `model_for` is the model as a role sees it (`semantic.model.visible`): a hidden term is
  unknown there, not "hidden"; `project_for` is a project over that model whose queries run
  with the role's policy (`RoleProject`), for the catalog and `semantic show`.

>>> from semantic.project import Project
>>> model = Project.load(".").model
>>> access = access_for(model, "public", "analyst")
>>> access.sees(model.terms["customer_region"]), access.sees(model.terms["net_revenue"])
(True, False)
>>> access.describe()
"for role 'analyst' at confidentiality 'public'"
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from typing import cast

from sqlglot import exp

from semantic.compiler.joins import restricted_rows
from semantic.compiler.jsonquery import QueryInput, query_text
from semantic.compiler.locate import relocated
from semantic.compiler.parse import parse_query
from semantic.compiler.plan import Plan, plan_query
from semantic.compiler.policy import apply_policy, mask_value
from semantic.compiler.refs import BusinessQuery
from semantic.engines.base import Engine
from semantic.errors import Diagnostic, SemanticError, error, unknown_choice
from semantic.model import Entity, Model, Term
from semantic.model.policy import Role
from semantic.model.visible import visible_model
from semantic.project import Project


@dataclass(frozen=True)
class Access:
    """Who an output is made for: the highest confidentiality level it may show (None: any)
    and the role whose rights apply (None: the project owner's full access), with the
    caller's attributes its row filters read."""

    model: Model
    level: str | None = None
    role: Role | None = None
    user: Mapping[str, str] = field(default_factory=dict)

    def sees(self, term: Term) -> bool:
        """Whether `term` may be shown: at most as secret as the level (its effective level,
        `Model.level_of`), and readable by the role (it and all it is computed from)."""
        if self.level is not None and self.model.rank_of(
            self.model.level_of(term.id)
        ) > self.model.rank_of(self.level):
            return False
        return self.role is None or self.role.may_see(term.id)

    def sees_entity(self, entity: Entity) -> bool:
        """Whether the entity itself may be shown: its own level (none: any) at most the
        level and the role's clearance."""
        if entity.confidentiality is None:
            return True
        rank = self.model.rank_of(entity.confidentiality)
        if self.level is not None and rank > self.model.rank_of(self.level):
            return False
        return self.role is None or rank <= self.model.rank_of(self.role.clearance)

    def mask(self, term: Term, value: exp.Expression) -> exp.Expression:
        """`value`, the value of `term`, masked as the role masks it (`mask_value`)."""
        how = self.role.mask_of(term.id) if self.role is not None else None
        return value if how is None else mask_value(how, value)

    def rows(self, entity: Entity) -> exp.Select | None:
        """The rows of `entity` the role may read, as a query over its table and the tables
        its filters reach (`compiler.joins.restricted_rows`), the caller's attributes
        written as values; None when its filters do not restrict that entity."""
        if self.role is None:
            return None
        empty = self.applied(BusinessQuery((), (), (), (), None, None, ()))
        if entity.id not in empty.restrict:
            return None
        return self.inlined(restricted_rows(self.model, entity.id, empty), empty)

    def applied(self, query: BusinessQuery) -> BusinessQuery:
        """`query` as the role may run it (`compiler.policy.apply_policy`): SEM331 for a
        term above its clearance, SEM257 for a caller's attribute its filters need and
        that `user` lacks."""
        if self.role is None:
            return query
        return apply_policy(self.model, query, self.role.id, self.user)

    def inlined(self, tree: exp.Select, query: BusinessQuery) -> exp.Select:
        """`tree` with the parameters the role's filters bind written as values: a view is
        stored SQL, with nothing to bind them at read time. The values are literals of the
        tree (`exp.convert`), never text pasted into SQL."""
        if not query.bound:
            return tree

        def value(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Placeholder) and node.name in query.bound:
                return cast(exp.Expression, exp.convert(query.bound[node.name]))
            return node

        return cast(exp.Select, tree.transform(value))

    @property
    def restricted(self) -> bool:
        """Whether anything is restricted at all (a level or a role)."""
        return self.level is not None or self.role is not None

    def empty(self, schema: str, view: str, source: str) -> Diagnostic:
        """SEM436: `view` (of an entity or a subject area, `source`) has no column left,
        and what would give it one."""
        if self.restricted:
            hint = (
                "to publish it, publish for a role with a higher clearance, raise "
                "--max-confidentiality, or lower the `confidentiality:` of a term defined on "
                "the entity"
            )
        elif source == "entity":
            hint = "to publish it, give the entity a primary key or define a dimension on it"
        else:
            hint = "give the subject area a dimension or a metric"
        who = f" {self.describe()}" if self.restricted else ""
        return Diagnostic(
            "SEM436",
            f"view '{schema}.{view}' has no column left{who}: it is not published",
            None,
            hint,
            "warning",
        )

    def describe(self) -> str:
        """Who it is for, in words: "for role 'x'", "at confidentiality 'y'", both or ''."""
        parts = []
        if self.role is not None:
            parts.append(f"for role '{self.role.id}'")
        if self.level is not None:
            parts.append(f"at confidentiality '{self.level}'")
        return " ".join(parts)


def access_for(
    model: Model,
    level: str | None = None,
    role: str | None = None,
    user: Mapping[str, str] | None = None,
) -> Access:
    """The access of `role` (SEM256 when the policy file has no such role) up to `level`
    (SEM419 when it is not one of the project's confidentiality levels)."""
    if level is not None and level not in model.levels:
        raise unknown_choice("SEM419", "confidentiality", level, model.levels)
    found = model.policy.role(role) if role is not None else None
    return Access(model, level, found, dict(user or {}))


@dataclass
class RoleProject(Project):
    """A project as one role sees it: its `model` is the visible model (`model_for`), so
    whatever lists terms (the catalog, a card's dimensions, example queries) lists only the
    role's, and a query naming a hidden term is refused as naming an unknown one; a query is
    then planned on the whole model with the role's policy applied (its row filters, masks),
    and runs on the owner project's engines."""

    owner: Project | None = None
    role: str = ""
    user: Mapping[str, str] = field(default_factory=dict)

    def _owner(self) -> Project:
        assert self.owner is not None
        return self.owner

    def parse(
        self, query: QueryInput, role: str | None = None, user: Mapping[str, str] | None = None
    ) -> BusinessQuery:
        """`query` parsed against the names the role sees, the role's policy applied (on
        the whole model: its filters may read terms it does not see). `role` and `user`
        may only repeat the project's own (SEM337 otherwise)."""
        self._same_role(role, user)
        key = (query, self.role, tuple(sorted(self.user.items())))
        kept = self._parsed
        if kept is not None and kept[1] is self.model and kept[0] == key:
            return kept[2]
        text = query_text(query, self.model)
        parsed = parse_query(self.model, text)
        try:
            parsed = apply_policy(self._owner().model, parsed, self.role, self.user)
        except SemanticError as exc:
            raise relocated(exc, text) from None
        self._parsed = (deepcopy(key), self.model, parsed)
        return parsed

    def _same_role(self, role: str | None, user: Mapping[str, str] | None) -> None:
        if (role is None or role == self.role) and (user is None or dict(user) == self.user):
            return
        raise error(
            "SEM337",
            f"this project is seen as role '{self.role}': it cannot run a query as "
            f"{'role ' + repr(role) if role else 'other caller attributes'}",
            None,
            "run the query on the project itself (Project.load), naming the role there",
        )

    def plan(
        self, query: QueryInput, role: str | None = None, user: Mapping[str, str] | None = None
    ) -> Plan:
        """The plan of `query` (see `parse`) on the whole model."""
        parsed = self.parse(query, role, user)
        try:
            return plan_query(self._owner().model, parsed)
        except SemanticError as exc:
            raise relocated(exc, parsed.text) from None

    def engine_for(self, name_or_url: Engine | str | None = None, *, write: bool = False) -> Engine:
        """The owner project's engine (see `Project.engine_for`)."""
        return self._owner().engine_for(name_or_url, write=write)

    def close(self) -> None:
        """Close the owner project's engines."""
        self._owner().close()


def project_for(
    project: Project, role: str | None, user: Mapping[str, str] | None = None
) -> Project:
    """`project` as `role` sees it (`RoleProject`), `user` holding the caller's attributes
    its filters read; `project` itself without a role; SEM256 for an unknown role, SEM257
    when `user` lacks an attribute the role's filters read."""
    if role is None:
        return project
    # SEM256 for an unknown role, SEM257 for a caller's attribute its filters need: said
    # once here rather than by every query the surface runs (each would fail alike)
    apply_policy(project.model, BusinessQuery((), (), (), (), None, None, ()), role, user)
    return RoleProject(
        project.root,
        project.config,
        model_for(project.model, role),
        list(project.warnings),
        owner=project,
        role=role,
        user=dict(user or {}),
    )


def hidden_terms(model: Model, level: str | None, role: str | None = None) -> list[str]:
    """The terms above the confidentiality `level` or hidden from `role` (none without
    either), SEM419 for an unknown level, SEM256 for an unknown role."""
    access = access_for(model, level, role)
    return sorted(t.id for t in model.terms.values() if not access.sees(t))


def model_for(model: Model, role: str | None) -> Model:
    """`model` as `role` sees it (`semantic.model.visible`); the whole model without a
    role (the project owner's full access); SEM256 for an unknown role."""
    if role is None:
        return model
    return visible_model(model, model.policy.role(role))
