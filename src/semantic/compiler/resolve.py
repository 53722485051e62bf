"""Names to terms, and entities to join paths. Pure functions over a `Model`; no SQL here.

Path rule (documented in docs/query-language.md): a metric reaches a dimension's entity only
through to-one relationships (many_to_one or one_to_one), so the metric's rows are never
multiplied. Among those paths, the ones that end with the term's pinned `path` are the
candidates. The shortest candidate is taken when every other candidate provably reaches the
same row (its join keys trace back to the same columns); otherwise the choice is ambiguous
and refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlglot import exp

from semantic.errors import SemanticError, Span, error
from semantic.model import Edge, Model, NameEntry, Term
from semantic.model.names import normalize_name
from semantic.model.rank import closest_names

Path = tuple[Edge, ...]
#: Longest join path searched; real models are much shallower.
MAX_DEPTH = 8


def resolve_name(model: Model, text: str, span: Span | None = None) -> Term:
    """The term that `text` names (id, label or synonym in any language), or a SEM303/SEM304
    error with candidates."""
    entries = model.names.get(normalize_name(text), ())
    if not entries:
        raise error("SEM303", f"unknown term '{text}'", span, _unknown_hint(model, text))
    target = name_target(entries)
    if target is not None:
        return model.terms[target]
    ids = {e.term for e in entries}
    listing = ", ".join(
        sorted(f"'{e.term}' ({e.how}{' in ' + e.language if e.language else ''})" for e in entries)
    )
    raise error(
        "SEM304",
        f"'{text}' is ambiguous: it names {listing}",
        span,
        "write the term id instead: " + " or ".join(sorted(ids)),
    )


def name_target(entries: Sequence[NameEntry]) -> str | None:
    """The id of the term that a name with these entries (`model.names` of its normalized
    text) resolves to: the one term they name, else the term whose id it is; None when the
    name is ambiguous (or unknown)."""
    ids = {e.term for e in entries}
    if len(ids) == 1:
        return next(iter(ids))
    return next((e.term for e in entries if e.how == "id"), None)


def _unknown_hint(model: Model, text: str) -> str | None:
    for entity in model.entities.values():
        if text in entity.columns or text == entity.id:
            what = f"column of entity '{entity.id}'" if text in entity.columns else "an entity"
            users = [
                t.id
                for t in model.terms.values()
                if t.entity == entity.id and any(c.name == text for c in _columns(t))
            ]
            also = f"; terms using it: {', '.join(sorted(users))}" if users else ""
            return f"'{text}' is a physical {what}: business queries use glossary terms{also}"
    return did_you_mean(model, text)


def did_you_mean(model: Model, text: str) -> str | None:
    """The "did you mean" hint of an unknown name: the terms whose names best match `text`,
    ranked as `semantic search` ranks them (every language, accents and case aside), each
    written as a query writes it: a label with spaces in double quotes, then its term's id."""
    close = closest_names(model, text)
    if not close:
        return None
    shown = [written_name(c.text) + ("" if c.text == c.term else f" ({c.term})") for c in close]
    if len(shown) == 1:
        return f"did you mean {shown[0]}?"
    return f"did you mean {', '.join(shown[:-1])} or {shown[-1]}?"


_PLAIN = re.compile(r"[^\W\d]\w*")


def written_name(name: str) -> str:
    """`name` as a query writes it, quoted for a message: 'net_revenue', and a name that
    is not a plain identifier in double quotes: "Région client"."""
    if _PLAIN.fullmatch(name):
        return f"'{name}'"
    return '"' + name.replace('"', '""') + '"'


def _columns(term: Term) -> list[exp.Column]:
    return list(term.expr.find_all(exp.Column))


def find_path(
    model: Model, start: str, target: str, pinned: tuple[str, ...] = (), *, fan: bool = False
) -> Path:
    """The join path from entity `start` to entity `target`.

    A path of to-one relationships, which keeps `start`'s grain, is always preferred. With
    `fan`, when there is none, a path through one-to-many relationships is taken (the caller
    then counts each row of `start` once per group). `pinned` lists the hops
    (`entity.relationship`) the path must end with. Raises SEM306 when no path exists and
    SEM307 when the shortest is not provably the only meaning.
    """
    key = (start, target, pinned, fan)
    cached = model.path_cache.get(key)
    if cached is None:
        cached = _choose_path(model, start, target, pinned, fan)
        model.path_cache[key] = cached
    if isinstance(cached, SemanticError):
        # a new error each time: raising the kept one again would add this call's frames
        # to its traceback, which would then keep every failed compile's trees alive
        raise SemanticError(cached.diagnostics)
    return cached  # type: ignore[return-value]


def _choose_path(
    model: Model, start: str, target: str, pinned: tuple[str, ...], fan: bool
) -> Path | SemanticError:
    candidates = [p for p in _paths(model, start, target, True) if _ends_with(p, pinned)]
    candidates += _through_self(model, start, pinned, True)
    fanned = False
    if not candidates and fan:
        candidates = [p for p in _paths(model, start, target, False) if _ends_with(p, pinned)]
        candidates += _through_self(model, start, pinned, False)
        fanned = True
    if not candidates:
        return _no_path(model, start, target, pinned)
    candidates.sort(key=lambda p: (len(p), [e.hop for e in p]))
    best = candidates[0]
    if fanned:
        # Through one-to-many joins, a longer path reaches the same rows through more
        # tables (lineitem -> part or lineitem -> partsupp -> part), which key tracing
        # cannot always prove: the shortest is taken and only an equally short rival counts.
        candidates = [p for p in candidates if len(p) == len(best)]
    others = [p for p in candidates[1:] if not _equivalent(model, best, p)]
    if others:
        listing = "; ".join(describe_path(start, p) for p in [best, *others])
        return error(
            "SEM307",
            f"several join paths lead from '{start}' to '{target}' with different meanings: "
            + listing,
            None,
            _pin_hint([best, *others]),
        )
    return best


def _pin_hint(paths: list[Path]) -> str:
    """Where the candidate paths part, as a hint to pin one."""
    at = 0
    while all(len(p) > at for p in paths) and len({p[at] for p in paths}) == 1:
        at += 1
    choices = sorted({p[at].hop for p in paths if len(p) > at})
    return (
        f"the paths part at '{paths[0][at].source}': {' or '.join(choices)}; pin one in the "
        "term's `path:`, or define a metric on the entity that carries the role"
    )


def _paths(model: Model, start: str, target: str, to_one: bool) -> list[Path]:
    """Every simple path from `start` to `target`: only to-one edges when `to_one`, else
    one-to-many edges first (down to finer rows) then to-one edges (up to their parents).

    A path that goes up then down (orders -> customer -> nation -> supplier) relates rows
    that merely share a parent: never a meaning the query asked for.
    """
    found: list[Path] = []

    def walk(entity: str, trail: Path, seen: frozenset[str]) -> None:
        if entity == target:
            found.append(trail)
            return
        if len(trail) >= MAX_DEPTH:
            return
        going_up = bool(trail) and trail[-1].to_one
        for edge in model.edges.get(entity, ()):
            allowed = edge.to_one or not (to_one or going_up)
            if allowed and edge.target not in seen:
                walk(edge.target, (*trail, edge), seen | {edge.target})

    walk(start, (), frozenset({start}))
    return found


def _through_self(model: Model, start: str, pinned: tuple[str, ...], to_one: bool) -> list[Path]:
    """The paths that end with `pinned` when it takes a relationship from an entity to itself
    (an author's mentor): a path to where the pin starts, then the pin. Such a path reaches
    an entity twice, which `_paths` never does: only a pin asks for the other row."""
    hops = _edges_of(model, pinned)
    if not any(e.source == e.target for e in hops):
        return []
    found = []
    for prefix in _paths(model, start, hops[0].source, to_one):
        path = (*prefix, *hops)
        # as in `_paths`: to-one edges only, or down to finer rows first, then up
        ups = [e.to_one for e in path]
        if all(ups) if to_one else ups == sorted(ups):
            found.append(path)
    return found


def _edges_of(model: Model, pinned: tuple[str, ...]) -> Path:
    """The edges that a term's `path` names (empty if one is unknown)."""
    edges = []
    for hop in pinned:
        source, _, name = hop.partition(".")
        edge = next((e for e in model.edges.get(source, ()) if e.name == name), None)
        if edge is None:
            return ()
        edges.append(edge)
    return tuple(edges)


def _ends_with(path: Path, pinned: tuple[str, ...]) -> bool:
    if not pinned:
        return True
    hops = tuple(e.hop for e in path)
    return len(hops) >= len(pinned) and hops[len(hops) - len(pinned) :] == pinned


def _trace(model: Model, path: Path) -> tuple[str, ...] | None:
    """The start entity's columns that the end entity's primary key equals along `path`, or
    None when some key is not carried through the joins."""
    carried: dict[str, str] = {}
    for i, edge in enumerate(path):
        step = {}
        for src, tgt in edge.keys:
            origin = src if i == 0 else carried.get(src)
            if origin is not None:
                step[tgt] = origin
        carried = step
    end = model.entities[path[-1].target] if path else None
    if end is None or not end.primary_key:
        return None
    if not all(col in carried for col in end.primary_key):
        return None
    return tuple(carried[col] for col in end.primary_key)


def _equivalent(model: Model, a: Path, b: Path) -> bool:
    """Whether two paths from one entity surely reach the same row (given key integrity)."""
    if a == b:
        return True
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    a, b = a[prefix:], b[prefix:]
    common = 0
    while common < min(len(a), len(b)) and a[len(a) - 1 - common] == b[len(b) - 1 - common]:
        common += 1
    for shared in {common, 0}:
        head_a, head_b = a[: len(a) - shared], b[: len(b) - shared]
        if not head_a or not head_b:
            continue
        trace_a, trace_b = _trace(model, head_a), _trace(model, head_b)
        if trace_a is not None and trace_a == trace_b:
            return True
    return False


def _no_path(model: Model, start: str, target: str, pinned: tuple[str, ...]) -> SemanticError:
    # with a pinned path, the question is how to reach the entity where the pin begins
    via = pinned[0].partition(".")[0] if pinned else target
    fan = _any_path(model, start, via)
    # the pin itself may go down to the many side (an author's mentees)
    many = (
        next((e for e in (*fan, *_edges_of(model, pinned)) if not e.to_one), None)
        if fan is not None
        else None
    )
    if many is not None:
        return error(
            "SEM306",
            f"'{target}' lies on the many side of '{start}' ({many.source} -> {many.target} is "
            f"{many.cardinality.replace('_', '-')}): aggregating '{start}' by it would count "
            f"rows of '{start}' more than once",
            None,
            f"use a metric of '{via}' or of an entity on its side",
        )
    suffix = f" ending with {', '.join(pinned)}" if pinned else ""
    return error(
        "SEM306",
        f"no join path from '{start}' to '{target}'{suffix}",
        None,
        "declare the relationship in models/ or check the term's `path`",
    )


def _any_path(model: Model, start: str, target: str) -> Path | None:
    frontier: list[tuple[str, Path]] = [(start, ())]
    seen = {start}
    while frontier:
        entity, trail = frontier.pop(0)
        if entity == target:
            return trail
        for edge in model.edges.get(entity, ()):
            if edge.target not in seen:
                seen.add(edge.target)
                frontier.append((edge.target, (*trail, edge)))
    return None


def describe_path(start: str, path: Path) -> str:
    """A path in words: `lineitem -> orders -> customer`."""
    return " -> ".join(
        [start, *(e.target if e.name == e.target else f"{e.target} ({e.name})" for e in path)]
    )
