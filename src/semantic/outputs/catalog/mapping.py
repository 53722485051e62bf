"""What a term's page says about it, in the page's language: its names per language, its
physical mapping (entity, table, expression, join path, grains, filter, window...), and
the counts of kinds on a domain's card.

>>> from semantic.project import Project
>>> from semantic.outputs.catalog.messages import Messages
>>> model = Project.load(".").model
>>> rows = dict(term_mapping(model, model.terms["revenue_last_3_months"], Messages("fr")))
>>> rows["fenêtre"]
'3 mois glissants selon order_date'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup
from sqlglot import exp

from semantic.model import FILE_DIALECT, Model, Term
from semantic.outputs.catalog.kinds import kind_rows
from semantic.outputs.catalog.lineage import term_sources
from semantic.outputs.catalog.messages import Messages
from semantic.outputs.search import entity_url


def term_names(model: Model, term: Term, language: str) -> list[dict[str, Any]]:
    """The term's label, synonyms and definition per language: the page's language first,
    then the project's others, then any other the glossary uses."""
    languages = [language] + [lang for lang in model.languages if lang != language]
    languages += sorted({*term.labels, *term.synonyms, *term.definition} - set(languages))
    return [
        {
            "language": lang,
            "label": term.labels.get(lang),
            "synonyms": term.synonyms.get(lang, ()),
            "definition": term.definition.get(lang),
        }
        for lang in languages
        if lang in term.labels or lang in term.synonyms or lang in term.definition
    ]


def kind_counts(terms: Sequence[Term], t: Messages) -> list[str]:
    """ "3 metrics", "1 dimension"...: how many terms of each kind, in words."""
    counts: dict[str, int] = {}
    for term in terms:
        counts[term.kind] = counts.get(term.kind, 0) + 1
    return sorted(f"{t.number(n)} {t.kind(kind, n)}" for kind, n in counts.items())


def term_mapping(model: Model, term: Term, t: Messages) -> list[tuple[str, Any]]:
    """Rows of the physical mapping table: (what, value); a value may be Markup."""
    rows: list[tuple[str, Any]] = []
    if term.kind == "concept":
        return [(t.word("map_meaning"), t.word("map_concept"))]
    if term.entity is not None:
        link = Markup('<a href="../{}">{}</a>').format(entity_url(term.entity), term.entity)
        rows.append((t.word("map_entity"), link))
        rows.append((t.word("map_table"), model.entities[term.entity].table))
    what = "map_condition" if term.kind == "segment" else "map_expression"
    rows.append((t.word(what), Markup("<code>{}</code>").format(_sql(term.expr))))
    if term.refs:
        links = (Markup('<a href="{}.html">{}</a>').format(r, r) for r in term.refs)
        rows.append((t.word("map_computed_from"), Markup(", ").join(links)))
    if term.path:
        rows.append((t.word("map_join_path"), " → ".join(term.path)))
    if term.grains:
        rows.append((t.word("map_grains"), ", ".join(t.grain(g) for g in term.grains)))
    if term.filter is not None:
        rows.append((t.word("map_filter"), Markup("<code>{}</code>").format(_sql(term.filter))))
    if term.fill_null is not None:
        code = Markup("<code>{}</code>").format(_sql(term.fill_null))
        rows.append((t.word("map_empty_groups"), code))
    if term.window is not None:
        w = term.window
        text = (
            t("window_last", periods=t.periods(w.last, w.grain or ""))
            if w.last
            else t("window_to_date", grain=t.grain(w.to_date))
            if w.to_date
            else t("window_running")
        )
        rows.append((t.word("map_window"), str(t("along", what=text, time=w.time))))
    if term.shift is not None:
        s = term.shift
        if s.to_start_of is not None:
            shifted = t("along", what=t.grain(s.to_start_of), time=s.time)
        else:
            grain = s.grain or ""
            shifted = t("shift_earlier", periods=t.periods(s.periods, grain), time=s.time)
        rows.append((t.word("map_shift"), str(shifted)))
    return rows + kind_rows(model, term, t)


def own_columns(model: Model, term: Term, entity_id: str) -> list[str]:
    """The columns of `entity_id` that `term` reads."""
    return [
        n.key.partition(".")[2]
        for n in term_sources(model, term)
        if n.kind == "column" and n.entity == entity_id
    ]


def _sql(tree: exp.Expression) -> str:
    """An expression as written in the files (without the NULLIF the model adds to every
    division to make it safe)."""
    tree = tree.copy()
    for division in tree.find_all(exp.Div):
        division.set("safe", None)
    return tree.sql(dialect=FILE_DIALECT)
