"""Empty periods (a date spine): `SELECT all_periods(order_date.month), net_revenue` shows
every month from the first to the last, a month without rows included, with what a group
without rows shows (the metric's `fill_null`, 0 for a count, else NULL).

The periods run from the first day the query's conditions on the time dimension allow
(`order_date >= DATE '1995-01-01'`), else from the first period that has rows, to the last
day they allow, else to the last period that has rows. With other dimensions, each
combination of their values that has rows gets every period. Windows and shifts read the
empty periods like any other (a running total carried through an empty month).

The periods are made by the dialect's series function (`dialects.series`); the union of the
groups of the query's aggregates (`render`'s `keys`) is widened with them:

    result_keys AS (the groups that have rows),
    bounds AS (SELECT first, last),
    spine AS (every period from first to last),
    spine_groups AS (SELECT DISTINCT other keys FROM result_keys),
    keys AS (SELECT * FROM result_keys UNION SELECT period, coarser grains, other keys
             FROM spine CROSS JOIN spine_groups)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlglot import exp

from semantic.compiler.locate import QUERY_FILE
from semantic.compiler.naming import Names
from semantic.compiler.periods import MONTHS, RANK, literal_date, period_start, truncate
from semantic.compiler.refs import BusinessQuery, find_refs, ref_of
from semantic.errors import Span, error
from semantic.model import Model
from semantic.model.nodes import column, identifier, table

#: the function of the query language that asks for every period
ALL_PERIODS = "all_periods"

#: the `meta` key of the SELECT that makes the periods (rewritten per dialect)
SERIES = "date_series"


@dataclass(frozen=True, slots=True)
class EmptyPeriods:
    """Every period of `grain` of the group key `key` from `first` (else the first period
    with rows) to `last` (else the last with rows); `coarser`: the keys of the same time
    dimension at coarser grains, (key, grain) each, computed from the period."""

    key: str
    grain: str
    coarser: tuple[tuple[str, str], ...]
    first: date | None
    last: date | None
    fiscal_start: int = 1


def describe_empty_periods(spine: EmptyPeriods | None, shown: dict[str, str]) -> list[str]:
    """The line of `semantic explain` saying which periods are shown, in words."""
    if spine is None:
        return []
    first = spine.first.isoformat() if spine.first else "the first with rows"
    last = spine.last.isoformat() if spine.last else "the last with rows"
    return [
        f"every {spine.grain} of {shown.get(spine.key, spine.key)} from {first} to {last}, "
        "those without rows too (as groups without rows), for each combination of the other "
        "keys that has rows"
    ]


def take_all_periods(select: exp.Select) -> int | None:
    """Unwrap `all_periods(x)` in the SELECT list (in place), and say which column had it;
    SEM358 when it is written elsewhere, twice, or around other than one argument."""
    found = None
    for i, item in enumerate(select.expressions):
        inner = item.this if isinstance(item, exp.Alias) else item
        if _is_all_periods(inner):
            if len(inner.expressions) != 1:
                raise _misused("all_periods() takes one time dimension at a grain")
            if found is not None:
                raise _misused("all_periods() is written twice: one time dimension makes rows")
            inner.replace(inner.expressions[0])
            found = i
    for node in select.find_all(exp.Anonymous):  # sqlglot's walk picks them out
        if _is_all_periods(node):
            raise _misused("all_periods() goes around a time dimension of the SELECT list")
    return found


def _is_all_periods(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.this).casefold() == ALL_PERIODS


def _misused(message: str, span: Span | None = None) -> Exception:
    return error(
        "SEM358",
        message,
        span or Span(QUERY_FILE, 1, 1),
        "write it around a selected time dimension at a grain: "
        "SELECT all_periods(order_date.month), net_revenue",
    )


def with_empty_periods(model: Model, query: BusinessQuery, index: int | None) -> BusinessQuery:
    """`query` asking for every period of its column `index` (checked: a time dimension
    at a grain, the finest of the query's grains of it)."""
    if index is None:
        return query
    col = query.columns[index]
    ref = ref_of(col.expr)
    term = model.terms.get(ref.ident) if ref is not None and ref.kind == "term" else None
    if col.is_metric or ref is None or term is None or term.kind != "time_dimension":
        raise _misused(f"all_periods() is around '{col.name}', not a time dimension")
    if ref.grain is None:
        raise _misused(
            f"all_periods() needs a grain of '{ref.ident}' (its periods)", query.place(ref.ident)
        )
    for other in query.columns:
        if other is col or other.is_metric:
            continue
        if any(r.ident == ref.ident for r in find_refs(other.expr, "term")):
            theirs = ref_of(other.expr)
            if theirs is None or theirs.grain is None or RANK[theirs.grain] <= RANK[ref.grain]:
                raise _misused(
                    f"all_periods() makes periods of {ref.ident}.{ref.grain}, but "
                    f"'{other.name}' cuts {ref.ident} otherwise",
                    query.place(ref.ident),
                )
    return replace(query, empty_periods=index)


def plan_empty_periods(
    model: Model, query: BusinessQuery, key_ids: dict[exp.Expression, str]
) -> EmptyPeriods | None:
    """The periods the query asks for (`BusinessQuery.empty_periods`), or None."""
    if query.empty_periods is None:
        return None
    col = query.columns[query.empty_periods]
    ref = ref_of(col.expr)
    assert ref is not None and ref.grain is not None
    coarser = []
    for expr, kid in key_ids.items():
        theirs = ref_of(expr)
        if theirs is not None and theirs.ident == ref.ident and expr != col.expr:
            assert theirs.grain is not None
            coarser.append((kid, theirs.grain))
    fiscal = model.fiscal_year_start
    first, last = _bounds(query.filters, ref.ident, ref.grain, fiscal)
    return EmptyPeriods(key_ids[col.expr], ref.grain, tuple(coarser), first, last, fiscal)


def _bounds(
    filters: tuple[exp.Expression, ...], time: str, grain: str, fiscal: int
) -> tuple[date | None, date | None]:
    """The first and last period that the conditions comparing `time` (or one of its
    grains) with a date allow, each None where none bounds it."""
    first: date | None = None
    last: date | None = None

    def later(day: date) -> None:
        nonlocal first
        start = period_start(day, grain, fiscal)
        first = start if first is None else max(first, start)

    def earlier(day: date) -> None:
        nonlocal last
        start = period_start(day, grain, fiscal)
        last = start if last is None else min(last, start)

    for condition in filters:
        refs = find_refs(condition, "term")
        if not refs or any(r.ident != time for r in refs):
            continue
        for low, high in _ranges(condition):
            if low is not None:
                later(low)
            if high is not None:
                earlier(high)
    return first, last


def _ranges(condition: exp.Expression) -> list[tuple[date | None, date | None]]:
    """The days (first, last, inclusive) a comparison of the time dimension with dates
    keeps; nothing for another condition."""
    node, other, op = _sides(condition)
    if node is None:
        return []
    ref = ref_of(node)
    assert ref is not None
    own = ref.grain or "day"
    if isinstance(condition, exp.Between):
        low, high = literal_date(condition.args["low"]), literal_date(condition.args["high"])
        if low is None or high is None:
            return []
        return [(low, _period_end(period_start(high, own, 1), own))]
    assert other is not None
    day = literal_date(other)
    if day is None:
        return []
    if op is exp.EQ:
        return [(day, _period_end(period_start(day, own, 1), own))]
    if op is exp.GTE:
        return [(day, None)]
    if op is exp.GT:
        return [(_period_end(period_start(day, own, 1), own) + timedelta(days=1), None)]
    if op is exp.LTE:
        return [(None, _period_end(period_start(day, own, 1), own))]
    if op is exp.LT:
        return [(None, day - timedelta(days=1))]
    return []


_FLIPPED: dict[type[exp.Expression], type[exp.Expression]] = {
    exp.GTE: exp.LTE,
    exp.LTE: exp.GTE,
    exp.GT: exp.LT,
    exp.LT: exp.GT,
    exp.EQ: exp.EQ,
}


def _sides(
    condition: exp.Expression,
) -> tuple[exp.Expression | None, exp.Expression | None, type[exp.Expression] | None]:
    """(the time dimension's reference, the other side, the comparison as if the reference
    were on the left), or Nones for another shape of condition."""
    if isinstance(condition, exp.Between) and ref_of(condition.this) is not None:
        return condition.this, None, exp.Between
    if type(condition) not in _FLIPPED:
        return None, None, None
    left, right = condition.this, condition.expression
    if ref_of(left) is not None:
        return left, right, type(condition)
    if ref_of(right) is not None:
        return right, left, _FLIPPED[type(condition)]
    return None, None, None


def _period_end(start: date, grain: str) -> date:
    """The last day of the `grain` period starting on `start`."""
    unit = grain.removeprefix("fiscal_")
    if unit == "day":
        return start
    if unit == "week":
        return start + timedelta(days=6)
    index = start.year * 12 + start.month - 1 + MONTHS[unit]
    return date(index // 12, index % 12 + 1, 1) - timedelta(days=1)


def _step(grain: str) -> tuple[int, str]:
    """One period of `grain` as a count of days or months."""
    unit = grain.removeprefix("fiscal_")
    if unit == "day":
        return 1, "DAY"
    if unit == "week":
        return 7, "DAY"
    return MONTHS[unit], "MONTH"


def spine_keys(
    spine: EmptyPeriods,
    union: exp.Query,
    key_names: dict[str, str],
    tables: Names,
) -> tuple[list[exp.CTE], exp.Query]:
    """The CTEs that make every period, and the union of the groups with rows (`union`,
    over `key_names`: key id -> column) and of each period with each combination of the
    other keys that has rows."""
    result_keys = tables.new("result_keys")
    bounds_name = tables.new("bounds")
    spine_name = tables.new("spine")
    groups_name = tables.new("spine_groups")
    key_col = key_names[spine.key]
    first_col, last_col = "first_period", "last_period"

    def bound(day: date | None, agg: type[exp.Min] | type[exp.Max]) -> exp.Expression:
        if day is not None:
            return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.Type.DATE)
        return exp.cast(agg(this=column(key_col)), exp.DataType.Type.DATE)

    bounds = exp.Select(
        expressions=[
            _alias(bound(spine.first, exp.Min), first_col),
            _alias(bound(spine.last, exp.Max), last_col),
        ]
    )
    if spine.first is None or spine.last is None:
        bounds.set("from_", exp.From(this=table(result_keys)))
    count, unit = _step(spine.grain)
    series = exp.GenerateSeries(
        start=exp.cast(column(first_col, "b"), exp.DataType.Type.TIMESTAMP),
        end=exp.cast(column(last_col, "b"), exp.DataType.Type.TIMESTAMP),
        step=exp.Interval(this=exp.Literal.string(str(count)), unit=exp.var(unit)),
    )
    made = exp.Select(expressions=[_alias(exp.Explode(this=series), "period")])
    made.set("from_", exp.From(this=table(bounds_name, "b")))
    made.meta[SERIES] = (first_col, last_col, count, unit)
    periods = exp.Select(
        expressions=[_alias(exp.cast(column("period", "s"), exp.DataType.Type.DATE), "period")]
    )
    periods.set(
        "from_",
        exp.From(this=exp.Subquery(this=made, alias=exp.TableAlias(this=identifier("s")))),
    )
    ctes = [_cte(result_keys, union), _cte(bounds_name, bounds), _cte(spine_name, periods)]
    coarser = dict(spine.coarser)
    others = [k for k in key_names if k != spine.key and k not in coarser]
    columns: list[exp.Expression] = []
    for k, name in key_names.items():
        if k == spine.key:
            value: exp.Expression = column("period", spine_name)
        elif k in coarser:
            value = truncate(column("period", spine_name), coarser[k], True, spine.fiscal_start)
        else:
            value = column(key_names[k], groups_name)
        columns.append(_alias(value, name))
    widened = exp.Select(expressions=columns)
    widened.set("from_", exp.From(this=table(spine_name)))
    if others:
        groups = exp.Select(expressions=[column(key_names[k]) for k in others])
        groups.set("from_", exp.From(this=table(result_keys)))
        groups.set("distinct", exp.Distinct())
        ctes.append(_cte(groups_name, groups))
        widened.set("joins", [exp.Join(this=table(groups_name), kind="CROSS")])
    had = exp.Select(expressions=[column(name) for name in key_names.values()])
    had.set("from_", exp.From(this=table(result_keys)))
    return ctes, exp.Union(this=had, expression=widened, distinct=True)


def _alias(expr: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=expr, alias=identifier(name))


def _cte(name: str, query: exp.Expr) -> exp.CTE:
    return exp.CTE(this=query, alias=exp.TableAlias(this=identifier(name)))
