"""`build_model`: the files read into one immutable `Model`, every broken reference reported
at once, each with its file:line:col.

The steps run in a fixed order, each a function over one `Draft`: entities, relationships,
glossaries, each term's checks, the checks across terms, subject areas, the name index, then
the access policy (its roles read against the finished model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from semantic.errors import Diagnostic
from semantic.files.read import Document
from semantic.files.schema import GlossaryFile, ModelFile, PolicyFile, ProjectFile
from semantic.model.areas import check_subject_areas
from semantic.model.checks import check_terms
from semantic.model.draft import Draft
from semantic.model.entities import add_entities, add_entity_quality, link_relationships
from semantic.model.names import normalize_name
from semantic.model.relations import check_cycles, check_names, check_nesting, check_relations
from semantic.model.roles import build_policy
from semantic.model.skos import check_skos
from semantic.model.terms import add_domain
from semantic.model.types import Model, NameEntry, Term, name_entries


def build_model(
    config: ProjectFile,
    models: Sequence[Document[ModelFile]],
    glossaries: Sequence[Document[GlossaryFile]],
    *,
    complete: bool = True,
    policy: Document[PolicyFile] | None = None,
) -> tuple[Model, list[Diagnostic]]:
    """Build the catalog and collect every reference problem (the model is usable for what
    is valid); `policy` is the policy file, its roles checked against the finished model.

    `complete` is False when some file could not be read: references to what it may have
    defined are then not reported, so the one real error is not buried under its echoes.
    """
    draft = Draft(config, complete)
    for model_doc in models:
        add_entities(draft, model_doc)
    link_relationships(draft)
    add_entity_quality(draft)
    for glossary_doc in glossaries:
        add_domain(draft, glossary_doc)
    check_terms(draft)
    check_cycles(draft)
    check_nesting(draft)
    check_relations(draft)
    check_skos(draft)
    check_names(draft)
    check_subject_areas(draft)
    model = _model(draft)
    roles, problems = build_policy(model, policy)
    return replace(model, policy=roles), draft.diagnostics + problems


def _model(draft: Draft) -> Model:
    """The finished catalog, with its index of names."""
    config = draft.config
    return Model(
        name=config.name,
        languages=tuple(config.languages),
        dialect=config.dialect,
        fiscal_year_start=config.fiscal_year_start,
        entities=draft.entities,
        edges={k: tuple(v) for k, v in draft.edges.items()},
        terms=draft.terms,
        domains=draft.domains,
        names=_name_index(draft.terms, draft.names),
        subject_areas=draft.subject_areas,
        time_zone=config.time_zone,
        levels=tuple(config.confidentiality_levels),
    )


def _name_index(
    terms: Mapping[str, Term], keyed: Mapping[str, list[tuple[str, NameEntry]]]
) -> dict[str, tuple[NameEntry, ...]]:
    """Every id, label, synonym and misspelling of the terms, by its comparison key
    (`keyed`: the names of each term with their keys, when `check_names` made them)."""
    names: dict[str, list[NameEntry]] = {}
    for tid, term in terms.items():
        names.setdefault(normalize_name(tid), []).append(NameEntry(tid, "id", None, tid))
        found = keyed.get(tid)
        if found is None:
            found = [(normalize_name(e.text), e) for e in name_entries(term)]
        for key, entry in found:
            names.setdefault(key, []).append(entry)
    return {k: tuple(v) for k, v in names.items()}
