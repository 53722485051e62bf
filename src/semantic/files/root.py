"""Where a project is: the folder holding its `semantic.yml`.

>>> CONFIG_FILE
'semantic.yml'
"""

from __future__ import annotations

from pathlib import Path

from semantic.errors import Span, error

CONFIG_FILE = "semantic.yml"


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding a `semantic.yml`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        config = folder / CONFIG_FILE
        if config.is_file():
            return folder
        if config.exists() or config.is_symlink():
            # a directory, a FIFO, a broken link: say so rather than look further up
            raise error(
                "SEM105",
                f"{config} is not a readable file",
                Span(str(config)),
                f"make {CONFIG_FILE} a plain YAML file (see docs/files.md#semanticyml)",
            )
    raise error(
        "SEM105",
        f"no {CONFIG_FILE} in {start} or any folder above it",
        Span(str(start)),
        "run from a project folder or pass --project PATH",
    )
