"""`semantic completion SHELL`: the shell's completion script for `semantic`, printed.

`semantic --install-completion` installs it for the shell it runs in (typer's option);
this command prints it for a shell named, to package it or to install it by hand:

    semantic completion bash > ~/.local/share/bash-completion/completions/semantic

The script calls `semantic` back with `_SEMANTIC_COMPLETE` set whenever Tab is pressed, and
typer answers with the commands, options and choices of the words typed so far.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

#: the name of the installed script, which the completion script completes and calls back
PROG_NAME = "semantic"


class Shell(StrEnum):
    """The shells typer writes completion scripts for."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"


def completion(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh, fish or powershell.")],
) -> None:
    """Print the shell completion script of `semantic` (install it with `semantic
    --install-completion`, or save this output where your shell reads completions)."""
    from typer.completion import get_completion_script

    complete_var = f"_{PROG_NAME.upper()}_COMPLETE"
    print(get_completion_script(prog_name=PROG_NAME, complete_var=complete_var, shell=shell))
