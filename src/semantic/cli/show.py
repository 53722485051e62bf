"""`semantic show TERM`: everything about one term, as text or JSON (see
`semantic.outputs.termcard`, which gathers it; this module only prints)."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated

import typer

from semantic.cli.app import CheckFormat, reported, state
from semantic.cli.arguments import TermArgument
from semantic.cli.roles import RoleOption, UserAttrOption, parse_user_attrs

if TYPE_CHECKING:
    from semantic.outputs.termcard import TermCard

#: Width the lists of a card wrap at.
WIDTH = 88


def show(
    term: TermArgument,
    fmt: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="text or json.")
    ] = CheckFormat.text,
    sql: Annotated[
        bool, typer.Option("--sql", help="Also print the SQL of the example query.")
    ] = False,
    role: RoleOption = None,
    user_attr: UserAttrOption = None,
) -> None:
    """Show everything about a term: names and definitions in every language, owners,
    status, what it is in the data, and for a metric the dimensions it accepts, its
    lineage and an example query that runs. With --role, as that role sees the glossary: a
    term above its clearance is unknown."""
    from semantic.audit import recorded
    from semantic.outputs.termcard import term_card
    from semantic.project import Project

    user = parse_user_attrs(user_attr)
    with reported():
        project = Project.load(state.project_path)
        with recorded(project, "show", text=term, form="term", role=role, user=user) as audit:
            card = term_card(project, term, role, user)
            audit["terms"] = [card.id]
        if fmt is CheckFormat.json:
            found = card.as_dict()
            if not sql:
                found.pop("example_sql")
            sys.stdout.write(json.dumps(found, ensure_ascii=False, indent=2) + "\n")
        else:
            sys.stdout.write(card_text(card, sql=sql))


def card_text(card: TermCard, *, sql: bool = False) -> str:
    """The card as text: a heading, then one section per subject, empty ones left out."""
    lines = [f"{card.id} ({card.kind.replace('_', ' ')}, domain {card.domain})"]
    lines += _pairs(
        [
            ("status", card.status),
            ("confidentiality", card.confidentiality),
            ("owners", ", ".join(card.owners) or "none"),
            ("tags", ", ".join(card.tags)),
            ("replaced by", card.replaced_by or ""),
            ("subject areas", ", ".join(card.subject_areas)),
        ]
    )
    names = [
        (lang, label + _also(card.synonyms.get(lang, ())))
        for lang, label in _by_language(card.labels, card.synonyms)
    ]
    _section(lines, "Names", _pairs(names))
    _section(lines, "Definition", _pairs(list(card.definitions.items())))
    _section(lines, "Scope note", _pairs(list(card.scope_notes.items())))
    relations = [
        ("broader", ", ".join(card.broader)),
        ("narrower", ", ".join(card.narrower)),
        ("related", ", ".join(card.related)),
    ]
    _section(lines, "Relations", _pairs(relations))
    _section(lines, "In the data", _pairs(list(card.physical)))
    if card.kind == "metric":
        _section(lines, "As a metric", _metric_lines(card))
    lineage = [
        ("reads", ", ".join(str(r) for r in card.reads)),
        ("tables", ", ".join(dict.fromkeys(r.table for r in card.reads))),
        ("inputs", ", ".join(card.inputs)),
        ("used by", ", ".join(card.used_by)),
    ]
    _section(lines, "Lineage", _pairs(lineage))
    if card.example is not None:
        example = [f"  semantic query {_quoted(card.example)}"]
        if sql and card.example_sql:
            example += ["", card.example_sql]  # unindented: ready to paste
        _section(lines, "Example", example)
    return "\n".join(lines) + "\n"


def _metric_lines(card: TermCard) -> list[str]:
    adds = (
        f"partial results combine with {' or '.join(card.reaggregation)}"
        if card.reaggregation
        else f"does not add up: {card.not_additive}"
    )
    plain = [d.id for d in card.dimensions if not d.through_one_to_many]
    fanned = [d.id for d in card.dimensions if d.through_one_to_many]
    refused = [f"{r.id} ({r.code})" for r in card.refused]
    return _pairs(
        [
            ("aggregation", f"{card.aggregation}; {adds}"),
            ("needs", ", ".join(card.requires) + (" in the query" if card.requires else "")),
            (f"dimensions ({len(plain)})", ", ".join(plain)),
            (
                f"one-to-many ({len(fanned)})",
                ("counted once per group, so groups overlap: " + ", ".join(fanned))
                if fanned
                else "",
            ),
            (f"refused ({len(refused)})", ", ".join(refused)),
        ]
    )


def _by_language(
    labels: Mapping[str, str], synonyms: Mapping[str, Iterable[str]]
) -> list[tuple[str, str]]:
    languages = [*labels, *(lang for lang in synonyms if lang not in labels)]
    return [(lang, labels.get(lang, "(no label)")) for lang in languages]


def _also(synonyms: Iterable[str]) -> str:
    listed = "; ".join(synonyms)
    return f" (also: {listed})" if listed else ""


def _pairs(rows: list[tuple[str, str]]) -> list[str]:
    """`name  value` lines, values aligned and wrapped; rows without a value left out."""
    kept = [(name, value) for name, value in rows if value]
    width = max((len(name) for name, _ in kept), default=0)
    lines = []
    for name, value in kept:
        head = f"  {name.ljust(width)}  "
        lines += textwrap.wrap(
            value,
            WIDTH,
            initial_indent=head,
            subsequent_indent=" " * len(head),
            break_on_hyphens=False,
            break_long_words=False,
        )
    return lines


def _section(lines: list[str], title: str, body: list[str]) -> None:
    if body:
        lines += ["", title, *body]


def _quoted(text: str) -> str:
    """`text` as one shell word: in double quotes unless it holds one (then single)."""
    if '"' not in text and "$" not in text and "`" not in text:
        return f'"{text}"'
    return "'" + text.replace("'", "'\\''") + "'"
