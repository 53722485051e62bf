"""The work under way shown on standard error while a command runs (see
`semantic.progress`): a spinner, what is being done, its steps, and the current one. Shown
only on a terminal and without `--quiet`; it leaves nothing behind once the work is over,
and never touches standard output."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


def shows_progress(console: Console, quiet: bool) -> bool:
    """Whether to show progress on `console`: a terminal (not a pipe or a file), and not
    `--quiet`."""
    return console.is_terminal and not console.is_dumb_terminal and not quiet


class TerminalProgress:
    """A `semantic.progress.Listener` drawing rich progress bars on `console`; nested work
    gets a line of its own below the work it is part of."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}", style="dim"),
            TimeElapsedColumn(),
            console=console,
            transient=True,  # gone once done: the command's own output stays clean
            redirect_stdout=False,  # standard output is the result: never rerouted
            redirect_stderr=False,
        )
        self.tasks: list[tuple[TaskID, list[int]]] = []

    def begin(self, what: str, total: int | None) -> None:
        """Add a line for the work (drawn at once: short work shows too)."""
        task = self.progress.add_task(f"{what}…", total=total, detail="")
        self.tasks.append((task, [0]))
        if len(self.tasks) == 1:
            self.progress.start()

    def advance(self, detail: str) -> None:
        """The current work is at step `detail`: the steps before it are done."""
        task, done = self.tasks[-1]
        self.progress.update(task, completed=done[0], detail=detail)
        done[0] += 1

    def end(self) -> None:
        """Remove the current work's line; the display goes once no work is left."""
        task, _ = self.tasks.pop()
        self.progress.remove_task(task)
        if not self.tasks:
            self.progress.stop()
