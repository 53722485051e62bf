"""Writing what `semantic import skos` read into a glossary folder: new files, or terms and
subject areas merged into the existing files without touching their other lines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from semantic.errors import Diagnostic, SemanticError, Span
from semantic.files.atomic import write_atomically
from semantic.files.read import read_file
from semantic.files.schema import GlossaryFile
from semantic.interchange.common import dump_yaml, load_yaml, yaml_text
from semantic.interchange.skos.result import (
    ImportedSubjectArea,
    ImportedTerm,
    SkosImport,
    area_node,
    areas_node,
    render_domain,
    term_node,
    with_terms,
)

__all__ = ["glossary_terms", "write_import"]


def glossary_terms(glossary_dir: Path) -> dict[str, str]:
    """The id of every term under `glossary_dir` mapped to its domain: the `existing`
    argument of `import_skos`. Raises SemanticError if a file cannot be read."""
    return {tid: where.domain for tid, where in _scan(glossary_dir).terms.items()}


def write_import(
    result: SkosImport, glossary_dir: Path, *, replace: bool = False
) -> tuple[Path, ...]:
    """Write the imported domains under `glossary_dir`; return the files written.

    Without `replace`, only new files are written: a domain whose file exists, or a term
    that a file of `glossary_dir` already defines (and `result.conflicts` does not list),
    is an error (SEM103) and nothing is written. With `replace`, terms are merged into the
    existing files: an existing term is replaced where it is defined (its file and domain
    stay), new terms of an existing domain are added at the end of its file, and comments
    elsewhere are kept. Every file is written atomically.
    """
    scan = _scan(glossary_dir)
    problems: list[Diagnostic] = []
    for domain in result.domains:
        path = glossary_dir / domain.file
        if domain.id in scan.domains and not replace:
            problems.append(
                Diagnostic(
                    "SEM103",
                    f"domain '{domain.id}' is already defined",
                    Span(scan.domains[domain.id].name),
                    "import with --replace to merge into it, or --domain to choose another id",
                )
            )
        elif domain.id not in scan.domains and path.exists():
            problems.append(
                Diagnostic(
                    "SEM103",
                    f"file {domain.file} exists and does not hold domain '{domain.id}'",
                    Span(str(path)),
                    "import with --domain to choose another id",
                )
            )
        for term in domain.terms:
            known = scan.terms.get(term.id)
            if known is not None and not replace and term.id not in result.conflicts:
                problems.append(
                    Diagnostic(
                        "SEM103",
                        f"term '{term.id}' is already defined in domain '{known.domain}'",
                        Span(known.name),
                        "import with --replace to replace it",
                    )
                )
    if problems:
        raise SemanticError(problems)
    texts: dict[Path, str] = {}
    edits: dict[Path, tuple[dict[str, ImportedTerm], list[ImportedTerm]]] = {}
    for domain in result.domains:
        terms = [t for t in domain.terms if replace or t.id not in result.conflicts]
        if domain.id not in scan.domains and not replace and domain.file in result.files:
            # every term the folder has is a conflict (else SEM103 above): the text the
            # import rendered already leaves out exactly those
            texts[glossary_dir / domain.file] = result.files[domain.file]
        elif domain.id not in scan.domains:
            fresh = [t for t in terms if t.id not in scan.terms]
            texts[glossary_dir / domain.file] = render_domain(with_terms(domain, fresh))
        for term in terms:
            if term.id in scan.terms:
                edits.setdefault(scan.terms[term.id].path, ({}, []))[0][term.id] = term
            elif domain.id in scan.domains:
                edits.setdefault(scan.domains[domain.id].path, ({}, []))[1].append(term)
    for path, (replaced, added) in edits.items():
        texts[path] = _merge(path.read_text(encoding="utf-8"), replaced, added)
    for domain in result.domains:
        if domain.id in scan.domains and domain.subject_areas:
            path = scan.domains[domain.id].path
            text = texts.get(path) or path.read_text(encoding="utf-8")
            texts[path] = _merge_areas(text, domain.subject_areas)
    for path, text in sorted(texts.items()):
        write_atomically(path, text)
    return tuple(sorted(texts))


def _merge(text: str, replaced: Mapping[str, ImportedTerm], added: list[ImportedTerm]) -> str:
    """A glossary file with some terms replaced and others added at the end of `terms`.

    The file is edited as text wherever it can be (a block `terms:` mapping at the end of
    the file, the usual layout), so that every other line stays as it was, comments and
    quotes included; otherwise it is loaded and written again by ruamel."""
    tree = load_yaml(text)
    terms = tree.get("terms") if isinstance(tree, CommentedMap) else None
    if not (
        isinstance(terms, CommentedMap)
        and terms
        and not terms.fa.flow_style()
        and list(tree)[-1] == "terms"
    ):
        if not isinstance(terms, CommentedMap):
            terms = tree["terms"] = CommentedMap()
        for term in [*replaced.values(), *added]:
            terms[term.id] = term_node(term)
        return dump_yaml(tree)
    lines = text.splitlines(keepends=True)
    keys = list(terms)
    starts = {key: terms.lc.key(key)[0] for key in keys}
    for key in sorted(replaced, key=lambda k: starts[k], reverse=True):
        index = keys.index(key)
        start = starts[key]
        stop = starts[keys[index + 1]] if index + 1 < len(keys) else len(lines)
        # blank lines and comments before the next term belong to the file, not the term
        while stop > start + 1 and (not lines[stop - 1].strip() or _is_comment(lines[stop - 1])):
            stop -= 1
        lines[start:stop] = [_term_text(replaced[key])]
    merged = "".join(lines)
    if added and not merged.endswith("\n"):
        merged += "\n"
    return merged + "".join("\n" + _term_text(term) for term in added)


def _merge_areas(text: str, areas: tuple[ImportedSubjectArea, ...]) -> str:
    """A glossary file with the imported subject areas in it, replacing those of the same
    id: appended as text when the file has none yet (every other line stays as it was),
    else the file is loaded and written again by ruamel."""
    tree = load_yaml(text)
    if isinstance(tree, CommentedMap) and "subject_areas" not in tree:
        block = yaml_text({"subject_areas": areas_node(areas)}, GlossaryFile)
        return text + ("" if text.endswith("\n") else "\n") + "\n" + block
    existing = tree["subject_areas"]
    if not isinstance(existing, CommentedMap):
        existing = tree["subject_areas"] = CommentedMap()
    for area in areas:
        existing[area.id] = area_node(area)
    return dump_yaml(tree)


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _term_text(term: ImportedTerm) -> str:
    """One term as the lines it takes under `terms:`."""
    text = yaml_text({"terms": {term.id: term_node(term)}}, GlossaryFile)
    return text.split("\n", 1)[1]


@dataclass(frozen=True)
class _Where:
    name: str
    path: Path
    domain: str


@dataclass(frozen=True)
class _Scan:
    domains: dict[str, _Where]
    terms: dict[str, _Where]


def _scan(glossary_dir: Path) -> _Scan:
    """Which file of `glossary_dir` holds each domain and each term (files in name order,
    as the project reads them)."""
    domains: dict[str, _Where] = {}
    terms: dict[str, _Where] = {}
    if not glossary_dir.is_dir():
        return _Scan(domains, terms)
    files = sorted(glossary_dir.glob("*.yml")) + sorted(glossary_dir.glob("*.yaml"))
    problems: list[Diagnostic] = []
    for path in files:
        doc, diagnostics = read_file(path, GlossaryFile, str(path))
        problems += diagnostics
        if doc is None:
            continue
        where = _Where(str(path), path, doc.data.domain)
        domains.setdefault(doc.data.domain, where)
        for tid in doc.data.terms:
            terms.setdefault(tid, where)
    if problems:
        raise SemanticError(problems)
    return _Scan(domains, terms)
