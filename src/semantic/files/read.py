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

import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pydantic

from semantic.errors import Diagnostic, Span, suggest
from semantic.files import fastyaml
from semantic.files.cache import cached_tree
from semantic.files.fastyaml import MarkedMap, MarkedSeq
from semantic.files.schema import GlossaryFile, ModelFile, ProjectFile

if TYPE_CHECKING:
    from ruamel.yaml import YAML

__all__ = ["Document", "GlossaryFile", "ModelFile", "ProjectFile", "read_file", "read_text"]

#: how deep mappings and lists may nest in a file (the schema needs fewer than ten levels;
#: the YAML composer recurses on each one)
MAX_DEPTH = 100
#: how many values aliases (`*name`) may add to a file, beyond those written out
MAX_ALIAS_EXPANSION = 100_000
#: how many schema problems of one file are reported (a file of 20,000 broken terms is
#: one mistake repeated, and each message costs a "did you mean" search)
MAX_PROBLEMS = 200
#: how much of a key or value a message quotes
QUOTED = 60
#: whether files are read with libyaml when it can promise ruamel's reading
#: (`semantic.files.fastyaml`); tests turn it off to compare both readers
FAST = True

S = TypeVar("S", bound=pydantic.BaseModel)
Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Document(Generic[S]):
    """A validated file: its schema object and a way back to where each part was written."""

    name: str
    data: S
    #: the data as read, with positions: `fastyaml.MarkedMap`s and `MarkedSeq`s, or
    #: ruamel's `CommentedMap`s and `CommentedSeq`s when ruamel read the file
    tree: Any

    def span(self, path: Path_, *, value: bool = False) -> Span:
        """The position of the key (or, with `value`, of the value) at `path`."""
        line, col = locate(self.tree, path, value=value)
        return Span(self.name, line, col)

    def below(self, path: Path_) -> Below:
        """The place of the key at `path`, from which the spans of longer paths are found
        without walking `path` again (a term's labels, synonyms and keys)."""
        return Below(self.name, *_walk(self.tree, *_start(self.tree), path, False))


@dataclass(slots=True)  # not frozen: a frozen class's __init__ sets each field the slow way
class Below:
    """Where the key at a path of a document is (`Document.below`): `span(rest)` is the
    document's `span(path + rest)`. Made by the tens of thousands for a large glossary,
    and never changed."""

    name: str
    node: Any
    line: int
    col: int
    #: False when the path stopped short (a key missing): every longer path stops there too
    whole: bool

    @property
    def here(self) -> Span:
        """The span of the path itself (of its key)."""
        return Span(self.name, self.line, self.col)

    def span(self, rest: Path_, *, value: bool = False) -> Span:
        """The document's span of the path followed by `rest` (not empty)."""
        if not self.whole:
            return Span(self.name, self.line, self.col)
        node = self.node
        if len(rest) == 1 and type(node) is MarkedMap:  # the usual case, inline
            marks = node.marks.get(rest[0])
            if marks is not None:
                at = 2 if value else 0
                return Span(self.name, marks[at] + 1, marks[at + 1] + 1)
        _, line, col, _ = _walk(node, self.line, self.col, rest, value)
        return Span(self.name, line, col)

    def below(self, rest: Path_) -> Below:
        """The place of the path followed by `rest` (not empty)."""
        if not self.whole:
            return self
        return Below(self.name, *_walk(self.node, self.line, self.col, rest, False))


def locate(tree: Any, path: Path_, *, value: bool = False) -> tuple[int, int]:
    """1-based (line, col) of the node at `path` in a tree, or of its nearest parent."""
    _, line, col, _ = _walk(tree, *_start(tree), path, value)
    return line, col


def _walk(node: Any, line: int, col: int, path: Path_, value: bool) -> tuple[Any, int, int, bool]:
    """From `node`, whose key is at (`line`, `col`) (1-based), down `path`: the node
    reached, the position of its key (or, with `value`, of the last key's value), and
    whether the whole path was found (else the nearest parent's)."""
    end = len(path) - 1
    for i, key in enumerate(path):
        last = i == end
        if type(node) is MarkedMap:  # the usual tree (libyaml's): its marks read inline
            marks = node.marks.get(key)
            if marks is None:
                return node, line, col, False
            line, col = (
                (marks[2] + 1, marks[3] + 1) if (last and value) else (marks[0] + 1, marks[1] + 1)
            )
            node = node[key]
            continue
        if isinstance(node, dict) and key in node:
            ln, cl = _value_mark(node, key) if (last and value) else _key_mark(node, key)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            ln, cl = _item_mark(node, key)
        else:
            return node, line, col, False
        line, col = ln + 1, cl + 1
        node = node[key]
    return node, line, col, True


def _start(tree: Any) -> tuple[int, int]:
    """1-based (line, col) where a mapping or list of a tree starts; (1, 1) for a scalar."""
    if isinstance(tree, (MarkedMap, MarkedSeq)):
        return tree.line + 1, tree.col + 1
    lc = getattr(tree, "lc", None)
    return ((lc.line or 0) + 1, (lc.col or 0) + 1) if lc is not None else (1, 1)


def _key_mark(node: Any, key: Any) -> tuple[int, int]:
    """0-based (line, col) of `key` of the mapping `node`."""
    if isinstance(node, MarkedMap):
        line, col, _, _ = node.marks[key]
        return line, col
    return tuple(_written_in(node, key).lc.key(key))  # type: ignore[return-value]


def _value_mark(node: Any, key: Any) -> tuple[int, int]:
    """0-based (line, col) of the value of `key` of the mapping `node`."""
    if isinstance(node, MarkedMap):
        _, _, line, col = node.marks[key]
        return line, col
    return tuple(_written_in(node, key).lc.value(key))  # type: ignore[return-value]


def _item_mark(node: Any, index: int) -> tuple[int, int]:
    """0-based (line, col) of item `index` of the list `node`."""
    if isinstance(node, MarkedSeq):
        return node.marks[index]
    return tuple(node.lc.item(index))  # type: ignore[return-value]


def _written_in(node: Any, key: Any) -> Any:
    """The ruamel mapping where `key` of `node` is written: `node`, or a mapping merged
    into it with `<<:` (the libyaml reader leaves merges to ruamel)."""
    if key in node.lc.data:
        return node
    for source in getattr(node, "merge", ()):
        if isinstance(source, tuple):  # ruamel before 0.19: (position, mapping)
            source = source[-1]
        if isinstance(source, dict) and key in source:
            return _written_in(source, key)
    return node


def _yaml() -> YAML:
    """ruamel's round-trip loader with the limits of project files (imported only when a
    file needs it)."""
    from semantic.files.roundtrip import round_trip_yaml

    return round_trip_yaml()


@cache
def _tree_maker() -> str:
    """What the trees `_scan` makes depend on, for `cached_tree`: ruamel.yaml's version and
    the code of this module and of `roundtrip` (its composer, constructor and limits)."""
    from importlib.metadata import version

    here = Path(__file__).parent
    code = hashlib.sha256()
    for module in ("read.py", "roundtrip.py"):
        code.update((here / module).read_bytes())
    return f"ruamel.yaml {version('ruamel.yaml')} {code.hexdigest()}"


def _scan(text: str) -> Any:
    """ruamel's tree of `text` (keys and values with their positions, and comments)."""
    return _yaml().load(text)


def _tree(path: Path, text: str) -> Any:
    """The tree of the file at `path` whose text is `text`: libyaml's when it can promise
    ruamel's reading (not kept: reading it again is about as fast as unpickling it, and
    writing it would cost more), else ruamel's, kept between runs (`files.cache`)."""
    if FAST:
        try:
            return fastyaml.compose(text)
        except fastyaml.Unusual:
            pass
    return cached_tree(path, text, _tree_maker(), _scan)


def read_text(
    path: Path, name: str, data: bytes | None = None
) -> tuple[str | None, list[Diagnostic]]:
    """The text of a project file (of its bytes `data` when they were read already), or why
    it cannot be read: a broken link, a link loop, no permission, not UTF-8 (with the line
    and column of the first bad byte), or not a regular file (a directory, a named pipe:
    skipped with a warning, never opened for reading, so a FIFO cannot block)."""
    if data is None:
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then tells what it is
            handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            return None, [_open_problem(path, name, exc)]
        kind = os.fstat(handle).st_mode
        if not stat.S_ISREG(kind):
            os.close(handle)
            return None, [_not_regular(name, kind)]
        with os.fdopen(handle, "rb") as stream:
            data = stream.read()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [
            Diagnostic("SEM101", "the file is UTF-16, not UTF-8", Span(name), "save it as UTF-8")
        ]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        col = len(data[start : exc.start].decode("utf-8", errors="replace")) + 1
        return None, [
            Diagnostic(
                "SEM101",
                f"the file is not UTF-8: byte 0x{data[exc.start]:02x} cannot be read",
                Span(name, line, col),
                "save the file as UTF-8 (this byte looks like Latin-1 or Windows-1252 text)",
            )
        ]


def _open_problem(path: Path, name: str, exc: OSError) -> Diagnostic:
    """SEM101 for a file that cannot be opened, SEM109 for a directory."""
    if exc.errno == errno.EISDIR:
        return _not_regular(name, stat.S_IFDIR)
    if exc.errno == errno.ENOENT and path.is_symlink():
        message = f"broken symbolic link to '{os.readlink(path)}'"
        hint = "restore the file it points to, or remove the link"
    elif exc.errno == errno.ELOOP:
        message, hint = "symbolic link loop", "point the link at a real file, or remove it"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        message, hint = "permission denied", "make the file readable (chmod a+r)"
    else:
        message, hint = f"cannot read file: {exc.strerror or exc}", None
    return Diagnostic("SEM101", message, Span(name), hint)


def _not_regular(name: str, mode: int) -> Diagnostic:
    kinds = {
        stat.S_IFDIR: "a directory",
        stat.S_IFIFO: "a named pipe (FIFO)",
        stat.S_IFSOCK: "a socket",
        stat.S_IFCHR: "a character device",
        stat.S_IFBLK: "a block device",
    }
    what = kinds.get(stat.S_IFMT(mode), "not a regular file")
    return Diagnostic(
        "SEM109",
        f"{what}, not a file: skipped",
        Span(name),
        "rename it so that its name does not end in .yml or .yaml, or move it away",
        "warning",
    )


def read_file(
    path: Path, schema: type[S], name: str, data: bytes | None = None
) -> tuple[Document[S] | None, list[Diagnostic]]:
    """Parse and validate one YAML file (from its bytes `data` when they were read already);
    on failure return every problem with its position."""
    text, problems = read_text(path, name, data)
    if text is None:
        return None, problems
    deep = _flow_too_deep(text)
    if deep is not None:
        return None, [_too_deep(_span_at(text, deep, name))]
    try:
        tree = _tree(path, text)
    except RecursionError:  # a safety net: MAX_DEPTH stops the composer long before
        return None, [_too_deep(Span(name))]
    except Exception as exc:
        from semantic.files.roundtrip import yaml_problem

        problem = yaml_problem(exc, text, name)
        if problem is None:
            raise
        deep = problem.code == "SEM108"
        return None, [_too_deep(problem.span or Span(name)) if deep else problem]
    if tree is None:
        return None, [
            Diagnostic(
                "SEM102",
                "the file is empty (or holds only comments)",
                Span(name, 1, 1),
                "write its content (see docs/files.md), or delete the file",
            )
        ]
    if "&" in text:  # only anchors can make aliases; most files have none
        expansion = _alias_expansion(tree, name)
        if expansion is not None:
            return None, [expansion]
    try:
        validated = schema.model_validate(tree)
    except pydantic.ValidationError as exc:
        errors = exc.errors()
        found = [_schema_diagnostic(err, tree, name, schema) for err in errors[:MAX_PROBLEMS]]
        if len(errors) > MAX_PROBLEMS:
            found.append(
                Diagnostic(
                    "SEM102",
                    f"{len(errors) - MAX_PROBLEMS:,} more problems in this file are not shown",
                    Span(name),
                    "fix the problems above first",
                )
            )
        return None, found
    return Document(name, validated, tree), []


def _span_at(text: str, index: int, name: str) -> Span:
    """The 1-based line and column of the character at `index` of `text`."""
    line = text.count("\n", 0, index) + 1
    return Span(name, line, index - (text.rfind("\n", 0, index) + 1) + 1)


_FLOW_MARK = re.compile(r"[\[\]{}'\"#]")
_DOUBLE_QUOTED_REST = re.compile(r'(?:[^"\\]|\\.)*"', re.S)


def _flow_too_deep(text: str) -> int | None:
    """Where `[` and `{` first nest deeper than `MAX_DEPTH` in `text` (outside quotes and
    comments), or None. ruamel's scanner looks for the end of a flow collection before the
    composer sees its depth, at a cost that grows with the square of the depth: 2,000
    brackets would take seconds, so they are counted first."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None  # the usual case, without a walk
    depth, at = 0, 0
    while (mark := _FLOW_MARK.search(text, at)) is not None:
        char, at = mark.group(), mark.start()
        before = text[at - 1] if at else "\n"
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return at
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif before in " \t\r\n" and char == "#":  # a comment, to the end of its line
            at = text.find("\n", at)
        elif before in " \t\r\n[{,:-" and char == "'":  # '' is a quote inside
            at = text.find("'", at + 1)
            while at >= 0 and text.startswith("''", at):
                at = text.find("'", at + 2)
        elif before in " \t\r\n[{,:-" and char == '"':
            rest = _DOUBLE_QUOTED_REST.match(text, at + 1)
            at = rest.end() - 1 if rest else -1
        if at < 0:
            return None  # an open quote or a last comment: the parser says what is wrong
        at += 1
    return None


def _too_deep(span: Span) -> Diagnostic:
    return Diagnostic(
        "SEM108",
        f"the file nests more than {MAX_DEPTH} levels deep",
        span,
        "no project file needs more than a few levels: look for brackets that are never "
        "closed or an indentation that keeps growing",
    )


def _alias_expansion(tree: Any, name: str) -> Diagnostic | None:
    """SEM108 when aliases make the data much larger than the text (a "billion laughs"
    file), or refer to a mapping or list that holds them; None when they are harmless.

    Each mapping and list is walked once; a node met again is an alias, counted with the
    size already known for it, so the check costs one walk of the nodes written.
    """
    sizes: dict[int, int] = {}  # a mapping or list -> its number of values, aliases expanded
    aliased: dict[int, tuple[Any, Any]] = {}  # a node named by an alias -> where
    open_: set[int] = {id(tree)}
    written = 1
    frames: list[tuple[Any, Iterator[tuple[Any, Any]], list[int]]] = [(tree, _children(tree), [1])]
    while frames:
        node, children, total = frames[-1]
        for key, child in children:
            if not isinstance(child, (dict, list)):
                total[0] += 1
                written += 1
            elif id(child) in open_:
                return _alias_problem(
                    name, node, key, "an alias refers to a mapping or list that holds it"
                )
            elif id(child) in sizes:
                aliased.setdefault(id(child), (node, key))
                total[0] += sizes[id(child)]
            else:
                open_.add(id(child))
                written += 1
                frames.append((child, _children(child), [1]))
                break
        else:
            frames.pop()
            open_.discard(id(node))
            sizes[id(node)] = total[0]
            if frames:
                frames[-1][2][0] += total[0]
    expanded = sizes[id(tree)]
    if expanded - written <= MAX_ALIAS_EXPANSION:
        return None
    parent, key = aliased[max(aliased, key=lambda k: sizes[k])]
    return _alias_problem(
        name, parent, key, f"aliases expand the file to {expanded:,} values (written: {written:,})"
    )


def _children(node: Any) -> Iterator[tuple[Any, Any]]:
    return iter(node.items()) if isinstance(node, dict) else enumerate(node)


def _alias_problem(name: str, parent: Any, key: Any, message: str) -> Diagnostic:
    line, col = _value_mark(parent, key) if isinstance(parent, dict) else _item_mark(parent, key)
    return Diagnostic(
        "SEM108",
        message,
        Span(name, line + 1, col + 1),
        f"aliases (*name) may add at most {MAX_ALIAS_EXPANSION:,} values: write the data out",
    )


def _quoted(text: str) -> str:
    """`text`, cut to a length a message can show."""
    return text if len(text) <= QUOTED * 2 else text[: QUOTED * 2] + "..."


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
        message = f"unknown key '{_quoted(key)}'" + (f" in {where}" if where else "")
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
    return Diagnostic("SEM102", message, Span(name, line, col), _misplaced(tree, loc) or hint)


#: Keys that only a term has, and keys that only a subject area has.
_TERM_KEYS = ("dimension", "time_dimension", "metric", "segment", "concept")
_AREA_KEYS = ("dimensions", "metrics", "segments")


def _misplaced(tree: Any, loc: Path_) -> str | None:
    """The hint for a term written under `subject_areas:` (or a subject area under
    `terms:`), which is what happens when one is appended at the end of a file whose last
    section is the other one."""
    if len(loc) < 2 or loc[0] not in ("terms", "subject_areas") or not isinstance(tree, dict):
        return None
    section = tree.get(loc[0])
    entry = section.get(loc[1]) if isinstance(section, dict) else None
    if not isinstance(entry, dict):
        return None
    wrong, right, what = (
        (_TERM_KEYS, "terms", "a term")
        if loc[0] == "subject_areas"
        else (_AREA_KEYS, "subject_areas", "a subject area")
    )
    found = [key for key in wrong if key in entry]
    if not found:
        return None
    line = _key_mark(tree, loc[0])[0] + 1
    return (
        f"'{loc[1]}' has `{found[0]}:`, so it is {what}, but it sits under `{loc[0]}:`"
        + (f" (line {line})" if line else "")
        + f": move it under `{right}:`"
    )


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
