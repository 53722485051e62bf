r"""Where each resource of a vocabulary file is stated, for the report of `semantic import
skos`: rdflib keeps no positions, so the text is scanned once (`Positions.scan`) for the
places where a resource starts a statement (Turtle, N-Triples) or is described
(`rdf:about` / `rdf:ID` in RDF/XML), by IRI, prefixed name or relative IRI.

A resource that starts no statement (it is only an object) is found where it is first
named. Blank nodes, and formats without a scanner (JSON-LD, N3, TriG, N-Quads), have no
position: the report then names the file alone.

>>> from rdflib import URIRef
>>> text = '''@prefix ex: <https://x.org/> .
... ex:s ex:has ex:b .
... <https://x.org/b> ex:label "B. ex:s" .
... '''
>>> where = Positions.scan(text, "turtle", "file:///v.ttl")
>>> where.of(URIRef("https://x.org/s")), where.of(URIRef("https://x.org/b"))
((2, 1), (3, 1))
>>> where.of(URIRef("https://x.org/has")), where.of(URIRef("https://x.org/none"))
((2, 6), None)
>>> xml = '''<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
...   xml:base="https://x.org/">
...   <rdf:Description rdf:about="https://x.org/a&amp;b"/>
...     <skos:Concept rdf:ID="c"/>
... </rdf:RDF>'''
>>> where = Positions.scan(xml, "xml", "file:///v.rdf")
>>> where.of(URIRef("https://x.org/a&b")), where.of(URIRef("https://x.org/#c"))
((3, 3), (4, 5))
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from rdflib import URIRef
from rdflib.term import Node

__all__ = ["SCANNED_FORMATS", "Positions"]

#: the formats (as rdflib names them) whose text is scanned for positions
SCANNED_FORMATS = frozenset({"turtle", "ttl", "nt", "ntriples", "nt11", "xml"})

_PREFIX = re.compile(r"(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_BASE = re.compile(r"(?:@base|BASE)\s+<([^>]*)>", re.IGNORECASE)
# a name: an IRI in angle brackets, or a prefixed name (its local part may hold dots, not at
# its end, and backslash escapes)
_NAME = r"<[^<>\"\s{}|^`]*>|(?:[A-Za-z][\w.-]*)?:(?:[^\s;,.()\[\]{}\"'<>#\\]|\\.|\.(?=[^\s;,.]))*"
# a statement starts the text or follows a `.` (or a TriG brace), comments between
_STATEMENT = re.compile(r"(?:\A|[.{}])\s*(?:#[^\n]*\s*)*(" + _NAME + ")")
_ANY_NAME = re.compile(_NAME)
_ABOUT = re.compile(r"\b(?:[\w.-]+:)?(about|ID)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_XML_BASE = re.compile(r"\bxml:base\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_ENTITY = re.compile(r"<!ENTITY\s+([\w.-]+)\s+(?:\"([^\"]*)\"|'([^']*)')")
_ENTITY_REF = re.compile(r"&([\w.-]+);")


@dataclass
class Positions:
    """IRI -> offset in the text of where it is stated, and the means to turn an offset into
    a 1-based line and column."""

    text: str
    syntax: str
    base: str
    prefixes: dict[str, str] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)
    #: every name's first offset, filled the first time a resource starts no statement
    anywhere: dict[str, int] | None = None
    lines: list[int] = field(default_factory=list)

    @classmethod
    def scan(cls, text: str, fmt: str, base: str) -> Positions | None:
        """The positions in `text` (of the rdflib format `fmt`, read from `base`), or None
        for a format without a scanner."""
        if fmt not in SCANNED_FORMATS:
            return None
        lines = [0, *(m.end() for m in re.finditer("\n", text))]
        if fmt == "xml":
            return cls._scan_xml(text, base, lines)
        found_base = _BASE.search(text)
        where = cls(text, "turtle", found_base.group(1) if found_base else base, lines=lines)
        where.prefixes = {m.group(1) or "": m.group(2) for m in _PREFIX.finditer(text)}
        for match in _STATEMENT.finditer(text):
            iri = where.resolve(match.group(1))
            if iri is not None:
                where.found.setdefault(iri, match.start(1))
        return where

    @classmethod
    def _scan_xml(cls, text: str, base: str, lines: list[int]) -> Positions:
        found_base = _XML_BASE.search(text)
        if found_base:
            base = urljoin(base, found_base.group(1) or found_base.group(2) or "")
        entities = {m.group(1): m.group(2) or m.group(3) or "" for m in _ENTITY.finditer(text)}
        where = cls(text, "xml", base, lines=lines, anywhere={})
        for match in _ABOUT.finditer(text):
            value = match.group(2) if match.group(2) is not None else match.group(3)
            value = _ENTITY_REF.sub(lambda m: entities.get(m.group(1), m.group(0)), value)
            value = html.unescape(value)
            iri = urljoin(base, value) if match.group(1) == "about" else f"{base}#{value}"
            where.found.setdefault(iri, text.rfind("<", 0, match.start()))
        return where

    def resolve(self, name: str) -> str | None:
        """The IRI a Turtle name stands for (None for an unknown prefix)."""
        if name.startswith("<"):
            return urljoin(self.base, name[1:-1])
        prefix, _, local = name.partition(":")
        namespace = self.prefixes.get(prefix)
        return None if namespace is None else namespace + re.sub(r"\\(.)", r"\1", local)

    def of(self, node: Node) -> tuple[int, int] | None:
        """(line, column), 1-based, of where `node` is stated; None when unknown."""
        if not isinstance(node, URIRef):
            return None
        offset = self.found.get(str(node))
        if offset is None:
            offset = self._anywhere().get(str(node))
        if offset is None:
            return None
        line = bisect.bisect_right(self.lines, offset)
        return line, offset - self.lines[line - 1] + 1

    def _anywhere(self) -> dict[str, int]:
        if self.anywhere is None:  # built once, on the first resource that starts nothing
            self.anywhere = {}
            for match in _ANY_NAME.finditer(self.text):
                iri = self.resolve(match.group(0))
                if iri is not None:
                    self.anywhere.setdefault(iri, match.start())
        return self.anywhere
