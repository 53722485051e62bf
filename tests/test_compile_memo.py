"""The physical values of terms kept per model (`joins._term_value`, issue #20) are shared
by every compile and never changed by one: the same queries compiled in another order and
as other roles give the same SQL, and the kept trees are the same after as before."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import cast

from ruamel.yaml import YAML
from sqlglot import exp

from semantic.compiler.joins import _PHYSICAL
from semantic.project import Project

ROOT = Path(__file__).resolve().parents[1]
QUERIES = YAML(typ="safe").load(ROOT / "tests" / "fixtures" / "tpch" / "business-queries.yml")
TEXTS = [texts[lang] for _, texts in sorted(QUERIES.items()) for lang in sorted(texts)]
ROLES = (None, "emea_analyst", "steward")


def _compile_all(project: Project, texts: list[str]) -> dict[tuple[str, str | None], str]:
    out = {}
    for role in ROLES:
        for text in texts:
            try:
                out[(text, role)] = project.compile(text, role=role)
            except Exception as exc:  # a role refused a term: the refusal is compared too
                out[(text, role)] = f"error: {exc}"
    return out


def _kept(project: Project) -> dict[tuple[str, object], str]:
    """The kept values of the glossary's terms (a query's own terms are made anew by each
    compile, and so are their values), with the identity of each tree."""
    memo = cast(
        dict[str, tuple[object, object, object, dict[object, exp.Expression]]],
        project.model.path_cache.get(_PHYSICAL, {}),
    )
    # a tree handed out to a query (not a copy) would have a parent in the query's tree
    return {
        (tid, key): f"{value.sql('duckdb')} {id(value)} {value.parent is None}"
        for tid, (term, _, _, values) in memo.items()
        if project.model.terms.get(tid) is term
        for key, value in values.items()
    }


def test_kept_values_are_shared_and_never_changed() -> None:
    first = Project.load(ROOT)
    forward = _compile_all(first, TEXTS)
    kept = _kept(first)
    assert kept, "the compiles kept no physical value"
    assert all(k.endswith("True") for k in kept.values())
    again = _compile_all(first, list(reversed(TEXTS)))  # every value found kept this time
    assert again == forward
    assert _kept(first) == kept  # the same trees, unchanged, none added
    fresh = Project.load(ROOT)  # nothing kept: roles first, the queries in reverse
    cold = {}
    for role in reversed(ROLES):
        for text in reversed(TEXTS):
            try:
                cold[(text, role)] = fresh.compile(text, role=role)
            except Exception as exc:
                cold[(text, role)] = f"error: {exc}"
    assert cold == forward


def test_compiles_keep_nothing_alive() -> None:
    """A process that compiles again and again does not grow: a kept answer (a join path
    that does not exist, kept as its error) is raised anew, not the kept error itself, whose
    traceback would otherwise gather the frames, and with them the trees, of every compile
    that raised it."""
    project = Project.load(ROOT)

    def live_after(rounds: int) -> int:
        for _ in range(rounds):
            _compile_all(project, TEXTS)
        gc.collect()
        return len(gc.get_objects())

    live_after(1)  # whatever a first compile keeps (the terms' values, paths)
    settled = live_after(1)
    assert live_after(3) - settled < 200  # was some 14,000 objects more per round
