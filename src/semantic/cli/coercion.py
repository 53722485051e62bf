"""Command-line values converted without a pydantic schema per parameter.

typer (0.29 and later) converts the value of each parameter of the command it runs through
a pydantic `TypeAdapter` that it builds then (`typer._coercion.build_runtime_param`), even
for an option left out: for `semantic compile`, importing pydantic's validators and
typer's adapters and building the schemas of its eleven parameters (the global options'
and the command's) cost about 45 ms of its 0.35 s. The parameters of semantic's commands
are strings, lists of strings, paths, choices, numbers and flags. `install` makes typer
convert the common values here, as typer itself would (a plain string for a `str`, a list
of plain strings for a `list[str]`, a choice through typer's own `coerce_cli_choice`...),
and hand every other value, and every value whose conversion fails, to typer's own
conversion, built when first needed: the same values and the same error messages
(`tests/test_cli_coercion.py` compares both on every parameter of every command).

With a typer that has no such conversion (an older one), `install` does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

#: `_cheap`'s answer when it leaves the value to typer's conversion
_TYPERS = object()


def _cheap(descriptor: Any, value: Any, param: Any, ctx: Any) -> Any:
    """`value` converted as typer's adapter for `descriptor` would, or `_TYPERS` when it is
    not one of the cases handled here (the caller then asks typer)."""
    from typer._param_types import coerce_cli_choice, coerce_cli_path

    info = descriptor.parameter_info
    annotation = descriptor.annotation
    if info.parser is not None:
        return _TYPERS
    if get_origin(annotation) is list:
        # typer's adapter converts each item as the item type, into a new list
        strings = isinstance(value, list | tuple) and all(type(item) is str for item in value)
        return list(value) if get_args(annotation) == (str,) and strings else _TYPERS
    if annotation is str or annotation is bool:
        # str: typer's `_parse_cli_str` is `str(value)`; bool: a bool is kept as is
        return value if type(value) is annotation else _TYPERS
    if annotation is int:
        # pydantic reads a string of digits as the integer it writes
        if type(value) is int or (type(value) is str and value.isascii() and value.isdigit()):
            return int(value) if len(str(value)) < 19 else _TYPERS
        return _TYPERS
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = list(annotation)
        return coerce_cli_choice(
            value, choices=choices, case_sensitive=info.case_sensitive, ctx=ctx
        )
    if annotation is Path and info.path_type is None:
        # typer reads a string with pydantic's `TypeAdapter(Path)`, which is `Path(value)`
        if type(value) is str and value:
            value = Path(value)
        if not isinstance(value, Path):
            return _TYPERS
        return coerce_cli_path(value, info, path_type=Path, param=param, ctx=ctx)
    return _TYPERS


def install() -> None:
    """Make typer convert the common command-line values without pydantic (see the
    module's doc). Idempotent."""
    try:
        import typer.core as core
        from typer._coercion import RuntimeParam
    except ImportError:  # a typer without pydantic conversion: nothing to spare
        return
    full = getattr(core, "build_runtime_param", None)
    if full is None or getattr(full, "semantic_cheap", False):
        return
    typers_conversion: Callable[[Any], Any] = full

    class CheapRuntimeParam(RuntimeParam):
        """typer's conversion of one parameter, the common values converted here and the
        rest by typer's own (pydantic) conversion, built on first use."""

        descriptor: Any  # typer's TypeDescriptor of the parameter
        typers: Any  # typer's own conversion, once built

        def __init__(self, descriptor: Any) -> None:
            super().__init__(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
            )
            object.__setattr__(self, "descriptor", descriptor)
            object.__setattr__(self, "typers", None)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                found = _cheap(self.descriptor, value, param, ctx)
            except Exception:  # noqa: BLE001 - typer's conversion says what is wrong
                found = _TYPERS
            if found is not _TYPERS:
                return found
            if self.typers is None:
                object.__setattr__(self, "typers", typers_conversion(self.descriptor))
            return self.typers._coerce_value(value, param=param, ctx=ctx)

    def build_runtime_param(descriptor: Any) -> Any:
        if descriptor.file_annotation is not None:  # files: typer's, which builds no adapter
            return typers_conversion(descriptor)
        try:
            return CheapRuntimeParam(descriptor)
        except Exception:  # noqa: BLE001 - a typer whose internals changed: its own conversion
            return typers_conversion(descriptor)

    build_runtime_param.semantic_cheap = True  # type: ignore[attr-defined]
    core.build_runtime_param = build_runtime_param
