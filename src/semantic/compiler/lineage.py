"""Where a term comes from, down to physical columns and tables: as a small graph for the
catalog's diagrams (`term_lineage`), and as a tree for `semantic lineage` and
`Project.lineage` (`lineage_tree`).

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
>>> tree = lineage_tree(Project.load(".").model, "customer_region")
>>> [c["column"] for c in tree["columns"]], [j["on"] for j in tree["joins"]][:1]
(['r_name'], [[['customer.c_nationkey', 'nation.n_nationkey']]])
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from semantic.compiler.resolve import Path, find_path
from semantic.errors import SemanticError
from semantic.model import FILE_DIALECT, Model, Term
from semantic.model.perterms import own_columns


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
        for column in own_columns(term.expr):
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


# --- the tree of `semantic lineage` --------------------------------------------------------

#: What a term read by another is to it, by how it is read.
ROLES = ("metric", "filter", "window", "shift")


def lineage_tree(model: Model, term_id: str) -> dict[str, Any]:
    """The lineage of a term as plain data (documented in docs/lineage.md): the term, the
    physical columns its own expression reads (`columns`), the relationships its
    role-playing path or a qualified column crosses (`joins`), the terms it is made of
    (`inputs`: the metrics of a derived metric, the dimensions and segments of its filter,
    the time dimension of a window or shift, each a tree of its own with its `role`, and the
    joins from the metric's entity to a filter's term in `via`), and, at the top, every
    table and column reached, deduplicated (`tables`, `all_columns`)."""
    tree = _node(model, model.terms[term_id])
    leaves: dict[tuple[str, str, str], dict[str, str]] = {}
    _collect(tree, leaves)
    tables = {table for table, _, _ in leaves} | _whole(model, tree)
    tree["tables"] = sorted(tables)
    tree["all_columns"] = sorted(leaves.values(), key=lambda c: (c["table"], c["column"]))
    return tree


def _node(model: Model, term: Term) -> dict[str, Any]:
    entity = model.entities.get(term.entity) if term.entity else None
    node: dict[str, Any] = {
        "term": term.id,
        "kind": term.kind,
        "label": term.label(model.languages[0]),
        "expression": term.expr.sql(FILE_DIALECT),
        "entity": term.entity,
        "table": entity.table if entity else None,
        "path": list(term.path),
        "columns": [],
        "joins": [],
        "inputs": [],
    }
    if term.filter is not None:
        node["filter"] = term.filter.sql(FILE_DIALECT)
    if term.entity is not None:
        node["columns"], node["joins"] = _physical(model, term)
        if not node["columns"] and term.kind != "concept":  # count(*): the rows themselves
            node["rows_of"] = term.entity
    for role, ref in _inputs(model, term):
        child = _node(model, model.terms[ref])
        child["role"] = role
        if role == "filter" and term.entity is not None and child["entity"]:
            child["via"] = _joins(model, _path(model, term.entity, model.terms[ref]))
        node["inputs"].append(child)
    return node


def _inputs(model: Model, term: Term) -> list[tuple[str, str]]:
    """(role, term id) of each term `term` reads, in the order it names them."""
    found: list[tuple[str, str]] = []
    for ref in term.refs:
        found.append(("metric", ref))
    if term.filter is not None:
        for column in term.filter.find_all(exp.Column):
            found.append(("filter", column.table or column.name))
    for role, spec in (("window", term.window), ("shift", term.shift)):
        if spec is not None:
            found.append((role, spec.time))
    return [pair for pair in dict.fromkeys(found) if pair[1] in model.terms]


def _physical(model: Model, term: Term) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The columns `term`'s expression reads and the joins its path crosses."""
    assert term.entity is not None
    columns: dict[tuple[str, str], dict[str, str]] = {}
    joins: list[dict[str, Any]] = []
    if term.path:
        start = term.path[0].partition(".")[0]
        joins += _joins(model, _path(model, start, term))
    for column in own_columns(term.expr):
        entity = term.entity
        if column.table and column.table in model.entities and column.table != term.entity:
            entity = column.table
            # a metric's column of another entity: reached along a to-one path
            with suppress(SemanticError):
                joins += _joins(model, find_path(model, term.entity, entity))
        table = model.entities[entity].table
        columns.setdefault(
            (entity, column.name),
            {"entity": entity, "table": table, "column": column.name, "role": "value"},
        )
    unique = list({repr(j): j for j in joins}.values())
    return list(columns.values()), unique


def _path(model: Model, start: str, term: Term) -> Path:
    """The join path from entity `start` to the entity of `term` (through its pinned path),
    empty when there is none to follow."""
    assert term.entity is not None
    if start == term.entity and not term.path:
        return ()
    try:
        return find_path(model, start, term.entity, term.path)
    except SemanticError:
        return ()


def _joins(model: Model, path: Path) -> list[dict[str, Any]]:
    """Each hop of `path` with its key columns as `table.column` pairs."""
    found = []
    for edge in path:
        source, target = model.entities[edge.source], model.entities[edge.target]
        found.append(
            {
                "from": edge.source,
                "to": edge.target,
                "relationship": edge.hop,
                "cardinality": edge.cardinality,
                "on": [[f"{source.table}.{a}", f"{target.table}.{b}"] for a, b in edge.keys],
            }
        )
    return found


def _collect(node: dict[str, Any], leaves: dict[tuple[str, str, str], dict[str, str]]) -> None:
    """Every physical column below `node`: read for its value, to join, or to filter."""
    role = "filter" if node.get("role") == "filter" else "value"
    for column in node["columns"]:
        key = (column["table"], column["column"], role)
        leaves.setdefault(key, {**column, "role": role})
    for join in [*node["joins"], *node.get("via", [])]:
        for pair in join["on"]:
            for qualified in pair:
                table, _, name = qualified.partition(".")
                leaves.setdefault(
                    (table, name, "join"),
                    {
                        "entity": _entity_of(join, table),
                        "table": table,
                        "column": name,
                        "role": "join",
                    },
                )
    for child in node["inputs"]:
        _collect(child, leaves)


def _whole(model: Model, node: dict[str, Any]) -> set[str]:
    """The tables below `node` whose rows are read as a whole (a `count(*)`)."""
    found = {model.entities[node["rows_of"]].table} if node.get("rows_of") else set()
    for child in node["inputs"]:
        found |= _whole(model, child)
    return found


def _entity_of(join: dict[str, Any], table: str) -> str:
    source_table = join["on"][0][0].partition(".")[0]
    return str(join["from"] if table == source_table else join["to"])


def terms_of(tree: dict[str, Any]) -> list[str]:
    """The ids of the terms a lineage tree (`lineage_tree`) shows: its term, then those it
    is made of, depth first, each once."""
    found = [tree["term"]]
    for node in tree["inputs"]:
        found += terms_of(node)
    return list(dict.fromkeys(found))
