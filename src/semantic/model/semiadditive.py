"""The check of a metric's `semi_additive:` (a balance, a stock level: not summed over a
time dimension): it is a base metric, over a time dimension (SEM273). Whether the time
dimension is reached from the metric's entity without repeating its rows is the
compiler's to say, per query (`compiler.semiadditive`)."""

from __future__ import annotations

from semantic.errors import suggest
from semantic.model.draft import Draft
from semantic.model.types import Term


def check_semi_additive(draft: Draft, term: Term) -> bool:
    """Whether `term`'s `semi_additive:` can be computed; SEM273 where it cannot."""
    spec = term.semi_additive
    assert spec is not None
    span = draft.term_span(term, "semi_additive", value=True)
    if term.entity is None:
        draft.report(
            "SEM273",
            f"metric '{term.id}' is semi-additive but has no entity: only a metric over the "
            "rows of an entity picks the rows of a period's last instant",
            span,
            "declare semi_additive on the base metric it is made of (with entity and an "
            "aggregate); metrics over it stay right",
        )
        return False
    time = draft.terms.get(spec.time)
    if time is None or time.kind != "time_dimension":
        what = "unknown" if time is None else f"a {time.kind.replace('_', ' ')}, not a"
        draft.report(
            "SEM273",
            f"metric '{term.id}' is semi-additive over '{spec.time}', {what} time dimension",
            span,
            suggest(spec.time, [t for t, x in draft.terms.items() if x.kind == "time_dimension"])
            or "name the time dimension the metric must not be summed over",
        )
        return False
    return True
