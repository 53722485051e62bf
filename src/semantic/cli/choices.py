"""The one check of `--kind` and `--language` values, for every command that has them: a
value outside the list is a usage error (exit 2) that lists the valid ones, never a
silently empty result.

`--kind` takes the kinds of terms, singular or plural (`metrics` is what people type);
`--language` takes the languages of the project's `semantic.yml`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

import typer

from semantic.errors import suggest


def kinds() -> tuple[str, ...]:
    """The kinds of terms, as the glossary files name them (read when an option is checked:
    the model's types are not imported for `--help`)."""
    from semantic.model.types import Kind

    return get_args(Kind)


def checked_kind(value: str | None) -> str | None:
    """`value` as a kind of term (`metrics` and `time-dimension` read as `metric` and
    `time_dimension`); a usage error naming the kinds when it is none. Usable as a typer
    option callback."""
    if value is None:
        return None
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    KINDS = kinds()  # noqa: N806 - a constant of this call
    for kind in KINDS:
        if key in (kind, kind + "s"):
            return kind
    plurals = {k + "s": k for k in KINDS}
    close = suggest(value, [*KINDS, *plurals], group=plurals)
    raise typer.BadParameter(
        f"'{value}' is not a kind of term; use {_listing(KINDS)} (or their plurals)"
        + (f"; {close}" if close else ""),
        param_hint="'--kind'",
    )


def checked_language(value: str | None, languages: Sequence[str]) -> str | None:
    """`value` when it is one of the project's `languages` (None stays None: the command's
    default); a usage error listing them otherwise."""
    if value is None or value in languages:
        return value
    close = suggest(value, languages)
    raise typer.BadParameter(
        f"'{value}' is not a language of this project; use {_listing(languages)} "
        "(semantic.yml's languages)" + (f"; {close}" if close else ""),
        param_hint="'--language' / '-l'",
    )


def _listing(values: Sequence[str]) -> str:
    return ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else values[0]
