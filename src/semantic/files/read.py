"""Read YAML files into the schemas of `schema`, keeping source positions for errors.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "m.yml"
>>> _ = p.write_text("entities:\\n  t:\\n    colums: {}\\n")
>>> doc, diags = read_file(p, ModelFile, "m.yml")
>>> for d in diags: print(d.render())
m.yml:2:3: SEM102 missing key 'columns' in entities.t
  help: add it; see docs/files.md
m.yml:3:5: SEM102 unknown key 'colums' in entities.t
  help: did you mean 'columns'?
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pydantic
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from semantic.errors import Diagnostic, Span, suggest
from semantic.files.schema import GlossaryFile, ModelFile, ProjectFile

__all__ = ["Document", "GlossaryFile", "ModelFile", "ProjectFile", "read_file"]

S = TypeVar("S", bound=pydantic.BaseModel)
Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Document(Generic[S]):
    """A validated file: its schema object and a way back to where each part was written."""

    name: str
    data: S
    tree: Any

    def span(self, path: Path_, *, value: bool = False) -> Span:
        """The position of the key (or, with `value`, of the value) at `path`."""
        line, col = locate(self.tree, path, value=value)
        return Span(self.name, line, col)


def locate(tree: Any, path: Path_, *, value: bool = False) -> tuple[int, int]:
    """1-based (line, col) of the node at `path` in a ruamel tree, or of its nearest parent."""
    node = tree
    line, col = (
        (getattr(tree.lc, "line", 0) + 1, getattr(tree.lc, "col", 0) + 1)
        if hasattr(tree, "lc")
        else (1, 1)
    )
    for i, key in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, CommentedMap) and key in node:
            ln, cl = node.lc.value(key) if (last and value) else node.lc.key(key)
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            ln, cl = node.lc.item(key)
        else:
            break
        line, col = ln + 1, cl + 1
        node = node[key]
    return line, col


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def read_file(
    path: Path, schema: type[S], name: str
) -> tuple[Document[S] | None, list[Diagnostic]]:
    """Parse and validate one YAML file; on failure return every problem with its position."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Diagnostic("SEM101", f"cannot read file: {exc}", Span(name))]
    try:
        tree = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = Span(name, mark.line + 1, mark.column + 1) if mark else Span(name)
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        problem = problem.split(" with value ")[0]  # ruamel prints whole duplicated subtrees
        hint = (
            "each key may appear once in a mapping"
            if "duplicate" in problem
            else ("check indentation, colons and quotes near this place")
        )
        line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
        if re.fullmatch(r"\s*[\w-]+:\s+[^'\s\"][^#]*:\s*", line):
            # `url: duckdb:`: YAML reads a value ending with a colon as a key
            hint = "quote a value that ends with a colon: 'value:'" + (
                " (the embedded engine's URL may be written duckdb)" if "duckdb:" in line else ""
            )
        return None, [Diagnostic("SEM101", f"invalid YAML: {problem}", span, hint)]
    if tree is None:
        tree = CommentedMap()
    try:
        data = schema.model_validate(tree)
    except pydantic.ValidationError as exc:
        return None, [_schema_diagnostic(err, tree, name, schema) for err in exc.errors()]
    return Document(name, data, tree), []


def _schema_diagnostic(
    err: Any, tree: Any, name: str, schema: type[pydantic.BaseModel]
) -> Diagnostic:
    loc: Path_ = tuple(
        p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))
    )
    where = ".".join(str(p) for p in loc[:-1])
    kind = err["type"]
    hint: str | None = None
    if kind == "extra_forbidden":
        key = str(loc[-1])
        message = f"unknown key '{key}'" + (f" in {where}" if where else "")
        hint = suggest(key, _allowed_keys(schema, loc[:-1])) or (
            "a comma inside {...} starts a new key: put the text before it in quotes"
            if " " in key
            else "remove it; see docs/files.md"
        )
        line, col = locate(tree, loc)
    elif kind == "missing":
        message = f"missing key '{loc[-1]}'" + (f" in {where}" if where else "")
        hint = "add it; see docs/files.md"
        line, col = locate(tree, loc[:-1])
    else:
        what = ".".join(str(p) for p in loc) or "file"
        message = f"{what}: {err['msg']}"
        if kind == "literal_error" and "expected" in err.get("ctx", {}):
            hint = f"use one of {err['ctx']['expected']}"
        elif kind == "string_pattern_mismatch":
            hint = "ids are snake_case: lower-case letters, digits and underscores"
        line, col = locate(tree, loc, value=True)
    return Diagnostic("SEM102", message, Span(name, line, col), hint)


def _allowed_keys(schema: type[pydantic.BaseModel], loc: Path_) -> list[str]:
    """The field names allowed at `loc`, found by walking the schema's annotations."""
    annotation: Any = schema
    for part in loc:
        annotation = _unwrap_optional(annotation)
        fields = _fields_of(annotation)
        if fields is not None and isinstance(part, str) and part in fields:
            annotation = fields[part].annotation
        else:
            # an item of a list or a value of a dict[str, X] (an entity id, a term id)
            args = getattr(annotation, "__args__", ())
            annotation = args[-1] if args else None
    fields = _fields_of(_unwrap_optional(annotation))
    return list(fields) if fields else []


def _unwrap_optional(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    if type(None) in args:
        return next(a for a in args if a is not type(None))
    return annotation


def _fields_of(annotation: Any) -> dict[str, Any] | None:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return dict(annotation.model_fields)
    return None
