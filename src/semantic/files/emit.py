"""YAML text of a tree of ruamel nodes in the house style, written directly: the text
ruamel's round-trip dumper writes (as `semantic.interchange.common.dump_yaml` sets it up:
width 4096, `indent(mapping=2, sequence=4, offset=2)`, None as `null`), 20 to 30 times faster.

ruamel's emitter is pure Python and was 60 % of `semantic import skos` on a large vocabulary
(docs/benchmarks.md). A new file has no comments or quotes to keep, only the shapes
`house_style` builds: block and flow mappings and lists of strings, numbers, booleans,
nulls, dates and date-times, and comments before keys (the blank line between two terms, a
`# TODO(import)` note). `emit_yaml` writes those and raises `Unsupported` for anything else,
so that the caller asks ruamel instead: another comment slot, a key that is not a string or
is too long or multi-line for a simple key, a scalar subclass (quoted or block strings), a
node that appears twice (ruamel writes an anchor and an alias), a string with a line break
other than `\\n`, a line longer than the width (ruamel would fold it), a list in a list.

Each scalar's style follows ruamel's rules (`Emitter.analyze_scalar` and
`choose_scalar_style`): plain when the plain text reads back as the same value and has no
indicator the context forbids, else single-quoted, else (a `'` or a line break in it, or a
character YAML must escape) double-quoted with ruamel's escapes. tests/test_emit.py compares
the two writers on every file the SKOS tests import and on generated trees.

>>> from ruamel.yaml.comments import CommentedMap, CommentedSeq
>>> tree = CommentedMap(a=CommentedMap(en="yes, no"), b=CommentedSeq([1, "1e3", "it's"]))
>>> tree["a"].fa.set_flow_style()
>>> print(emit_yaml(tree), end="")
a: {en: 'yes, no'}
b:
  - 1
  - '1e3'
  - it's
"""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import date, datetime
from typing import Any

from ruamel.yaml.anchor import Anchor
from ruamel.yaml.comments import Comment, CommentedMap, CommentedSeq, merge_attrib
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

__all__ = ["WIDTH", "Unsupported", "emit_yaml"]

#: the line width of `dump_yaml`; ruamel folds lines past it, which this writer does not do
WIDTH = 4096
#: ruamel writes a longer key as `? key`
_MAX_SIMPLE_KEY = 128
_STR = "tag:yaml.org,2002:str"
#: what a plain scalar of each Python type is read back as
_TAGS = {
    bool: "tag:yaml.org,2002:bool",
    int: "tag:yaml.org,2002:int",
    float: "tag:yaml.org,2002:float",
    date: "tag:yaml.org,2002:timestamp",
    datetime: "tag:yaml.org,2002:timestamp",
}
#: line breaks that ruamel writes as breaks inside a quoted scalar (`\n` never is: with a
#: `\n`, a string is double-quoted and the break escaped)
_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")
#: strings that are surely plain in any context, without analysing them character by
#: character: letters and digits of any script (none is a character to escape), no
#: indicator first, no leading or trailing space, no `:` before a space or at the end, no
#: ` #`, no `,[]{}`
_SIMPLE = re.compile(r"[\w(/](?:[\w .'/()+=&;~$^!*%@?\-]|:(?=[^ ])|(?<! )#)*(?<! )")
#: the patterns that make a plain scalar read as something else than a string (YAML 1.2,
#: as ruamel reads and writes), by first character
_IMPLICIT: dict[Any, list[tuple[str, re.Pattern[str]]]] = {
    first: list(patterns) for first, patterns in VersionedResolver().versioned_resolver.items()
}
_ESCAPES = {
    "\0": "0",
    "\x07": "a",
    "\x08": "b",
    "\x09": "t",
    "\x0a": "n",
    "\x0b": "v",
    "\x0c": "f",
    "\x0d": "r",
    "\x1b": "e",
    '"': '"',
    "\\": "\\",
    "\x85": "N",
    "\xa0": "_",
    "\u2028": "L",
    "\u2029": "P",
}
_BREAKS = "\n\x85\u2028\u2029"
_BLANKS = "\0 \t\r\n\x85\u2028\u2029"


class Unsupported(Exception):
    """The tree has something this writer does not write as ruamel would: use ruamel."""


def emit_yaml(tree: Any) -> str:
    """The YAML text ruamel's round-trip dumper writes for `tree`, a block mapping (see the
    module's docstring). Raises Unsupported for what it cannot promise to write the same."""
    if not isinstance(tree, CommentedMap) or not tree or tree.fa.flow_style():
        raise Unsupported("the document is not a block mapping")
    writer = _Writer()
    writer.block_mapping(tree, 0, first_inline=False)
    text = "".join(writer.out)
    if any(len(line) >= WIDTH - 100 for line in text.split("\n")):
        raise Unsupported("a line as long as the width")
    return text


class _Writer:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.seen: set[int] = set()
        #: the text of each string in each context: (value, in flow, as a key) -> text
        self.strings: dict[tuple[str, bool, bool], str] = {}

    def once(self, node: Any) -> None:
        """ruamel writes an anchor and an alias for a collection or a date met twice."""
        if id(node) in self.seen:
            raise Unsupported("a node that appears twice")
        self.seen.add(id(node))

    # --- block collections --------------------------------------------------------------

    def block_mapping(self, node: CommentedMap, indent: int, *, first_inline: bool) -> None:
        """The keys of `node` at `indent`, the first on the current line when `first_inline`
        (a list item); each line ends with a line break."""
        self.once(node)
        comments = _comments(node)
        items = comments.items if comments is not None else {}
        out = self.out
        pad = " " * indent
        # the node's own keys and values (ruamel's views look each value up again, and a
        # merged mapping is refused by `_comments`)
        for index, (key, value) in enumerate(OrderedDict.items(node)):
            slots = items.get(key) if items else None
            if slots is not None:
                if index == 0 or slots[0] or slots[2] or slots[3]:
                    raise Unsupported("a comment other than before a key")
                for token in slots[1] or ():
                    out.append(_pre_comment(token))
            if index or not first_inline:
                out.append(pad)
            out.append(self.key(key))
            out.append(":")
            self.block_value(value, indent)

    def block_value(self, value: Any, indent: int) -> None:
        """A value after `key:` in a block mapping at `indent`, up to its line break."""
        out = self.out
        if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
            out.append("\n")
            self.block_mapping(value, indent + 2, first_inline=False)
        elif isinstance(value, CommentedSeq) and value and not value.fa.flow_style():
            out.append("\n")
            self.block_sequence(value, indent + 2)
        else:
            out.append(" ")
            self.flow_node(value, in_flow=False)
            out.append("\n")

    def block_sequence(self, node: CommentedSeq, indent: int) -> None:
        """The items of a block list, the dash at `indent`, its content two further."""
        self.once(node)
        if _comments(node, items=False) is not None:
            raise Unsupported("a comment in a list")
        out = self.out
        pad = " " * indent + "- "
        for item in list.__iter__(node):
            out.append(pad)
            if isinstance(item, CommentedMap) and item and not item.fa.flow_style():
                self.block_mapping(item, indent + 2, first_inline=True)
            elif isinstance(item, CommentedSeq) and item and not item.fa.flow_style():
                raise Unsupported("a block list in a block list")
            else:
                self.flow_node(item, in_flow=False)
                out.append("\n")

    # --- flow collections and scalars ------------------------------------------------------

    def flow_node(self, value: Any, *, in_flow: bool) -> None:
        """A scalar, or a collection on one line (an empty one always is)."""
        out = self.out
        if type(value) is str:
            out.append(self.string(value, in_flow, False))
        elif isinstance(value, CommentedMap):
            self.once(value)
            if _comments(value, items=False) is not None:
                raise Unsupported("a comment in a flow mapping")
            out.append("{")
            for index, (key, item) in enumerate(OrderedDict.items(value)):
                if index:
                    out.append(", ")
                out.append(self.key(key, in_flow=True))
                out.append(": ")
                self.flow_node(item, in_flow=True)
            out.append("}")
        elif isinstance(value, CommentedSeq):
            self.once(value)
            if _comments(value, items=False) is not None:
                raise Unsupported("a comment in a flow list")
            out.append("[")
            for index, item in enumerate(list.__iter__(value)):
                if index:
                    out.append(", ")
                if isinstance(item, CommentedMap) and len(item) == 1:
                    raise Unsupported("a mapping of one key in a flow list (written `[k: v]`)")
                self.flow_node(item, in_flow=True)
            out.append("]")
        else:
            out.append(self.scalar(value, in_flow=in_flow))

    def key(self, key: Any, *, in_flow: bool = False) -> str:
        """A mapping key: a string short enough and on one line for a simple key."""
        if type(key) is not str:
            raise Unsupported("a key that is not a string")
        if len(key) >= _MAX_SIMPLE_KEY or any(ch in key for ch in _BREAKS):
            raise Unsupported("a key ruamel writes as `? key`")
        return self.string(key, in_flow, True)

    def scalar(self, value: Any, *, in_flow: bool) -> str:
        kind = type(value)
        if kind is str:
            return self.string(value, in_flow, False)
        if value is None:
            return "null"
        if kind is bool:
            text = "true" if value else "false"
        elif kind is int:
            text = str(value)
        elif kind is float:
            text = _float_text(value)
        elif kind is date or kind is datetime:
            self.once(value)
            text = value.isoformat() if kind is date else value.isoformat(" ")
        else:
            raise Unsupported(f"a scalar of type {kind.__name__}")
        # a plain number or date that would read back as something else: ruamel tags it
        if _plain_tag(text) != _TAGS[kind] or not _SIMPLE_OTHER.fullmatch(text):
            raise Unsupported(f"a {kind.__name__} written with a tag or quotes")
        return text

    def string(self, value: str, in_flow: bool, as_key: bool) -> str:
        """A string in the style ruamel chooses in this context."""
        cached = self.strings.get((value, in_flow, as_key))
        if cached is not None:
            return cached
        if _OTHER_BREAKS.search(value):
            raise Unsupported("a line break ruamel writes inside quotes")
        if _SIMPLE.fullmatch(value):
            block_plain = flow_plain = True
            single = True
            multiline = False
        else:
            block_plain, flow_plain, single, multiline = _analyse(value)
        plain = flow_plain if in_flow else block_plain
        if as_key and (not value or multiline):
            plain = False
        if plain and _plain_tag(value) == _STR:
            text = value
        elif "'" in value or "\n" in value or not single or (as_key and multiline):
            text = _double_quoted(value)
        else:
            text = f"'{value}'"
        self.strings[(value, in_flow, as_key)] = text
        return text


#: the texts of numbers, booleans and dates that are plain in any context
_SIMPLE_OTHER = re.compile(r"[-+.0-9a-z][-+.:0-9a-zA-Z ]*(?<! )")


def _comments(node: Any, *, items: bool = True) -> Any:
    """The comments of a collection that may have some (before keys of a block mapping
    when `items`), None when it has none; raises Unsupported for any other comment, an
    anchor, a tag or a merge key (written by ruamel as `&name`, `!tag`, `<<: *name`)."""
    anchor = getattr(node, Anchor.attrib, None)
    tag = getattr(node, Tag.attrib, None)
    if (anchor is not None and anchor.value is not None) or (
        tag is not None and tag.value is not None
    ):
        raise Unsupported("an anchor or a tag")
    if getattr(node, merge_attrib, None):
        raise Unsupported("a merge key (`<<`)")
    comments = getattr(node, Comment.attrib, None)
    if comments is None or not (comments.items or comments.comment or comments.end):
        return None
    if comments.comment or comments.end or not items:
        raise Unsupported("a comment other than before a key")
    return comments


def _plain_tag(text: str) -> str:
    """What a plain scalar reads as (`VersionedResolver.resolve` for YAML 1.2)."""
    for tag, pattern in _IMPLICIT.get(text[0] if text else "", ()):
        if pattern.match(text):
            return tag
    for tag, pattern in _IMPLICIT.get(None, ()):
        if pattern.match(text):
            return tag
    return _STR


def _pre_comment(token: Any) -> str:
    """A comment line before a key as ruamel writes it: at its column, or a blank line."""
    value = token.value
    if not isinstance(value, str) or not value.endswith("\n"):
        raise Unsupported("a comment without its line break")
    if value.startswith("\n"):
        if value.strip():
            raise Unsupported("a blank line and a comment in one token")
        return value
    column = token.start_mark.column
    if value.lstrip(" ").startswith("#") and "\n" not in value[:-1]:
        return " " * column + value
    raise Unsupported("a comment token ruamel may write otherwise")


def _float_text(value: float) -> str:
    """A float as ruamel's representer writes it (YAML 1.2)."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    return repr(value).lower()


def _analyse(scalar: str) -> tuple[bool, bool, bool, bool]:
    """Whether ruamel may write `scalar` plain in a block, plain in a flow collection, single-
    quoted, and whether it has line breaks: `Emitter.analyze_scalar` for YAML 1.2 with
    Unicode allowed, kept to what decides those four."""
    if not scalar:
        return True, False, True, False
    block_indicators = flow_indicators = line_breaks = special = False
    leading_space = leading_break = trailing_space = trailing_break = False
    break_space = space_break = False
    if scalar.startswith(("---", "...")):
        block_indicators = flow_indicators = True
    preceded_by_blank = True
    last = len(scalar) - 1
    followed_by_blank = len(scalar) == 1 or scalar[1] in _BLANKS
    previous_space = previous_break = False
    for index, ch in enumerate(scalar):
        if index == 0:
            if ch in "#,[]{}&*!|>'\"%@`":
                flow_indicators = block_indicators = True
            if ch in "?:":
                if len(scalar) == 1:
                    flow_indicators = True
                if followed_by_blank:
                    block_indicators = True
            if ch == "-" and followed_by_blank:
                flow_indicators = block_indicators = True
        else:
            if ch in ",[]{}":
                flow_indicators = True
            if ch == ":" and followed_by_blank:
                flow_indicators = block_indicators = True
            if ch == "#" and preceded_by_blank:
                flow_indicators = block_indicators = True
        if ch in _BREAKS:
            line_breaks = True
        if not (ch == "\n" or "\x20" <= ch <= "\x7e" or _printable(ch)):
            special = True
        if ch == " ":
            leading_space = leading_space or index == 0
            trailing_space = trailing_space or index == last
            break_space = break_space or previous_break
            previous_space, previous_break = True, False
        elif ch in _BREAKS:
            leading_break = leading_break or index == 0
            trailing_break = trailing_break or index == last
            space_break = space_break or previous_space
            previous_space, previous_break = False, True
        else:
            previous_space = previous_break = False
        preceded_by_blank = ch in _BLANKS
        followed_by_blank = index + 2 > last or scalar[index + 2] in _BLANKS
    flow_plain = block_plain = single = True
    if leading_space or leading_break or trailing_space or trailing_break:
        flow_plain = block_plain = False
    if break_space or special or space_break:
        flow_plain = block_plain = single = False
    if line_breaks:
        flow_plain = block_plain = False
    if flow_indicators:
        flow_plain = False
    if block_indicators:
        block_plain = False
    return block_plain, flow_plain, single, line_breaks


def _printable(ch: str) -> bool:
    """A character beyond ASCII that YAML writes as it is (with Unicode allowed)."""
    return (
        ch == "\x85"
        or "\xa0" <= ch <= "\ud7ff"
        or "\ue000" <= ch <= "\ufffd"
        or "\U00010000" <= ch <= "\U0010ffff"
    ) and ch != "\ufeff"


def _double_quoted(text: str) -> str:
    """`text` double-quoted with ruamel's escapes (on one line: no folding below the
    width)."""
    parts = ['"']
    for ch in text:
        if ch in '"\\\x85\u2028\u2029\ufeff' or not (
            "\x20" <= ch <= "\x7e"
            or "\xa0" <= ch <= "\ud7ff"
            or "\ue000" <= ch <= "\ufffd"
            or "\U00010000" <= ch <= "\U0010ffff"
        ):
            if ch in _ESCAPES:
                parts.append("\\" + _ESCAPES[ch])
            elif ch <= "\xff":
                parts.append(f"\\x{ord(ch):02X}")
            elif ch <= "\uffff":
                parts.append(f"\\u{ord(ch):04X}")
            else:
                parts.append(f"\\U{ord(ch):08X}")
        else:
            parts.append(ch)
    parts.append('"')
    return "".join(parts)
