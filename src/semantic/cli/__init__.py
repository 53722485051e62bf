"""The `semantic` command: thin shells over the Python API.

Each command parses its arguments, calls one library function and prints. `app` holds the
global options and prints errors; the commands live in one module per group (`query`,
`check`, `views`, `exchange`, `docs`) and are registered here, in the order `semantic --help`
lists them.
"""

from __future__ import annotations

import os

import semantic.cli.check as check
import semantic.cli.coercion as coercion
import semantic.cli.exchange as exchange
import semantic.cli.lineage as lineage
import semantic.cli.mcp as agents
import semantic.cli.quality as quality
import semantic.cli.query as query
import semantic.cli.serve as serving
import semantic.cli.show as show
import semantic.cli.translate as translate
import semantic.cli.views as views
from semantic.cli.app import app
from semantic.cli.completion import completion
from semantic.cli.docs import docs_app
from semantic.cli.query import parse_params

__all__ = ["app", "main", "parse_params"]

app.command()(check.check)
app.command()(query.compile)
app.command()(query.query)
app.command()(check.schema)
app.command()(quality.quality)
app.command()(query.explain)
app.command()(show.show)
app.command()(lineage.lineage)
app.command()(translate.translate)
app.command()(query.terms)
app.command()(query.search)
app.command()(views.load)
app.command("fmt")(check.format_files)
app.command()(check.diff)
app.command()(exchange.init)
app.add_typer(exchange.export_app, name="export")
app.add_typer(exchange.import_app, name="import")
app.add_typer(docs_app, name="docs")
app.add_typer(views.views_app, name="views")
app.command()(serving.serve)
app.command()(agents.mcp)
app.command()(completion)
coercion.install()  # typer converts the common values without a pydantic schema each


def main() -> None:
    """Entry point of the `semantic` script."""
    # pydantic looks for plugins in every installed package's entry points when it builds
    # its first schema (typer builds one per parameter): importlib.metadata and a scan of
    # the environment, about 5 % of `semantic compile`. semantic has no use for them; a
    # value set by the user is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    app()
