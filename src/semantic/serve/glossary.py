"""The glossary's reads for a caller: the terms, one term's card (with the dimensions a
metric accepts), search, lineage, the RDF export and the quality results, each limited to
what the caller's role may read.

A role sees the terms within its clearance (`Role.may_see`): the others are left out of
lists and searches, and asking for one by name is refused (SEM458), as a query naming it is
(SEM331). The RDF export and the quality results cover the whole glossary and all the data:
they are for callers who may read every term, and, for quality (measured on every row), for
callers without row filters. What a version makes once (cards, RDF texts, quality results)
it keeps (`Version.kept`): a reload starts afresh. Each read, kept or made, writes an audit
record when auditing is on (`terms`, `show`, `search`, `lineage`, `rdf`, `quality`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from semantic.audit import Action, recorded
from semantic.errors import SemanticError, Span, error, suggest
from semantic.model import Model, Term
from semantic.serve.config import Caller
from semantic.serve.service import Version

#: where a refused read is placed
READ = Span("<request>")
#: the kinds of search results that are not terms
NOT_TERMS = ("entity", "subject_area")
#: the RDF formats served, by the name of the API
RDF_FORMATS = {"turtle": "text/turtle", "json-ld": "application/ld+json"}


def visible(model: Model, caller: Caller) -> list[Term]:
    """The terms `caller` may read, in the model's order."""
    if caller.role is None:
        return list(model.terms.values())
    return model.policy.role(caller.role).visible_terms(model)


def label_language(model: Model, language: str | None) -> str:
    """`language` when it is one of the project's, else the project's first."""
    return language if language in model.languages else model.languages[0]


def terms(
    version: Version, caller: Caller, language: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """The terms `caller` may read (of one `kind` when given), by domain then id, labelled in
    `language`."""
    from semantic.outputs.search import list_terms

    model = version.project.model
    with _read(version, caller, "terms") as audit:
        seen = {t.id for t in visible(model, caller)}
        rows = list_terms(model, label_language(model, language), _kind(kind))
        found = [r for r in rows if r["id"] in seen]
        audit["terms"] = [r["id"] for r in found]
    return found


def term(version: Version, caller: Caller, text: str) -> dict[str, Any]:
    """The card of the term `text` names (an id, a label or a synonym in any language): what
    the glossary says of it, what it means physically, and for a metric the dimensions it
    accepts (those the caller may read). SEM201 when it names none; SEM458 when the caller's
    role may not read it."""
    from semantic.outputs.termcard import find_term, term_card

    project = version.project
    with _read(version, caller, "show", text, "term") as audit:
        found = readable(project.model, caller, find_term(project.model, text).id)
        audit["terms"] = [found.id]
    # the card as the role sees it (`outputs.termcard`): its relations, dimensions, lineage
    # and example name no term above the role's clearance
    key = ("card", found.id, caller.cache_key())
    card = version.kept.get(key)
    if card is None:
        made = term_card(project, found.id, caller.role, dict(caller.user))
        card = version.kept[key] = made.as_dict()
    shown = dict(card)
    shown["used_by"] = list(card["lineage"]["used_by"])
    return shown


def readable(model: Model, caller: Caller, term_id: str) -> Term:
    """The term `term_id`, or SEM458 when `caller`'s role may not read it."""
    if caller.role is not None and not model.policy.role(caller.role).may_see(term_id):
        raise error(
            "SEM458",
            f"role '{caller.role}' may not read term '{term_id}' (it, or what it is computed "
            "from, is above the role's clearance)",
            READ,
            "ask for a token of a role cleared for it (see docs/governance.md)",
        )
    return model.terms[term_id]


def search(
    version: Version, caller: Caller, text: str, language: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The terms and entities matching `text` (ids, labels, synonyms, definitions, in every
    language unless `language`), best first, among those `caller` may read."""
    from semantic.outputs.search import find_terms

    model = version.project.model
    with _read(version, caller, "search", text, "search") as audit:
        seen = {t.id for t in visible(model, caller)}
        hits = find_terms(model, text, language, limit + len(model.terms))
        # entities and subject areas are no terms: each is shown; a term only when readable
        found = [h.as_dict() for h in hits if h.id in seen or h.kind in NOT_TERMS][:limit]
        audit["terms"] = [h["id"] for h in found if h["kind"] not in NOT_TERMS]
    return found


def lineage(version: Version, caller: Caller, text: str) -> dict[str, Any]:
    """Where the term `text` names comes from, down to columns and tables (see
    `Project.lineage`), when `caller` may read it."""
    from semantic.compiler.lineage import lineage_tree, terms_of
    from semantic.outputs.access import model_for
    from semantic.outputs.termcard import find_term

    project = version.project
    with _read(version, caller, "lineage", text, "term") as audit:
        found = readable(project.model, caller, find_term(project.model, text).id)
        # over the model as the role sees it: the terms that use this one name none it may
        # not read
        tree = lineage_tree(model_for(project.model, caller.role), found.id)
        audit["terms"] = terms_of(tree)
    return tree


def rdf(version: Version, caller: Caller, fmt: str) -> str:
    """The glossary as RDF (`turtle` or `json-ld`: SKOS, DCAT, PROV), for a caller who may
    read every term (SEM458 otherwise)."""
    from semantic.outputs.rdf.document import project_rdf

    with _read(version, caller, "rdf", fmt, "format") as audit:
        _whole(version, caller, "the RDF export")
        key = ("rdf", fmt)
        text = version.kept.get(key)
        if text is None:
            text = version.kept[key] = project_rdf(version.project, fmt)
        audit["terms"] = list(version.project.model.terms)
    return str(text)


def quality(version: Version, caller: Caller) -> list[dict[str, Any]]:
    """The quality rules of the glossary and the model measured on the data (once a version
    and role): for a role, those of the rules it may see, as `semantic quality --role`
    shows them (`role_model`); SEM458 for a role whose row filters keep rows from it,
    since every rule is measured over every row."""
    from semantic.outputs.quality import measure_all, role_model

    with _read(version, caller, "quality") as audit:
        if caller.role is not None and version.project.model.policy.role(caller.role).filters:
            raise _refused(caller, "the quality results", "they are measured on every row")
        key = f"quality:{caller.role or ''}"
        found = version.kept.get(key)
        if found is None:
            model = role_model(version.project, caller.role)
            measured = measure_all(model, version.project.engine_for(None))
            found = version.kept[key] = [r.as_dict() for r in measured]
        audit["terms"] = list(dict.fromkeys(r["term"] for r in found if r["term"]))
    return list(found)


@contextmanager
def _read(
    version: Version,
    caller: Caller,
    action: Action,
    text: str | None = None,
    form: str | None = None,
) -> Iterator[dict[str, Any]]:
    """The audit record of one read of the glossary by `caller` (`audit.recorded`): a
    term's card, its lineage, a search, a list of terms, the RDF or the quality results,
    with the terms it showed, written when auditing is on, whether the read succeeds or is
    refused."""
    with recorded(
        version.project, action, text=text, form=form, role=caller.role, user=caller.user
    ) as audit:
        yield audit


def _whole(version: Version, caller: Caller, what: str) -> None:
    model = version.project.model
    if caller.role is not None and len(visible(model, caller)) < len(model.terms):
        raise _refused(caller, what, "they cover every term of the glossary")


def _refused(caller: Caller, what: str, why: str) -> SemanticError:
    return error(
        "SEM458",
        f"role '{caller.role}' may not read {what}: {why}",
        READ,
        "ask for a token of a role that reads every term and every row (see docs/serve.md)",
    )


def _kind(kind: str | None) -> str | None:
    """`kind` as a kind of term (`metrics` and `time-dimension` read as `metric` and
    `time_dimension`); SEM122 naming the kinds when it is none."""
    from typing import get_args

    from semantic.model.types import Kind

    if kind is None:
        return None
    key = kind.strip().lower().replace("-", "_").replace(" ", "_")
    kinds: tuple[str, ...] = get_args(Kind)
    for known in kinds:
        if key in (known, known + "s"):
            return known
    raise error(
        "SEM122",
        f"unknown kind of term '{kind}'",
        READ,
        suggest(kind, kinds) or f"the kinds are {', '.join(kinds)}",
    )
