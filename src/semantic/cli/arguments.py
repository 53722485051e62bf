"""Arguments shared by the commands that take one term (`show`, `lineage`)."""

from __future__ import annotations

from typing import Annotated

import typer

#: one term, by id, label or synonym in any language
TermArgument = Annotated[
    str,
    typer.Argument(
        metavar="TERM",
        help="A term's id, or a label or synonym in any language (quote it: "
        '"Chiffre d\'affaires net").',
    ),
]
