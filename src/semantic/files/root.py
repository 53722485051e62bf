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
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise error(
        "SEM105",
        f"no {CONFIG_FILE} in {start} or any folder above it",
        Span(str(start)),
        "run from a project folder or pass --project PATH",
    )
