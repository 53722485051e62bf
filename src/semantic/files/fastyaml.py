"""YAML read with libyaml's C parser, for loading: the same data and positions as the
round-trip reader of `semantic.files.read`, 15 to 20 times faster, without comments.

ruamel.yaml's round-trip loader is pure Python and was 85-92 % of loading a large project
(docs/benchmarks.md, "Load"). Loading needs the data and where each key and value was
written (file:line:col in errors), not the comments: `compose` asks libyaml (PyYAML's C
extension) for the node graph, whose nodes keep their line and column, and builds dicts
and lists that keep them (`MarkedMap`, `MarkedSeq`). ruamel stays for what must keep
comments (`semantic fmt`, the rewrites) and whenever this reader cannot promise ruamel's
result: `compose` raises `Unusual` and `read` scans the text with ruamel instead. That is
the case of every YAML error (so messages are ruamel's, word for word), explicit tags,
merge keys (`<<`), keys that are lists or mappings, directives (`%YAML 1.1` changes what
`yes` means), plain scalars that YAML 1.2 may read as anything but a string, a null, a
boolean, a decimal integer, a decimal fraction or a date (ruamel reads YAML 1.2 and
libyaml's resolver YAML 1.1: `yes`, `on`, `0o17`, `1:20`, `1_000`, `.inf`, times of day
all fall back), duplicate keys, nesting deeper than `MAX_DEPTH`, and characters the two
count differently in lines (NEL, the Unicode line and paragraph separators) and tabs (ruamel
refuses some that libyaml takes as blanks).
tests/test_fastyaml.py compares the two readers on every YAML file of the repository and
on generated texts.

>>> tree = compose("a: [1, yes, 2024-01-31]\\nb:\\n  c: x  # a comment\\n")
>>> tree
{'a': [1, 'yes', datetime.date(2024, 1, 31)], 'b': {'c': 'x'}}
>>> tree.marks["b"], tree["b"].marks["c"], tree["a"].marks[2]
((1, 0, 2, 2), (2, 2, 2, 5), (0, 12))
>>> try:
...     compose("a: 0x1F")
... except Unusual as exc:
...     print(exc)
a plain scalar that YAML 1.2 may read as a number or a date: '0x1F'
"""

from __future__ import annotations

import re
from bisect import bisect_right
from datetime import date
from typing import Any

try:  # PyYAML built with libyaml; without it, `read` uses ruamel for everything
    import yaml
    from yaml import _yaml  # type: ignore[attr-defined]

    AVAILABLE = bool(getattr(yaml, "__with_libyaml__", False))
except ImportError:  # pragma: no cover - PyYAML is a dependency, libyaml may be missing
    AVAILABLE = False

__all__ = ["AVAILABLE", "MarkedMap", "MarkedSeq", "Unusual", "compose", "maker"]

#: how deep mappings and lists may nest (as `semantic.files.read.MAX_DEPTH`: deeper text
#: goes to ruamel, which reports it)
MAX_DEPTH = 100
#: the end of a line, and blanks
_LINE_END = re.compile(r"\r\n|\r|\n")
_BLANKS = re.compile(r"[ \t\r\n]*")
#: an anchor or alias whose name YAML 1.1 (libyaml: letters, digits, `_`, `-`) ends
#: earlier than YAML 1.2 (ruamel: up to a blank or a flow indicator), as `&a:`
_ODD_ANCHOR = re.compile(r"[&*](?<![^\s\[{,][&*])[0-9A-Za-z_-]*[^0-9A-Za-z_\s,\[\]{}-]")
#: where a tag may start (`!!str 5`, `! x`, `!<tag:...>`); `!=` in an expression is not one
_TAG = re.compile(r"!(?<![^\s\[{,]!)(?!=)")


class Unusual(Exception):
    """The text holds something this reader cannot promise to read as ruamel does."""


class MarkedMap(dict[Any, Any]):
    """A mapping read from YAML, with where it starts (`line`, `col`, 0-based) and, for each
    key, `marks[key] = (key line, key col, value line, value col)`."""

    __slots__ = ("col", "line", "marks")

    def __init__(self, line: int = 0, col: int = 0) -> None:
        super().__init__()
        self.line, self.col = line, col
        self.marks: dict[Any, tuple[int, int, int, int]] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        # a dict subclass with slots pickles its state through here: one tuple, no dict
        return (_rebuilt_map, (self.line, self.col, self.marks, dict(self)))


class MarkedSeq(list[Any]):
    """A list read from YAML, with where it starts and `marks[i] = (line, col)` of each item."""

    __slots__ = ("col", "line", "marks")

    def __init__(self, line: int = 0, col: int = 0) -> None:
        super().__init__()
        self.line, self.col = line, col
        self.marks: list[tuple[int, int]] = []

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuilt_seq, (self.line, self.col, self.marks, list(self)))


def _rebuilt_map(line: int, col: int, marks: dict[Any, Any], items: dict[Any, Any]) -> MarkedMap:
    node = MarkedMap(line, col)
    node.update(items)
    node.marks = marks
    return node


def _rebuilt_seq(line: int, col: int, marks: list[Any], items: list[Any]) -> MarkedSeq:
    node = MarkedSeq(line, col)
    node.extend(items)
    node.marks = marks
    return node


def maker() -> str:
    """What the trees of `compose` depend on besides this module's code (for the cache of
    trees): PyYAML's and libyaml's versions."""
    return f"pyyaml {yaml.__version__} libyaml {_yaml.get_version_string()}" if AVAILABLE else ""


#: plain scalars read without a regular expression (YAML 1.2 core schema, as ruamel)
_WORDS: dict[str, Any] = {
    "": None,
    "~": None,
    "null": None,
    "Null": None,
    "NULL": None,
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}
#: first characters of a plain scalar that YAML 1.2 may read as something else than a
#: string (numbers, dates, `.inf`, `<<`, `=`); YAML 1.1's `yes`, `on`... are strings in 1.2
_SPECIAL_START = frozenset("-+0123456789.<=")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FRACTION = re.compile(r"[-+]?[0-9]+\.[0-9]+")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
#: the usual timestamps (`2024-01-20 10:00:00+00:00`, `dct:modified` of an import): a subset
#: of what ruamel reads as a timestamp, built by ruamel's own constructor (`_timestamp`)
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(?:\.[0-9]+)?(?:Z|[-+][0-9]{2}:[0-9]{2})?"
)
#: what YAML 1.2 (ruamel) may read as other than a string, with a margin (sexagesimal numbers
#: are strings in 1.2 but numbers in 1.1: left to ruamel rather than trusted)
_ANY_SPECIAL = re.compile(
    r"""[-+]?(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][-+]?[0-9]+)?  # numbers, in either version
    |[-+]?0[box]?[0-9a-fA-F_]+ |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
    |[-+]?\.(?:inf|Inf|INF) |\.(?:nan|NaN|NAN) |<< |=
    |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+).*)?""",
    re.X,
)


def _plain(value: str) -> Any:
    """A plain scalar as ruamel's YAML 1.2 reads it, or `Unusual`."""
    if value in _WORDS:
        return _WORDS[value]
    if value[0] not in _SPECIAL_START:
        return value
    if len(value) > 30 and value[-1] in "0123456789":
        # a number of many digits: Python may refuse to build it, which ruamel reports
        raise Unusual(f"a long number: {value[:30]}...")
    if _INT.fullmatch(value):
        return int(value)
    if _FRACTION.fullmatch(value):
        return float(value)
    if found := _DATE.fullmatch(value):
        try:
            return date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:  # 2024-13-45: ruamel's error says where
            raise Unusual(f"a date that does not exist: {value!r}") from None
    if _TIMESTAMP.fullmatch(value):
        return _timestamp(value)
    if _ANY_SPECIAL.fullmatch(value):
        raise Unusual(f"a plain scalar that YAML 1.2 may read as a number or a date: {value!r}")
    return value


def _timestamp(value: str) -> Any:
    """A timestamp as ruamel reads it (its `TimeStamp`, which keeps how the text wrote the
    zone): made by ruamel's constructor, imported only when a file has one."""
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.nodes import ScalarNode

    try:
        return RoundTripConstructor().construct_yaml_timestamp(
            ScalarNode("tag:yaml.org,2002:timestamp", value)
        )
    except ValueError:  # 2024-02-30 10:00:00: ruamel's error says where
        raise Unusual(f"a timestamp that does not exist: {value!r}") from None


if AVAILABLE:

    class _Parser(_yaml.CParser):  # type: ignore[misc, name-defined]
        """libyaml's parser and composer without PyYAML's (YAML 1.1) resolver: every
        implicit tag is left empty, and `_plain` reads plain scalars instead."""

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            return ""

        def descend_resolver(self, parent: Any, index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass


_MARKER = re.compile(r"(?m)^(?:---|\.\.\.)(?=[ \t\r\n]|$)")


def _markers(text: str) -> bool:
    """Whether `text` has document markers besides one `---` (libyaml and ruamel disagree on
    what a document end followed by nothing is)."""
    found = _MARKER.findall(text)
    return len(found) > 1 or found == ["..."]


def compose(text: str) -> Any:
    """The data of the YAML document `text` as dicts (`MarkedMap`), lists (`MarkedSeq`) and
    scalars, as ruamel's round-trip loader would read it (None for an empty document);
    `Unusual` when that cannot be promised (see the module's doc)."""
    if not AVAILABLE:
        raise Unusual("libyaml is not installed")
    if "%" in text and re.search(r"(?m)^%", text):
        raise Unusual("a directive")
    if "!" in text and _TAG.search(text):
        raise Unusual("a tag")
    # without an anchor, an alias is an error for both (libyaml's sends the text to ruamel)
    if "&" in text and _ODD_ANCHOR.search(text):
        raise Unusual("an anchor name that YAML 1.1 and 1.2 end differently")
    if ("---" in text or "..." in text) and _markers(text):
        raise Unusual("document markers besides a first `---`")
    if "\t" in text:  # ruamel refuses a tab in places libyaml takes as a blank
        raise Unusual("a tab")
    # NEL and the Unicode line and paragraph separators: line breaks for libyaml (YAML 1.1)
    # that ruamel may count otherwise (three `in` tests: a regex took 3 % of composing)
    if "\x85" in text or "\u2028" in text or "\u2029" in text:
        raise Unusual("a line break that YAML 1.1 and 1.2 count differently")
    parser = _Parser(text)
    try:
        node = parser.get_single_node()
    except yaml.YAMLError as exc:
        raise Unusual(f"not YAML libyaml reads: {exc}") from None
    finally:
        parser.dispose()
    if node is None:
        return None
    return _Builder(text).build(node, 0)


class _Builder:
    """Nodes to data; a node met twice (an alias) gives the same object both times, as in
    ruamel's tree. An alias inside the mapping or list it names is left to ruamel, which
    builds such a loop its own way.

    Scalars are read inline by the loops over a mapping's or a list's items (a call per
    scalar was a third of building a glossary of 10,000 terms), and a text without `&` has
    no alias (an alias names an anchor), so nothing is remembered by node for it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.made: dict[int, Any] = {}
        self.open: set[int] = set()
        self.starts: list[int] = []  # where each line of `text` starts, once needed
        self.aliases = "&" in text

    def empty_value(self, node: Any) -> tuple[int, int]:
        """(line, col) of an empty value of a block mapping (`key:` and nothing) as ruamel
        marks it: at the next token, where libyaml marks the end of the colon. `Unusual`
        where a comment or a marker decides instead (ruamel moves comments around)."""
        mark = node.start_mark
        if not self.starts:
            self.starts = [0, *(m.end() for m in _LINE_END.finditer(self.text))]
        blanks = _BLANKS.match(self.text, self.starts[mark.line] + mark.column)
        at = blanks.end() if blanks else len(self.text)
        if at < len(self.text) and self.text[at] in "#:?-.":
            raise Unusual("an empty value followed by a comment or a marker")
        line = bisect_right(self.starts, at) - 1
        return line, at - self.starts[line]

    def build(self, node: Any, depth: int) -> Any:
        if node.tag:
            raise Unusual(f"the explicit tag {node.tag}")
        kind = node.id
        if kind == "scalar":
            return _plain(node.value) if not node.style else node.value
        if self.aliases:
            known = self.made.get(id(node))
            if known is not None:
                if id(node) in self.open:
                    raise Unusual("an alias inside what it names")
                return known
        if depth >= MAX_DEPTH:
            raise Unusual("nesting too deep")
        mark = node.start_mark
        words, special = _WORDS, _SPECIAL_START
        if kind == "sequence":
            seq = MarkedSeq(mark.line, mark.column)
            if self.aliases:
                self.made[id(node)] = seq
                self.open.add(id(node))
            marks = seq.marks
            for item in node.value:
                start = item.start_mark
                marks.append((start.line, start.column))
                if item.id == "scalar" and not item.tag:  # `_plain` inline, as below
                    value = item.value
                    if item.style or (value not in words and value[0] not in special):
                        seq.append(value)
                        continue
                seq.append(self.build(item, depth + 1))
            self.open.discard(id(node))
            return seq
        mapping = MarkedMap(mark.line, mark.column)
        if self.aliases:
            self.made[id(node)] = mapping
            self.open.add(id(node))
        keys = mapping.marks
        flow = node.flow_style
        for key_node, value_node in node.value:
            if key_node.id != "scalar" or key_node.tag:
                raise Unusual("a key that is not a plain value")
            key = key_node.value
            if not key_node.style and (key in words or key[0] in special):  # `_plain` inline
                key = _plain(key)
            if key in keys or key == "<<":
                raise Unusual("a duplicate key or a merge")
            k, v = key_node.start_mark, value_node.start_mark
            if value_node.id == "scalar" and not value_node.tag:
                value = value_node.value
                if flow or value or value_node.style:
                    keys[key] = (k.line, k.column, v.line, v.column)
                else:
                    keys[key] = (k.line, k.column, *self.empty_value(value_node))
                # `_plain` inline for the usual plain string (or a quoted scalar)
                if value_node.style or (value and value not in words and value[0] not in special):
                    mapping[key] = value
                else:
                    mapping[key] = _plain(value)
                continue
            keys[key] = (k.line, k.column, v.line, v.column)
            mapping[key] = self.build(value_node, depth + 1)
        self.open.discard(id(node))
        return mapping
