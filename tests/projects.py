"""Tiny projects written into a temporary folder, for error and soundness tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb

CONFIG = """\
name: tiny
languages: [en, fr]
data:
  dir: data
"""


def write_project(root: Path, files: dict[str, str], config: str = CONFIG) -> Path:
    """Write `semantic.yml` and the given files (path -> YAML text, dedented) under `root`."""
    (root / "semantic.yml").write_text(config)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def write_data(root: Path, tables: dict[str, str]) -> None:
    """Write each table (name -> a SELECT giving its rows) as `root/data/<name>.parquet`."""
    data = root / "data"
    data.mkdir(exist_ok=True)
    con = duckdb.connect()
    for name, rows in tables.items():
        con.execute(f"COPY ({rows}) TO '{data / name}.parquet' (FORMAT parquet)")
