"""An independent reference evaluator for business queries over the TPC-H glossary.

It answers the same questions as the compiler, by brute force over Python rows, without
using any part of the compiler: no planner, no path finder, no SQL of ours. The TPC-H join
graph is written out here by hand, on purpose, so that a mistake in the compiler's path
finding or join planning cannot be repeated here.

A query is built from a small tree of dimensions, conditions and metrics that renders
itself both as the text of a business query (for the compiler) and as Python predicates
(for the reference), so the two sides read the same question.

The semantics, for a query with dimensions G, row conditions F and metrics M:

- a base metric m on entity E starts from every row e of E, follows the to-one joins it
  needs (a missing row gives NULLs: LEFT JOIN), and, when the query reads something on the
  many side of E (the lines of an order, the orders of a customer), every related row too
  (or one all-NULL extension when there is none);
- the combined rows where every condition of F is true (three-valued logic) give pairs
  (e, G(row)); the distinct pairs say which rows of E belong to which group, each row of E
  counted once per group however many related rows put it there;
- the metric of a group aggregates m's expression over the distinct rows of E of that group;
  the groups of the query are those of every metric (full outer join on the dimensions), or
  the one group of an aggregate without dimensions; a group with no row for a metric shows
  what an aggregate over no rows gives: 0 for a count, else the glossary's `fill_null`,
  else NULL;
- `MEASURE(m) FILTER (WHERE c)` is m with c added to F for that metric only;
- a derived metric is computed from its parts in each group (NULL when a part is NULL or the
  denominator is 0); conditions on metrics filter the groups last.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from ruamel.yaml import YAML

Row = dict[str, Any]
Combined = dict[str, Row | None]

TABLES = ("region", "nation", "supplier", "part", "partsupp", "customer", "orders", "lineitem")

# The primary keys the model declares (models/tpch.yml), checked on the generated data.
PRIMARY_KEYS = {
    "region": "r_regionkey",
    "nation": "n_nationkey",
    "supplier": "s_suppkey",
    "part": "p_partkey",
    "partsupp": "ps_partkey, ps_suppkey",
    "customer": "c_custkey",
    "orders": "o_orderkey",
    "lineitem": "l_orderkey, l_linenumber",
}

# --- the TPC-H graph, by hand -------------------------------------------------------------
#
# Nodes are the rows a combined row can hold. The nation and the region appear in two roles:
# the customer's (c_nation, c_region) and the supplier's (s_nation, s_region).

LINE_NODES = frozenset(
    {
        "lineitem",
        "orders",
        "customer",
        "c_nation",
        "c_region",
        "supplier",
        "s_nation",
        "s_region",
        "part",
        "partsupp",
    }
)
ORDER_NODES = frozenset({"orders", "customer", "c_nation", "c_region"})
CUSTOMER_NODES = frozenset({"customer", "c_nation", "c_region"})
SUPPLIER_NODES = frozenset({"supplier", "s_nation", "s_region"})
PARTSUPP_NODES = frozenset({"partsupp", "part", "supplier", "s_nation", "s_region"})

# For each entity that has metrics: the nodes reached at each level. Level 0 is reached
# to-one from the entity's row; each further level follows one one-to-many relationship
# (orders -> lineitem, customer -> orders, supplier -> lineitem, partsupp -> lineitem), and
# the rows reached to-one from there: down first, then up. A node missing from every level
# is not reachable with one meaning (a supplier's parts: those it offers, or those it
# sold?), and is kept out of the generated queries.
LEVELS: dict[str, tuple[frozenset[str], ...]] = {
    "lineitem": (LINE_NODES,),
    "orders": (ORDER_NODES, LINE_NODES - ORDER_NODES),
    "customer": (CUSTOMER_NODES, frozenset({"orders"}), LINE_NODES - ORDER_NODES),
    "supplier": (SUPPLIER_NODES, LINE_NODES - SUPPLIER_NODES - {"part", "partsupp"}),
    "partsupp": (PARTSUPP_NODES, LINE_NODES - PARTSUPP_NODES),
}

# A dimension term names an entity, and a path for the nation and region roles.
ROLES: dict[tuple[str, tuple[str, ...]], str] = {
    ("nation", ("customer.nation",)): "c_nation",
    ("region", ("customer.nation", "nation.region")): "c_region",
    ("nation", ("supplier.nation",)): "s_nation",
    ("region", ("supplier.nation", "nation.region")): "s_region",
}
for _entity in ("lineitem", "orders", "customer", "supplier", "part", "partsupp"):
    ROLES[(_entity, ())] = _entity


def reachable(entity: str) -> frozenset[str]:
    """The nodes a metric of `entity` can be grouped or filtered by, with one meaning."""
    return frozenset().union(*LEVELS[entity])


# --- metrics, by hand ---------------------------------------------------------------------


def _times(*values: Any) -> Any:
    if any(v is None for v in values):
        return None
    result = values[0]
    for v in values[1:]:
        result = result * v
    return result


def _net(line: Row) -> Any:
    return line["l_extendedprice"] * (1 - line["l_discount"])


def _profit(c: Combined) -> Any:
    line, offer = c["lineitem"], c["partsupp"]
    if line is None or offer is None:
        return None
    return _net(line) - offer["ps_supplycost"] * line["l_quantity"]


def _col(node: str, column: str) -> Callable[[Combined], Any]:
    def value(c: Combined) -> Any:
        row = c[node]
        return None if row is None else row[column]

    return value


@dataclass(frozen=True)
class MetricDef:
    """A base metric: its entity, aggregate, value per row and its text in the glossary."""

    entity: str
    aggregate: str  # count, sum or avg
    value: Callable[[Combined], Any] | None
    glossary_expr: str


METRICS: dict[str, MetricDef] = {
    "order_count": MetricDef("orders", "count", None, "count(*)"),
    "order_value": MetricDef("orders", "sum", _col("orders", "o_totalprice"), "sum(o_totalprice)"),
    "line_count": MetricDef("lineitem", "count", None, "count(*)"),
    "net_revenue": MetricDef(
        "lineitem",
        "sum",
        lambda c: None if c["lineitem"] is None else _net(c["lineitem"]),
        "sum(l_extendedprice * (1 - l_discount))",
    ),
    "gross_revenue": MetricDef(
        "lineitem", "sum", _col("lineitem", "l_extendedprice"), "sum(l_extendedprice)"
    ),
    "quantity": MetricDef("lineitem", "sum", _col("lineitem", "l_quantity"), "sum(l_quantity)"),
    "average_discount": MetricDef(
        "lineitem", "avg", _col("lineitem", "l_discount"), "avg(l_discount)"
    ),
    "average_quantity": MetricDef(
        "lineitem", "avg", _col("lineitem", "l_quantity"), "avg(l_quantity)"
    ),
    "average_price": MetricDef(
        "lineitem", "avg", _col("lineitem", "l_extendedprice"), "avg(l_extendedprice)"
    ),
    "profit": MetricDef(
        "lineitem",
        "sum",
        _profit,
        "sum(l_extendedprice * (1 - l_discount) - partsupp.ps_supplycost * l_quantity)",
    ),
    "customer_count": MetricDef("customer", "count", None, "count(*)"),
    "total_account_balance": MetricDef(
        "customer", "sum", _col("customer", "c_acctbal"), "sum(c_acctbal)"
    ),
    "supplier_count": MetricDef("supplier", "count", None, "count(*)"),
    "inventory_value": MetricDef(
        "partsupp",
        "sum",
        lambda c: _times(_col("partsupp", "ps_supplycost")(c), _col("partsupp", "ps_availqty")(c)),
        "sum(ps_supplycost * ps_availqty)",
    ),
}

# A derived metric: numerator / denominator, both base metrics.
DERIVED: dict[str, tuple[str, str, str]] = {
    "average_order_value": ("net_revenue", "order_count", "net_revenue / order_count"),
}


def metric_entities(term: str) -> frozenset[str]:
    """The entities whose rows a metric aggregates."""
    if term in DERIVED:
        numerator, denominator, _ = DERIVED[term]
        return metric_entities(numerator) | metric_entities(denominator)
    return frozenset({METRICS[term].entity})


# --- the query tree -----------------------------------------------------------------------


def truncate(value: dt.date, grain: str, fiscal_start: int = 1) -> dt.date:
    """The first day of the `grain` period holding `value`: weeks start on Monday, fiscal
    quarters and years in month `fiscal_start` (a fiscal year is named by its first day)."""
    if grain.startswith("fiscal_"):
        months = 3 if grain == "fiscal_quarter" else 12
        since = (value.month - fiscal_start) % 12 // months * months  # months into the year
        first = value.replace(day=1)
        month = (fiscal_start - 1 + since) % 12 + 1
        return first.replace(year=first.year - (month > value.month), month=month)
    if grain == "day":
        return value
    if grain == "week":
        return value - dt.timedelta(days=value.weekday())
    if grain == "month":
        return value.replace(day=1)
    if grain == "quarter":
        return value.replace(month=(value.month - 1) // 3 * 3 + 1, day=1)
    if grain == "year":
        return value.replace(month=1, day=1)
    raise ValueError(f"unknown grain {grain}")


@dataclass(frozen=True)
class Dim:
    """A dimension as a query writes it: `term`, `term.grain` or `year(term)`."""

    term: str
    grain: str | None = None
    func: str | None = None  # "year" or "month": a number instead of a date

    @property
    def sql(self) -> str:
        if self.func:
            return f"{self.func}({self.term})"
        return f"{self.term}.{self.grain}" if self.grain else self.term

    def apply(self, value: Any, fiscal_start: int = 1) -> Any:
        if value is None:
            return None
        if self.grain:
            return truncate(value, self.grain, fiscal_start)
        if self.func == "year":
            return value.year
        if self.func == "month":
            return value.month
        return value


class Expr:
    """A node of a condition: renders as SQL, evaluates with SQL's three-valued logic."""

    def sql(self) -> str:
        raise NotImplementedError

    def eval(self, values: Mapping[Dim, Any]) -> Any:
        raise NotImplementedError

    def dims(self) -> frozenset[Dim]:
        return frozenset()

    def params(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class D(Expr):
    """A dimension inside a condition."""

    dim: Dim

    def sql(self) -> str:
        return self.dim.sql

    def eval(self, values: Mapping[Dim, Any]) -> Any:
        return values[self.dim]

    def dims(self) -> frozenset[Dim]:
        return frozenset({self.dim})


@dataclass(frozen=True)
class Lit(Expr):
    value: Any

    def sql(self) -> str:
        return literal(self.value)

    def eval(self, values: Mapping[Dim, Any]) -> Any:
        return self.value


@dataclass(frozen=True)
class Param(Expr):
    """`$name`, bound to `value` when the query runs."""

    name: str
    value: Any

    def sql(self) -> str:
        return f"${self.name}"

    def eval(self, values: Mapping[Dim, Any]) -> Any:
        return self.value

    def params(self) -> dict[str, Any]:
        return {self.name: self.value}


def literal(value: Any) -> str:
    """A Python value as an SQL literal."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, bool) or value is None:
        raise TypeError(f"no literal for {value!r}")
    return str(value)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class _Composite(Expr):
    def children(self) -> tuple[Expr, ...]:
        raise NotImplementedError

    def dims(self) -> frozenset[Dim]:
        return frozenset().union(*(p.dims() for p in self.children()))

    def params(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for p in self.children():
            found.update(p.params())
        return found


@dataclass(frozen=True)
class Cmp(_Composite):
    op: str
    left: Expr
    right: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)

    def sql(self) -> str:
        return f"{self.left.sql()} {self.op} {self.right.sql()}"

    def eval(self, values: Mapping[Dim, Any]) -> Any:
        a, b = self.left.eval(values), self.right.eval(values)
        return None if a is None or b is None else _COMPARE[self.op](a, b)


@dataclass(frozen=True)
class In(_Composite):
    left: Expr
    options: tuple[Any, ...]

    def children(self) -> tuple[Expr, ...]:
        return (self.left,)

    def sql(self) -> str:
        return f"{self.left.sql()} IN ({', '.join(literal(o) for o in self.options)})"

    def eval(self, values: Mapping[Dim, Any]) -> Any:
        a = self.left.eval(values)
        return None if a is None else a in self.options


@dataclass(frozen=True)
class Between(_Composite):
    left: Expr
    low: Any
    high: Any

    def children(self) -> tuple[Expr, ...]:
        return (self.left,)

    def sql(self) -> str:
        return f"{self.left.sql()} BETWEEN {literal(self.low)} AND {literal(self.high)}"

    def eval(self, values: Mapping[Dim, Any]) -> Any:
        a = self.left.eval(values)
        return None if a is None else self.low <= a <= self.high


@dataclass(frozen=True)
class Like(_Composite):
    left: Expr
    pattern: str

    def children(self) -> tuple[Expr, ...]:
        return (self.left,)

    def sql(self) -> str:
        return f"{self.left.sql()} LIKE {literal(self.pattern)}"

    def eval(self, values: Mapping[Dim, Any]) -> Any:
        a = self.left.eval(values)
        if a is None:
            return None
        regex = "".join(
            ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in self.pattern
        )
        return re.fullmatch(regex, a, re.DOTALL) is not None


@dataclass(frozen=True)
class And(_Composite):
    parts: tuple[Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return self.parts

    def sql(self) -> str:
        return "(" + " AND ".join(p.sql() for p in self.parts) + ")"

    def eval(self, values: Mapping[Dim, Any]) -> Any:
        results = [p.eval(values) for p in self.parts]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True


@dataclass(frozen=True)
class Or(_Composite):
    parts: tuple[Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return self.parts

    def sql(self) -> str:
        return "(" + " OR ".join(p.sql() for p in self.parts) + ")"

    def eval(self, values: Mapping[Dim, Any]) -> Any:
        results = [p.eval(values) for p in self.parts]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False


@dataclass(frozen=True)
class Not(_Composite):
    inner: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.inner,)

    def sql(self) -> str:
        return f"NOT ({self.inner.sql()})"

    def eval(self, values: Mapping[Dim, Any]) -> Any:
        r = self.inner.eval(values)
        return None if r is None else not r


@dataclass(frozen=True)
class Metric:
    """A selected metric: `term`, or `MEASURE(term) FILTER (WHERE filter) AS alias`; a
    derived metric `by_hand` is written as its expression (`net_revenue / order_count`)."""

    term: str
    filter: Expr | None = None
    alias: str | None = None
    by_hand: bool = False

    @property
    def sql(self) -> str:
        return self.sql_as(None)

    @property
    def name(self) -> str:
        """The output column's name without an alias of the query's."""
        if self.filter is None and not self.by_hand:
            return self.alias or self.term
        return self.alias or "filtered_" + self.term

    def sql_as(self, alias: str | None) -> str:
        """The column's text, named `alias` (a quoted name) when given."""
        name = f'"{alias}"' if alias else None
        if self.by_hand:
            assert self.filter is None and self.alias
            return f"{DERIVED[self.term][2]} AS {name or self.alias}"
        if self.filter is None:
            given = name or self.alias
            return self.term + (f" AS {given}" if given else "")
        text = f"MEASURE({self.term}) FILTER (WHERE {self.filter.sql()})"
        return text + f" AS {name or self.alias or 'filtered_' + self.term}"


@dataclass(frozen=True)
class Having:
    """A condition on a selected metric: `term op value`, in WHERE or in HAVING."""

    term: str
    op: str
    value: Any
    in_where: bool = False

    @property
    def sql(self) -> str:
        return self.sql_on(self.term)

    def sql_on(self, name: str) -> str:
        """The condition on the column or term `name`."""
        return f"{name} {self.op} {literal(self.value)}"


@dataclass(frozen=True)
class Order:
    """ORDER BY the column at `position` (from 1)."""

    position: int
    descending: bool = False
    nulls_first: bool = False

    @property
    def sql(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        return f"{self.position} {direction} NULLS {'FIRST' if self.nulls_first else 'LAST'}"


@dataclass(frozen=True)
class Query:
    """A business query: its columns (dimensions and metrics, in order) and clauses."""

    columns: tuple[Dim | Metric, ...]
    where: tuple[Expr, ...] = ()
    having: tuple[Having, ...] = ()
    order: tuple[Order, ...] = ()
    limit: int | None = None
    offset: int | None = None
    #: write GROUP BY with the dimensions, by position (True) or by name (False)
    group_by: bool | None = None
    #: the output name of each column (a quoted alias), or None for the name as written;
    #: empty for no aliases at all
    aliases: tuple[str | None, ...] = ()

    @property
    def dims(self) -> tuple[Dim, ...]:
        return tuple(c for c in self.columns if isinstance(c, Dim))

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return tuple(c for c in self.columns if isinstance(c, Metric))

    def alias(self, i: int) -> str | None:
        return self.aliases[i] if self.aliases else None

    def output_name(self, i: int) -> str:
        """How the query names column `i` (quoted when it is an alias)."""
        alias = self.alias(i)
        if alias:
            return f'"{alias}"'
        column = self.columns[i]
        return column.sql if isinstance(column, Dim) else column.name

    @property
    def text(self) -> str:
        columns = [
            (c.sql + (f' AS "{self.alias(i)}"' if self.alias(i) else ""))
            if isinstance(c, Dim)
            else c.sql_as(self.alias(i))
            for i, c in enumerate(self.columns)
        ]
        parts = ["SELECT " + ", ".join(columns)]
        # WHERE reads terms; HAVING reads output names first: the metric's column by its name
        where = [c.sql() for c in self.where] + [h.sql for h in self.having if h.in_where]
        if where:
            parts.append("WHERE " + " AND ".join(where))
        if self.group_by is not None and self.dims:
            parts.append(
                "GROUP BY "
                + ", ".join(
                    str(i + 1) if self.group_by else self.output_name(i)
                    for i, c in enumerate(self.columns)
                    if isinstance(c, Dim)
                )
            )
        plain = {
            c.term: i
            for i, c in enumerate(self.columns)
            if isinstance(c, Metric) and c.filter is None and c.alias is None
        }
        having = [h.sql_on(self.output_name(plain[h.term])) for h in self.having if not h.in_where]
        if having:
            parts.append("HAVING " + " AND ".join(having))
        if self.order:
            parts.append("ORDER BY " + ", ".join(o.sql for o in self.order))
        if self.limit is not None:
            parts.append(f"LIMIT {self.limit}")
        if self.offset is not None:
            parts.append(f"OFFSET {self.offset}")
        return " ".join(parts)

    @property
    def params(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for condition in self.where:
            found.update(condition.params())
        for metric in self.metrics:
            if metric.filter is not None:
                found.update(metric.filter.params())
        return found


# --- the data -----------------------------------------------------------------------------


def load_tables(data_dir: Path) -> dict[str, list[Row]]:
    """Every TPC-H table of `data_dir` (parquet files) as a list of dicts."""
    con = duckdb.connect()
    try:
        tables = {}
        for name in TABLES:
            cursor = con.execute(f"SELECT * FROM read_parquet('{data_dir / name}.parquet')")
            names = [d[0] for d in cursor.description]
            tables[name] = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        return tables
    finally:
        con.close()


@dataclass(frozen=True)
class DimInfo:
    """Where a dimension term lives: a node of the graph and a column of its row."""

    node: str
    column: str
    grains: tuple[str, ...] = ()


def read_glossary(glossary_dir: Path) -> tuple[dict[str, DimInfo], dict[str, dict[str, Any]]]:
    """The dimension terms (where they live) and the metrics (their specs) of the glossary."""
    yaml = YAML(typ="safe")
    dims: dict[str, DimInfo] = {}
    metrics: dict[str, dict[str, Any]] = {}
    for file in sorted(glossary_dir.glob("*.yml")):
        for term, spec in (yaml.load(file.read_text()).get("terms") or {}).items():
            meaning = spec.get("dimension") or spec.get("time_dimension")
            if meaning is not None:
                key = (meaning["entity"], tuple(meaning.get("path") or ()))
                column = meaning["expr"]
                if key in ROLES and re.fullmatch(r"[a-z_]+", column):
                    grains = tuple(meaning.get("grains") or ()) if "time_dimension" in spec else ()
                    dims[term] = DimInfo(ROLES[key], column, grains)
            elif spec.get("metric") is not None:
                metrics[term] = spec["metric"]
    return dims, metrics


def _unique(rows: list[Row], *key: str) -> dict[Any, Row]:
    """The rows by their (declared primary) key, which must be unique: the reference follows
    a to-one join to one row."""
    found: dict[Any, Row] = {}
    for row in rows:
        k = row[key[0]] if len(key) == 1 else tuple(row[c] for c in key)
        if k in found:
            raise ValueError(f"duplicate key {key} = {k} in the data")
        found[k] = row
    return found


def _normalise(expr: str) -> str:
    return re.sub(r"\s+", "", expr).casefold()


@dataclass(repr=False)
class Reference:
    """The TPC-H rows, indexed, and the evaluator of business queries over them."""

    tables: dict[str, list[Row]]
    dims: dict[str, DimInfo]
    #: what a group without rows shows for each base metric (the glossary's fill_null)
    fills: dict[str, Any]
    #: the month the fiscal year starts in (semantic.yml's fiscal_year_start)
    fiscal_start: int = 1
    _combined: dict[tuple[str, int], list[tuple[int, Combined]]] = field(default_factory=dict)
    _cache: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)

    def __repr__(self) -> str:  # hypothesis shows the arguments of a failing example
        return f"Reference({', '.join(f'{n}: {len(r)}' for n, r in self.tables.items())})"

    @classmethod
    def load(cls, data_dir: Path, glossary_dir: Path, fiscal_start: int = 1) -> Reference:
        dims, glossary_metrics = read_glossary(glossary_dir)
        fills = {}
        for term, definition in METRICS.items():
            spec = glossary_metrics.get(term, {})
            expr = spec.get("expr")
            if expr is None or _normalise(expr) != _normalise(definition.glossary_expr):
                raise ValueError(
                    f"metric {term!r} is {expr!r} in the glossary, but the reference "
                    f"computes {definition.glossary_expr!r}: update tests/differential"
                )
            if spec.get("filter"):
                raise ValueError(f"metric {term!r} has a filter the reference does not know")
            fill = spec.get("fill_null")
            fills[term] = None if fill is None else decimal.Decimal(str(fill))
        for term, (_, _, text) in DERIVED.items():
            expr = glossary_metrics.get(term, {}).get("expr", "")
            if _normalise(expr) != _normalise(text):
                raise ValueError(f"derived metric {term!r} is not {text!r} in the glossary")
        return cls(load_tables(data_dir), dims, fills, fiscal_start)

    # indexes and the rows reached to-one from each entity's rows

    @functools.cached_property
    def _by_key(self) -> dict[str, dict[Any, Row]]:
        t = self.tables
        return {
            "region": _unique(t["region"], "r_regionkey"),
            "nation": _unique(t["nation"], "n_nationkey"),
            "supplier": _unique(t["supplier"], "s_suppkey"),
            "part": _unique(t["part"], "p_partkey"),
            "partsupp": _unique(t["partsupp"], "ps_partkey", "ps_suppkey"),
            "customer": _unique(t["customer"], "c_custkey"),
            "orders": _unique(t["orders"], "o_orderkey"),
        }

    def _nation_region(self, nationkey: Any, prefix: str) -> Combined:
        nation = self._by_key["nation"].get(nationkey)
        region = None if nation is None else self._by_key["region"].get(nation["n_regionkey"])
        return {f"{prefix}_nation": nation, f"{prefix}_region": region}

    def _customer(self, custkey: Any) -> Combined:
        customer = self._by_key["customer"].get(custkey)
        return {
            "customer": customer,
            **self._nation_region(None if customer is None else customer["c_nationkey"], "c"),
        }

    def _supplier(self, suppkey: Any) -> Combined:
        supplier = self._by_key["supplier"].get(suppkey)
        return {
            "supplier": supplier,
            **self._nation_region(None if supplier is None else supplier["s_nationkey"], "s"),
        }

    def _order(self, order: Row | None) -> Combined:
        return {"orders": order, **self._customer(None if order is None else order["o_custkey"])}

    def _line(self, line: Row) -> Combined:
        order = self._by_key["orders"].get(line["l_orderkey"])
        return {
            "lineitem": line,
            **self._order(order),
            **self._supplier(line["l_suppkey"]),
            "part": self._by_key["part"].get(line["l_partkey"]),
            "partsupp": self._by_key["partsupp"].get((line["l_partkey"], line["l_suppkey"])),
        }

    @functools.cached_property
    def _closures(self) -> dict[str, list[Combined]]:
        """Each entity's rows with the rows they reach to-one (level 0)."""
        t = self.tables
        return {
            "lineitem": [self._line(r) for r in t["lineitem"]],
            "orders": [self._order(r) for r in t["orders"]],
            "customer": [self._customer(r["c_custkey"]) for r in t["customer"]],
            "supplier": [self._supplier(r["s_suppkey"]) for r in t["supplier"]],
            "partsupp": [
                {
                    "partsupp": r,
                    "part": self._by_key["part"].get(r["ps_partkey"]),
                    **self._supplier(r["ps_suppkey"]),
                }
                for r in t["partsupp"]
            ],
        }

    @functools.cached_property
    def _many(self) -> dict[str, dict[Any, list[Combined]]]:
        """One-to-many indexes: the closures of the lines of an order, the orders of a
        customer, the lines of a supplier, the lines of an offer (part and supplier)."""
        lines: dict[str, dict[Any, list[Combined]]] = {
            "lines_of_order": defaultdict(list),
            "orders_of_customer": defaultdict(list),
            "lines_of_supplier": defaultdict(list),
            "lines_of_offer": defaultdict(list),
        }
        for line in self._closures["lineitem"]:
            row = line["lineitem"]
            assert row is not None
            lines["lines_of_order"][row["l_orderkey"]].append(line)
            lines["lines_of_supplier"][row["l_suppkey"]].append(line)
            lines["lines_of_offer"][row["l_partkey"], row["l_suppkey"]].append(line)
        for order in self._closures["orders"]:
            row = order["orders"]
            assert row is not None
            lines["orders_of_customer"][row["o_custkey"]].append(order)
        return lines

    def _children(self, entity: str, level: int, row: Combined) -> list[Combined]:
        """The rows one level further on the many side of `entity`."""
        many = self._many
        if entity == "orders" or (entity == "customer" and level == 2):
            order = row["orders"]
            return [] if order is None else many["lines_of_order"].get(order["o_orderkey"], [])
        if entity == "customer":
            customer = row["customer"]
            return (
                []
                if customer is None
                else many["orders_of_customer"].get(customer["c_custkey"], [])
            )
        if entity == "supplier":
            supplier = row["supplier"]
            return (
                [] if supplier is None else many["lines_of_supplier"].get(supplier["s_suppkey"], [])
            )
        if entity == "partsupp":
            offer = row["partsupp"]
            if offer is None:
                return []
            return many["lines_of_offer"].get((offer["ps_partkey"], offer["ps_suppkey"]), [])
        raise AssertionError(f"no level {level} below {entity}")

    def combined(self, entity: str, depth: int) -> list[tuple[int, Combined]]:
        """(row number of `entity`, combined row) down to `depth` one-to-many levels.

        A row with no related row on a level gets one extension with NULLs (LEFT JOIN)."""
        key = (entity, depth)
        if key not in self._combined:
            rows = list(enumerate(self._closures[entity]))
            for level in range(1, depth + 1):
                nulls: Combined = dict.fromkeys(LEVELS[entity][level])
                extended: list[tuple[int, Combined]] = []
                for number, row in rows:
                    children = self._children(entity, level, row)
                    if not children:
                        extended.append((number, {**row, **nulls}))
                    else:
                        extended.extend((number, {**row, **child}) for child in children)
                rows = extended
            self._combined[key] = rows
        return self._combined[key]

    # evaluation

    def node_of(self, dim: Dim) -> str:
        return self.dims[dim.term].node

    def depth(self, entity: str, dims: Iterable[Dim]) -> int:
        """How many one-to-many levels a metric of `entity` must go down to read `dims`."""
        deepest = 0
        for dim in dims:
            node = self.node_of(dim)
            for level, nodes in enumerate(LEVELS[entity]):
                if node in nodes:
                    deepest = max(deepest, level)
                    break
            else:
                raise ValueError(f"{dim.term!r} is not reachable from {entity!r} with one meaning")
        return deepest

    def column(self, entity: str, depth: int, dim: Dim) -> list[Any]:
        """The value of `dim` in each combined row of `entity` down to `depth` (cached)."""
        key = (entity, depth, dim)
        if key not in self._cache:
            info = self.dims[dim.term]
            rows = (row[info.node] for _, row in self.combined(entity, depth))
            self._cache[key] = [
                None if found is None else dim.apply(found[info.column], self.fiscal_start)
                for found in rows
            ]
        return self._cache[key]

    def kept(self, entity: str, depth: int, condition: Expr) -> list[bool]:
        """Whether `condition` is true in each combined row of `entity` down to `depth`."""
        key = (entity, depth, condition)
        if key not in self._cache:
            dims = sorted(condition.dims(), key=repr)
            columns = [self.column(entity, depth, d) for d in dims]
            self._cache[key] = [
                condition.eval(dict(zip(dims, values, strict=True))) is True
                for values in zip(*columns, strict=True)
            ]
        return self._cache[key]

    def values(self, term: str) -> list[Any]:
        """The value of base metric `term`'s expression for each row of its entity."""
        key = ("values", term)
        if key not in self._cache:
            definition = METRICS[term]
            assert definition.value is not None
            self._cache[key] = [definition.value(c) for c in self._closures[definition.entity]]
        return self._cache[key]

    def aggregate(
        self, term: str, dims: Sequence[Dim], conditions: Sequence[Expr]
    ) -> dict[tuple[Any, ...], Any]:
        """The value of base metric `term` in each group of `dims` that has rows kept by
        `conditions` (see `empty` for the others)."""
        definition = METRICS[term]
        entity = definition.entity
        depth = self.depth(entity, set(dims).union(*(c.dims() for c in conditions)))
        rows = self.combined(entity, depth)
        masks = [self.kept(entity, depth, c) for c in conditions]
        keys = list(zip(*(self.column(entity, depth, d) for d in dims), strict=True))
        members: dict[tuple[Any, ...], set[int]] = defaultdict(set)
        for i, (number, _) in enumerate(rows):
            if all(mask[i] for mask in masks):
                members[keys[i] if dims else ()].add(number)
        result = {}
        for group, numbers in members.items():
            if definition.aggregate == "count":
                result[group] = len(numbers)
                continue
            values = self.values(term)
            present = [values[n] for n in numbers if values[n] is not None]
            if not present:
                result[group] = None
            elif definition.aggregate == "sum":
                result[group] = sum(present, decimal.Decimal(0))
            else:
                result[group] = float(sum(present, decimal.Decimal(0)) / len(present))
        return result

    def _filled(
        self,
        term: str,
        dims: Sequence[Dim],
        conditions: Sequence[Expr],
        groups: set[tuple[Any, ...]],
    ) -> Callable[[tuple[Any, ...]], Any]:
        """Base metric `term` by group, the groups with rows added to `groups`."""
        values = self.aggregate(term, dims, conditions)
        groups.update(values)
        empty = self.empty(term)
        return lambda group: values.get(group, empty)

    def empty(self, term: str) -> Any:
        """What a group without rows shows for base metric `term`: 0 for a count (SQL's
        COUNT over no rows), else the glossary's `fill_null`, else NULL."""
        return 0 if METRICS[term].aggregate == "count" else self.fills[term]

    def evaluate(self, query: Query) -> list[tuple[Any, ...]]:
        """The rows of `query`, in the query's order when it has an ORDER BY."""
        with decimal.localcontext() as context:
            context.prec = 60
            return self._evaluate(query)

    def _evaluate(self, query: Query) -> list[tuple[Any, ...]]:
        dims = query.dims
        per_metric: dict[Metric, Callable[[tuple[Any, ...]], Any]] = {}
        groups: set[tuple[Any, ...]] = set() if dims else {()}
        for metric in query.metrics:
            conditions = [*query.where, *([metric.filter] if metric.filter else [])]
            if metric.term in DERIVED:
                numerator, denominator, _ = DERIVED[metric.term]
                top = self._filled(numerator, dims, conditions, groups)
                bottom = self._filled(denominator, dims, conditions, groups)
                per_metric[metric] = functools.partial(_ratio, top, bottom)
            else:
                per_metric[metric] = self._filled(metric.term, dims, conditions, groups)
        plain = {m.term: m for m in query.metrics if m.filter is None and m.alias is None}
        assert all(h.term in plain for h in query.having), "conditions on selected metrics only"
        results = []
        for group in groups:
            values: dict[Dim | Metric, Any] = dict(zip(dims, group, strict=True))
            values.update({m: per_metric[m](group) for m in query.metrics})
            if all(_having(h, values[plain[h.term]]) is True for h in query.having):
                results.append(tuple(values[c] for c in query.columns))
        if query.order:
            results.sort(key=functools.cmp_to_key(functools.partial(_compare, query.order)))
        if query.offset is not None:
            results = results[query.offset :]
        if query.limit is not None:
            results = results[: query.limit]
        return results


def _ratio(
    numerator: Callable[[tuple[Any, ...]], Any],
    denominator: Callable[[tuple[Any, ...]], Any],
    group: tuple[Any, ...],
) -> float | None:
    """A derived metric in a group: NULL when a part is NULL or the denominator is 0."""
    top, bottom = numerator(group), denominator(group)
    if top is None or bottom is None or bottom == 0:
        return None
    return float(decimal.Decimal(top) / decimal.Decimal(bottom))


def _having(having: Having, value: Any) -> bool | None:
    return None if value is None else _COMPARE[having.op](value, having.value)


def _compare(order: Sequence[Order], a: tuple[Any, ...], b: tuple[Any, ...]) -> int:
    for o in order:
        x, y = a[o.position - 1], b[o.position - 1]
        if x == y or (x is None and y is None):
            continue
        if x is None or y is None:
            return (-1 if x is None else 1) * (1 if o.nulls_first else -1)
        return (-1 if x < y else 1) * (-1 if o.descending else 1)
    return 0


def iter_reads(query: Query) -> Iterator[Dim]:
    """Every dimension a query reads: selected, in conditions, in filtered metrics."""
    yield from query.dims
    for condition in query.where:
        yield from condition.dims()
    for metric in query.metrics:
        if metric.filter is not None:
            yield from metric.filter.dims()
