"""`semantic fmt`: rewrite project files in one canonical layout, comments and blank lines kept.

The canonical layout (docs/modeling-workflow.md):

- keys of every schema object (a term, an entity, a relationship, a metric...) in the order
  of the schema's fields (`schema.py`); maps keyed by ids or languages (terms, entities,
  columns, labels) and every list keep the author's order;
- two spaces per mapping level, list dashes indented two spaces under their key;
- flow (`{a: 1}`) or block style as written; lines never wrapped;
- quotes only where needed: a quoted string that reads the same unquoted loses its quotes,
  one that needs them keeps the author's kind of quote;
- every comment (head, end of line, between keys) and every blank line stays where it was,
  moving with its key when keys are reordered.

A file that does not parse or does not follow the schema (SEM101, SEM102) is reported and
never rewritten; the new text is written only after it is checked to hold the same data and
the same comments as the old one, atomically, keeping what the file is (mode bits, owner,
a symbolic link, hard links: see `semantic.files.atomic.rewrite_file`). A read-only file,
or one that cannot be written (a full disk), is reported with SEM438 and left as it was.

>>> from semantic.files.schema import TermSpec
>>> print(format_text("metric: {expr: 'a / b'}\\nlabel: {en: \\"Ratio\\"}  # shown\\n", TermSpec))
label: {en: Ratio}  # shown
metric: {expr: a / b}
<BLANKLINE>
"""

from __future__ import annotations

import difflib
import io
import types
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken

from semantic.errors import Diagnostic, SemanticError, Span, error
from semantic.files.atomic import rewrite_file
from semantic.files.read import read_file
from semantic.files.root import CONFIG_FILE, find_root
from semantic.files.schema import GlossaryFile, ModelFile, ProjectFile

__all__ = [
    "FormatResult",
    "format_files",
    "format_project",
    "format_text",
    "project_files",
    "unified_diff",
]


class _QuoteWhereNeededEmitter(RoundTripEmitter):
    """Drops the quotes of a string that reads the same unquoted; keeps the author's kind of
    quote (single or double) on one that needs them."""

    def choose_scalar_style(self) -> Any:
        style = self.event.style
        if style in ("'", '"'):
            self.event.style = None
            try:
                if super().choose_scalar_style() == "":
                    return ""
            finally:
                self.event.style = style
        return super().choose_scalar_style()


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 1_000_000  # never wrap: one line per value, as written
    yaml.Emitter = _QuoteWhereNeededEmitter
    return yaml


def format_text(text: str, schema: type[BaseModel]) -> str:
    """The canonical text of a valid file of `schema`.

    Raise SemanticError SEM107 if the result would not hold exactly the same data and
    comments (the caller then leaves the file alone).
    """
    yaml = _yaml()
    tree = yaml.load(text)
    if tree is None:
        return text
    _reorder_tree(tree, schema, root=True)
    buffer = io.StringIO()
    yaml.dump(tree, buffer)
    result = _tidy_comments(buffer.getvalue())
    _check_same(text, result)
    return result


def _tidy_comments(text: str) -> str:
    """A comment on its own line is indented like the line that follows it; a comment at
    the end of a line comes two spaces after the value."""
    lines = text.split("\n")
    comment_lines: dict[int, int] = {}  # line number -> column of its `#` (eol) or -1
    for token in _all_comment_tokens(text):
        for offset, _ in enumerate(token.value.split("\n")[:-1]):
            number = token.start_mark.line + offset
            if 0 <= number < len(lines) and lines[number].strip().startswith("#"):
                comment_lines[number] = -1
            elif offset == 0 and 0 <= number < len(lines):
                comment_lines[number] = token.start_mark.column
    indent = 0
    for number in range(len(lines) - 1, -1, -1):
        line = lines[number]
        column = comment_lines.get(number)
        if column == -1:
            lines[number] = " " * indent + line.lstrip(" ")
        elif column is not None and line[column:].startswith("#"):
            lines[number] = line[:column].rstrip(" ") + "  " + line[column:]
        if line.strip() and column != -1:
            indent = len(line) - len(line.lstrip(" "))
    return "\n".join(lines)


# --- key order ------------------------------------------------------------------------------


def _reorder_tree(node: Any, annotation: Any, *, root: bool = False) -> list[str]:
    """Put the keys of every schema object under `node` in the schema's field order; the
    comment lines that must now stand before `node` itself (before its new first key)."""
    annotation = _unwrap(annotation)
    children: list[tuple[Any, Any]] = []
    first: list[str] = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not isinstance(node, CommentedMap):
            return []
        fields = annotation.model_fields
        order = {name: i for i, name in enumerate(fields)}
        if getattr(node, "merge", None):
            # keys merged in with `<<: *anchor` live in another mapping: reordering would
            # write them out here; such a mapping keeps the author's order
            children = [
                (k, fields[k].annotation) for k, _ in node.non_merged_items() if k in fields
            ]
        else:
            first = _reorder(node, sorted(node, key=lambda k: order.get(k, len(order))), root=root)
            children = [(k, fields[k].annotation) for k in node if k in fields]
    else:
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is dict and isinstance(node, CommentedMap) and args:
            children = [(k, args[-1]) for k in node]
        elif origin is list and isinstance(node, CommentedSeq) and args:
            children = [(i, args[0]) for i in range(len(node))]
    for key, child_annotation in children:
        _put_before(node, key, _reorder_tree(node[key], child_annotation))
    return first


def _put_before(parent: CommentedMap | CommentedSeq, key: Any, lines: list[str]) -> None:
    """Place comment lines before the first key of the mapping `parent[key]`."""
    if not lines:
        return
    child = parent[key]
    tokens = [CommentToken(line.lstrip(" ") + "\n", CommentMark(0)) for line in lines]
    if child.ca.comment is None:
        child.ca.comment = [None, None]
    if isinstance(parent, CommentedMap):
        # ruamel emits a nested mapping's leading comments from its parent's entry
        slot = parent.ca.items.setdefault(key, [None, None, None, None])
        if isinstance(slot[2], CommentToken):
            slot[2].value += "".join(f"{line}\n" for line in lines)
            return
        slot[3] = (slot[3] or []) + tokens
        child.ca.comment[1] = slot[3]
    else:
        child.ca.comment[1] = (child.ca.comment[1] or []) + tokens


def _unwrap(annotation: Any) -> Any:
    """`X | None` as X."""
    if get_origin(annotation) in (Union, types.UnionType):
        kept = [a for a in get_args(annotation) if a is not type(None)]
        if len(kept) == 1:
            return kept[0]
    return annotation


def _reorder(node: CommentedMap, wanted: list[Any], *, root: bool = False) -> list[str]:
    """Reorder `node`'s keys. A key takes its end-of-line comment along; the comment lines
    and blank lines that stood before a key stay before it, and those after the last entry
    stay at the end (and the head comment of a file, before its first key, at the top)."""
    keys = list(node)
    if keys == wanted:
        return []
    first: list[str] = []
    before: dict[Any, list[str]] = {keys[0]: [] if root else _take_lines_before_first_key(node)}
    for previous, key in zip(keys, keys[1:], strict=False):
        before[key] = _take_following_lines(node, previous)
    tail = _take_following_lines(node, keys[-1])
    comments = {k: node.ca.items.pop(k) for k in keys if k in node.ca.items}
    values = [(k, node[k]) for k in wanted]
    for key in keys:
        del node[key]
    for key, value in values:
        node[key] = value
        if key in comments:
            node.ca.items[key] = comments[key]
    for key, lines in before.items():
        if not lines:
            continue
        column = _key_column(node, key)
        tokens = [
            CommentToken(line.lstrip(" ") + "\n", CommentMark(column if line.strip() else 0))
            for line in lines
        ]
        if key == wanted[0]:
            first = lines
        else:
            slot = node.ca.items.setdefault(key, [None, None, None, None])
            slot[1] = tokens + list(slot[1] or [])
    if tail:
        holder, index = _last_comment_slot(node, wanted[-1])
        token = holder[index]
        if token is None:
            holder[index] = CommentToken("\n" + "".join(f"{t}\n" for t in tail), CommentMark(0))
        else:
            token.value += "".join(f"{line}\n" for line in tail)
    if root and first:  # after the head comment of the file
        if node.ca.comment is None:
            node.ca.comment = [None, None]
        node.ca.comment[1] = (node.ca.comment[1] or []) + [
            CommentToken(line.lstrip(" ") + "\n", CommentMark(0)) for line in first
        ]
        return []
    return first


def _take_following_lines(node: CommentedMap, key: Any) -> list[str]:
    """Detach the full comment lines and blank lines that follow the entry `key` (they are
    stored with the deepest last value of the entry), keeping its end-of-line comment."""
    holder, index = _last_comment_slot(node, key)
    token = holder[index]
    if not isinstance(token, CommentToken) or "\n" not in token.value:
        return []
    eol, _, rest = token.value.partition("\n")
    if not rest:
        return []
    token.value = eol + "\n"
    return rest.split("\n")[:-1]


def _take_lines_before_first_key(node: CommentedMap) -> list[str]:
    """Detach the comment lines between a nested map's parent key and its first key (ruamel
    keeps them with the parent's end-of-line comment)."""
    comment = node.ca.comment
    if not comment or node.fa.flow_style():
        # a flow mapping's comment is the end-of-line comment of the line it ends on
        return []
    token, lines = comment[0], []
    if isinstance(token, CommentToken) and "\n" in token.value:
        eol, _, rest = token.value.partition("\n")
        token.value = eol + "\n"
        lines = rest.split("\n")[:-1]
    if len(comment) > 1 and comment[1]:
        # a list shared with the parent's entry: emptied in place
        lines += "".join(t.value for t in comment[1]).split("\n")[:-1]
        comment[1].clear()
    return lines


def _key_column(node: CommentedMap, key: Any) -> int:
    """The column `key` was written at (a comment moved before it is indented like it)."""
    try:
        return int(node.lc.key(key)[1])
    except (KeyError, TypeError, AttributeError):
        return 0


def _last_comment_slot(node: CommentedMap | CommentedSeq, key: Any) -> tuple[list[Any], int]:
    """Where ruamel keeps the comment after the entry `key`: with the last entry of a nested
    block collection, else with the entry itself."""
    value = node[key]
    nested = isinstance(value, (CommentedMap, CommentedSeq)) and not value.fa.flow_style()
    if nested and len(value):
        last = list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1
        return _last_comment_slot(value, last)
    slot = node.ca.items.setdefault(key, [None, None, None, None])
    return slot, (2 if isinstance(node, CommentedMap) else 0)


# --- safety ---------------------------------------------------------------------------------


def _check_same(old: str, new: str) -> None:
    """The new text must hold the same data and the same comments as the old one."""
    safe = YAML(typ="safe", pure=True)
    try:
        same = safe.load(old) == safe.load(new) and _comments(old) == _comments(new)
    except YAMLError:
        same = False
    if not same:
        raise error(
            "SEM107",
            "formatting would change the data or lose a comment; the file is left as it is",
            hint="please report this file as a bug; format it by hand meanwhile",
        )


def _comments(text: str) -> Counter[str]:
    """Every comment of a YAML text (a multiset of stripped lines)."""
    found: Counter[str] = Counter()
    for comment in _all_comment_tokens(text):
        for line in comment.value.split("\n"):
            if line.strip().startswith("#"):
                found[line.strip()] += 1
    return found


def _all_comment_tokens(text: str) -> Iterator[CommentToken]:
    for token in YAML(typ="rt").scan(text):
        yield from _comment_tokens(getattr(token, "_comment", None))


def _comment_tokens(value: Any) -> Iterator[CommentToken]:
    if isinstance(value, CommentToken):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _comment_tokens(item)


# --- files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormatResult:
    """What `fmt` did, or would do with `check`, to one file."""

    path: Path
    name: str
    changed: bool
    old: str = ""
    new: str = ""
    diagnostics: tuple[Diagnostic, ...] = ()


def project_files(root: Path) -> list[tuple[Path, type[BaseModel]]]:
    """The YAML files of the project at `root` with their schema: semantic.yml, then the
    model and glossary files."""
    found: list[tuple[Path, type[BaseModel]]] = [(root / CONFIG_FILE, ProjectFile)]
    doc, _ = read_file(root / CONFIG_FILE, ProjectFile, CONFIG_FILE)
    folders = (doc.data.models, doc.data.glossary) if doc else ("models", "glossary")
    schemas: tuple[type[BaseModel], ...] = (ModelFile, GlossaryFile)
    for folder, schema in zip(folders, schemas, strict=True):
        for pattern in ("*.yml", "*.yaml"):
            found += [(p, schema) for p in sorted((root / folder).glob(pattern))]
    return found


def format_project(root: Path, *, check: bool = False) -> list[FormatResult]:
    """Format every file of the project at `root` (with `check`, only say what would
    change)."""
    return [_format_file(path, schema, root, check) for path, schema in project_files(root)]


def format_files(paths: Iterable[Path], *, check: bool = False) -> list[FormatResult]:
    """Format the given files, each as a file of the project it is in; a YAML file that is
    not a project's semantic.yml, model or glossary file is skipped (pre-commit passes every
    changed .yml)."""
    results = []
    for path in paths:
        try:
            root = find_root(path.resolve().parent)
        except SemanticError:
            continue
        schemas = {p.resolve(): s for p, s in project_files(root)}
        schema = schemas.get(path.resolve())
        if schema is not None:
            results.append(_format_file(path.resolve(), schema, root, check))
    return results


def _format_file(path: Path, schema: type[BaseModel], root: Path, check: bool) -> FormatResult:
    name = _display(path, root)
    doc, problems = read_file(path, schema, name)
    if doc is None:
        return FormatResult(path, name, False, diagnostics=tuple(problems))
    old = path.read_text(encoding="utf-8")
    try:
        new = format_text(old, schema)
    except SemanticError as exc:
        return FormatResult(path, name, False, diagnostics=exc.located(Span(name)).diagnostics)
    if new == old:
        return FormatResult(path, name, False, old, new)
    if check:
        diagnostic = Diagnostic(
            "SEM106", "file is not formatted", Span(name), "run `semantic fmt` to format it"
        )
        return FormatResult(path, name, True, old, new, (diagnostic,))
    try:
        rewrite_file(path, new, name)
    except SemanticError as exc:
        return FormatResult(path, name, False, old, new, exc.diagnostics)
    return FormatResult(path, name, True, old, new)


def _display(path: Path, root: Path) -> str:
    """The path as the user knows it: relative to the working folder when inside it."""
    for base in (Path.cwd(), root):
        try:
            return str(path.relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def unified_diff(result: FormatResult) -> str:
    """The change `fmt` makes to a file, as a unified diff."""
    return "".join(
        difflib.unified_diff(
            result.old.splitlines(keepends=True),
            result.new.splitlines(keepends=True),
            f"a/{result.name}",
            f"b/{result.name}",
        )
    )
