r"""A SKOS vocabulary as glossary YAML: `semantic import skos`; see docs/rdf.md#import.

`import_skos` reads an RDF graph and returns one glossary file per concept scheme (YAML
text, in a fixed order) with a report of everything it could not map or had to change
(`report_line` prints a notice); `write_import` writes the files, never overwriting an
existing term or file unless told to. The import is the inverse of `semantic.outputs.rdf.export`:
exporting a glossary and importing it gives back the same terms, meanings included.

>>> from rdflib import Graph
>>> graph = Graph().parse(format="turtle", data='''
...     @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
...     @prefix ex: <https://vocab.example.com/> .
...     ex:finance a skos:ConceptScheme ; skos:prefLabel "Finance"@en .
...     ex:Revenue a skos:Concept ; skos:inScheme ex:finance ;
...         skos:prefLabel "Revenue"@en, "Chiffre d'affaires"@fr ; skos:altLabel "Turnover"@en ;
...         skos:definition "What the company earns on its sales." .
... ''')
>>> result = import_skos(graph, language="en")
>>> print(result.files["finance.yml"], end="")
# Imported from <https://vocab.example.com/finance> by `semantic import skos`.
domain: finance
label: {en: Finance}
terms:
  revenue:
    label: {en: Revenue, fr: Chiffre d'affaires}
    synonyms: {en: [Turnover]}
    definition:
      en: What the company earns on its sales.
    exact_match: [https://vocab.example.com/Revenue]
    # TODO(import): a business concept without physical meaning, which queries cannot
    # use: give it a dimension, time_dimension, metric or segment instead.
    concept: {}
>>> [(item.kind, item.what) for item in result.notices]
[('concept', 'https://vocab.example.com/Revenue')]
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from semantic.errors import SemanticError, Span, error
from semantic.files.read import read_file
from semantic.files.root import CONFIG_FILE, find_root
from semantic.files.schema import ProjectFile
from semantic.interchange.names import ProjectNames, project_names
from semantic.interchange.skos.read import (
    _LANGUAGE,
    DEFAULT_DOMAIN,
    _check_readable,
    _parse,
    _positions,
    _valid_id,
)
from semantic.interchange.skos.result import (
    ImportedDomain,
    ImportedSubjectArea,
    ImportedTerm,
    SkosImport,
    render_domain,
    report_dict,
    report_line,
)
from semantic.interchange.skos.schemes import _Importer
from semantic.interchange.skos.write import glossary_terms, write_import
from semantic.outputs.rdf.iris import configured_base

__all__ = [
    "DEFAULT_DOMAIN",
    "ImportedDomain",
    "ImportedSubjectArea",
    "ImportedTerm",
    "SkosImport",
    "SkosImporter",
    "glossary_terms",
    "import_skos",
    "import_skos_into",
    "project_config",
    "render_domain",
    "report_dict",
    "report_line",
    "write_import",
]


def import_skos(
    source: Graph | Path | str,
    *,
    language: str,
    existing: Mapping[str, str] | None = None,
    domain: str | None = None,
    format: str | None = None,
    keep_iris: bool = False,
    base: str | None = None,
    repair: bool = False,
    names: ProjectNames | None = None,
) -> SkosImport:
    """Turn a SKOS vocabulary into glossary domains, one per concept scheme.

    `source` is a graph or the path of an RDF file (`format` as rdflib names it, by default
    guessed from the file name, else Turtle). Literals without a language get `language`,
    the project's first language. `existing` maps the ids of the project's terms to their
    domain (see `glossary_terms`): an imported term with such an id is a conflict, reported
    and left out of `files`. `names` are the ids and names of the project's terms
    (`project_names`), which stay theirs: an imported id, label or synonym equal to one of
    them is renamed or left out, and reported (`settle_names`). With `domain`, every
    concept goes into that one domain.

    Each concept's IRI is kept: as the term's `iri` with `keep_iris` (the export then names
    the concept with it), else as one of its `exact_match` links, unless it is the IRI the
    project's export gives the term anyway under `base` (the project's own vocabulary
    coming back). A vocabulary that breaks a SKOS integrity condition
    (`semantic.model.skos.RULES`) is refused (SemanticError: SEM243, SEM214, SEM205, each
    naming the concept), unless `repair`: then each is repaired and reported.
    Read from a file, each notice (and each refusal) says where its resource is stated
    (`line` and `column`; see `semantic.interchange.skos.positions`).
    Raises SemanticError (SEM101) when the file cannot be read as RDF.
    """
    if not _LANGUAGE.match(language):
        raise ValueError(f"language {language!r} is not a language code such as en or pt-BR")
    if domain is not None and not _valid_id(domain):
        raise ValueError(f"domain {domain!r} is not a snake_case id")
    with _paused_gc():
        graph = source if isinstance(source, Graph) else _parse(Path(source), format)
        file = "" if isinstance(source, Graph) else str(source)
        # rdflib keeps no positions: the file's text is scanned once for where each resource is
        positions = None if isinstance(source, Graph) else _positions(Path(source), format)
        return _Importer(
            graph,
            language,
            dict(existing or {}),
            domain,
            file,
            keep_iris=keep_iris,
            base=base,
            repair=repair,
            positions=positions,
            names=names,
        ).run()


@contextmanager
def _paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: an import makes millions of objects that live
    until it ends (the graph, its index, the terms), and each full collection walks all of
    them to free almost nothing: a third of the CPU of importing 5,000 concepts."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class SkosImporter:
    """`semantic import skos` as an importer: the options of `import_skos`, then `read`."""

    language: str
    existing: Mapping[str, str] = field(default_factory=dict)
    domain: str | None = None
    format: str | None = None
    keep_iris: bool = False
    base: str | None = None
    repair: bool = False
    names: ProjectNames | None = None

    def read(self, source: Graph | Path | str) -> SkosImport:
        """The glossary files of the vocabulary `source` (a graph or an RDF file)."""
        return import_skos(
            source,
            language=self.language,
            existing=self.existing,
            domain=self.domain,
            format=self.format,
            keep_iris=self.keep_iris,
            base=self.base,
            repair=self.repair,
            names=self.names,
        )


def import_skos_into(
    project: Path,
    source: Path,
    *,
    into: Path | None = None,
    domain: str | None = None,
    language: str | None = None,
    replace: bool = False,
    keep_iris: bool = False,
    repair: bool = False,
) -> tuple[SkosImport, tuple[Path, ...]]:
    """`semantic import skos`: the vocabulary `source` imported into the glossary folder of
    the project at or above `project` (or into `into`), literals without a tag in `language`
    (the project's first language when None); without `replace`, the terms of both folders
    are kept and reported as conflicts (see `import_skos` and `write_import`); `keep_iris`
    and `repair` as `import_skos` says, the project's own IRIs under its namespace
    (`catalog.namespace` of semantic.yml, else the export's default base). Returns the
    import and the files written.

    Only the project's semantic.yml is read, not its model: a new project whose glossary
    folder is still empty, or one that does not check yet, can take an import. A folder
    without semantic.yml is refused (SEM105): SKOS concepts have no physical meaning, so
    they are imported into a project that describes the data (`semantic init`)."""
    _check_readable(source)  # the file named first, whatever else is wrong
    root, config = project_config(project)
    ours = root / config.glossary
    glossary = into or ours
    existing = glossary_terms(ours) | glossary_terms(glossary)
    result = import_skos(
        source,
        language=language or config.languages[0],
        existing={} if replace else existing,
        domain=domain,
        keep_iris=keep_iris,
        base=configured_base(config),
        repair=repair,
        names=_names(ours, glossary),
    )
    return result, write_import(result, glossary, replace=replace)


def _names(*glossaries: Path) -> ProjectNames:
    """The ids and names of the terms of the glossary folders (the first's first)."""
    found = [project_names(g) for g in dict.fromkeys(glossaries)]
    names = {k: v for n in reversed(found) for k, v in n.names.items()}
    keys = {k: v for n in reversed(found) for k, v in n.keys.items()}
    return ProjectNames(frozenset().union(*(n.ids for n in found)), names, keys)


def project_config(start: Path) -> tuple[Path, ProjectFile]:
    """The root of the project at or above `start` and its settings (SEM105 when it has
    none, or they do not read)."""
    try:
        root = find_root(start)
    except SemanticError as exc:
        if not (start / CONFIG_FILE).exists() and not (start / CONFIG_FILE).is_symlink():
            raise error(
                "SEM105",
                f"no {CONFIG_FILE} in {start.resolve()} or any folder above it: a SKOS "
                "vocabulary is imported into a project's glossary",
                Span(str(start)),
                "create the project first, from the data its terms will mean: "
                "`semantic init --from-duckdb FILE` (or --from-files DIR, --engine URL), "
                f"or write a {CONFIG_FILE} with `name:` and `languages:`; or pass --project",
            ) from exc
        raise
    document, problems = read_file(root / CONFIG_FILE, ProjectFile, CONFIG_FILE)
    if document is None:
        raise SemanticError(problems)
    return root, document.data
