"""The terms of `semantic import skos`: a concept's names, notes, governance and meaning,
then what relates terms to each other (hierarchy, matches, replacements) and the glossary's
naming rule across them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlglot
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS
from rdflib.term import Node
from sqlglot import exp
from sqlglot.errors import ParseError

from semantic.errors import Diagnostic, SemanticError, Span
from semantic.files.schema import GRAINS
from semantic.interchange.common import Notice
from semantic.interchange.names import NameChange, settle_names
from semantic.interchange.skos.kinds import _KindReader
from semantic.interchange.skos.read import (
    _ACCESS_LEVELS,
    _DERIVED,
    _KINDS,
    _SENSITIVITIES,
    _STATUSES,
    _Draft,
    _last_segment,
    _number,
)
from semantic.interchange.skos.result import ImportedTerm
from semantic.model import FILE_DIALECT
from semantic.model.skos import SkosNames, skos_violations
from semantic.outputs.rdf.export import ACCESS_RIGHTS, KIND_CLASSES
from semantic.outputs.rdf.iris import Iris
from semantic.outputs.rdf.vocab import DCAT, DQV, SEM, SKOSXL


class _Concepts(_KindReader):
    """The reading of concepts into terms."""

    def term(self, concept: Node) -> _Draft:
        """The names, notes and governance of a concept, and its meaning if it has one."""
        draft = _Draft()
        data = draft.data
        label: dict[str, str] = {}
        synonyms: dict[str, set[str]] = {}
        pref = self.label_texts(concept, SKOS.prefLabel, SKOSXL.prefLabel)
        alt = self.label_texts(concept, SKOS.altLabel, SKOSXL.altLabel)
        hidden = self.label_texts(concept, SKOS.hiddenLabel, SKOSXL.hiddenLabel)
        draft.names = (pref, alt, hidden)
        # what follows repairs S14 and S13 (see semantic.model.skos): without --repair,
        # `integrity` has refused the vocabulary before the repaired terms are written
        for lang, items in pref.items():
            label[lang] = items[0]
            for extra in items[1:]:
                synonyms.setdefault(lang, set()).add(extra)
                self.note(
                    concept,
                    SKOS.prefLabel,
                    Literal(extra, lang=lang).n3(),
                    f"a second prefLabel in '{lang}': written as a synonym",
                    "changed",
                )
        for lang, items in alt.items():
            for text in items:
                if text == label.get(lang):
                    self.note(
                        concept,
                        SKOS.altLabel,
                        Literal(text, lang=lang).n3(),
                        "the same text as the prefLabel: left out",
                    )
                else:
                    synonyms.setdefault(lang, set()).add(text)
        misspellings: dict[str, list[str]] = {}
        for lang, items in hidden.items():
            for text in items:
                if text == label.get(lang) or text in synonyms.get(lang, ()):
                    what = "prefLabel" if text == label.get(lang) else "altLabel"
                    self.note(
                        concept,
                        SKOS.hiddenLabel,
                        Literal(text, lang=lang).n3(),
                        f"the same text as the {what}: left out",
                    )
                else:
                    misspellings.setdefault(lang, []).append(text)
        data["label"] = label
        data["synonyms"] = {lang: sorted(s) for lang, s in self.by_language(synonyms)}
        data["definition"] = self.single_texts(concept, SKOS.definition)
        self.governance(concept, data)
        data["tags"] = sorted(
            {str(v) for v in self.take(concept, DCAT.keyword) if self.is_text(concept, v)}
        )
        data["hidden_labels"] = misspellings
        data["scope_note"] = self.single_texts(concept, SKOS.scopeNote)
        data["examples"] = self.texts(concept, SKOS.example)
        for key, predicate in (("created", DCTERMS.created), ("modified", DCTERMS.modified)):
            value = self.take_one(concept, predicate)
            if value is not None:
                when = _when(value)
                if when is None:
                    self.note(concept, predicate, value, "not an xsd:date or xsd:dateTime")
                else:
                    data[key] = when
        self.source_iri(concept, draft)
        draft.meaning = self.meaning(concept)
        return draft

    def source_iri(self, concept: Node, draft: _Draft) -> None:
        """The concept's own IRI, so that the glossary links back to the source: the term's
        `iri` with `keep_iris`, else one of its `exact_match` (unless it is the IRI the
        project's export gives the term anyway, under `base`)."""
        if not isinstance(concept, URIRef):
            return
        tid = self.ids[concept]
        if self.base is not None and concept == Iris(self.base).term(tid):
            return
        if self.keep_iris:
            draft.data["iri"] = str(concept)
        else:
            draft.exact_match.add(str(concept))

    def is_text(self, subject: Node, value: Node) -> bool:
        if isinstance(value, Literal):
            return True
        self.note(subject, DCAT.keyword, value, "not a literal")
        return False

    def governance(self, concept: Node, data: dict[str, Any]) -> None:
        """Owners, status and confidentiality; a key is written only when the source says
        it (the defaults, draft and internal, are left implicit)."""
        data["owners"] = self.owners(concept)
        self.status_and_confidentiality(concept, data)

    def owners(self, concept: Node) -> list[str]:
        """The owners of a term or subject area, from its PROV attributions with the role
        sem:Owner (other attributions are reported)."""
        owners: set[str] = set()
        for attribution in self.take(concept, PROV.qualifiedAttribution):
            agent = next(iter(self.values(attribution, PROV.agent)), None)
            role = next(iter(self.values(attribution, DCAT.hadRole)), None)
            if agent is None or role != SEM.Owner:
                what = f"role <{role}>" if role is not None else "no role"
                self.note(
                    concept,
                    PROV.qualifiedAttribution,
                    attribution,
                    f"an attribution with {what}: the glossary declares owners only",
                )
                continue
            for predicate in (RDF.type, PROV.agent, DCAT.hadRole):
                self.take(attribution, predicate)
            self.take_type(agent, PROV.Agent)
            ident = self.take_one(agent, DCTERMS.identifier)
            name = self.take_one(agent, RDFS.label)
            owners.add(
                str(ident)
                if isinstance(ident, Literal)
                else str(name)
                if isinstance(name, Literal)
                else _last_segment(str(agent))
            )
        return sorted(owners)

    def status_and_confidentiality(self, concept: Node, data: dict[str, Any]) -> None:
        """`status` and `confidentiality`, when the source states them."""
        status = None
        value = self.take_one(concept, SEM.status)
        if value in _STATUSES:
            status = _STATUSES[value]
        elif value is not None:
            self.note(
                concept, SEM.status, value, "not one of sem:Draft, sem:Approved, sem:Deprecated"
            )
        for flag in self.take(concept, OWL.deprecated):
            if isinstance(flag, Literal) and str(flag).lower() in ("true", "1"):
                if status not in (None, "deprecated"):
                    self.note(
                        concept,
                        OWL.deprecated,
                        flag,
                        f"sem:status says {status}: the term is written deprecated",
                        "changed",
                    )
                status = "deprecated"
            elif not (isinstance(flag, Literal) and str(flag).lower() in ("false", "0")):
                self.note(concept, OWL.deprecated, flag, "not a boolean")
        if status is not None:
            data["status"] = status
        level = None
        value = self.take_one(concept, SEM.sensitivity)
        if value in _SENSITIVITIES:
            level = _SENSITIVITIES[value]
        elif value is not None:
            self.note(concept, SEM.sensitivity, value, "not a level of sem:SensitivityScheme")
        for right in self.take(concept, DCTERMS.accessRights):
            if level is not None and ACCESS_RIGHTS[level] != right:
                self.note(
                    concept,
                    DCTERMS.accessRights,
                    right,
                    f"disagrees with the confidentiality '{level}', which is kept",
                )
            elif level is None and right in _ACCESS_LEVELS:
                level = _ACCESS_LEVELS[right]
            elif level is None:
                self.note(
                    concept, DCTERMS.accessRights, right, "not PUBLIC or NON_PUBLIC of the EU table"
                )
        if level is not None:
            data["confidentiality"] = level

    def meaning(self, concept: Node) -> tuple[str, dict[str, Any]] | None:
        """The meaning our export writes (kind, SQL, entity, path, grains, filter, window,
        shift, fill value, quality rules), or None when the concept has none."""
        kinds = [kind for cls, kind in _KINDS.items() if self.take_type(concept, cls)]
        if not kinds:
            return None
        kind = kinds[0]
        for extra in kinds[1:]:
            self.note(
                concept, RDF.type, KIND_CLASSES[extra], f"a term has one kind: {kind} is kept"
            )
        expression = self.take_one(concept, SEM.expression)
        if not isinstance(expression, Literal):
            if expression is None:
                self.note(concept, RDF.type, KIND_CLASSES[kind], "no sem:expression")
            return None
        text = str(expression)
        spec: dict[str, Any] = {}
        used = SEM.aggregatesEntity if kind == "metric" else SEM.describesEntity
        unused = SEM.describesEntity if kind == "metric" else SEM.aggregatesEntity
        for wrong in self.take(concept, unused):
            self.note(concept, unused, wrong, f"not a property of a {kind.replace('_', ' ')}")
        entity = self.take_one(concept, used)
        if entity is not None:
            spec["entity"] = self.identifier(entity)
        elif kind != "metric":
            self.note(concept, RDF.type, KIND_CLASSES[kind], f"no <{used}>")
            return None
        spec["condition" if kind == "segment" else "expr"] = text
        if kind != "metric":
            spec["path"] = self.path(concept)
        if kind == "time_dimension":
            spec["grains"] = self.grains(concept)
        if kind == "metric":
            self.metric(concept, spec)
        self.kind_details(concept, kind, spec)
        for predicate in _DERIVED:
            self.take(concept, predicate)
        rules = {}
        for node in self.take(concept, SEM.qualityRule):
            rid, rule = self.quality_rule(node)
            if rule is not None:
                rules[rid] = rule
        spec = {k: v for k, v in spec.items() if v is not None and not (k == "path" and not v)}
        return kind, {"quality": dict(sorted(rules.items())), kind: spec}

    def path(self, concept: Node) -> list[str]:
        """The hops of sem:path, each named by its relationship's dct:identifier."""
        return [self.identifier(hop) for hop in self.items(concept, SEM.path)]

    def grains(self, concept: Node) -> list[str]:
        found = set()
        for value in self.take(concept, SEM.grain):
            if str(value) in GRAINS:
                found.add(str(value))
            else:
                self.note(concept, SEM.grain, value, "not a grain")
        return [g for g in GRAINS if g in found]

    def metric(self, concept: Node, spec: dict[str, Any]) -> None:
        """The keys only metrics have: filter, window, shift, fill_null."""
        condition = self.take_one(concept, SEM.filter)
        if condition is not None:
            spec["filter"] = str(condition)
        grain = self.take_one(concept, SEM.periodGrain)
        over = self.take_one(concept, SEM.windowOver)
        if over is not None:
            window: dict[str, Any] = {"time": self.ref(over)}
            last = _number(self.take_one(concept, SEM.windowLast))
            if last is not None:
                window["last"] = last
                window["grain"] = str(grain)
            to_date = self.take_one(concept, SEM.windowToDate)
            if to_date is not None:
                window["to_date"] = str(to_date)
            spec["window"] = window
        along = self.take_one(concept, SEM.shiftAlong)
        if along is not None:
            periods = _number(self.take_one(concept, SEM.shiftPeriods))
            spec["shift"] = {"time": self.ref(along), "periods": periods, "grain": str(grain)}
        fill = _number(self.take_one(concept, SEM.fillValue))
        if fill is not None and not (fill == 0 and _counts(spec)):
            spec["fill_null"] = fill

    def quality_rule(self, node: Node) -> tuple[str, dict[str, Any] | None]:
        """A term's quality rule from its dqv:Metric: a row check, a condition over
        aggregates or a custom query, as its sem:check says; None (and a notice) for the
        kinds whose sem:check is words (freshness, unique, row_count)."""
        self.take_type(node, DQV.Metric)
        rid = self.identifier(node)
        rule: dict[str, Any] = {}
        dimension = self.take_one(node, DQV.inDimension)
        if dimension is not None:
            self.take_type(dimension, DQV.Dimension)
            name = self.take_one(dimension, SKOS.prefLabel)
            rule["dimension"] = str(name) if name is not None else _last_segment(str(dimension))
        check = self.take_one(node, SEM.check)
        kind = _rule_kind(str(check)) if check is not None else "check"
        if kind is None:
            self.note(
                node,
                SEM.check,
                check,
                "not SQL a quality rule can be rebuilt from (a freshness, unique or row_count "
                "rule): rewrite it by hand",
            )
            for predicate in (SKOS.definition, SEM.threshold, DQV.expectedDataType):
                self.take(node, predicate)
            self.take(node, DCTERMS.subject)
            return rid, None
        if kind != "check":
            rule = {"kind": kind, **rule}
        rule["sql" if kind == "custom" else "check"] = str(check) if check is not None else None
        descriptions = self.take(node, SKOS.definition)
        if descriptions:
            rule["description"] = str(descriptions[0])
        threshold = _number(self.take_one(node, SEM.threshold))
        if threshold is not None and threshold != 1:
            rule["threshold"] = threshold
        self.take(node, DQV.expectedDataType)
        self.take(node, DCTERMS.subject)  # the term's entity, known from its meaning
        return rid, rule

    # -- across terms -------------------------------------------------------------------

    def relations(self, concepts: list[Node], drafts: Mapping[Node, _Draft]) -> None:
        """Hierarchy, associations, matches and replacements, read from both sides."""
        for concept in concepts:
            draft = drafts[concept]
            self.both_ways(concept, drafts, SKOS.broader, SKOS.narrower, "broader")
            for other in self.take(concept, SKOS.related):
                if other not in self.concepts or other == concept:
                    self.note(concept, SKOS.related, other, "not another concept of the import")
                else:
                    draft.related.add(self.ids[other])
            for predicate, matches in (
                (SKOS.exactMatch, draft.exact_match),
                (SKOS.closeMatch, draft.close_match),
            ):
                for other in self.take(concept, predicate):
                    if other in self.concepts:
                        draft.related.add(self.ids[other])
                        self.note(
                            concept,
                            predicate,
                            other,
                            "a match inside the imported vocabulary: written as related",
                            "changed",
                        )
                    elif isinstance(other, URIRef):
                        matches.add(str(other))
                    else:
                        self.note(concept, predicate, other, "not an IRI")
            self.both_ways(concept, drafts, DCTERMS.isReplacedBy, DCTERMS.replaces, "replaced_by")

    def integrity(self, concepts: list[Node], drafts: Mapping[Node, _Draft]) -> None:
        """The SKOS integrity conditions (`semantic.model.skos.RULES`) on the vocabulary as
        the source states it: a violation refuses the import (SemanticError, every one
        listed, nothing written), unless `repair`: then the labels have been repaired as
        they were read (`term`) and the relations are repaired here, each reported."""
        iris = {self.ids[c]: c for c in concepts}
        names = {
            self.ids[c]: SkosNames(
                *drafts[c].names, sorted(drafts[c].broader), sorted(drafts[c].related)
            )
            for c in concepts
        }
        found = skos_violations(names)
        if not found:
            return
        if not self.repair:
            raise SemanticError(
                Diagnostic(
                    v.rule.code,
                    f"<{iris[v.term]}>: {v.message}",
                    Span(self.file or "<graph>", *self.where(iris[v.term])),
                    f"fix the vocabulary, or import with --repair ({v.rule.repair})",
                )
                for v in found
            )
        for v in found:
            concept = iris[v.term]
            if v.rule.name == "related_not_broader" and v.other is not None:
                drafts[concept].related.discard(v.other)
                drafts[iris[v.other]].related.discard(v.term)
                predicate = SKOS.related
            elif v.rule.name == "no_broader_cycle" and v.other is not None:
                concept = iris[v.other]
                drafts[concept].broader.discard(v.cycle[-1])
                predicate = SKOS.broader
            else:
                continue  # a label, repaired as it was read
            self.note(
                concept,
                predicate,
                iris[v.cycle[-1] if v.cycle else v.other or v.term],
                f"breaks SKOS {v.rule.reference} ({v.rule.says}): {v.rule.repair}",
                "changed",
            )

    def settle_relations(self, concepts: list[Node], drafts: Mapping[Node, _Draft]) -> None:
        """The relations of each term as glossary keys (one replacement kept)."""
        for concept in concepts:
            draft = drafts[concept]
            replacements = sorted(draft.replaced_by)
            for extra in replacements[1:]:
                self.note(
                    concept,
                    DCTERMS.isReplacedBy,
                    None,
                    f"replaced by several terms: '{replacements[0]}' is kept, not '{extra}'",
                )
            draft.data.update(
                broader=sorted(draft.broader),
                related=sorted(draft.related),
                exact_match=sorted(draft.exact_match),
                close_match=sorted(draft.close_match),
                replaced_by=replacements[0] if replacements else None,
            )

    def both_ways(
        self, concept: Node, drafts: Mapping[Node, _Draft], forward: Node, inverse: Node, key: str
    ) -> None:
        """A relation between two concepts of the import read from both ends: `forward` on
        `concept` (skos:broader) and `inverse` from it (skos:narrower), into the set `key`
        of the draft it starts from."""
        for predicate in (forward, inverse):
            for other in self.take(concept, predicate):
                if other not in self.concepts or other == concept:
                    self.note(concept, predicate, other, "not another concept of the import")
                    continue
                start, end = (other, concept) if predicate == inverse else (concept, other)
                getattr(drafts[start], key).add(self.ids[end])

    def names(self, concepts: list[Node], drafts: Mapping[Node, _Draft]) -> None:
        """The glossary's naming rule (SEM206), settled as every importer settles it
        (`semantic.interchange.names.settle_names`): a synonym or hidden label that names
        another term too is left out, a label that is another term's label or id is
        replaced by one made from the term's own id; each reported on the concept, with
        the triple that stated the name."""
        concept_of = {self.ids[c]: c for c in concepts}

        def report(change: NameChange) -> Notice:
            predicate = _NAME_PREDICATES[change.key]
            shown = Literal(change.text, lang=change.language).n3()
            return self.notice(
                concept_of[change.term], predicate, shown, change.reason, change.kind
            )

        # a term the project keeps (a conflict) is not written: its names stay the project's
        kept = [c for c in concepts if self.ids[c] not in self.existing]
        terms = {self.ids[c]: drafts[c].data for c in kept}
        self.notices += settle_names(terms, lambda tid: (self.file, 0), self.project, report=report)

    def finish(self, concept: Node, draft: _Draft) -> ImportedTerm:
        """The term's keys in file order, empty ones left out, the meaning last (or the
        business concept)."""
        tid = self.ids[concept]
        data = draft.data
        if not data.get("label"):
            data["label"] = {self.language: tid}
            self.note(concept, SKOS.prefLabel, None, "no prefLabel: the id is the label", "changed")
        ordered = {k: v for k, v in data.items() if v not in (None, [], {})}
        if draft.meaning is None:
            self.note(
                concept,
                None,
                None,
                "no physical meaning in the source: written as a business concept "
                "(concept: {}), which queries cannot use until it is given one",
                "concept",
            )
            ordered["concept"] = {}
            return ImportedTerm(tid, str(concept), ordered, concept_only=True)
        kind, meaning = draft.meaning
        if meaning["quality"]:
            ordered["quality"] = meaning["quality"]
        ordered[kind] = meaning[kind]
        return ImportedTerm(tid, str(concept), ordered)


#: the predicate that states each key of a term's names
_NAME_PREDICATES = {
    "label": SKOS.prefLabel,
    "synonyms": SKOS.altLabel,
    "hidden_labels": SKOS.hiddenLabel,
}


def _when(value: Node) -> date | None:
    """The date or date-time of a literal (typed, or plain ISO 8601 text), else None."""
    if not isinstance(value, Literal):
        return None
    python = value.toPython()
    if isinstance(python, date):
        return python
    text = str(value).strip()
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            return parse(text.replace("Z", "+00:00"))
        except ValueError:
            continue
    return None


def _counts(spec: Mapping[str, Any]) -> bool:
    """Whether a metric is a count of rows, whose fill value 0 the model implies."""
    if spec.get("entity") is None:
        return False
    try:
        parsed = sqlglot.parse_one(spec["expr"], read=FILE_DIALECT)
    except ParseError:
        return False
    return isinstance(parsed, exp.Count)


def _rule_kind(text: str) -> str | None:
    """The kind of quality rule whose sem:check is `text`: a SELECT is custom, a condition
    over aggregates is aggregate, another condition a row check; None for words."""
    try:
        tree = sqlglot.parse_one(text, read=FILE_DIALECT)
    except (ParseError, ValueError):
        return None
    if isinstance(tree, exp.Query):
        return "custom"
    if not isinstance(tree, exp.Predicate | exp.Connector | exp.Not | exp.Paren | exp.Boolean):
        return None
    return "aggregate" if tree.find(exp.AggFunc) is not None else "check"
