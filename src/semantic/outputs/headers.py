"""The headers of a result in a language: the labels of the terms its columns name (`semantic
query --language`, a server's `Accept-Language`).

>>> from semantic.project import Project
>>> project = Project.load(".")
>>> columns = project.parse("SELECT customer_region, order_date.year, net_revenue AS n").columns
>>> result_headers(project.model, columns, "fr")
['Région client', 'Date de commande (année)', 'n']
"""

from __future__ import annotations

from collections.abc import Sequence

from semantic.compiler.refs import OutputColumn, Ref, ref_of
from semantic.model import Model
from semantic.model.grains import grain_heading
from semantic.model.names import normalize_name


def result_headers(model: Model, columns: Sequence[OutputColumn], language: str) -> list[str]:
    """The headers of a result in `language`: a column that is a term as written (by id,
    label or synonym, in any language) gets the term's label, with its grain
    (`Date de commande (année)`); an alias or an expression keeps its name, and so does a
    column whose label another column already has."""
    headers: list[str] = []
    for column in columns:
        ref = ref_of(column.expr)
        header = column.name
        if ref is not None and ref.kind == "term" and _names_term(model, column.name, ref):
            label = model.terms[ref.ident].label(language)
            header = grain_heading(label, ref.grain, language) if ref.grain else label
        headers.append(column.name if header in headers else header)
    return headers


def _names_term(model: Model, name: str, ref: Ref) -> bool:
    """Whether output name `name` is `ref` as written (`order_date.year`, `"Région
    client"`), not an alias."""
    base = name.removesuffix(f".{ref.grain}") if ref.grain else name
    return any(e.term == ref.ident for e in model.names.get(normalize_name(base), ()))
