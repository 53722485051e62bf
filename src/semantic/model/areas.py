"""Subject areas: dimensions and metrics published together as one view, checked once every
term is known.
"""

from __future__ import annotations

from sqlglot import exp

from semantic.errors import Diagnostic, Span, suggest
from semantic.files.read import Document
from semantic.files.schema import GlossaryFile
from semantic.model.draft import Draft
from semantic.model.types import SubjectArea

#: where a subject area lists a term of each kind
_AREA_KEYS = {
    "dimension": "dimensions",
    "time_dimension": "dimensions",
    "metric": "metrics",
    "segment": "segments",
}
_ROW_KINDS = ("dimension", "time_dimension", "segment")


def check_subject_areas(draft: Draft) -> None:
    """Subject areas name existing terms of the right kind (SEM216, SEM217) and their
    views do not share a name with an entity's (SEM219)."""
    for sid, spec, doc in draft.area_docs:
        span = doc.span(("subject_areas", sid))
        if sid in draft.subject_areas:
            draft.defined_twice(f"subject area '{sid}'", span, draft.subject_areas[sid].span)
            continue
        if sid in draft.entities:
            draft.report(
                "SEM219",
                f"subject area '{sid}' has the id of an entity: their views would share a name",
                span,
                f"rename the subject area, e.g. '{sid}_overview'",
            )
            continue
        checked = _AreaCheck(draft, sid, doc)
        dimensions = [
            d for i, d in enumerate(spec.dimensions) if checked.dimension(d, ("dimensions", i))
        ]
        metrics = [
            m
            for i, m in enumerate(spec.metrics)
            if checked.term(m, ("metrics", i), ("metric",), "metric")
        ]
        segments = [
            s
            for i, s in enumerate(spec.segments)
            if checked.term(s, ("segments", i), ("segment",), "segment")
        ]
        condition = checked.condition(spec.filter)
        if not checked.ok:
            continue
        draft.subject_areas[sid] = SubjectArea(
            id=sid,
            domain=doc.data.domain,
            labels=dict(spec.label),
            definition=dict(spec.definition),
            owners=tuple(spec.owners),
            dimensions=tuple(dimensions),
            metrics=tuple(metrics),
            filter=condition,
            segments=tuple(segments),
            span=span,
            places={
                **{d: checked.place("dimensions", i) for i, d in enumerate(spec.dimensions)},
                **{m: checked.place("metrics", i) for i, m in enumerate(spec.metrics)},
            },
        )


class _AreaCheck:
    """The checks of one subject area's references; `ok` is False once one fails."""

    def __init__(self, draft: Draft, sid: str, doc: Document[GlossaryFile]) -> None:
        self.draft = draft
        self.sid = sid
        self.doc = doc
        self.ok = True
        self.seen: set[str] = set()

    def place(self, *path: str | int) -> Span:
        """Where an item of the subject area is written."""
        return self.doc.span(("subject_areas", self.sid, *path), value=True)

    def _fail(self, code: str, message: str, span: Span, hint: str | None) -> bool:
        self.ok = False
        if code != "SEM216" or self.draft.complete:
            self.draft.diagnostics.append(Diagnostic(code, message, span, hint))
        return False

    def term(
        self, name: str, where: tuple[str | int, ...], kinds: tuple[str, ...], what: str
    ) -> bool:
        """`name` is a term id of one of `kinds`, listed once."""
        terms = self.draft.terms
        span = self.place(*where)
        term = terms.get(name)
        if term is None:
            if name in self.draft.broken:  # already reported where it is defined
                self.ok = False
                return False
            return self._fail(
                "SEM216",
                f"subject area '{self.sid}' names unknown term '{name}'",
                span,
                suggest(name, [t for t, x in terms.items() if x.kind in kinds]),
            )
        if term.kind not in kinds:
            return self._fail(
                "SEM217",
                f"subject area '{self.sid}' lists '{name}' as a {what}, but it is a "
                f"{term.kind.replace('_', ' ')}",
                span,
                f"move it to `{_AREA_KEYS.get(term.kind, 'filter')}`"
                if term.kind in _AREA_KEYS
                else "a concept without physical meaning cannot be published",
            )
        if name in self.seen:
            return self._fail(
                "SEM217", f"subject area '{self.sid}' lists '{name}' twice", span, "remove one"
            )
        self.seen.add(name)
        if term.status == "deprecated":  # still published, but its view should move on
            self.draft.warn(
                "SEM215",
                f"subject area '{self.sid}' lists deprecated term '{name}'",
                span,
                f"list '{term.replaced_by}' instead"
                if term.replaced_by
                else "ask the term's owners what replaces it",
            )
        return True

    def dimension(self, written: str, where: tuple[str | int, ...]) -> bool:
        """`written` is a dimension id, or `time_dimension.grain` with a grain it has."""
        name, dot, grain = written.partition(".")
        if not self.term(name, where, ("dimension", "time_dimension"), "dimension"):
            return False
        term = self.draft.terms[name]
        if dot and (term.kind != "time_dimension" or grain not in term.grains):
            return self._fail(
                "SEM217",
                f"subject area '{self.sid}': '{grain}' is not a grain of '{name}'",
                self.place(*where),
                f"grains of '{name}': {', '.join(term.grains) or 'none'}",
            )
        return True

    def condition(self, text: str | None) -> exp.Expression | None:
        """The parsed filter, naming dimensions and segments only (grains allowed)."""
        if text is None:
            return None
        span = self.place("filter")
        parsed = self.draft.parse(
            text,
            f"filter of subject area '{self.sid}'",
            span,
            "write a condition on terms, e.g. market_segment = 'BUILDING'",
        )
        if parsed is None:
            self.ok = False
            return None
        rows = [t for t, x in self.draft.terms.items() if x.kind in _ROW_KINDS]
        for column in parsed.find_all(exp.Column):
            name = column.table or column.name
            term = self.draft.terms.get(name)
            if term is None and name not in self.draft.broken:
                self._fail(
                    "SEM216",
                    f"unknown term '{name}' in the filter of subject area '{self.sid}'",
                    span,
                    suggest(name, rows),
                )
            elif term is not None and term.kind not in _ROW_KINDS:
                self._fail(
                    "SEM217",
                    f"the filter of subject area '{self.sid}' uses '{name}', a "
                    f"{term.kind.replace('_', ' ')}",
                    span,
                    "filter rows on dimensions and segments",
                )
            elif term is None:
                self.ok = False
        if parsed.find(exp.AggFunc) is not None or parsed.find(exp.Placeholder) is not None:
            self._fail(
                "SEM217",
                f"the filter of subject area '{self.sid}' must not aggregate nor take parameters",
                span,
                "a view has no parameters; a filter keeps or drops rows",
            )
        return parsed
