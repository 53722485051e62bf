"""`semantic.cli.coercion` converts command-line values as typer's own conversion does:
for every parameter of every command and a range of values (plain and odd strings, lists,
choices in any case, numbers, paths, values of the wrong type), the value converted, or
the error's message, is the same with both. (And one regular expression of the start,
written more cheaply, is checked to be the same.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.core
from typer import _coercion
from typer.main import get_command

from semantic.cli import app
from semantic.cli.coercion import _TYPERS, _cheap

#: values given to every parameter: strings as the shell passes them, a list of them, a
#: path, numbers, a bool and other values of the wrong type
VALUES: list[Any] = [
    "x",
    "",
    "-",
    " a b ",
    "~/x",
    "table",
    "JSON",
    "csv",
    "12",
    "007",
    "-3",
    "1.5",
    "1_000",
    "99999999999999999999",
    "true",
    ["a", "b"],
    ("a",),
    [],
    ["a", 1],
    Path("."),
    Path("no/such/file"),
    7,
    True,
    False,
    b"x",
    1.5,
]


def parameters() -> Iterator[tuple[str, Any]]:
    """(command path and option, parameter) of every parameter of every command."""

    def walk(command: Any, path: str) -> Iterator[tuple[str, Any]]:
        for param in command.params:
            if hasattr(param, "type_descriptor"):
                yield f"{path} {param.name}", param
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{path} {name}")

    yield from walk(get_command(app), "semantic")


def outcome(convert: Any, value: Any) -> tuple[str, Any]:
    """What `convert(value)` gives: ("value", the value) or ("error", its type and text)."""
    try:
        return "value", convert(value)
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return "error", (type(error).__name__, str(error))


def test_the_conversion_is_installed() -> None:
    assert getattr(typer.core.build_runtime_param, "semantic_cheap", False)


@pytest.mark.parametrize(("name", "param"), list(parameters()), ids=lambda v: str(v))
def test_every_parameter_converts_as_typer_does(name: str, param: Any) -> None:
    command = get_command(app)
    ctx = command.make_context("semantic", ["--help"], resilient_parsing=True)
    ours = typer.core.build_runtime_param(param.type_descriptor)
    typers = _coercion.build_runtime_param(param.type_descriptor)
    for value in VALUES:
        mine = outcome(lambda v: ours.coerce(v, param=param, ctx=ctx), value)
        theirs = outcome(lambda v: typers.coerce(v, param=param, ctx=ctx), value)
        assert mine == theirs, (name, value)
        assert type(mine[1]) is type(theirs[1]), (name, value)


def test_a_typer_whose_internals_changed_keeps_its_own_conversion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If typer's private `RuntimeParam` no longer takes what the cheap conversion gives
    it, each parameter gets typer's own conversion, and the command still runs."""
    original = _coercion.RuntimeParam.__init__

    def changed(self: Any, *args: Any, **kwargs: Any) -> None:
        if type(self).__name__ == "CheapRuntimeParam":
            raise TypeError("RuntimeParam.__init__() got an unexpected keyword argument")
        original(self, *args, **kwargs)

    monkeypatch.setattr(_coercion.RuntimeParam, "__init__", changed)
    _, param = next(p for p in parameters() if p[1].name == "project")
    built = typer.core.build_runtime_param(param.type_descriptor)
    assert type(built).__name__ != "CheapRuntimeParam"
    ctx = get_command(app).make_context("semantic", ["--help"], resilient_parsing=True)
    assert built.coerce("models", param=param, ctx=ctx) == Path("models")


def test_common_values_are_converted_without_typers_adapter() -> None:
    handled = 0
    for _, param in parameters():
        for value in VALUES:
            try:
                handled += _cheap(param.type_descriptor, value, param, None) is not _TYPERS
            except Exception:  # noqa: BLE001, S112 - a failure goes to typer's conversion
                continue
    assert handled > 100  # the string, choice, path and flag values of the commands


def test_the_search_punctuation_is_the_negated_class() -> None:
    """`semantic.model.rank` writes its punctuation as ranges (cheaper to compile at each
    start): the same characters as "neither a digit, a-z nor from U+00C0 on"."""
    import re

    from semantic.model.rank import _PUNCTUATION

    negated = re.compile(r"[^0-9a-z\u00c0-\U0010ffff]")
    for code in [*range(0x300), 0xFFFF, 0x10000, 0x10FFFF]:
        char = chr(code)
        assert bool(_PUNCTUATION.fullmatch(char)) == bool(negated.fullmatch(char)), hex(code)
