"""A project's vocabulary as RDF text: SKOS, DCAT, CSVW, DQV and PROV, or an R2RML mapping.

rdflib takes a fifth of a second to import: only exports pay for it, so the modules that
need it are imported inside these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from semantic.errors import Diagnostic, SemanticError, error, unknown_choice
from semantic.project import Project

if TYPE_CHECKING:
    from rdflib import Graph

    from semantic.outputs.quality import QualityResult


def project_rdf(
    project: Project,
    fmt: str = "turtle",
    base: str | None = None,
    *,
    quality: bool = False,
    validate: bool = False,
) -> str:
    """The vocabulary of `project` as RDF in `fmt`: turtle, json-ld, xml or nt; with
    `quality`, the latest quality measurements too; with `validate`, only when it conforms
    to the shipped SHACL shapes (SEM409 otherwise)."""
    from semantic.outputs.rdf.text import FORMATS, serialize

    if fmt not in FORMATS:
        raise unknown_choice("SEM408", "RDF format", fmt, FORMATS)
    graph = project_graph(project, base, quality=quality)
    if validate:
        from semantic.outputs.rdf.validate import validate_graph

        result = validate_graph(graph)
        if not result.conforms:
            raise SemanticError(
                Diagnostic(
                    "SEM409",
                    f"{p.message} ({p.focus_node.n3(graph.namespace_manager)}"
                    + (f" {p.path}" if p.path is not None else "")
                    + (f" = {p.value.n3(graph.namespace_manager)}" if p.value else "")
                    + ")",
                    None,
                    "fix the glossary, or report the export bug",
                )
                for p in result.problems
                if p.severity == "violation"
            )
    return serialize(graph, fmt)  # type: ignore[arg-type]


def project_graph(
    project: Project,
    base: str | None = None,
    *,
    quality: bool = False,
    results: Sequence[QualityResult] | None = None,
) -> Graph:
    """The vocabulary of `project` as an rdflib graph (see `project_rdf`); with `quality`,
    the measurements of `results` (measured now when None)."""
    from semantic.outputs.quality import project_quality
    from semantic.outputs.rdf.dcat import add_catalog
    from semantic.outputs.rdf.export import add_measurements, export_graph
    from semantic.outputs.rdf.iris import Iris, configured_base

    config = project.config
    base = base or configured_base(config)
    try:
        graph = export_graph(project.model, base)
    except ValueError as exc:
        raise _bad_base(exc) from None
    add_catalog(
        graph,
        Iris(str(graph.base)),
        project.model,
        config.catalog,
        description=config.description,
        data_format=config.data.format if config.data is not None else None,
    )
    if quality:
        add_measurements(graph, base, project_quality(project) if results is None else results)
    return graph


def catalog_notices(project: Project) -> list[Diagnostic]:
    """What DCAT-AP asks of the catalog that semantic.yml does not say (SEM245 warnings)."""
    from semantic.outputs.rdf.dcat import catalog_warnings

    config = project.config
    data_format = config.data.format if config.data is not None else None
    return catalog_warnings(config.catalog, config.description, data_format)


def project_r2rml(project: Project, base: str | None = None) -> str:
    """An R2RML mapping (Turtle) that materialises the entities' rows of `project` as RDF."""
    from semantic.outputs.rdf.r2rml import r2rml_graph
    from semantic.outputs.rdf.text import serialize

    try:
        return serialize(r2rml_graph(project.model, base))
    except ValueError as exc:
        raise _bad_base(exc) from None


def _bad_base(exc: ValueError) -> SemanticError:
    """An export's refusal of its base IRI, as a diagnostic."""
    return error(
        "SEM408",
        str(exc),
        None,
        "give an absolute IRI ending with / or #, e.g. https://data.example.com/",
    )


def quality_rdf(project: Project, results: Sequence[QualityResult], fmt: str = "turtle") -> str:
    """The vocabulary of `project` with the DQV measurements of `results` (a run of
    `semantic quality --dqv FILE`), as RDF text in `fmt`."""
    from semantic.outputs.rdf.text import serialize

    graph = project_graph(project, quality=True, results=results)
    return serialize(graph, fmt)  # type: ignore[arg-type]
