"""SHACL validation of the RDF export: the shapes shipped as `semantic/outputs/rdf/shapes.ttl` (what
docs/rdf.md promises, and the SKOS integrity conditions), run with pyshacl.

>>> from semantic.project import Project
>>> from semantic.outputs.rdf.export import export_graph
>>> result = validate_graph(export_graph(Project.load(".").model))
>>> result.conforms, result.problems
(True, ())

A broken graph gives one `Problem` per failure, with the shape's message:

>>> from rdflib import Literal, URIRef
>>> from rdflib.namespace import SKOS
>>> graph = export_graph(Project.load(".").model)
>>> net_revenue = URIRef("https://example.org/semantic/tpch/term/net_revenue")
>>> _ = graph.add((net_revenue, SKOS.prefLabel, Literal("Revenue", lang="en")))
>>> [problem] = validate_graph(graph).problems
>>> problem.focus_node == net_revenue, problem.path == SKOS.prefLabel, problem.severity
(True, True, 'violation')
>>> print(problem.message[:70])
A term has a preferred label (skos:prefLabel) and at most one per lang
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import pyshacl
from rdflib import Graph, URIRef
from rdflib.extras.shacl import parse_shacl_path
from rdflib.namespace import RDF, SH
from rdflib.paths import Path
from rdflib.term import Literal as RDFLiteral
from rdflib.term import Node

__all__ = ["Problem", "Severity", "ValidationResult", "shapes_graph", "validate_graph"]

Severity = Literal["violation", "warning", "info"]
SEVERITIES: dict[Node, Severity] = {
    SH.Violation: "violation",
    SH.Warning: "warning",
    SH.Info: "info",
}


@dataclass(frozen=True)
class Problem:
    """One SHACL result: what is wrong (`message`), on which resource (`focus_node`), through
    which property (`path`: a property, or an rdflib `Path` such as `^skos:narrower`) and
    with which value, as found by `shape` (a shape of shapes.ttl, by IRI where it has one)."""

    focus_node: Node
    path: URIRef | Path | None
    value: Node | None
    message: str
    severity: Severity
    shape: Node


@dataclass(frozen=True)
class ValidationResult:
    """The problems found, sorted; `conforms` when none is a violation (warnings and infos
    are reported, but do not fail the validation)."""

    conforms: bool
    problems: tuple[Problem, ...]


def shapes_graph() -> Graph:
    """The shipped SHACL shapes, freshly parsed (the caller may change its copy)."""
    text = (
        resources.files("semantic.outputs.rdf").joinpath("shapes.ttl").read_text(encoding="utf-8")
    )
    return Graph().parse(data=text, format="turtle")


def validate_graph(graph: Graph) -> ValidationResult:
    """Validate `graph` (an export, as `export_graph` builds it) against the shipped shapes.

    No inference: the export states everything the shapes look for, inverse links
    included. `graph` is not changed."""
    _, report, _ = pyshacl.validate(
        graph,
        shacl_graph=_shapes(),
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
    )
    assert isinstance(report, Graph)
    results = set(report.subjects(RDF.type, SH.ValidationResult))
    # the results of a shape checked through sh:node are details of the one that names it
    results -= set(report.objects(None, SH.detail))
    problems = sorted((_problem(report, node) for node in results), key=_order)
    return ValidationResult(
        conforms=all(p.severity != "violation" for p in problems),
        problems=tuple(problems),
    )


@cache
def _shapes() -> Graph:
    """The shapes, parsed once per process: pyshacl only reads them."""
    return shapes_graph()


def _problem(report: Graph, result: Node) -> Problem:
    """A pyshacl sh:ValidationResult as a Problem."""
    path = report.value(result, SH.resultPath)
    return Problem(
        focus_node=_required(report, result, SH.focusNode),
        path=None if path is None else parse_shacl_path(report, path),
        value=report.value(result, SH.value),
        message=_message(report, result),
        severity=SEVERITIES[_required(report, result, SH.resultSeverity)],
        shape=_required(report, result, SH.sourceShape),
    )


def _required(report: Graph, result: Node, predicate: URIRef) -> Node:
    value = report.value(result, predicate)
    if value is None:  # SHACL requires it in every result
        raise ValueError(f"SHACL result without {predicate}")
    return value


def _message(report: Graph, result: Node) -> str:
    """The English message of a result (our shapes have one per shape or constraint), or
    pyshacl's generic one for a shape that gives none."""
    messages = [m for m in report.objects(result, SH.resultMessage) if isinstance(m, RDFLiteral)]
    messages.sort(key=lambda m: (m.language not in ("en", None), m.language or "", str(m)))
    return str(messages[0]) if messages else ""


def _order(problem: Problem) -> tuple[int, str, str, str, str]:
    """Violations first, then by resource, path, message and value: the same order on every
    run, so that reports can be compared."""
    path = "" if problem.path is None else problem.path.n3()
    value = "" if problem.value is None else problem.value.n3()
    return (
        list(SEVERITIES.values()).index(problem.severity),
        str(problem.focus_node),
        path,
        problem.message,
        value,
    )
