"""What every importer and exporter shares: one report type (`Notice`), one way to make ids
(`snake_id`), one way to write YAML (`yaml_text`: the house style, keys in the order `fmt`
takes from the schema), and writing a set of files without silently overwriting any
(`semantic init`, `semantic import dbt|osi|skos`, `semantic export osi`; see
docs/importing.md).

>>> item = Notice("models/orders.yml", 12, "measure 'p90_amount'", "percentile: no aggregate")
>>> print(item.diagnostic().render())
models/orders.yml:12:1: warning: SEM224 not carried over: measure 'p90_amount'
  help: percentile: no aggregate
>>> english_label("o_custkey"), english_label("order_total")
('O custkey', 'Order total')
>>> from semantic.files.schema import GlossaryFile
>>> term = {"metric": {"entity": "orders", "expr": "count(*)"}, "label": {"en": "Orders"}}
>>> print(yaml_text({"terms": {"orders": term}, "domain": "sales"}, GlossaryFile), end="")
domain: sales
terms:
  orders:
    label: {en: Orders}
    metric:
      entity: orders
      expr: count(*)
"""

from __future__ import annotations

import functools
import io
import os
import re
import types
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import (
    Any,
    Literal,
    Protocol,
    TypeVar,
    Union,
    get_args,
    get_origin,
    runtime_checkable,
)

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from semantic.errors import Diagnostic, SemanticError, Span, error
from semantic.files.atomic import write_atomically
from semantic.files.emit import Unsupported, emit_yaml
from semantic.files.fmt import format_text
from semantic.files.jsonschema import SCHEMA_DIR, schemas
from semantic.files.schema import (
    ColumnSpec,
    ConceptSpec,
    DataSpec,
    ProjectFile,
    ShiftSpec,
    WindowSpec,
)

__all__ = [
    "ImportResult",
    "Importer",
    "Notice",
    "NoticeKind",
    "dump_yaml",
    "english_label",
    "house_style",
    "line_of",
    "load_yaml",
    "new_id",
    "read_yaml",
    "snake_id",
    "write_files",
    "yaml_text",
]

# --- the report ------------------------------------------------------------------------------

#: What a notice says about its construct: `unmapped` (not carried over), `changed` (carried
#: over in another form), `conflict` (an id the project already has: not written unless
#: replacing), `concept` (written as a business concept, without physical meaning),
#: `guessed` (a key or relationship guessed from names) and `withheld` (left out of the
#: files on purpose, such as a password).
NoticeKind = Literal["unmapped", "changed", "conflict", "concept", "guessed", "withheld"]
_CODES: dict[str, str] = {"guessed": "SEM225", "withheld": "SEM226"}
_PREFIXES: dict[str, str] = {
    "unmapped": "not carried over",
    "changed": "carried over differently",
    "conflict": "not written",
    "concept": "carried over as a business concept",
    "guessed": "guessed",
    "withheld": "not written",
}


@dataclass(frozen=True)
class Notice:
    """One construct of the source that an import or export did not carry over, or carried
    over in another form: where it is written (`file`, 1-based `line`, 0 when unknown),
    what it is, why, and what kind of notice it is.

    From an RDF source, `what` is the resource (an IRI, or `_:b0`) and `predicate` and
    `object` the triple, when the notice is about one; `line` and `column` are where the
    resource is stated in the file (0 when unknown). `prefix` replaces the kind's opening
    words in the message (an exporter names the format: `OSI cannot carry`)."""

    file: str
    line: int
    what: str
    reason: str
    kind: NoticeKind = "unmapped"
    predicate: str | None = None
    object: str | None = None
    prefix: str | None = None
    #: the 1-based column of the construct on its line, 0 when unknown (then 1 is shown)
    column: int = 0

    @property
    def code(self) -> str:
        """SEM225 for a guess, SEM226 for something withheld, else SEM224."""
        return _CODES.get(self.kind, "SEM224")

    def diagnostic(self) -> Diagnostic:
        """The notice as a warning diagnostic, printed like every other problem."""
        span = Span(self.file, self.line, (self.column or 1) if self.line else 0)
        opening = self.prefix or _PREFIXES[self.kind]
        return Diagnostic(self.code, f"{opening}: {self.what}", span, self.reason, "warning")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for `--format json`."""
        return self.diagnostic().as_dict()


@dataclass(frozen=True)
class ImportResult:
    """What an import gives: the files to write (path -> YAML text) and the report."""

    files: Mapping[str, str]
    notices: tuple[Notice, ...]


Source = TypeVar("Source", contravariant=True)


@runtime_checkable
class Importer(Protocol[Source]):
    """An importer: reads a source (a dbt project's folder, an OSI file, an RDF graph, a
    database) into the files of a project and the report of what was not carried over."""

    def read(self, source: Source) -> ImportResult:
        """The files and notices of `source`; SemanticError when it cannot be read."""
        ...


# --- ids and labels --------------------------------------------------------------------------

_ID_LENGTH = 128  # the schema's `Id`: ^[a-z][a-z0-9_]*$, at most 128 characters


def snake_id(text: str, prefix: str = "n", empty: str = "unnamed") -> str:
    """A snake_case id (the schema's `Id`) from any name: camelCase and acronyms split,
    accents dropped, other characters made underscores, at most 128 characters. Ids start
    with a letter, so an id that would start with a digit gets `prefix` in front, and a name
    with no letter or digit gives `empty`.

    >>> snake_id("Order Items"), snake_id("HTTPServer"), snake_id("Chiffre d'affaires")
    ('order_items', 'http_server', 'chiffre_d_affaires')
    >>> snake_id("2019 sales"), snake_id("1.2", prefix="term"), snake_id("Région")
    ('n_2019_sales', 'term_1_2', 'region')
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", plain)
    plain = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", plain)
    name = re.sub(r"[^A-Za-z0-9]+", "_", plain).strip("_").lower()
    if not name:
        return empty
    return (name if name[0].isalpha() else f"{prefix}_{name}")[:_ID_LENGTH]


def new_id(taken: Collection[str], base: str, *preferred: str) -> str:
    """An id that `taken` does not hold: the first of `preferred` (`base` itself when none is
    given) that is free, else `base` with the first free number behind (`status_2`),
    shortened to stay within 128 characters. The caller adds it to `taken`.

    >>> new_id({"status"}, "status"), new_id({"status"}, "status", "status", "orders_status")
    ('status_2', 'orders_status')
    """
    for wanted in preferred or (base,):
        if wanted not in taken:
            return wanted
    number = 2
    while (found := f"{base[: _ID_LENGTH - 1 - len(str(number))]}_{number}") in taken:
        number += 1
    return found


def english_label(name: str) -> str:
    """A readable English label from a column or id: underscores become spaces, first letter
    upper case, the rest as written."""
    words = re.sub(r"[_\s]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


# --- YAML ------------------------------------------------------------------------------------

#: Schema objects written on one line (`{type: bigint}`, `{time: order_date, to_date: year}`);
#: the others (entities, relationships, terms, meanings, subject areas...) are blocks.
_ONE_LINE: tuple[type[BaseModel], ...] = (ColumnSpec, ConceptSpec, DataSpec, ShiftSpec, WindowSpec)
#: Texts by language written one per line, as prose; other maps of texts are on one line.
_PROSE = frozenset({"definition", "scope_note", "examples"})


def house_style(value: Any, annotation: Any, key: str | None = None) -> Any:
    """Plain data (or ruamel nodes, whose comments are kept) as ruamel nodes in the style of
    the hand-written files, following the schema `annotation`: lists and maps of names on
    one line (`label: {en: Revenue}`, `tags: [finance]`), prose one text per line, schema
    objects as blocks except the small ones of `_ONE_LINE`. Key order is `fmt`'s business
    (see `yaml_text`)."""
    if type(value) in _LEAVES:  # most nodes of a large import: nothing to look up
        return value
    annotation = _without_none(annotation)
    if isinstance(value, Mapping):
        fields = _fields(annotation)
        values = get_args(annotation)[-1] if get_args(annotation) else Any
        if isinstance(value, CommentedMap):  # its comments and anchors stay where they are
            node = value
            for name in node:
                child = fields.get(name) if fields is not None else values
                node[name] = house_style(node[name], child, str(name))
            children = list(node.values())
        else:  # built from the children (ruamel's __setitem__ and views are slow)
            pairs = [
                (name, house_style(item, values if fields is None else fields.get(name), str(name)))
                for name, item in value.items()
            ]
            node = CommentedMap(pairs)
            children = [child for _, child in pairs]
        if fields is not None:
            one_line = issubclass(annotation, _ONE_LINE)
        else:  # a map of schema objects (columns, terms) is a block, one object per line
            one_line = key not in _PROSE and _fields(_without_none(values)) is None
            one_line = one_line and all(_is_flat(v) for v in children)
        _set_flow(node, one_line)
        return node
    if isinstance(value, list | tuple):
        args = get_args(annotation)
        if isinstance(value, CommentedSeq):
            seq = value
            for i, item in enumerate(seq):
                seq[i] = house_style(item, args[0] if args else Any)
        else:
            seq = CommentedSeq([house_style(item, args[0] if args else Any) for item in value])
        _set_flow(seq, all(_is_flat(v) for v in list.__iter__(seq)))
        return seq
    return value


#: the types `house_style` returns as they are, whatever the annotation
_LEAVES = frozenset({str, int, float, bool, type(None), date, datetime})


def _without_none(annotation: Any) -> Any:
    """`X | None` as X."""
    if get_origin(annotation) in (Union, types.UnionType):
        kept = [a for a in get_args(annotation) if a is not type(None)]
        return kept[0] if len(kept) == 1 else annotation
    return annotation


def _fields(annotation: Any) -> dict[str, Any] | None:
    """The annotations of a schema object's fields, or None when it is not one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_fields(annotation)
    return None


@functools.cache
def _model_fields(model: type[BaseModel]) -> dict[str, Any]:
    # built once per model, not once per node of a tree (55 nodes a term in an import)
    return {name: f.annotation for name, f in model.model_fields.items()}


def _is_flat(node: Any) -> bool:
    """A scalar, or a collection written on one line."""
    if type(node) in _LEAVES:
        return True
    if isinstance(node, CommentedMap | CommentedSeq):
        return bool(node.fa.flow_style())
    return not isinstance(node, Mapping | list | tuple)


def _set_flow(node: CommentedMap | CommentedSeq, one_line: bool) -> None:
    if one_line:
        node.fa.set_flow_style()
    else:
        node.fa.set_block_style()


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.width = 4096  # long descriptions stay on one line, as in the hand-written files
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True  # a file loaded to be merged keeps its quotes
    # `fill_null: null` says something (NULL, even for a count): written, not left empty
    yaml.representer.add_representer(
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


def dump_yaml(tree: Any, header: str | None = None, *, fast: bool = False) -> str:
    """YAML text of a ruamel tree as it is (comments and styles kept), after a `# header`
    comment. New files go through `yaml_text` instead.

    With `fast`, the text is written by `semantic.files.emit` when it can write it (the
    same text, without ruamel's pure-Python emitter), else by ruamel: for trees built here,
    not loaded (whose quotes and anchors only ruamel keeps)."""
    text = _emitted(tree) if fast else None
    if text is None:
        stream = io.StringIO()
        _yaml().dump(tree, stream)
        text = stream.getvalue()
    if header:
        text = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines()) + text
    return text


def _emitted(tree: Any) -> str | None:
    """The text `semantic.files.emit` writes for `tree`, None when only ruamel can."""
    try:
        return emit_yaml(tree)
    except Unsupported:
        return None


def yaml_text(data: Any, schema: type[BaseModel], header: str | None = None) -> str:
    """The text of a new file of `schema` (`ProjectFile`, `ModelFile`, `GlossaryFile`)
    holding `data`: in the house style (`house_style`), with the keys of every schema object
    in the order `semantic fmt` writes them, so that `fmt` leaves an imported file as it is.
    Comments on ruamel nodes of `data` are kept."""
    return format_text(dump_yaml(house_style(data, schema), header), schema)


def load_yaml(text: str) -> Any:
    """A ruamel round-trip tree of YAML text (positions kept for reports)."""
    return _yaml().load(text)


def read_yaml(path: Path, name: str, code: str, hint: str | None = None) -> Any:
    """The ruamel tree of the YAML file at `path` (`name` in reports); `code` when it cannot
    be read or parsed."""
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise error(code, f"cannot read {name}: {exc}", Span(name)) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        span = Span(name, mark.line + 1, mark.column + 1) if mark else Span(name)
        problem = getattr(exc, "problem", None) or exc
        raise error(code, f"invalid YAML: {problem}", span, hint) from None


def line_of(node: Any, key: str | None = None) -> int:
    """The 1-based line of `key` in a loaded mapping, else of the mapping; 0 when unknown."""
    if not isinstance(node, CommentedMap):
        return 0
    if key is not None and key in node:
        return int(node.lc.key(key)[0]) + 1
    return int(node.lc.line) + 1


# --- writing ---------------------------------------------------------------------------------


def _defined(text: str) -> set[tuple[str, str]]:
    """What a glossary or model file defines: ("term", id), ("domain", id), ("entity", id)."""
    tree = load_yaml(text)
    if not isinstance(tree, Mapping):
        return set()
    found = {("domain", str(tree["domain"]))} if isinstance(tree.get("domain"), str) else set()
    for kind, key in (("term", "terms"), ("entity", "entities")):
        ids = tree.get(key)
        found |= {(kind, str(i)) for i in ids} if isinstance(ids, Mapping) else set()
    return found


def write_files(root: Path, files: Mapping[str, str], *, replace: bool = False) -> list[Path]:
    """Write `files` (path relative to `root` -> text) atomically, one by one; refuse with
    SEM220, writing nothing, when any exists and `replace` is false, and with SEM103 when a
    glossary or model file written defines a term, domain or entity that another file of
    `root` keeps (`semantic check` would find it defined twice).

    The JSON Schemas that the files' `$schema` comments point at are written too when the
    project has none yet, so that an editor finds them (`semantic schema` refreshes them)."""
    files = {**files, **_missing_schemas(root, files)}
    existing = [name for name in files if (root / name).exists()]
    if existing and not replace:
        raise SemanticError(
            Diagnostic(
                "SEM220",
                f"{name} already exists",
                Span(str(root / name)),
                "pass --replace to overwrite it, or write into another folder",
            )
            for name in existing
        )
    written: dict[tuple[str, str], str] = {}
    for name, text in files.items():
        if name.startswith(("glossary/", "models/")) and name.endswith((".yml", ".yaml")):
            written |= dict.fromkeys(_defined(text), name)
    clashes = []
    kept_files = [*(root / "glossary").glob("*.y*ml"), *(root / "models").glob("*.y*ml")]
    for path in sorted(kept_files):
        name = f"{path.parent.name}/{path.name}"
        if name in files:
            continue  # replaced as a whole (refused above unless replacing)
        try:
            kept = _defined(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, YAMLError):  # `semantic check` reports it
            continue
        clashes += [
            Diagnostic(
                "SEM103",
                f"{kind} '{ident}' of {written[(kind, ident)]} is already defined in {name}",
                Span(str(path)),
                "rename or remove one of them, or import into another folder with --into",
            )
            for kind, ident in sorted(kept & set(written))
        ]
    if clashes:
        raise SemanticError(clashes)
    paths = []
    for name, text in sorted(files.items()):
        write_atomically(root / name, text)
        paths.append(root / name)
    return paths


_SCHEMA_COMMENT = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


def _missing_schemas(root: Path, files: Mapping[str, str]) -> dict[str, str]:
    """The schema files (path relative to `root` -> text) that `files` point at and that
    neither exist nor are written."""
    texts = schemas()
    missing = {}
    for name, text in files.items():
        for pointer in _SCHEMA_COMMENT.findall(text):
            target = os.path.normpath(os.path.join(os.path.dirname(name), pointer))
            if (
                os.path.dirname(target) == SCHEMA_DIR
                and os.path.basename(target) in texts
                and target not in files
                and not (root / target).exists()
            ):
                missing[target] = texts[os.path.basename(target)]
    return missing


#: The header of a semantic.yml an import writes: editors find its JSON Schema there.
CONFIG_HEADER = "yaml-language-server: $schema=schemas/project.schema.json"


def config_text(settings: Mapping[str, Any]) -> str:
    """The text of a new semantic.yml holding `settings`."""
    return yaml_text(settings, ProjectFile, CONFIG_HEADER)


def new_config(root: Path, data: Mapping[str, str] | None) -> dict[str, Any]:
    """The settings of a new project at `root`: named after its folder, in English, reading
    the data described by `data` (its `dir` made relative to `root`)."""
    config: dict[str, Any] = {"name": root.resolve().name, "languages": ["en"]}
    if data:
        where = os.path.relpath(data["dir"], root.resolve())
        config["data"] = {**data, "dir": where}
    return config
