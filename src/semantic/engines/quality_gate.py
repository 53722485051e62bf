"""The quality gate of queries: the latest recorded results of the rules that guard what a
query reads (SEM451). `Project.query` asks, when semantic.yml says `quality: gate: warn` or
`strict`; the results come from the history that `semantic quality` keeps
(`quality_store`), read again only when the file changed.
"""

from __future__ import annotations

from collections.abc import Set
from pathlib import Path

from semantic.engines.quality_store import StoredResult, latest_results
from semantic.errors import Diagnostic, Span
from semantic.model import Model

#: the latest results per (file, engine), with the file's modification time
_SEEN: dict[tuple[str, str], tuple[int, list[StoredResult]]] = {}


def quality_failures(
    model: Model, history: Path, engine: str, entities: Set[str], terms: Set[str]
) -> list[Diagnostic]:
    """SEM451 warnings for the error rules whose latest result on `engine` failed (or
    could not be measured): the rules of the `entities` a query reads, and those of the
    `terms` it uses. Rules never measured, or no longer in the model, say nothing."""
    spans = {
        r.key: r.span
        for rules in (
            *(e.quality for e in model.entities.values()),
            *(t.quality for t in model.terms.values()),
        )
        for r in rules
    }
    found = []
    for result in _latest(history, engine):
        if result.severity != "error" or not result.fails:
            continue
        if result.entity not in model.entities or result.entity not in entities:
            continue
        if result.term is not None and (result.term not in model.terms or result.term not in terms):
            continue
        found.append(_failure(model, result, spans.get(result.rule)))
    return found


def _latest(history: Path, engine: str) -> list[StoredResult]:
    try:
        stamp = history.stat().st_mtime_ns
    except OSError:
        return []
    key = (str(history), engine)
    seen = _SEEN.get(key)
    if seen is None or seen[0] != stamp:
        seen = (stamp, latest_results(history, engine))
        _SEEN[key] = seen
    return seen[1]


def _failure(model: Model, result: StoredResult, span: Span | None) -> Diagnostic:
    when = result.run_at.strftime("%Y-%m-%d %H:%M UTC")
    if not result.measured:
        what = f"could not be measured ({result.message})"
    elif result.score is not None and result.failing is not None:
        what = (
            f"held for {result.score:.1%} of {result.rows} rows, below its threshold of "
            f"{result.threshold:.0%}"
        )
    else:
        what = "did not hold" + (f" ({result.value})" if result.value else "")
    return Diagnostic(
        "SEM451",
        f"this query reads '{result.entity}', whose quality rule '{result.rule}' {what} "
        f"when last measured ({when}, on {result.engine})",
        span or model.entities[result.entity].span,
        "fix the data and run `semantic quality` again; semantic.yml `quality: gate:` says "
        "whether such queries are refused (strict), warned about (warn) or not checked (off)",
        severity="warning",
    )
