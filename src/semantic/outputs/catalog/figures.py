"""The catalog's three diagrams, in the page's language: a term's lineage, an entity's
relationships and the whole data model (drawn by `diagrams.layered_svg`).

>>> from semantic.project import Project
>>> from semantic.outputs.catalog.lineage import term_lineage
>>> from semantic.outputs.catalog.messages import Messages
>>> model = Project.load(".").model
>>> svg = lineage_diagram(model, term_lineage(model, "net_revenue"), Messages("fr"), "fr")
>>> "colonne de lineitem" in svg and "Chiffre d&#x27;affaires net" in svg
True
"""

from __future__ import annotations

from semantic.model import Edge, Entity, Model
from semantic.outputs.catalog.diagrams import Arrow, Box, layered_svg
from semantic.outputs.catalog.lineage import LineageGraph
from semantic.outputs.catalog.messages import Messages
from semantic.outputs.search import entity_url


def lineage_diagram(model: Model, graph: LineageGraph, t: Messages, language: str) -> str:
    """A term's lineage: columns on the left, the term, then the terms that use it."""
    layers: dict[int, list[Box]] = {}
    for node in graph.nodes:
        key = graph.node_id(node)
        if node.kind == "term":
            term = model.terms[node.key]
            box = Box(
                key,
                term.label(language),
                f"{t.kind(term.kind)} · {term.id}",
                f"{term.id}.html",
                "focus" if key == graph.root else term.kind,
            )
        elif node.kind == "column":
            entity, _, column = node.key.partition(".")
            caption = str(t("column_of", entity=entity))
            box = Box(key, column, caption, f"../{entity_url(entity)}", "column")
        else:
            caption = str(t("every_row_caption"))
            box = Box(key, node.key, caption, f"../{entity_url(node.key)}", "entity")
        layers.setdefault(graph.depth[key], []).append(box)
    columns = [layers[d] for d in sorted(layers)]
    arrows = [Arrow(source, target) for source, target in graph.edges]
    return layered_svg(columns, arrows, str(t("lineage_of", term=graph.root.partition(":")[2])))


def relationships_diagram(model: Model, entity: Entity, t: Messages) -> str:
    """An entity between those that point to it (left) and those it points to (right)."""
    left: dict[str, Box] = {}
    right: dict[str, Box] = {}
    arrows: list[Arrow] = []
    for edge in model.edges.get(entity.id, ()):
        href = f"{edge.target}.html"
        caption = entity_caption(model.entities[edge.target], t)
        if edge.to_one:
            box_id = f"r:{edge.target}:{edge.name}"
            right[box_id] = Box(box_id, edge.target, caption, href, "entity")
            arrows.append(Arrow("self", box_id, f"{edge.name} · {_card(edge)}"))
        else:
            box_id = f"l:{edge.target}:{edge.name}"
            left[box_id] = Box(box_id, edge.target, caption, href, "entity")
            arrows.append(Arrow(box_id, "self", f"{_card(edge, reverse=True)}"))
    centre = [Box("self", entity.id, entity_caption(entity, t), None, "focus")]
    columns = [c for c in (list(left.values()), centre, list(right.values())) if c]
    return layered_svg(columns, arrows, str(t("relationships_of", entity=entity.id)))


def entity_caption(entity: Entity, t: Messages) -> str:
    """ "8 columns", or "table orders_v2 · 8 columns" when the table has another name."""
    columns = str(t.count("columns", len(entity.columns)))
    if entity.table == entity.id:
        return columns
    return str(t("table_caption", table=entity.table, columns=columns))


def model_diagram(model: Model, t: Messages) -> str:
    """Every entity, the most detailed (facts) on the left, the references they point to on
    the right, with an arrow per declared relationship."""
    level: dict[str, int] = {}

    def depth(eid: str, seen: frozenset[str] = frozenset()) -> int:
        if eid not in level:
            parents = [
                e.target
                for e in model.edges.get(eid, ())
                if e.declared and e.to_one and e.target not in seen and e.target != eid
            ]
            level[eid] = 1 + max((depth(p, seen | {eid}) for p in parents), default=-1)
        return level[eid]

    for eid in model.entities:
        depth(eid)
    layers: dict[int, list[Box]] = {}
    for eid in sorted(model.entities):
        entity = model.entities[eid]
        layers.setdefault(level[eid], []).append(
            Box(eid, eid, entity_caption(entity, t), f"{eid}.html", "entity")
        )
    arrows = [
        Arrow(e.source, e.target, e.name if e.name != e.target else "")
        for edges in model.edges.values()
        for e in edges
        if e.declared
    ]
    columns = [layers[d] for d in sorted(layers, reverse=True)]
    return layered_svg(columns, arrows, str(t("data_model")))


def _card(edge: Edge, *, reverse: bool = False) -> str:
    marks = {"many_to_one": "N:1", "one_to_one": "1:1", "one_to_many": "1:N"}
    card = marks[edge.cardinality]
    return card[::-1] if reverse else card
