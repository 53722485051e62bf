"""A problem as every front end of the server answers it (HTTP bodies, MCP structured
content): a diagnostic's code, where it is and how to fix it."""

from __future__ import annotations

from pydantic import BaseModel


class Problem(BaseModel):
    """One problem or warning: its code (docs/errors.md), where it is, how to fix it."""

    code: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    col: int | None = None
    hint: str | None = None
