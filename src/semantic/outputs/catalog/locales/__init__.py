"""The catalog's interface in each language, one module per language: `MESSAGES` (key ->
text, or (singular, plural) for a count) and `LANGUAGE_NAMES` (code -> name in it)."""

from __future__ import annotations

#: A message: a text with `{name}` fields, or for counts (singular, plural).
Text = str | tuple[str, str]
