"""Where a term comes from and what uses it, as a small graph for the catalog's diagrams.

Upstream, a term reads columns of entities (its expression, through the join path of a
role-playing dimension), other metrics (a derived metric), the terms of its filter and the
time dimension of its window or shift; those terms are followed in turn down to the columns.
Downstream, the terms that read this one directly.

>>> from semantic.project import Project
>>> graph = term_lineage(Project.load(".").model, "average_order_value")
>>> sorted(n.key for n in graph.nodes if n.kind == "term")
['average_order_value', 'net_revenue', 'order_count']
>>> graph.depth["column:lineitem.l_discount"]
-2
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from semantic.model import Model, Term


@dataclass(frozen=True, slots=True)
class LineageNode:
    """A term (`key` is its id), an entity read as a whole, or a column (`entity.column`)."""

    key: str
    kind: str  # "term", "entity" or "column"
    label: str
    entity: str | None = None


@dataclass
class LineageGraph:
    """Nodes with their depth (negative: upstream, 0: the term, 1: its users) and edges
    `(source, target)` in the direction data flows."""

    root: str
    nodes: list[LineageNode] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    depth: dict[str, int] = field(default_factory=dict)

    def node_id(self, node: LineageNode) -> str:
        """The key of a node in `depth` and `edges`."""
        return f"{node.kind}:{node.key}"


def term_sources(model: Model, term: Term) -> list[LineageNode]:
    """What `term` reads directly, in a stable order: columns, then terms; its entity as a
    whole when it reads no column (a `count(*)`)."""
    found: dict[str, LineageNode] = {}
    if term.entity is not None:
        for column in term.expr.find_all(exp.Column):
            entity = column.table if column.table in model.entities else _reached(model, term)
            key = f"{entity}.{column.name}"
            found.setdefault(f"column:{key}", LineageNode(key, "column", key, entity))
    refs = list(term.refs)
    if term.filter is not None:
        refs += [c.table or c.name for c in term.filter.find_all(exp.Column)]
    for spec in (term.window, term.shift):
        if spec is not None:
            refs.append(spec.time)
    for ref in refs:
        if ref in model.terms:
            found.setdefault(f"term:{ref}", _term_node(model, ref))
    if not found and term.entity is not None:
        found[f"entity:{term.entity}"] = LineageNode(term.entity, "entity", term.entity)
    return list(found.values())


def _reached(model: Model, term: Term) -> str:
    """The entity whose columns an unqualified column of `term` names: the end of its
    role-playing path when it has one."""
    assert term.entity is not None
    entity = term.entity
    for hop in term.path:
        source, _, name = hop.partition(".")
        edge = next((e for e in model.edges.get(source, ()) if e.name == name), None)
        if edge is not None:
            entity = edge.target
    return entity


def _term_node(model: Model, term_id: str) -> LineageNode:
    term = model.terms[term_id]
    return LineageNode(term_id, "term", term.label(model.languages[0]), term.entity)


def term_users(model: Model, term_id: str) -> list[str]:
    """The ids of the terms that read `term_id` directly, sorted."""
    return sorted(
        t.id
        for t in model.terms.values()
        if t.id != term_id
        and any(n.kind == "term" and n.key == term_id for n in term_sources(model, t))
    )


def term_lineage(model: Model, term_id: str) -> LineageGraph:
    """The lineage graph of a term: everything upstream, and its direct users."""
    root = _term_node(model, term_id)
    graph_key = f"term:{term_id}"
    graph = LineageGraph(graph_key)
    graph.nodes.append(root)
    graph.depth[graph_key] = 0
    frontier = [(model.terms[term_id], graph_key, 0)]
    while frontier:
        term, key, depth = frontier.pop(0)
        for source in term_sources(model, term):
            source_key = graph.node_id(source)
            if source_key not in graph.depth:
                graph.nodes.append(source)
                graph.depth[source_key] = depth - 1
                if source.kind == "term":
                    frontier.append((model.terms[source.key], source_key, depth - 1))
            else:  # reached again further up: keep it left of everything that reads it
                graph.depth[source_key] = min(graph.depth[source_key], depth - 1)
            if (source_key, key) not in graph.edges:
                graph.edges.append((source_key, key))
    for user in term_users(model, term_id):
        used_by = _term_node(model, user)
        graph.nodes.append(used_by)
        graph.depth[graph.node_id(used_by)] = 1
        graph.edges.append((graph_key, graph.node_id(used_by)))
    # a node whose depth moved left must stay left of the nodes it feeds
    changed = True
    while changed:
        changed = False
        for upstream, downstream in graph.edges:
            if graph.depth[upstream] >= graph.depth[downstream] <= 0:
                graph.depth[upstream] = graph.depth[downstream] - 1
                changed = True
    return graph
