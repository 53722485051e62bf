"""`semantic docs build`: the vocabulary as a static site that opens from disk.

One page per term, per entity, per domain and per subject area, and a home page that
searches everything in the browser with the same algorithm as `semantic search` (the index
is embedded as a script, since a page opened from file:// may not fetch files). The site is
built in a temporary folder next to the output and swapped in at the end, so a reader never
sees half a site and a failed build leaves the previous one in place.

The site speaks each language of the project: the first one at the root, each other in a
folder of its code (`fr/terms/net_revenue.html`), every page linking to itself in the
others. The interface's words come from `messages` (English for a language it lacks), the
glossary's from the glossary. With data, each term's page shows sample values (`samples`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import SqlLexer

from semantic.audit import recorded
from semantic.errors import Diagnostic, Span, error
from semantic.files.atomic import new_folder_mode
from semantic.model import Model, QualityRule, Term
from semantic.outputs.access import project_for
from semantic.outputs.catalog.areas import AreaPage, area_page, areas_of_term
from semantic.outputs.catalog.examples import Example, example_query
from semantic.outputs.catalog.figures import lineage_diagram, model_diagram, relationships_diagram
from semantic.outputs.catalog.lineage import term_lineage, term_users
from semantic.outputs.catalog.mapping import kind_counts, own_columns, term_mapping, term_names
from semantic.outputs.catalog.messages import AUTONYMS, MESSAGES, Messages, has_messages
from semantic.outputs.catalog.samples import Samples, read_samples
from semantic.outputs.quality import QualityResult, project_quality
from semantic.outputs.search import entity_url, search_index, subject_area_url, term_url
from semantic.project import Project

#: A file every site we build holds: only a folder with it (or an empty one) is replaced.
MARKER = ".semantic-catalog"
#: Where `semantic docs build` writes, relative to the project root, unless told otherwise.
DEFAULT_OUTPUT = "site"


@dataclass
class SiteReport:
    """What a build wrote, and what is worth knowing (terms without an example query,
    samples that failed, a language the interface does not speak)."""

    output: Path
    pages: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    #: the ids of the terms the site shows (its audit record lists them)
    terms: list[str] = field(default_factory=list)


def build_site(
    project: Project,
    output: Path | None = None,
    *,
    quality: bool = False,
    samples: bool | None = None,
    max_confidentiality: str | None = None,
    role: str | None = None,
    user: Mapping[str, str] | None = None,
) -> SiteReport:
    """Write the catalog site of `project` into `output` (the project's `site/` by default),
    replacing the previous build in one step. With `quality`, the quality rules are measured
    on the data and their results shown; otherwise the rules are listed, unmeasured.

    `samples`: None shows sample values when the data is there, True also generates the
    demo data, False shows none (see `samples.read_samples`); values of terms above
    `max_confidentiality` are never read (default: `internal`, or with a role its clearance).

    With `role` (`user`: the caller's attributes its filters read), the site is the one that
    role may read (`outputs.access.project_for`): the terms above its clearance are nowhere
    in it (pages, search index, diagrams, lineage), and its samples are read as the role
    reads them (its row filters, its masks). Quality results are measured over every row,
    so they are refused (SEM338) for a role whose filters keep rows from it. The build
    writes an audit record (`docs-build`) when auditing is on."""
    with recorded(project, "docs-build", role=role, user=user) as audit:
        report = _build(project, output, quality, samples, max_confidentiality, role, user)
        audit["terms"] = list(report.terms)
    return report


def _build(
    project: Project,
    output: Path | None,
    quality: bool,
    samples: bool | None,
    max_confidentiality: str | None,
    role: str | None,
    user: Mapping[str, str] | None,
) -> SiteReport:
    """`build_site`'s work, audited around it."""
    target = (output or project.root / DEFAULT_OUTPUT).resolve()
    _check_replaceable(target)
    if quality and role is not None and project.model.policy.role(role).filters:
        raise _quality_for_filtered_role(project, role)
    project = project_for(project, role, user)
    results = project_quality(project) if quality else None
    found, notes = read_samples(project, samples, max_confidentiality)
    pages = _Pages(project, results, found)
    report = SiteReport(target, terms=list(project.model.terms))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise _unwritable(target, exc) from None
    try:
        for name, text in pages.render():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            report.pages.append(name)
        (staging / MARKER).write_text(
            "Built by `semantic docs build`; this folder is replaced at every build.\n",
            encoding="utf-8",
        )
        _swap(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _unwritable(target, exc) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report.warnings = notes + pages.warnings
    return report


def _quality_for_filtered_role(project: Project, role: str) -> Exception:
    return error(
        "SEM338",
        f"quality results cannot be shown to role '{role}': they are measured over every "
        "row, and the role's filters keep some rows from it",
        project.model.policy.role(role).span,
        "build the role's site without --quality",
    )


def _check_replaceable(target: Path) -> None:
    if target.exists() and (
        not target.is_dir() or (any(target.iterdir()) and not (target / MARKER).exists())
    ):
        raise error(
            "SEM425",
            "the output folder is not empty and is not a site built by `semantic docs build`",
            Span(str(target)),
            "choose another --output folder, or remove this one yourself",
        )


def _unwritable(target: Path, exc: OSError) -> Exception:
    return error(
        "SEM428",
        f"cannot write the site here: {exc.strerror or exc}",
        Span(str(target)),
        "check that the folder is writable, or pass another --output",
    )


def _swap(staging: Path, target: Path) -> None:
    """Put `staging` at `target`: the old site is moved aside, then deleted."""
    # mkdtemp makes it private (0700); the site gets the mode of the folder it replaces,
    # or that of a new folder under the umask, like the pages in it
    mode = stat.S_IMODE(target.stat().st_mode) if target.is_dir() else new_folder_mode()
    os.chmod(staging, mode)
    if not target.exists():
        os.replace(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    os.replace(target, old / "site")
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(old / "site", target)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


# --- the pages -------------------------------------------------------------------------


class _Pages:
    """Renders every page of the site from the project's model, in each of its languages."""

    def __init__(
        self,
        project: Project,
        results: Sequence[QualityResult] | None,
        samples: Samples | None = None,
    ) -> None:
        self.project = project
        self.model: Model = project.model
        self.languages = list(self.model.languages)
        self.language = self.languages[0]
        self.t = Messages(self.language)
        self.measured = results is not None
        self.results: dict[tuple[str, str, str | None], QualityResult] = {
            (r.rule.entity, r.rule.id, r.rule.term): r for r in results or ()
        }
        self.samples = samples
        self.built = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        self.warnings: list[Diagnostic] = []
        self.examples: dict[str, Example | None] = {}
        self.areas: dict[str, AreaPage] = {}
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("semantic.outputs.catalog", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["sql"] = _highlighted
        self.env.globals.update(
            project=project.config,
            model=self.model,
            built=self.built,
            measured=self.measured,
            samples=samples,
            autonyms=AUTONYMS,
            Markup=Markup,
            code=_code,
        )

    def render(self) -> list[tuple[str, str]]:
        """Every file of the site: (path relative to the root, text); the pages of the
        first language at the root, those of each other in its folder."""
        files = [
            (
                "assets/site.css",
                _static("site.css") + HtmlFormatter(style="friendly").get_style_defs(".hl"),
            ),
            ("assets/search.js", _static("search.js")),
            (
                "assets/search-index.js",
                "window.SEMANTIC_INDEX = "
                + json.dumps(search_index(self.model), ensure_ascii=False, separators=(",", ":"))
                + ";\n",
            ),
        ]
        for language in self.languages:
            if not has_messages(language):
                self.warnings.append(_untranslated(language))
            self.language, self.t = language, Messages(language)
            files += [(_folder(self.languages, language) + n, p) for n, p in self._pages()]
        return files

    def _pages(self) -> list[tuple[str, str]]:
        """The pages of the current language, by path from its root."""
        pages = [
            self._page("index.html", "index.html", self._home()),
            self._page("entities.html", "entities/index.html", self._entities()),
        ]
        for domain in sorted(self.model.domains):
            pages.append(self._page("domain.html", f"domains/{domain}.html", self._domain(domain)))
        for term_id in sorted(self.model.terms):
            pages.append(self._page("term.html", term_url(term_id), self._term(term_id)))
        for entity_id in sorted(self.model.entities):
            pages.append(self._page("entity.html", entity_url(entity_id), self._entity(entity_id)))
        for area_id in sorted(self.model.subject_areas):
            path = subject_area_url(area_id)
            pages.append(self._page("subject_area.html", path, self._subject_area(area_id)))
        return pages

    def _page(self, template: str, path: str, context: Mapping[str, Any]) -> tuple[str, str]:
        """A page at `path` (from its language's root): `root` leads to that root, `assets`
        to the site's, each language's link to this page in it."""
        root = "../" * path.count("/")
        site = root + ("../" if _folder(self.languages, self.language) else "")
        switch = [(lang, site + _folder(self.languages, lang) + path) for lang in self.languages]
        text = self.env.get_template(template).render(
            root=root,
            assets=site + "assets/",
            language=self.language,
            t=self.t,
            switch=switch,
            language_names=[self.t.language_name(x) for x in self.languages],
            **context,
        )
        return path, text

    # --- contexts ----------------------------------------------------------------------

    def _home(self) -> dict[str, Any]:
        lang, t = self.language, self.t
        domains = [
            {
                "id": d.id,
                "label": d.labels.get(lang) or d.id,
                "labels": d.labels,
                "description": d.description.get(lang, ""),
                "count": len(d.terms),
                "kinds": kind_counts(
                    [self.model.terms[x] for x in d.terms if x in self.model.terms], t
                ),
            }
            for d in sorted(self.model.domains.values(), key=lambda d: d.id)
        ]
        words = json.dumps(t.script_messages(), ensure_ascii=False).replace("</", "<\\/")
        links = [
            Markup('<a href="?q={}">{}</a>').format(quote(q), q)
            for q in ("chiffre d'affaires", "revnue", "priorite")
        ]
        return {
            "title": self.project.config.name,
            "domains": domains,
            "areas": sorted(self.model.subject_areas.values(), key=lambda a: a.id),
            "entities": sorted(self.model.entities.values(), key=lambda e: e.id),
            "quality": self._quality_summary(),
            "interface_words": Markup(words),
            "search_examples": Markup(", ").join(links[:-1]) + f" {t('or')} " + links[-1],
        }

    def _quality_summary(self) -> dict[str, int] | None:
        if not self.measured:
            return None
        results = list(self.results.values())
        return {"rules": len(results), "passed": sum(r.passed for r in results)}

    def _domain(self, domain_id: str) -> dict[str, Any]:
        domain = self.model.domains[domain_id]
        terms = sorted(
            (self.model.terms[t] for t in domain.terms if t in self.model.terms),
            key=lambda t: t.label(self.language).casefold(),
        )
        return {
            "title": domain.labels.get(self.language) or domain.id,
            "domain": domain,
            "terms": terms,
            "areas": sorted(
                (a for a in self.model.subject_areas.values() if a.domain == domain_id),
                key=lambda a: a.id,
            ),
        }

    def _subject_area(self, area_id: str) -> dict[str, Any]:
        area = self.model.subject_areas[area_id]
        if area_id not in self.areas:
            self.areas[area_id] = area_page(self.project, area)
        languages = [self.language] + [x for x in self.model.languages if x != self.language]
        languages += sorted({*area.labels, *area.definition} - set(languages))
        return {
            "title": area.label(self.language),
            "page": self.areas[area_id],
            "domain": self.model.domains.get(area.domain),
            "names": [
                {
                    "language": lang,
                    "label": area.labels.get(lang),
                    "synonyms": (),  # subject areas have none
                    "definition": area.definition.get(lang),
                }
                for lang in languages
                if lang in area.labels or lang in area.definition
            ],
        }

    def _entities(self) -> dict[str, Any]:
        return {
            "title": self.t.word("entities_heading"),
            "entities": sorted(self.model.entities.values(), key=lambda e: e.id),
            "diagram": Markup(model_diagram(self.model, self.t)),
        }

    def _example(self, term: Term) -> Example | None:
        """The term's example query, found once for every language."""
        if term.id not in self.examples:
            example = self.examples[term.id] = example_query(self.project, term.id)
            if example is None and term.kind != "concept":
                self.warnings.append(
                    Diagnostic(
                        "SEM429",
                        f"no example query compiles for term '{term.id}'; its page shows none",
                        term.span,
                        "add a business query that uses it under `examples:` in the glossary",
                        severity="warning",
                    )
                )
        return self.examples[term.id]

    def _term(self, term_id: str) -> dict[str, Any]:
        term = self.model.terms[term_id]
        graph = term_lineage(self.model, term_id)
        return {
            "title": term.label(self.language),
            "term": term,
            "domain": self.model.domains.get(term.domain),
            "names": term_names(self.model, term, self.language),
            "mapping": term_mapping(self.model, term, self.t),
            "lineage": Markup(lineage_diagram(self.model, graph, self.t, self.language)),
            "users": [self.model.terms[u] for u in term_users(self.model, term_id)],
            "narrower": sorted(
                (t for t in self.model.terms.values() if term_id in t.broader), key=lambda t: t.id
            ),
            "example": self._example(term),
            "rules": self._rules(term.quality),
            "areas": areas_of_term(self.model, term_id),
            "sample": self.samples.terms.get(term_id) if self.samples else None,
        }

    def _entity(self, entity_id: str) -> dict[str, Any]:
        entity = self.model.entities[entity_id]
        readers: dict[str, list[Term]] = {}
        for term in sorted(self.model.terms.values(), key=lambda t: t.id):
            for column in own_columns(self.model, term, entity_id):
                readers.setdefault(column, []).append(term)
        rules = [*entity.quality]
        rules += [r for t in self.model.terms.values() for r in t.quality if r.entity == entity_id]
        return {
            "title": entity.id,
            "entity": entity,
            "readers": readers,
            "edges": self.model.edges.get(entity_id, ()),
            "diagram": Markup(relationships_diagram(self.model, entity, self.t)),
            "terms": sorted(
                (t for t in self.model.terms.values() if t.entity == entity_id),
                key=lambda t: t.id,
            ),
            "rules": self._rules(tuple(rules)),
        }

    def _rules(self, rules: Sequence[QualityRule]) -> list[dict[str, Any]]:
        return [{"rule": r, "result": self.results.get((r.entity, r.id, r.term))} for r in rules]


def _folder(languages: Sequence[str], language: str) -> str:
    """Where a language's pages are, from the site's root: the first language's at the
    root, each other's in a folder of its code."""
    return "" if language == languages[0] else f"{language}/"


def _untranslated(language: str) -> Diagnostic:
    return Diagnostic(
        "SEM444",
        f"the catalog's interface has no translation in '{language}': its pages show the "
        "glossary in that language with English menus and headings",
        Span("semantic.yml"),
        f"the interface speaks {', '.join(sorted(MESSAGES))}; a translation is a table in "
        "semantic/outputs/catalog/locales/ (one module per language)",
        severity="warning",
    )


def _code(text: str) -> Markup:
    """`text` as inline code."""
    return Markup("<code>{}</code>").format(text)


def _static(name: str) -> str:
    return resources.files("semantic.outputs.catalog").joinpath("static", name).read_text("utf-8")


def _highlighted(sql: str) -> Markup:
    """SQL as highlighted HTML (pygments, classes under `.hl`)."""
    return Markup(highlight(sql, SqlLexer(), HtmlFormatter(cssclass="hl")))
