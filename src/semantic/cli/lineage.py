"""`semantic lineage TERM`: where a term comes from, down to physical columns and tables,
as a tree, JSON (`Project.lineage`) or an OpenLineage run event
(`semantic.outputs.openlineage`, which alone imports the openlineage package)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from semantic.cli.app import out, reported, state
from semantic.cli.arguments import TermArgument

if TYPE_CHECKING:
    from rich.console import Console
    from rich.tree import Tree


class LineageFormat(StrEnum):
    tree = "tree"
    json = "json"
    openlineage = "openlineage"


def lineage(
    term: TermArgument,
    fmt: Annotated[
        LineageFormat, typer.Option("--format", "-f", help="tree, json or openlineage.")
    ] = LineageFormat.tree,
    namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace",
            help="The OpenLineage namespace of the datasets (default: semantic://PROJECT).",
        ),
    ] = None,
) -> None:
    """Trace a term through derived metrics, filters, segments and join paths down to the
    physical columns and tables it reads."""
    from semantic.project import Project

    with reported():
        project = Project.load(state.project_path)
        tree = project.lineage(term)
        if fmt is LineageFormat.json:
            sys.stdout.write(json.dumps(tree, ensure_ascii=False, indent=2) + "\n")
        elif fmt is LineageFormat.openlineage:
            from semantic.outputs.openlineage import openlineage_event

            sys.stdout.write(openlineage_event(project.model, tree, namespace) + "\n")
        else:
            print_tree(out, lineage_view(tree))
            out.print("tables: " + ", ".join(tree["tables"]), highlight=False)


def print_tree(console: Console, tree: Tree) -> None:
    """Print a tree without cutting a line: wrapped on a terminal, whole in a pipe or a
    file (which has no width), as `cli.tables` prints tables."""
    from rich.console import Console

    if console.is_terminal:
        console.print(tree, highlight=False, crop=False)
        return
    wide = Console(file=console.file, width=10_000, color_system=None, highlight=False, emoji=False)
    with wide.capture() as captured:
        wide.print(tree, crop=False)
    console.file.write("\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n")


def lineage_view(tree: dict[str, Any]) -> Tree:
    """The lineage tree as a rich Tree: each term with its kind and expression, then the
    columns, rows and joins it reads, then the terms it is made of."""
    from rich.text import Text
    from rich.tree import Tree

    def label(node: dict[str, Any]) -> Text:
        role = f"{node['role']}: " if node.get("role") not in (None, "metric") else ""
        where = f" on {node['table']}" if node.get("table") else ""
        text = Text(f"{role}{node['term']}", style="bold")
        text.append(f" ({node['kind'].replace('_', ' ')}) {node['expression']}{where}")
        if node.get("filter"):
            text.append(f" where {node['filter']}")
        return text

    def grow(branch: Tree, node: dict[str, Any]) -> None:
        for column in node["columns"]:
            branch.add(Text(f"column {column['table']}.{column['column']}"))
        if node.get("rows_of"):
            branch.add(Text(f"rows of {node['table']}"))
        for join in [*node.get("via", []), *node["joins"]]:
            keys = " and ".join(f"{a} = {b}" for a, b in join["on"])
            branch.add(Text(f"join {keys} ({join['relationship']}, {join['cardinality']})"))
        for child in node["inputs"]:
            grow(branch.add(label(child)), child)

    root = Tree(label(tree))
    grow(root, tree)
    return root
