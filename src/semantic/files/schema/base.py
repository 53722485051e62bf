"""What every file schema shares: ids, SQL text, languages, grains, levels, and `Strict`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from semantic.files.grains import GRAINS as GRAINS  # re-exported: defined without pydantic
from semantic.files.grains import Grain as Grain

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=128),
    Field(description="A stable snake_case id: lower-case letters, digits and underscores."),
]
#: how deep brackets may nest in an expression (sqlglot's parser recurses on each level;
#: the business query language has the same limit)
MAX_EXPR_DEPTH = 64


def _shallow(text: str) -> str:
    """`text`, if its brackets nest at most `MAX_EXPR_DEPTH` deep (quoted text aside)."""
    if text.count("(") + text.count("[") <= MAX_EXPR_DEPTH:
        return text  # the usual case, without a walk
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
            if depth > MAX_EXPR_DEPTH:
                raise ValueError(
                    f"the expression nests brackets more than {MAX_EXPR_DEPTH} levels deep"
                )
        elif char in ")]":
            depth -= 1
    return text


#: a SQL expression or condition written in a file
SqlText = Annotated[str, AfterValidator(_shallow)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
LangText = dict[Language, str]
Cardinality = Literal["many_to_one", "one_to_one", "one_to_many"]
Status = Literal["draft", "approved", "deprecated"]
#: a confidentiality level: a name among the project's `confidentiality_levels`
Confidentiality = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=128),
    Field(description="A confidentiality level of the project's `confidentiality_levels`."),
]


class Strict(BaseModel):
    """Base of every file schema: unknown keys are errors, objects are immutable. A schema
    is built when a file is first validated, not when this module is imported: a kept load
    (`files.loadcache`) unpickles semantic.yml's object and never validates."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
