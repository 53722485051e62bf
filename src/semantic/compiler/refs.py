"""The vocabulary the compiler's stages share: references to terms, group keys and measures
inside sqlglot trees, and the typed `BusinessQuery` that `parse` makes and `plan` reads.

sqlglot's compiled classes cannot be subclassed, so a reference is a marker function,
`__ref__('term', 'order_date', 'year')`. A business query cannot name it (SEM302).

>>> tree = exp.Add(this=make_ref("term", "net_revenue"), expression=exp.Literal.number(1))
>>> find_refs(tree, "term")
[Ref(kind='term', ident='net_revenue', grain=None)]
>>> show(tree)
'net_revenue + 1'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from semantic.compiler.decision import PolicyDecision
from semantic.compiler.locate import span_at
from semantic.compiler.perrows import PerRows
from semantic.compiler.ranks import Ranking
from semantic.errors import Diagnostic, Span
from semantic.model import Model

#: The dialect business queries are written in.
QUERY_DIALECT = "duckdb"

#: the dialect `show` writes in, made once (sqlglot makes one on every lookup by name)
_SHOWN_IN = Dialect.get_or_raise(QUERY_DIALECT)

#: The comparisons of a condition: where a value meets a term (a parameter takes its type
#: from the other side; a quoted name on one side may be a misquoted value).
COMPARISONS = (
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Like,
    exp.ILike,
    exp.In,
    exp.Between,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
)

REF = "__ref__"


def make_ref(kind: str, ident: str, grain: str | None = None) -> exp.Anonymous:
    """A reference of `kind` ('term', 'key' or 'measure') to `ident`, inside a query tree."""
    args = [exp.Literal.string(kind), exp.Literal.string(ident)]
    if grain:
        args.append(exp.Literal.string(grain))
    return exp.Anonymous(this=REF, expressions=args)


@dataclass(frozen=True, slots=True)
class Ref:
    """What a reference node points at."""

    kind: str
    ident: str
    grain: str | None


def ref_of(node: exp.Expr) -> Ref | None:
    """The reference that `node` is, or None."""
    if not isinstance(node, exp.Anonymous) or node.this != REF:
        return None
    args = node.expressions  # no list of names made: the passes ask about 100 times a compile
    return _ref(args[0].name, args[1].name, args[2].name if len(args) > 2 else None)


@lru_cache(maxsize=8192)
def _ref(kind: str, ident: str, grain: str | None) -> Ref:
    # one Ref per reference: a frozen dataclass is slow to make, and the passes ask often
    return Ref(kind, ident, grain)


def ref_nodes(tree: exp.Expression, kind: str) -> list[tuple[Ref, exp.Anonymous]]:
    """Every reference of `kind` in `tree` with its node, in order."""
    found = []
    for node in tree.find_all(exp.Anonymous):
        # `ref_of` inline, its Ref made only for the kind asked for: the passes ask some 20
        # times a compile, each over every function call of a tree
        if node.this != REF:
            continue
        args = node.expressions
        if args[0].name == kind:
            ref = _ref(kind, args[1].name, args[2].name if len(args) > 2 else None)
            found.append((ref, node))
    return found


def find_refs(tree: exp.Expression, kind: str) -> list[Ref]:
    """Every reference of `kind` in `tree`, in order."""
    return [ref for ref, _ in ref_nodes(tree, kind)]


def show(tree: exp.Expression) -> str:
    """SQL text of a resolved tree, references shown as the term ids they point at."""

    def swap(node: exp.Expression) -> exp.Expression:
        ref = ref_of(node)
        if ref is None:
            return node
        return exp.column(ref.grain, ref.ident) if ref.grain else exp.column(ref.ident)

    # the transformed tree is a copy of our own: the generator need not copy it again
    return tree.transform(swap, copy=True).sql(_SHOWN_IN, copy=False)


def query_span(text: str, start: int, line: int = 0) -> Span:
    """The line:col of offset `start` in a query's text (`line`, sqlglot's, is not needed:
    see `locate.span_at`)."""
    if 0 < start <= len(text) and text[start - 1] == '"':
        start -= 1
    return span_at(text, start)


@dataclass(frozen=True, slots=True)
class OutputColumn:
    """A selected column: its output name and expression over term references."""

    name: str
    expr: exp.Expression
    is_metric: bool


@dataclass(frozen=True, slots=True)
class OrderItem:
    """Sort by output column `column` or, when it is None, by the metric expression `expr`."""

    column: int | None
    expr: exp.Expression | None
    desc: bool
    nulls_first: bool | None


@dataclass(frozen=True, slots=True)
class BusinessQuery:
    """What the analyst asked, in terms, with no SQL decisions made yet."""

    columns: tuple[OutputColumn, ...]
    filters: tuple[exp.Expression, ...]
    having: tuple[exp.Expression, ...]
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    params: tuple[str, ...]
    text: str = ""
    #: where each term was first written: (offset in `text`, line)
    places: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    #: a role's row filters (`compiler.policy`): entity id -> the condition over term
    #: references that each of its rows read must meet, wherever it is read
    restrict: Mapping[str, exp.Expression] = field(default_factory=dict)
    #: a role's masks: output column position -> hash, redact or partial
    masks: Mapping[int, str] = field(default_factory=dict)
    #: the values of the parameters a role's filters bind (the caller's attributes)
    bound: Mapping[str, Any] = field(default_factory=dict)
    #: what the role's policy decided, None without a role
    decision: PolicyDecision | None = None
    #: the per-entity metric values the query reads (`compiler.perentity`): entity id ->
    #: the values read as columns of its rows
    per_rows: PerRows = field(default_factory=dict)
    #: the column written `all_periods(...)`: every period of it is shown (`spine`)
    empty_periods: int | None = None
    #: ranks, QUALIFY and the order computed over the query's result (`ranking`)
    ranking: Ranking | None = None
    #: the entities its per-entity values and grand totals rely on through a join left out
    #: (`Plan.relied_on`, set by `compiler.perentity`)
    relied_on: frozenset[str] = frozenset()

    def place(self, term_id: str) -> Span:
        """Where the query names `term_id` (the start of the query if it does not)."""
        start, line = self.places.get(term_id, (0, 1))
        return query_span(self.text, start, line)

    def warnings(self, model: Model) -> list[Diagnostic]:
        """Deprecated terms the query names (SEM215), with their replacement."""
        found = []
        for tid in self.places:
            term = model.terms[tid]
            if term.status == "deprecated":
                instead = f"use '{term.replaced_by}' instead" if term.replaced_by else None
                found.append(
                    Diagnostic(
                        "SEM215",
                        f"term '{tid}' is deprecated",
                        self.place(tid),
                        instead or "ask its owners what replaces it",
                        severity="warning",
                    )
                )
        return found
