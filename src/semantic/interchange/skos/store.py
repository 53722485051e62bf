"""The triples of a vocabulary grouped by subject, then predicate: what `semantic import
skos` reads. A look-up is two dict reads instead of a query of rdflib's store, and a file is
parsed straight into it (`TripleIndex`, an rdflib store), without the three indexes and the
contexts of rdflib's `Memory` store that the import never asks for.

>>> from rdflib import Graph, URIRef
>>> graph = Graph(store=TripleIndex())
>>> _ = graph.parse(format="turtle", data="<urn:a> <urn:p> <urn:b>, <urn:c> . <urn:a> <urn:p> <urn:b> .")
>>> by_subject = graph.store.subjects
>>> [str(o) for o in by_subject[URIRef("urn:a")][URIRef("urn:p")]]
['urn:b', 'urn:c']
>>> len(graph), sorted(str(o) for o in graph.objects(URIRef("urn:a"), URIRef("urn:p")))
(2, ['urn:b', 'urn:c'])
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from rdflib import Graph
from rdflib.plugins.stores.memory import Memory
from rdflib.term import Node

__all__ = ["Index", "TripleIndex", "index_of"]

#: subject -> predicate -> objects (a dict used as an ordered set: a triple is stated once)
Index = dict[Node, dict[Node, dict[Node, None]]]

#: the formats parsed into a `TripleIndex`: those whose parsers add plain triples to one graph
#: (N3's formulas, and the datasets of TriG, N-Quads and JSON-LD, need rdflib's own store)
INDEXED_FORMATS = frozenset(
    {"turtle", "ttl", "nt", "ntriples", "nt11", "xml", "application/rdf+xml"}
)


class TripleIndex(Memory):
    """An rdflib store that keeps the triples of one graph as an `Index` only: adding a
    triple is one dict write. Namespaces are `Memory`'s; triples can be read by pattern
    (subject first: other patterns scan the whole index), not removed."""

    def __init__(self) -> None:
        super().__init__()
        self.subjects: Index = {}
        self._count = 0

    def add(self, triple: Any, context: Any, quoted: bool = False) -> None:
        """Add one triple (the graph's context is the only one)."""
        subject, predicate, obj = triple
        objects = self.subjects.setdefault(subject, {}).setdefault(predicate, {})
        if obj not in objects:
            objects[obj] = None
            self._count += 1

    def remove(self, triple: Any, context: Any = None) -> None:
        raise NotImplementedError("an import's triples are not removed")

    def triples(self, triple_pattern: Any, context: Any = None) -> Generator[Any, None, None]:
        """The triples matching `triple_pattern` (None matches anything)."""
        subject, predicate, obj = triple_pattern
        subjects = self.subjects if subject is None else {subject: self.subjects.get(subject, {})}
        for s, pairs in subjects.items():
            chosen = pairs if predicate is None else {predicate: pairs.get(predicate, {})}
            for p, objects in chosen.items():
                if obj is None:
                    for o in objects:
                        yield (s, p, o), iter(())
                elif obj in objects:
                    yield (s, p, obj), iter(())

    def __len__(self, context: Any = None) -> int:
        return self._count

    def contexts(self, triple: Any = None) -> Generator[Graph, None, None]:
        yield from ()


def index_of(graph: Graph) -> Index:
    """The triples of `graph` grouped by subject and predicate: the store's own index when
    the graph was parsed into a `TripleIndex`, else built in one pass over the triples."""
    store = graph.store
    if isinstance(store, TripleIndex):
        return store.subjects
    index: Index = {}
    for subject, predicate, obj in graph:
        index.setdefault(subject, {}).setdefault(predicate, {})[obj] = None
    return index
