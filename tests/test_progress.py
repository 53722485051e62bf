"""Progress of long work on standard error: shown on a terminal (a real pseudo-terminal
here), never when standard error is piped or with --quiet, and never on standard output,
whose content is the same either way."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from semantic import progress
from semantic.cli.progress import TerminalProgress
from semantic.outputs.quality import measure_quality
from semantic.project import Project

ROOT = Path(__file__).resolve().parents[1]
#: Characters a progress display draws: spinner frames, bar blocks, cursor control.
DRAWN = ("\x1b[", "━", "⠋", "⠙", "…")


def semantic(*args: str, terminal: bool) -> tuple[int, str, str]:
    """Run `semantic ARGS` in a process of its own (the data already made by the session's
    `project` fixture): standard output piped; standard error piped, or a pseudo-terminal
    when `terminal`. Gives the exit code, standard output and what standard error got."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(TERM="xterm-256color", COLUMNS="120", PYTHONPATH=str(ROOT / "src"))
    command = [sys.executable, "-m", "semantic.cli", "--project", str(ROOT), *args]
    if not terminal:
        done = subprocess.run(command, capture_output=True, env=env, check=False)
        return done.returncode, done.stdout.decode(), done.stderr.decode()
    leader, follower = os.openpty()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    drawn: list[bytes] = []

    def drain() -> None:  # read the terminal as the child writes, or it blocks when full
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                return
            if not chunk:
                return
            drawn.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    assert child.stdout is not None
    out = child.stdout.read().decode()
    code = child.wait(timeout=120)
    reader.join(timeout=10)
    os.close(leader)
    return code, out, b"".join(drawn).decode(errors="replace")


@pytest.mark.usefixtures("project")
def test_quality_shows_progress_on_a_terminal_only() -> None:
    code, piped_out, piped_err = semantic("quality", "-f", "csv", terminal=False)
    assert code in (0, 1) and piped_out.startswith("rule,entity,term,")
    assert not any(mark in piped_err for mark in DRAWN)  # piped: no progress garbage
    assert "measuring" not in piped_err

    code, out, err = semantic("quality", "-f", "csv", terminal=True)
    assert out == piped_out  # standard output is the result, unchanged
    assert "measuring quality rules" in err and "measuring keys" in err
    assert "\x1b[" in err  # drawn, then erased

    code, out, err = semantic("--quiet", "quality", "-f", "csv", terminal=True)
    assert out == piped_out
    assert "measuring" not in err and "━" not in err


def test_the_listener_sees_each_rule(project: Project) -> None:
    seen: list[str] = []

    class Notes:
        def begin(self, what: str, total: int | None) -> None:
            seen.append(f"begin {what} {total}")

        def advance(self, detail: str) -> None:
            seen.append(detail)

        def end(self) -> None:
            seen.append("end")

    engine = project.engine_for(None)
    with progress.listening(Notes()):
        results = measure_quality(project.model, engine.fetch, engine.dialect)
    # one step per query: a scan per table answers every rule of it but the unique and
    # custom ones, which take a query each
    entities = list(dict.fromkeys(r.rule.entity for r in results))
    alone = {
        e: [
            r.rule.id for r in results if r.rule.entity == e and r.rule.kind in ("unique", "custom")
        ]
        for e in entities
    }
    scanned = {e: sum(r.rule.entity == e for r in results) - len(alone[e]) for e in entities}
    assert (
        seen[0] == f"begin measuring quality rules {len(entities) + sum(map(len, alone.values()))}"
    )
    assert seen[1:-1] == [
        step
        for e in entities
        for step in [f"{e}: {scanned[e]} rule(s) in one scan", *(f"{e}: {r}" for r in alone[e])]
    ]
    assert sum(map(len, alone.values())) == 1  # every_order_has_lines
    assert seen[-1] == "end"


def test_the_terminal_display_nests_and_goes_away() -> None:
    from rich.console import Console

    console = Console(force_terminal=True, width=100, record=True)
    shown = TerminalProgress(console)
    with progress.listening(shown), progress.task("outer", total=2) as step:
        step("one")
        with progress.task("inner") as inner:
            inner("deep")
            assert len(shown.progress.tasks) == 2
        step("two")
    assert shown.tasks == [] and not shown.progress.live.is_started
