"""The R2RML export: the mapping's shape, and what a real R2RML engine makes of it.

The engine is morph-kgc, from PyPI. Its pins (duckdb<2, rdflib<7.3, ruamel.yaml<0.19) clash
with ours, so it lives in its own virtual environment, `.venv-r2rml/` at the repository root,
built on first use (under a minute) and reused afterwards. It runs over a SQLite copy of a
consistent slice of the TPC-H data, and every triple it writes is checked against that data.
"""

from __future__ import annotations

import datetime
import fcntl
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

# XSD is reached through `namespace`: as a module global it makes pytest's doctest collection
# warn (it probes every global for attributes it does not have).
from rdflib import RDF, BNode, Graph, Literal, URIRef, namespace
from rdflib.compare import isomorphic

from semantic.model import Model
from semantic.outputs.rdf.iris import Iris, default_base
from semantic.outputs.rdf.r2rml import literal_datatype, r2rml_graph
from semantic.outputs.rdf.vocab import RR
from semantic.project import Project

ROOT = Path(__file__).resolve().parents[1]
ENGINE_VENV = ROOT / ".venv-r2rml"
#: Pinned so that a new release cannot change what the test checks; changing it rebuilds.
ENGINE = "morph-kgc[sqlite]==2.10.0"
BASE = "https://data.example.com/tpch/"
IRIS = Iris(BASE)

# --- the mapping itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql_type", "datatype"),
    [
        ("bigint", namespace.XSD.integer),
        ("integer", namespace.XSD.integer),
        ("smallint", namespace.XSD.integer),
        ("decimal(15,2)", namespace.XSD.decimal),
        ("numeric", namespace.XSD.decimal),
        ("double", namespace.XSD.double),
        ("boolean", namespace.XSD.boolean),
        ("date", namespace.XSD.date),
        ("timestamp", namespace.XSD.dateTime),
        ("varchar", None),
        ("text", None),
        ("blob", None),
        ("no such type (", None),
        (None, None),
    ],
)
def test_literal_datatype(sql_type: str | None, datatype: URIRef | None) -> None:
    assert literal_datatype(sql_type) == datatype


PARTSUPP_MAP = """
@prefix rr: <http://www.w3.org/ns/r2rml#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix p: <https://data.example.com/tpch/property/partsupp/> .
@prefix map: <https://data.example.com/tpch/mapping/> .

map:partsupp a rr:TriplesMap ;
    rr:logicalTable [ rr:tableName "partsupp" ] ;
    rr:subjectMap [
        rr:template "https://data.example.com/tpch/data/partsupp/{ps_partkey}/{ps_suppkey}" ;
        rr:class <https://data.example.com/tpch/class/partsupp> ] ;
    rr:predicateObjectMap
        [ rr:predicate p:ps_partkey ; rr:objectMap [ rr:column "ps_partkey" ;
                                                     rr:datatype xsd:integer ] ],
        [ rr:predicate p:ps_suppkey ; rr:objectMap [ rr:column "ps_suppkey" ;
                                                     rr:datatype xsd:integer ] ],
        [ rr:predicate p:ps_availqty ; rr:objectMap [ rr:column "ps_availqty" ;
                                                      rr:datatype xsd:integer ] ],
        [ rr:predicate p:ps_supplycost ; rr:objectMap [ rr:column "ps_supplycost" ;
                                                        rr:datatype xsd:decimal ] ],
        [ rr:predicate p:ps_comment ; rr:objectMap [ rr:column "ps_comment" ] ],
        [ rr:predicate p:part ; rr:objectMap [
            rr:parentTriplesMap map:part ;
            rr:joinCondition [ rr:child "ps_partkey" ; rr:parent "p_partkey" ] ] ],
        [ rr:predicate p:supplier ; rr:objectMap [
            rr:parentTriplesMap map:supplier ;
            rr:joinCondition [ rr:child "ps_suppkey" ; rr:parent "s_suppkey" ] ] ] .
"""


def description(graph: Graph, node: URIRef | BNode) -> Graph:
    """The triples about `node` and, recursively, about the blank nodes it points to."""
    found = Graph()
    todo: list[URIRef | BNode] = [node]
    while todo:
        for s, p, o in graph.triples((todo.pop(), None, None)):
            found.add((s, p, o))
            if isinstance(o, BNode):
                todo.append(o)
    return found


def test_triples_map_of_an_entity(project: Project) -> None:
    mapping = r2rml_graph(project.model, BASE)
    got = description(mapping, URIRef(BASE + "mapping/partsupp"))
    assert isomorphic(got, Graph().parse(data=PARTSUPP_MAP, format="turtle"))


def test_composite_relationship_joins_on_every_key(project: Project) -> None:
    mapping = r2rml_graph(project.model, BASE)
    [object_map] = [
        om
        for pom in mapping.objects(URIRef(BASE + "mapping/lineitem"), RR.predicateObjectMap)
        if mapping.value(pom, RR.predicate) == IRIS.property("lineitem", "partsupp")
        for om in mapping.objects(pom, RR.objectMap)
    ]
    conditions = {
        (str(mapping.value(c, RR.child)), str(mapping.value(c, RR.parent)))
        for c in mapping.objects(object_map, RR.joinCondition)
    }
    assert conditions == {("l_partkey", "ps_partkey"), ("l_suppkey", "ps_suppkey")}


def test_every_entity_with_a_key_has_one_triples_map(project: Project) -> None:
    mapping = r2rml_graph(project.model)
    base = default_base(project.model.name)
    maps = set(mapping.subjects(RDF.type, RR.TriplesMap))
    assert maps == {URIRef(base + "mapping/" + e) for e in project.model.entities}


def test_entity_without_key_is_left_out_with_links_to_it(project: Project) -> None:
    model = project.model
    keyless: Model = replace(
        model,
        entities={**model.entities, "nation": replace(model.entities["nation"], primary_key=())},
    )
    mapping = r2rml_graph(keyless, BASE)
    nation = URIRef(BASE + "mapping/nation")
    assert (nation, RDF.type, RR.TriplesMap) not in mapping
    assert (None, RR.parentTriplesMap, nation) not in mapping
    assert (None, RR.predicate, IRIS.property("customer", "nation")) not in mapping


def test_template_escapes_braces_of_the_base(project: Project) -> None:
    mapping = r2rml_graph(project.model, "https://example.com/{odd}/")
    templates = {str(t) for t in mapping.objects(None, RR.template)}
    assert "https://example.com/\\{odd\\}/data/region/{r_regionkey}" in templates


def test_turtle_is_stable_and_round_trips(project: Project) -> None:
    first = r2rml_graph(project.model, BASE).serialize(format="turtle")
    assert r2rml_graph(project.model, BASE).serialize(format="turtle") == first
    assert isomorphic(Graph().parse(data=first, format="turtle"), r2rml_graph(project.model, BASE))


# --- a real R2RML engine over the data ---------------------------------------------------


@pytest.fixture(scope="session")
def engine_python() -> Path:
    """The Python of the morph-kgc virtual environment, built once and shared by every run.

    A lock serialises concurrent test runs; the stamp, written last, records which engine
    was installed, so an interrupted or outdated install is redone.
    """
    python = ENGINE_VENV / "bin" / "python"
    stamp = ENGINE_VENV / ".installed"
    with open(ROOT / ".venv-r2rml.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == ENGINE and python.is_file():
            return python
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(ENGINE_VENV)],
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", ENGINE],
        ]
        for step in steps:
            try:
                done = subprocess.run(step, capture_output=True, text=True, timeout=900)
            except subprocess.TimeoutExpired:
                pytest.fail(f"timed out building the R2RML engine: {' '.join(step)}", pytrace=False)
            if done.returncode != 0:
                pytest.fail(
                    f"could not build the R2RML engine's environment {ENGINE_VENV} "
                    f"(PyPI is needed the first time):\n$ {' '.join(step)}\n"
                    f"{done.stdout[-2000:]}{done.stderr[-4000:]}",
                    pytrace=False,
                )
        stamp.write_text(ENGINE)
    return python


#: A consistent slice of TPC-H: the first orders, and every row they reach.
SLICE = {
    "orders": "SELECT * FROM orders ORDER BY o_orderkey LIMIT 20",
    "lineitem": "SELECT * FROM lineitem WHERE l_orderkey IN (SELECT o_orderkey FROM s_orders)",
    "customer": "SELECT * FROM customer WHERE c_custkey IN (SELECT o_custkey FROM s_orders)",
    "partsupp": "SELECT * FROM partsupp WHERE EXISTS (SELECT 1 FROM s_lineitem "
    "WHERE l_partkey = ps_partkey AND l_suppkey = ps_suppkey)",
    "part": "SELECT * FROM part WHERE p_partkey IN (SELECT ps_partkey FROM s_partsupp)",
    "supplier": "SELECT * FROM supplier WHERE s_suppkey IN (SELECT ps_suppkey FROM s_partsupp)",
    "nation": "SELECT * FROM nation WHERE n_nationkey IN "
    "(SELECT c_nationkey FROM s_customer UNION SELECT s_nationkey FROM s_supplier)",
    "region": "SELECT * FROM region WHERE r_regionkey IN (SELECT n_regionkey FROM s_nation)",
}
#: NULLs, which TPC-H never has, put in the first row of a table to see that they give no
#: triple: a foreign key (so no link either) and a typed value.
NULLS = [("orders", "o_custkey"), ("lineitem", "l_shipdate")]


def copy_slice(project: Project, target: Path) -> None:
    """Copy the slice of the project's data into a new SQLite database at `target`."""
    extension = project.config.data.format if project.config.data else "parquet"
    entities = project.model.entities
    with closing(duckdb.connect()) as source, closing(sqlite3.connect(target)) as db:
        for entity in entities.values():
            path = project.data_dir / f"{entity.table}.{extension}"
            source.execute(f"CREATE VIEW {entity.id} AS SELECT * FROM '{path}'")
        for eid, query in SLICE.items():
            source.execute(f"CREATE TABLE s_{eid} AS {query}")
            columns = entities[eid].columns
            # the declared types give SQLite's column affinities (INTEGER, NUMERIC, TEXT)
            declared = ", ".join(f"{name} {column.type}" for name, column in columns.items())
            db.execute(f"CREATE TABLE {entities[eid].table} ({declared})")
            rows = source.execute(f"SELECT {', '.join(columns)} FROM s_{eid}").fetchall()
            marks = ", ".join("?" for _ in columns)
            db.executemany(
                f"INSERT INTO {entities[eid].table} VALUES ({marks})", [_sqlite(r) for r in rows]
            )
        for eid, column in NULLS:
            db.execute(f"UPDATE {entities[eid].table} SET {column} = NULL WHERE rowid = 1")
        db.commit()


def _sqlite(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # dates as ISO text and decimals as text, which NUMERIC affinity turns into numbers
    return tuple(str(v) if isinstance(v, datetime.date | Decimal) else v for v in row)


@dataclass(frozen=True)
class Materialised:
    """What the engine wrote, and the data it read."""

    graph: Graph
    db: sqlite3.Connection
    model: Model

    def rows(self, entity: str) -> Iterator[dict[str, Any]]:
        """The entity's rows in the database the engine read."""
        cursor = self.db.execute(f"SELECT * FROM {self.model.entities[entity].table}")
        names = [d[0] for d in cursor.description]
        for values in cursor:
            yield dict(zip(names, values, strict=True))

    def subject(self, entity: str, row: dict[str, Any]) -> URIRef:
        """The IRI of a row, as `Iris.row` says and R2RML builds it."""
        keys = self.model.entities[entity].primary_key
        return URIRef(IRIS.row(entity) + "".join(f"/{row[k]}" for k in keys))


@pytest.fixture(scope="module")
def materialised(
    project: Project, engine_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Materialised]:
    """The slice as the engine publishes it through our mapping."""
    work = tmp_path_factory.mktemp("r2rml")
    copy_slice(project, work / "tpch.sqlite")
    r2rml_graph(project.model, BASE).serialize(work / "mapping.ttl", format="turtle")
    (work / "config.ini").write_text(
        "[CONFIGURATION]\n"
        f"output_file: {work / 'result.nt'}\n"
        # one process: the slice is small, and a pool of workers only adds start-up time
        "number_of_processes: 1\n"
        "logging_level: WARNING\n"
        "\n"
        "[DataSource1]\n"
        f"mappings: {work / 'mapping.ttl'}\n"
        f"db_url: sqlite:///{work / 'tpch.sqlite'}\n"
    )
    done = subprocess.run(
        [str(engine_python), "-m", "morph_kgc", str(work / "config.ini")],
        capture_output=True,
        text=True,
        cwd=work,
        timeout=300,
    )
    assert done.returncode == 0, f"morph-kgc failed:\n{done.stdout}\n{done.stderr}"
    graph = Graph().parse(work / "result.nt", format="nt")
    with closing(sqlite3.connect(work / "tpch.sqlite")) as db:
        yield Materialised(graph, db, project.model)


#: How each SQL type of the model reads back: the expected Python value of the literal.
VALUE: dict[str, tuple[URIRef | None, Callable[[Any], Any]]] = {
    "bigint": (namespace.XSD.integer, int),
    "integer": (namespace.XSD.integer, int),
    "decimal(15,2)": (namespace.XSD.decimal, lambda v: Decimal(str(v))),
    "date": (namespace.XSD.date, datetime.date.fromisoformat),
    "varchar": (None, str),
}


def _value(literal: Any) -> tuple[URIRef | None, Any]:
    """A literal as (datatype, value): lexical forms differ (17 and 17.00), values do not."""
    assert isinstance(literal, Literal), literal
    return literal.datatype, literal.toPython()


def test_one_subject_per_row(materialised: Materialised) -> None:
    for entity in materialised.model.entities:
        subjects = set(materialised.graph.subjects(RDF.type, IRIS.row_class(entity)))
        expected = {materialised.subject(entity, row) for row in materialised.rows(entity)}
        assert subjects == expected, entity
        assert expected, entity


def test_every_value_is_a_typed_literal(materialised: Materialised) -> None:
    graph = materialised.graph
    for entity, spec in materialised.model.entities.items():
        for row in materialised.rows(entity):
            subject = materialised.subject(entity, row)
            for name, column in spec.columns.items():
                datatype, read = VALUE[str(column.type)]
                got = {_value(o) for o in graph.objects(subject, IRIS.property(entity, name))}
                expected = set() if row[name] is None else {(datatype, read(row[name]))}
                assert got == expected, (subject, name)


def test_a_null_gives_no_triple(materialised: Materialised) -> None:
    graph = materialised.graph
    for table, column in NULLS:
        [row] = [r for r in materialised.rows(table) if r[column] is None]
        subject = materialised.subject(table, row)
        assert (subject, IRIS.property(table, column), None) not in graph
        assert (subject, RDF.type, IRIS.row_class(table)) in graph
    order = materialised.subject(
        "orders", next(r for r in materialised.rows("orders") if r["o_custkey"] is None)
    )
    assert (order, IRIS.property("orders", "customer"), None) not in graph


def test_every_line_links_to_its_order_and_offer(materialised: Materialised) -> None:
    graph = materialised.graph
    lines = list(materialised.rows("lineitem"))
    for row in lines:
        line = materialised.subject("lineitem", row)
        order = URIRef(f"{IRIS.row('orders')}/{row['l_orderkey']}")
        offer = URIRef(f"{IRIS.row('partsupp')}/{row['l_partkey']}/{row['l_suppkey']}")
        assert set(graph.objects(line, IRIS.property("lineitem", "orders"))) == {order}
        assert set(graph.objects(line, IRIS.property("lineitem", "partsupp"))) == {offer}
    assert len(lines) > len(list(materialised.rows("orders")))


def test_every_declared_to_one_relationship_links_what_the_keys_join(
    materialised: Materialised,
) -> None:
    model, graph = materialised.model, materialised.graph
    for entity, edges in model.edges.items():
        for edge in (e for e in edges if e.declared and e.to_one):
            targets = list(materialised.rows(edge.target))
            expected = {
                (materialised.subject(entity, row), materialised.subject(edge.target, t))
                for row in materialised.rows(entity)
                for t in targets
                if all(row[s] is not None and row[s] == t[k] for s, k in edge.keys)
            }
            got = set(graph.subject_objects(IRIS.property(entity, edge.name)))
            assert got == expected, edge.hop
            assert expected, edge.hop


def test_no_other_triples(materialised: Materialised) -> None:
    model, graph = materialised.model, materialised.graph
    rows = {materialised.subject(e, row) for e in model.entities for row in materialised.rows(e)}
    properties = {RDF.type} | {
        IRIS.property(entity, name)
        for entity, spec in model.entities.items()
        for name in [*spec.columns, *(e.name for e in model.edges[entity] if e.declared)]
    }
    assert set(graph.subjects()) == rows
    assert set(graph.predicates()) <= properties
