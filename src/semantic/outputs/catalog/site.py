"""`semantic docs build`: the vocabulary as a static site that opens from disk.

One page per term, per entity, per domain and per subject area, and a home page that
searches everything in the browser with the same algorithm as `semantic search` (the index
is embedded as a script, since a page opened from file:// may not fetch files). The site is
built in a temporary folder next to the output and swapped in at the end, so a reader never
sees half a site and a failed build leaves the previous one in place.
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

import jinja2
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import SqlLexer
from sqlglot import exp

from semantic.errors import Diagnostic, Span, error
from semantic.files.atomic import new_folder_mode
from semantic.model import FILE_DIALECT, Edge, Entity, Model, QualityRule, Term
from semantic.outputs.catalog.areas import area_page, areas_of_term
from semantic.outputs.catalog.diagrams import Arrow, Box, layered_svg
from semantic.outputs.catalog.examples import example_query
from semantic.outputs.catalog.lineage import LineageGraph, term_lineage, term_sources, term_users
from semantic.outputs.quality import QualityResult, project_quality
from semantic.outputs.search import entity_url, search_index, subject_area_url, term_url
from semantic.project import Project

#: A file every site we build holds: only a folder with it (or an empty one) is replaced.
MARKER = ".semantic-catalog"
#: Where `semantic docs build` writes, relative to the project root, unless told otherwise.
DEFAULT_OUTPUT = "site"
KIND_NAMES = {
    "dimension": "dimension",
    "time_dimension": "time dimension",
    "metric": "metric",
    "segment": "segment",
    "concept": "concept",
    "entity": "entity",
    "subject_area": "subject area",
}


@dataclass
class SiteReport:
    """What a build wrote, and what is worth knowing (terms without an example query)."""

    output: Path
    pages: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)


def build_site(
    project: Project, output: Path | None = None, *, quality: bool = False
) -> SiteReport:
    """Write the catalog site of `project` into `output` (the project's `site/` by default),
    replacing the previous build in one step. With `quality`, the quality rules are measured
    on the data and their results shown; otherwise the rules are listed, unmeasured."""
    target = (output or project.root / DEFAULT_OUTPUT).resolve()
    _check_replaceable(target)
    results = project_quality(project) if quality else None
    pages = _Pages(project, results)
    report = SiteReport(target)
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
    report.warnings = pages.warnings
    return report


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
    """Renders every page of the site from the project's model."""

    def __init__(self, project: Project, results: Sequence[QualityResult] | None) -> None:
        self.project = project
        self.model: Model = project.model
        self.language = self.model.languages[0]
        self.measured = results is not None
        self.results: dict[tuple[str, str, str | None], QualityResult] = {
            (r.rule.entity, r.rule.id, r.rule.term): r for r in results or ()
        }
        self.built = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        self.warnings: list[Diagnostic] = []
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("semantic.outputs.catalog", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["sql"] = _highlighted
        self.env.filters["language_name"] = _language_name
        self.env.globals.update(
            project=project.config,
            model=self.model,
            language=self.language,
            kind_name=KIND_NAMES,
            built=self.built,
            measured=self.measured,
            language_name=_language_name,
        )

    def render(self) -> list[tuple[str, str]]:
        """Every file of the site: (path relative to the root, text)."""
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
            ("index.html", self._page("index.html", "", self._home())),
            ("entities/index.html", self._page("entities.html", "../", self._entities())),
        ]
        for domain in sorted(self.model.domains):
            files.append(
                (f"domains/{domain}.html", self._page("domain.html", "../", self._domain(domain)))
            )
        for term_id in sorted(self.model.terms):
            files.append((term_url(term_id), self._page("term.html", "../", self._term(term_id))))
        for entity_id in sorted(self.model.entities):
            files.append(
                (entity_url(entity_id), self._page("entity.html", "../", self._entity(entity_id)))
            )
        for area_id in sorted(self.model.subject_areas):
            files.append(
                (
                    subject_area_url(area_id),
                    self._page("subject_area.html", "../", self._subject_area(area_id)),
                )
            )
        return files

    def _page(self, template: str, root: str, context: Mapping[str, Any]) -> str:
        return self.env.get_template(template).render(root=root, **context)

    # --- contexts ----------------------------------------------------------------------

    def _home(self) -> dict[str, Any]:
        domains = [
            {
                "id": d.id,
                "label": d.labels.get(self.language) or d.id,
                "labels": d.labels,
                "description": d.description.get(self.language, ""),
                "count": len(d.terms),
                "kinds": _kind_counts(
                    [self.model.terms[t] for t in d.terms if t in self.model.terms]
                ),
            }
            for d in sorted(self.model.domains.values(), key=lambda d: d.id)
        ]
        return {
            "title": self.project.config.name,
            "domains": domains,
            "areas": sorted(self.model.subject_areas.values(), key=lambda a: a.id),
            "entities": sorted(self.model.entities.values(), key=lambda e: e.id),
            "quality": self._quality_summary(),
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
        languages = list(self.model.languages)
        languages += sorted({*area.labels, *area.definition} - set(languages))
        return {
            "title": area.label(self.language),
            "page": area_page(self.project, area),
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
            "title": "Entities",
            "entities": sorted(self.model.entities.values(), key=lambda e: e.id),
            "diagram": Markup(model_diagram(self.model)),
        }

    def _term(self, term_id: str) -> dict[str, Any]:
        term = self.model.terms[term_id]
        example = example_query(self.project, term_id)
        if example is None and term.kind != "concept":
            self.warnings.append(
                Diagnostic(
                    "SEM429",
                    f"no example query compiles for term '{term_id}'; its page shows none",
                    term.span,
                    "add a business query that uses it under `examples:` in the glossary",
                    severity="warning",
                )
            )
        graph = term_lineage(self.model, term_id)
        return {
            "title": term.label(self.language),
            "term": term,
            "domain": self.model.domains.get(term.domain),
            "names": _names(self.model, term),
            "mapping": _mapping(self.model, term),
            "lineage": Markup(lineage_diagram(self.model, graph)),
            "users": [self.model.terms[u] for u in term_users(self.model, term_id)],
            "narrower": sorted(
                (t for t in self.model.terms.values() if term_id in t.broader), key=lambda t: t.id
            ),
            "example": example,
            "rules": self._rules(term.quality),
            "areas": areas_of_term(self.model, term_id),
        }

    def _entity(self, entity_id: str) -> dict[str, Any]:
        entity = self.model.entities[entity_id]
        readers: dict[str, list[Term]] = {}
        for term in sorted(self.model.terms.values(), key=lambda t: t.id):
            for column in _own_columns(self.model, term, entity_id):
                readers.setdefault(column, []).append(term)
        rules = [*entity.quality]
        rules += [r for t in self.model.terms.values() for r in t.quality if r.entity == entity_id]
        return {
            "title": entity.id,
            "entity": entity,
            "readers": readers,
            "edges": self.model.edges.get(entity_id, ()),
            "diagram": Markup(relationships_diagram(self.model, entity)),
            "terms": sorted(
                (t for t in self.model.terms.values() if t.entity == entity_id),
                key=lambda t: t.id,
            ),
            "rules": self._rules(tuple(rules)),
        }

    def _rules(self, rules: Sequence[QualityRule]) -> list[dict[str, Any]]:
        return [{"rule": r, "result": self.results.get((r.entity, r.id, r.term))} for r in rules]


def _static(name: str) -> str:
    return resources.files("semantic.outputs.catalog").joinpath("static", name).read_text("utf-8")


def _highlighted(sql: str) -> Markup:
    """SQL as highlighted HTML (pygments, classes under `.hl`)."""
    return Markup(highlight(sql, SqlLexer(), HtmlFormatter(cssclass="hl")))


def _language_name(code: str) -> str:
    names = {
        "en": "English",
        "fr": "Français",
        "es": "Español",
        "de": "Deutsch",
        "it": "Italiano",
        "nl": "Nederlands",
        "pt": "Português",
    }
    return names.get(code, code)


def _kind_counts(terms: Sequence[Term]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for term in terms:
        counts[KIND_NAMES[term.kind]] = counts.get(KIND_NAMES[term.kind], 0) + 1
    return sorted(counts.items())


def _names(model: Model, term: Term) -> list[dict[str, Any]]:
    """The term's label and synonyms per language, the project's languages first."""
    languages = list(model.languages) + sorted(
        {*term.labels, *term.synonyms} - set(model.languages)
    )
    return [
        {
            "language": lang,
            "label": term.labels.get(lang),
            "synonyms": term.synonyms.get(lang, ()),
            "definition": term.definition.get(lang),
        }
        for lang in languages
        if lang in term.labels or lang in term.synonyms or lang in term.definition
    ]


def _sql(tree: exp.Expression) -> str:
    """An expression as written in the files (without the NULLIF the model adds to every
    division to make it safe)."""
    tree = tree.copy()
    for division in tree.find_all(exp.Div):
        division.set("safe", None)
    return tree.sql(dialect=FILE_DIALECT)


def _mapping(model: Model, term: Term) -> list[tuple[str, Any]]:
    """Rows of the physical mapping table: (what, value); a value may be Markup."""
    rows: list[tuple[str, Any]] = []
    if term.kind == "concept":
        return [("meaning", "a business concept, without a physical expression")]
    if term.entity is not None:
        rows.append(
            (
                "entity",
                Markup('<a href="../{}">{}</a>').format(entity_url(term.entity), term.entity),
            )
        )
        rows.append(("table", model.entities[term.entity].table))
    what = {"segment": "condition"}.get(term.kind, "expression")
    rows.append((what, Markup("<code>{}</code>").format(_sql(term.expr))))
    if term.refs:
        rows.append(
            (
                "computed from",
                Markup(", ").join(
                    Markup('<a href="{}.html">{}</a>').format(r, r) for r in term.refs
                ),
            )
        )
    if term.path:
        rows.append(("join path", " → ".join(term.path)))
    if term.grains:
        rows.append(("grains", ", ".join(term.grains)))
    if term.filter is not None:
        rows.append(("filter", Markup("<code>{}</code>").format(_sql(term.filter))))
    if term.fill_null is not None:
        rows.append(("empty groups", Markup("<code>{}</code>").format(_sql(term.fill_null))))
    if term.window is not None:
        w = term.window
        text = (
            f"last {w.last} {w.grain}(s)"
            if w.last
            else f"{w.to_date} to date"
            if w.to_date
            else "running total"
        )
        rows.append(("window", f"{text} along {w.time}"))
    if term.shift is not None:
        s = term.shift
        rows.append(("shift", f"{s.periods} {s.grain}(s) earlier along {s.time}"))
    return rows


def _own_columns(model: Model, term: Term, entity_id: str) -> list[str]:
    """The columns of `entity_id` that `term` reads."""
    return [
        n.key.partition(".")[2]
        for n in term_sources(model, term)
        if n.kind == "column" and n.entity == entity_id
    ]


# --- diagrams --------------------------------------------------------------------------


def lineage_diagram(model: Model, graph: LineageGraph) -> str:
    """A term's lineage: columns on the left, the term, then the terms that use it."""
    language = model.languages[0]
    layers: dict[int, list[Box]] = {}
    for node in graph.nodes:
        key = graph.node_id(node)
        if node.kind == "term":
            term = model.terms[node.key]
            box = Box(
                key,
                term.label(language),
                f"{KIND_NAMES[term.kind]} · {term.id}",
                f"{term.id}.html",
                "focus" if key == graph.root else term.kind,
            )
        elif node.kind == "column":
            entity, _, column = node.key.partition(".")
            box = Box(key, column, f"column of {entity}", f"../{entity_url(entity)}", "column")
        else:
            box = Box(key, node.key, "every row", f"../{entity_url(node.key)}", "entity")
        layers.setdefault(graph.depth[key], []).append(box)
    columns = [layers[d] for d in sorted(layers)]
    arrows = [Arrow(s, t) for s, t in graph.edges]
    return layered_svg(columns, arrows, f"lineage of {graph.root.partition(':')[2]}")


def relationships_diagram(model: Model, entity: Entity) -> str:
    """An entity between those that point to it (left) and those it points to (right)."""
    left: dict[str, Box] = {}
    right: dict[str, Box] = {}
    arrows: list[Arrow] = []
    for edge in model.edges.get(entity.id, ()):
        href = f"{edge.target}.html"
        caption = _entity_caption(model.entities[edge.target])
        if edge.to_one:
            box_id = f"r:{edge.target}:{edge.name}"
            right[box_id] = Box(box_id, edge.target, caption, href, "entity")
            arrows.append(Arrow("self", box_id, f"{edge.name} · {_card(edge)}"))
        else:
            box_id = f"l:{edge.target}:{edge.name}"
            left[box_id] = Box(box_id, edge.target, caption, href, "entity")
            arrows.append(Arrow(box_id, "self", f"{_card(edge, reverse=True)}"))
    centre = [Box("self", entity.id, _entity_caption(entity), None, "focus")]
    columns = [c for c in (list(left.values()), centre, list(right.values())) if c]
    return layered_svg(columns, arrows, f"relationships of {entity.id}")


def _entity_caption(entity: Entity) -> str:
    columns = f"{len(entity.columns)} columns"
    return columns if entity.table == entity.id else f"table {entity.table} · {columns}"


def model_diagram(model: Model) -> str:
    """Every entity, the most detailed (facts) on the left, the references they point to on
    the right, with an arrow per declared relationship."""
    level: dict[str, int] = {}

    def depth(eid: str, seen: frozenset[str] = frozenset()) -> int:
        if eid not in level:
            parents = [
                e.target
                for e in model.edges.get(eid, ())
                if e.declared and e.to_one and e.target not in seen and e.target != eid
            ]
            level[eid] = 1 + max((depth(p, seen | {eid}) for p in parents), default=-1)
        return level[eid]

    for eid in model.entities:
        depth(eid)
    layers: dict[int, list[Box]] = {}
    for eid in sorted(model.entities):
        entity = model.entities[eid]
        layers.setdefault(level[eid], []).append(
            Box(eid, eid, _entity_caption(entity), f"{eid}.html", "entity")
        )
    arrows = [
        Arrow(e.source, e.target, e.name if e.name != e.target else "")
        for edges in model.edges.values()
        for e in edges
        if e.declared
    ]
    columns = [layers[d] for d in sorted(layers, reverse=True)]
    return layered_svg(columns, arrows, "the data model")


def _card(edge: Edge, *, reverse: bool = False) -> str:
    marks = {"many_to_one": "N:1", "one_to_one": "1:1", "one_to_many": "1:N"}
    card = marks[edge.cardinality]
    return card[::-1] if reverse else card
