"""What a term's page says of the kinds beyond an expression over one entity, in the page's
language: a semi-additive metric (the time dimension it is not summed over, how a period
takes its value), a conversion metric (its events, times, window and what it shows), a
dimension or segment that reads a metric per its entity, a metric at another grain.

>>> from semantic.project import Project
>>> from semantic.outputs.catalog.messages import Messages
>>> model = Project.load(".").model
>>> rows = dict(kind_rows(model, model.terms["customer_order_count"], Messages("fr")))
>>> str(rows["nature"])
'métrique par entité, utilisée comme dimension'
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from sqlglot import exp

from semantic.model import FILE_DIALECT, Model, Term
from semantic.model.perterms import measured, per_entity, per_nodes
from semantic.outputs.catalog.messages import Messages
from semantic.outputs.search import entity_url


def kind_rows(model: Model, term: Term, t: Messages) -> list[tuple[str, Any]]:
    """Rows of the mapping table for `term`'s kind, none for a plain term."""
    rows: list[tuple[str, Any]] = []
    if term.semi_additive is not None:
        semi = term.semi_additive
        rows.append((t.word("map_kind_detail"), t("kind_semi_additive")))
        rule = t(f"semi_additive_{semi.period_value}", time=_term(semi.time))
        rows.append((t.word("map_semi_additive"), rule))
    if term.conversion is not None:
        rows += _conversion(model, term, t)
    nodes = list({n.sql(dialect=FILE_DIALECT): n for n in per_nodes(term.expr)}.values())
    if nodes:
        kind = {"metric": "kind_other_grain", "segment": "kind_per_entity_segment"}
        rows.append((t.word("map_kind_detail"), t(kind.get(term.kind, "kind_per_entity"))))
        key = "map_other_grain" if term.is_metric else "map_per_entity"
        values = [_measure(model, node, t) for node in nodes]
        rows.append((t.word(key), Markup("<br>").join(values)))
    return rows


def _conversion(model: Model, term: Term, t: Messages) -> list[tuple[str, Any]]:
    conv = term.conversion
    assert conv is not None
    entity = Markup('<a href="../{}">{}</a>').format(entity_url(conv.entity), conv.entity)
    events = t(
        "conversion_rule",
        conversion=_term(conv.metric),
        time=_term(conv.time),
        base=_term(term.refs[0]) if term.refs else "",
        base_time=_term(conv.base_time),
        entity=entity,
    )
    window = (
        t("conversion_within", periods=t.periods(conv.window.last, conv.window.grain))
        if conv.window is not None
        else t("conversion_any_time")
    )
    rows: list[tuple[str, Any]] = [
        (t.word("map_kind_detail"), t("kind_conversion")),
        (t.word("map_conversion"), events),
        (t.word("map_conversion_window"), window),
        (t.word("map_calculation"), t(f"calculation_{conv.calculation}")),
    ]
    for pair in conv.constant_properties:
        same = t("conversion_same", base=_term(pair.base), conversion=_term(pair.conversion))
        rows.append((t.word("map_conversion_same"), same))
    return rows


def _measure(model: Model, node: exp.Per, t: Messages) -> Markup:
    """One `MEASURE(metric) PER (...)` in words."""
    inside = measured(node)
    assert inside is not None  # checked with the glossary
    metric_tree, condition = inside
    names = [c.name for c in metric_tree.find_all(exp.Column)]
    metric = Markup(", ").join(_term(n) for n in names)
    if condition is not None:
        code = Markup("<code>{}</code>").format(condition.sql(dialect=FILE_DIALECT))
        metric = t("measure_filtered", metric=metric, condition=code)
    named = per_entity(node)
    if named is not None and named in model.entities:
        entity = Markup('<a href="../{}">{}</a>').format(entity_url(named), named)
        return t("per_entity_rule", metric=metric, entity=entity)
    if named is not None and named.casefold() == "all":
        return t("grain_all", metric=metric)
    items = list(node.expressions)
    key = "grain_at"
    if len(items) == 1 and isinstance(items[0], exp.Star):
        key, items = "grain_exclude", list(items[0].args.get("except_") or [])
    dims = Markup(", ").join(_term(i.table or i.name) for i in items if isinstance(i, exp.Column))
    return t(key, metric=metric, dims=dims)


def _term(tid: str) -> Markup:
    """A link to a term's page (pages of terms sit side by side)."""
    return Markup('<a href="{}.html">{}</a>').format(tid, tid)
