"""The options that name the role a query runs with and the caller's attributes, shared by
`compile`, `query` and `explain` (and by any command that runs with a role's rights).

>>> parse_user_attrs(["nation=FRANCE", "team=sales=east"])
{'nation': 'FRANCE', 'team': 'sales=east'}
"""

from __future__ import annotations

from typing import Annotated

import typer

RoleOption = Annotated[
    str | None,
    typer.Option(
        "--role",
        envvar="SEMANTIC_ROLE",
        help="Run with the rights of this role of the policy file (default: $SEMANTIC_ROLE; "
        "none: the project owner's full access).",
    ),
]
UserAttrOption = Annotated[
    list[str] | None,
    typer.Option(
        "--user-attr",
        help="An attribute of the caller that the role's filters read: --user-attr "
        "nation=FRANCE (repeatable).",
    ),
]


def parse_user_attrs(values: list[str] | None) -> dict[str, str]:
    """`--user-attr` values (`key=value`) as the caller's attributes, as text."""
    attrs: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(
                f"'{item}' is not KEY=VALUE: write --user-attr nation=FRANCE",
                param_hint="--user-attr",
            )
        attrs[key] = value
    return attrs
