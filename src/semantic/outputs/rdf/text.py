"""RDF graphs as text that is the same, byte for byte, every time: exports can be diffed in
git and compared in tests.

rdflib's serializers follow the order of its default store, a set whose order changes from one
process to the next; here every format is sorted. Turtle has one object per line, resources in
IRI order and IRIs under the graph's base written relative to it. Blank nodes are sorted by
their names, so the caller names them deterministically (rdflib draws random ones).

>>> from rdflib import Graph, Literal, URIRef
>>> from rdflib.namespace import SKOS
>>> graph = Graph(base="https://example.org/g/")
>>> graph.bind("skos", SKOS)
>>> for name in "ba":
...     _ = graph.add((URIRef(graph.base + "term/" + name), SKOS.prefLabel, Literal(name)))
>>> print(serialize(graph, "turtle"))
BASE <https://example.org/g/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
<BLANKLINE>
<term/a>
    skos:prefLabel "a" ;
.
<BLANKLINE>
<term/b>
    skos:prefLabel "b" ;
.
<BLANKLINE>
"""

from __future__ import annotations

import io
import json
from typing import Any, Literal
from urllib.parse import urlsplit

from rdflib import BNode, Graph, URIRef
from rdflib import Literal as RDFLiteral
from rdflib.plugins.serializers.longturtle import LongTurtleSerializer
from rdflib.term import Node

Format = Literal["turtle", "json-ld", "xml", "nt"]
#: The formats of `serialize`, as the CLI offers them.
FORMATS: tuple[Format, ...] = ("turtle", "json-ld", "xml", "nt")


def serialize(graph: Graph, fmt: Format = "turtle") -> str:
    """`graph` as text in `fmt`: turtle, json-ld, xml (RDF/XML) or nt (N-Triples, one
    triple a line). Each is sorted, so the same graph always gives the same text."""
    if fmt == "turtle":
        stream = io.BytesIO()
        _SortedTurtle(graph).serialize(stream, base=graph.base, encoding="utf-8")
        # rdflib opens a list of blank nodes with a line of spaces alone: drop such lines
        lines = stream.getvalue().decode("utf-8").split("\n")
        return "\n".join(line for line in lines if line == "" or line.strip())
    ordered = _ordered(graph)  # and without base: only Turtle writes relative IRIs
    if fmt == "json-ld":
        document = json.loads(ordered.serialize(format="json-ld", auto_compact=True))
        return json.dumps(_sorted_json(document), indent=2, ensure_ascii=False) + "\n"
    if fmt == "xml":
        return ordered.serialize(format="xml")
    if fmt == "nt":
        lines = ordered.serialize(format="nt").splitlines()
        return "".join(line + "\n" for line in sorted(line for line in lines if line))
    raise ValueError(f"unknown RDF format {fmt!r}: use one of {', '.join(FORMATS)}")


class _SortedTurtle(LongTurtleSerializer):
    """Turtle with one object per line and resources in IRI order, so that a change to the
    glossary shows in a diff where it belongs (rdflib orders by reference count first), and
    IRIs under the base written relative to it (`<term/net_revenue>`)."""

    _space = False

    def orderSubjects(self) -> list[Node]:  # noqa: N802 (rdflib's name)
        return sorted(self._subjects, key=lambda s: (isinstance(s, BNode), str(s)))

    def relativize(self, uri: Any) -> Any:
        # rdflib relativizes only IRIs without `/` after the base; the export's all have one
        base = self.base
        if not (base and base.endswith("/") and urlsplit(base).netloc):
            return uri
        rest = uri[len(base) :] if isinstance(uri, URIRef) and uri.startswith(base) else ""
        if rest and rest[0] not in "/?#" and ":" not in rest.split("/", 1)[0]:
            return URIRef(rest)
        return uri

    def write(self, text: str) -> None:
        # rdflib writes a lone space before a list of blank nodes that starts on the next
        # line: hold each lone space back and drop it before a line break
        space, self._space = self._space, text == " "
        if self._space:
            return
        super().write(" " + text if space and not text.startswith("\n") else text)


def _ordered(graph: Graph) -> Graph:
    """A copy of `graph` that lists its triples in sorted order (rdflib's default store
    keeps them in a set, whose order changes from one process to the next)."""
    ordered = Graph(store="SimpleMemory", bind_namespaces="none")
    for prefix, namespace in graph.namespaces():
        ordered.bind(prefix, namespace)
    for triple in sorted(graph, key=lambda t: tuple(_sort_key(node) for node in t)):
        ordered.add(triple)
    return ordered


def _sort_key(node: Node) -> tuple[str, ...]:
    if isinstance(node, RDFLiteral):
        return ("literal", str(node), node.language or "", str(node.datatype or ""))
    return (type(node).__name__, str(node))


def _sorted_json(value: Any) -> Any:
    """A JSON-LD document with its keys and its unordered arrays sorted (@list kept)."""
    if isinstance(value, dict):
        return {
            key: [_sorted_json(v) for v in item] if key == "@list" else _sorted_json(item)
            for key, item in sorted(value.items())
        }
    if isinstance(value, list):
        items = [_sorted_json(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return value
