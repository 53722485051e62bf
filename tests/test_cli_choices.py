"""`--kind` and `--language` are checked by one validator (semantic.cli.choices) wherever
they appear: plural kinds are understood, anything else is a usage error (exit 2) that
lists the valid values, never a silently empty answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from semantic.cli import app
from semantic.cli.choices import checked_kind, kinds
from tests.cli_runner import run_cli, unboxed

#: The arguments a command needs besides the option under test.
NEEDS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("search",): ("revenue",),
    ("query",): ("SELECT order_count",),
    ("compile",): ("SELECT order_count",),
    ("show",): ("net_revenue",),
}


def options_named(option: str) -> Iterator[tuple[str, ...]]:
    """The path of every command that has `option`."""

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        if any(option in p.opts for p in command.params):
            yield path
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, (*path, name))

    return walk(get_command(app), ())


def test_plural_and_spelled_kinds_are_understood() -> None:
    assert checked_kind("metrics") == "metric"
    assert checked_kind("Time-Dimensions") == "time_dimension"
    assert [checked_kind(k) for k in kinds()] == list(kinds())
    code, plural, err = run_cli("terms", "--kind", "metrics", "-f", "csv")
    assert code == 0, err
    code, singular, _ = run_cli("terms", "--kind", "metric", "-f", "csv")
    assert plural == singular and "net_revenue,metric," in plural


def test_an_unknown_kind_is_a_usage_error_listing_the_kinds() -> None:
    code, out, err = run_cli("terms", "--kind", "metricz")
    assert code == 2 and out == ""
    message = unboxed(err)
    assert "Invalid value for '--kind': 'metricz' is not a kind of term; use dimension, " in (
        message
    )
    assert "time_dimension, metric, segment or concept (or their plurals)" in message
    assert "did you mean 'metric'?" in message


def test_every_language_option_takes_only_the_projects_languages(tmp_path: Path) -> None:
    paths = sorted(options_named("--language"))
    assert {("terms",), ("search",), ("views", "plan"), ("import", "skos")} <= set(paths)
    vocabulary = tmp_path / "v.ttl"  # never read: the option is checked first
    vocabulary.write_text("")
    needs = {**NEEDS, ("import", "skos"): (str(vocabulary), "--into", str(tmp_path))}
    for path in paths:
        code, out, err = run_cli(*path, *needs.get(path, ()), "--language", "de")
        assert code == 2, (path, err)
        assert "'de' is not a language of this project; use en or fr" in unboxed(err), path
        assert out == "" and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [vocabulary]
    code, out, err = run_cli("terms", "--language", "fr", "-f", "csv")
    assert code == 0 and "Chiffre d'affaires net" in out


@pytest.mark.parametrize("path", sorted(options_named("--kind")))
def test_every_kind_option_is_checked(path: tuple[str, ...]) -> None:
    code, _, err = run_cli(*path, *NEEDS.get(path, ()), "--kind", "tables")
    assert code == 2 and "'tables' is not a kind of term" in unboxed(err)
