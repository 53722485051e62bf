"""What every importer and exporter shares: the report of what was not carried over, YAML
text in the style of the hand-written files, and writing a set of files without silently
overwriting any (`semantic init`, `semantic import dbt|osi`; see docs/importing.md).

>>> item = Notice("models/orders.yml", 12, "measure 'p90_amount'", "percentile: no aggregate")
>>> print(item.diagnostic().render())
models/orders.yml:12:1: warning: SEM224 not carried over: measure 'p90_amount'
  help: percentile: no aggregate
>>> english_label("o_custkey"), english_label("order_total")
('O custkey', 'Order total')
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from semantic.errors import Diagnostic, SemanticError, Span
from semantic.files.atomic import write_atomically

__all__ = [
    "Notice",
    "dump_yaml",
    "english_label",
    "flow",
    "snake_id",
    "write_files",
]

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Notice:
    """One construct of the source that was not carried over, or was carried over in another
    form: where it is written (`file`, 1-based `line`, 0 when unknown), what it is and why.
    `code` is SEM224 (not carried over) unless the importer says otherwise."""

    file: str
    line: int
    what: str
    reason: str
    code: str = "SEM224"
    prefix: str = "not carried over: "

    def diagnostic(self) -> Diagnostic:
        """The notice as a warning diagnostic, printed like every other problem."""
        span = Span(self.file, self.line, 1 if self.line else 0)
        return Diagnostic(self.code, f"{self.prefix}{self.what}", span, self.reason, "warning")

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form, for `--format json`."""
        return self.diagnostic().as_dict()


def snake_id(text: str) -> str:
    """A snake_case id from any name: accents dropped, other characters made underscores.

    >>> snake_id("Order Items"), snake_id("2019 sales"), snake_id("Chiffre d'affaires")
    ('order_items', 'n_2019_sales', 'chiffre_d_affaires')
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    # camelCase and PascalCase become snake_case
    ascii_text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", ascii_text)
    name = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_") or "unnamed"
    return name if _ID.match(name) else f"n_{name}"


def english_label(name: str) -> str:
    """A readable English label from a column or id: underscores become spaces, first letter
    upper case, the rest as written."""
    words = re.sub(r"[_\s]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


def flow(value: Iterable[Any] | Mapping[str, Any]) -> Any:
    """A list or mapping written on one line (`[a, b]`, `{en: Revenue}`), as the hand-written
    files do for short collections."""
    if isinstance(value, Mapping):
        node: Any = CommentedMap(value)
    else:
        node = CommentedSeq(value)
    node.fa.set_flow_style()
    return node


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.width = 4096  # long descriptions stay on one line, as in the hand-written files
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def dump_yaml(tree: Any, header: str | None = None) -> str:
    """YAML text of a ruamel tree (comments kept), after a `# header` comment."""
    stream = io.StringIO()
    _yaml().dump(tree, stream)
    text = stream.getvalue()
    if header:
        text = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines()) + text
    return text


def load_yaml(text: str) -> Any:
    """A ruamel round-trip tree of YAML text (positions kept for reports)."""
    return _yaml().load(text)


def _term_ids(text: str) -> set[str]:
    tree = load_yaml(text)
    terms = tree.get("terms") if isinstance(tree, Mapping) else None
    return set(terms) if isinstance(terms, Mapping) else set()


def write_files(root: Path, files: Mapping[str, str], *, replace: bool = False) -> list[Path]:
    """Write `files` (path relative to `root` -> text) atomically, one by one; refuse with
    SEM220, writing nothing, when any exists and `replace` is false, and with SEM103 when a
    glossary file written defines a term that another glossary file of `root` keeps."""
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
    written_terms: dict[str, str] = {}
    for name, text in files.items():
        if name.startswith("glossary/"):
            written_terms |= dict.fromkeys(_term_ids(text), name)
    clashes = []
    for path in sorted((root / "glossary").glob("*.y*ml")):
        name = f"glossary/{path.name}"
        if name in files:
            continue  # replaced as a whole (refused above unless replacing)
        try:
            kept = _term_ids(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, YAMLError):  # `semantic check` reports it
            continue
        clashes += [
            Diagnostic(
                "SEM103",
                f"term '{term}' of {written_terms[term]} is already defined in {name}",
                Span(str(path)),
                "rename or remove one of them, or import into another folder with --into",
            )
            for term in sorted(kept & set(written_terms))
        ]
    if clashes:
        raise SemanticError(clashes)
    written = []
    for name, text in sorted(files.items()):
        write_atomically(root / name, text)
        written.append(root / name)
    return written
