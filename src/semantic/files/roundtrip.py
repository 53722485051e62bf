"""ruamel.yaml's round-trip reader as `semantic.files.read` uses it: its limits (core tags
only, a nesting depth, no duplicate keys), values Python cannot build reported as YAML
errors, and ruamel's errors turned into diagnostics.

`read` scans a file here when libyaml cannot promise ruamel's reading
(`semantic.files.fastyaml`) or is not installed; it is imported only then, so that loading
an ordinary project never imports ruamel.yaml.

>>> tree = round_trip_yaml().load("a:\\n  b: 1\\n")
>>> tree["a"].lc.key("b")
(1, 2)
"""

from __future__ import annotations

import copyreg
import re
from typing import Any

import ruamel.yaml
from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.timestamp import TimeStamp

from semantic.errors import Diagnostic, Span

__all__ = ["VERSION", "round_trip_yaml", "yaml_problem"]

#: ruamel.yaml's version, part of what the trees it makes depend on
VERSION = ruamel.yaml.__version__
#: how deep mappings and lists may nest in a file (the schema needs fewer than ten levels;
#: the YAML composer recurses on each one)
MAX_DEPTH = 100
#: the explicit tags a file may use: YAML's core schema (`!!str 5` keeps 5 a string)
CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
)
#: how much of a key or value a message quotes
QUOTED = 60


class _Composer(Composer):
    """Refuses tags outside YAML's core schema (`!!python/object`, `!custom`, `!!binary`):
    nothing in a project file needs them, and they would be silently read as plain data."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!" and str(tag) not in CORE_TAGS:
            raise ComposerError(
                None, None, f"the tag {_short_tag(str(tag))} is not allowed", event.start_mark
            )
        return super().compose_node(parent, index)


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:") else tag


class _Constructor(RoundTripConstructor):
    """A value Python cannot build (an integer of 5,000 digits, the date 2024-13-45) is a
    YAML error at that value, not a crash."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:
            raise ConstructorError(
                None, None, f"cannot read the value: {quoted(str(exc))}", node.start_mark
            ) from None


def _timestamp(fields: tuple[Any, ...], written: dict[str, Any]) -> TimeStamp:
    stamp = TimeStamp(*fields)
    stamp._yaml.update(written)
    return stamp


def _reduce_timestamp(stamp: TimeStamp) -> tuple[Any, tuple[Any, ...]]:
    """ruamel's TimeStamp keeps how it was written (the `T`, the zone as typed) in `_yaml`,
    which the pickle of its base class, datetime, drops: a tree kept between runs
    (`files.cache`) would no longer dump as it was written. (ruamel's own `__deepcopy__`
    drops the zone and the microseconds: trees are never deep-copied here.)"""
    fields = (
        stamp.year,
        stamp.month,
        stamp.day,
        stamp.hour,
        stamp.minute,
        stamp.second,
        stamp.microsecond,
        stamp.tzinfo,
    )
    return _timestamp, (fields, dict(getattr(stamp, "_yaml", {})))


copyreg.pickle(TimeStamp, _reduce_timestamp)


def round_trip_yaml() -> YAML:
    """ruamel's round-trip loader with the limits of project files."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.max_depth = MAX_DEPTH
    yaml.Composer = _Composer
    yaml.Constructor = _Constructor
    return yaml


def quoted(text: str) -> str:
    """`text`, cut to a length a message can show."""
    return text if len(text) <= QUOTED * 2 else text[: QUOTED * 2] + "..."


def yaml_problem(exc: Exception, text: str, name: str) -> Diagnostic | None:
    """The diagnostic of ruamel's error `exc` on `text` (the file `name`), or None when
    `exc` is not a YAML error. A nesting too deep is a bare SEM108 at its place: the caller
    words it (as for the other ways to nest too deep)."""
    if isinstance(exc, ReaderError):
        # a character YAML does not allow (NUL, a control character): ruamel gives its index
        character = exc.character if isinstance(exc.character, int) else 0
        index = exc.position
        row = text.count("\n", 0, index) + 1
        span = Span(name, row, index - (text.rfind("\n", 0, index) + 1) + 1)
        return Diagnostic(
            "SEM101",
            f"invalid YAML: the control character U+{character:04X} is not allowed",
            span,
            "remove it (is this a binary or damaged file?); write it as an escape such "
            'as "\\t" inside double quotes if it is meant',
        )
    if not isinstance(exc, MarkedYAMLError):
        return None
    mark = exc.problem_mark or exc.context_mark
    span = Span(name, mark.line + 1, mark.column + 1) if mark else Span(name)
    problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
    problem = problem.split(" with value ")[0]  # ruamel prints whole duplicated subtrees
    if "maximum depth" in problem:
        return Diagnostic("SEM108", "too deep", span)  # the caller words it
    if "is not allowed" in problem and "tag" in problem:
        return Diagnostic(
            "SEM110",
            problem,
            span,
            "remove the tag: project files hold plain strings, numbers, lists and mappings",
        )
    hint = (
        "each key may appear once in a mapping"
        if "duplicate" in problem
        else "quote the value to keep it a string, or correct it"
        if problem.startswith("cannot read the value")
        else "check indentation, colons and quotes near this place"
    )
    line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
    if re.fullmatch(r"\s*[\w-]+:\s+[^'\s\"][^#]*:\s*", line):
        # `url: duckdb:`: YAML reads a value ending with a colon as a key
        hint = "quote a value that ends with a colon: 'value:'" + (
            " (the embedded engine's URL may be written duckdb)" if "duckdb:" in line else ""
        )
    return Diagnostic("SEM101", f"invalid YAML: {quoted(problem)}", span, hint)
