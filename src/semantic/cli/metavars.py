"""Honest metavars in `--help`: what to type after each option, never a Python type.

Typer shows an option's Python type as its metavar (`--param <list[str]>`, `--debug <bool>`,
an argument `query <str>`). `HonestGroup`, the class of the `semantic` app, rewrites every
command's parameters once the command tree is built: a flag shows no value, a choice its
choices (`[table|csv|json]`), an option the word of `METAVARS` for its name (the same word
for an option wherever it appears) or else its name in capitals, and an argument its name
in capitals without a type. A metavar declared on the option itself is kept.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup

#: What each option takes, by its long name, wherever it appears.
METAVARS: dict[str, str] = {
    "--project": "DIR",
    "--param": "NAME=VALUE",
    "--engine": "ENGINE",
    "--dialect": "DIALECT",
    "--language": "LANG",
    "--timeout": "SECONDS",
    "--max-rows": "N",
    "--limit": "N",
    "--output": "PATH",
    "--into": "DIR",
    "--base": "IRI",
    "--from-duckdb": "FILE",
    "--from-files": "DIR",
    "--max-confidentiality": "LEVEL",
    "--format": "FORMAT",
    "--audit-file": "FILE",
    "--caller": "NAME",
}


class HonestGroup(TyperGroup):
    """A typer group whose commands, and their sub-commands, show honest metavars."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        honest_metavars(self)

    def get_params(self, ctx: Any) -> list[Any]:
        """The group's parameters, including those typer adds after `__init__` (the
        completion options), each with an honest metavar."""
        params = super().get_params(ctx)
        for param in params:
            _honest(param)
        return list(params)


class _UntypedArgument(TyperArgument):
    """An argument shown by its name alone (typer would add `<str>`)."""

    def display_type_rich(self, ctx: Any) -> str | None:  # noqa: ARG002
        return None


def honest_metavars(command: Any) -> None:
    """Give every parameter of `command` (a click command or group, and its sub-commands)
    and its `--help` an honest metavar (see the module's docstring)."""
    help_option = command.get_help_option(typer.Context(command))
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        _honest(param)
    for sub in getattr(command, "commands", {}).values():
        honest_metavars(sub)


def _honest(param: Any) -> None:
    if isinstance(param, TyperArgument):
        if param.metavar is None:
            param.metavar = (param.name or "value").upper()
        param.__class__ = _UntypedArgument
        return
    if param.metavar is not None:
        return
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        param.metavar = ""  # a flag takes no value
        return
    choices = _choices(param)
    if choices:
        param.metavar = "[" + "|".join(str(getattr(c, "value", c)) for c in choices) + "]"
        return
    long_name = next((o for o in param.opts if o.startswith("--")), f"--{param.name}")
    param.metavar = METAVARS.get(long_name) or long_name.removeprefix("--").upper()


def _choices(param: Any) -> tuple[Any, ...]:
    """The values a choice option takes (typer 0.2x describes them in `type_descriptor`,
    older versions in click's `type`)."""
    described = getattr(param, "type_descriptor", None)
    if described is not None:
        return tuple(described.choices or ()) if described.is_choice else ()
    return tuple(getattr(getattr(param, "type", None), "choices", None) or ())
