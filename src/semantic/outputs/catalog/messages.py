"""The words of the catalog site's interface in each language it speaks: menus, headings,
labels, the search box, kinds, grains, statuses (the glossary's own words come from the
glossary). The tables are in `locales/`, one module per language.

A page in a language without a translation uses the English words (`semantic docs build`
says so, SEM444). Every language has every key: a test compares them.

>>> fr = Messages("fr")
>>> str(fr("nav_glossary")), str(fr.count("terms", 1)), str(fr.count("terms", 3))
('Glossaire', '1 terme', '3 termes')
>>> fr.with_grain("Date de commande", "year")
'Date de commande (année)'
>>> fr.number(2045134942.0939), Messages("de").number(1234.5), Messages("en").number(7)
('2\\u202f045\\u202f134\\u202f942,09', '1.234,50', '7')
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from markupsafe import Markup, escape

from semantic.outputs.catalog.locales import Text, de, en, es, fr

#: The interface's words in each language the site speaks.
MESSAGES: dict[str, dict[str, Text]] = {
    "en": en.MESSAGES,
    "fr": fr.MESSAGES,
    "de": de.MESSAGES,
    "es": es.MESSAGES,
}
#: Language names in each interface language (the page's own name for a language).
LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "en": en.LANGUAGE_NAMES,
    "fr": fr.LANGUAGE_NAMES,
    "de": de.LANGUAGE_NAMES,
    "es": es.LANGUAGE_NAMES,
}
#: Each language's name for itself, for the language switch.
AUTONYMS = {
    "en": "English",
    "fr": "Français",
    "de": "Deutsch",
    "es": "Español",
    "it": "Italiano",
    "nl": "Nederlands",
    "pt": "Português",
}
#: How numbers are written: (thousands separator, decimal mark).
_NUMBERS = {"en": (",", "."), "fr": ("\u202f", ","), "de": (".", ","), "es": (".", ",")}
#: The words the search box's script needs (with the names of kinds).
SCRIPT_KEYS = (
    "no_results",
    "field_id",
    "field_label",
    "field_synonym",
    "field_hidden_label",
    "field_definition",
    "match_why",
)


def has_messages(language: str) -> bool:
    """Whether the site's interface speaks `language` (otherwise it uses English)."""
    return language in MESSAGES


class Messages:
    """The interface's words in one language (English for a language not translated)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.ui = language if language in MESSAGES else "en"
        self.table = MESSAGES[self.ui]

    def __call__(self, key: str, /, **fields: Any) -> Markup:
        """The message `key`, its `{fields}` filled in (escaped unless already Markup)."""
        text = self.table[key]
        return Markup(escape(text if isinstance(text, str) else text[0])).format(**fields)

    def count(self, key: str, n: int) -> Markup:
        """`n` things of a counted message (`terms` -> "3 terms"), singular or plural."""
        return Markup(escape(self.word(key, n))).format(n=self.number(n))

    def word(self, key: str, n: int = 1) -> str:
        """A message as plain text: for a counted one, its singular (plural for an `n` that
        is not one)."""
        text = self.table[key]
        return text if isinstance(text, str) else text[0 if self._one(n) else 1]

    def _one(self, n: int) -> bool:
        # French counts zero and one alike; English, German and Spanish use one alone
        return n in (0, 1) if self.ui == "fr" else n == 1

    def kind(self, kind: str, n: int = 1) -> str:
        """A kind of term (`time_dimension`) in words."""
        return self.word(f"kind_{kind}", n)

    def grain(self, grain: str, n: int = 1) -> str:
        """A time grain (`quarter`) in words."""
        key = f"grain_{grain}"
        return self.word(key, n) if key in self.table else grain

    def with_grain(self, label: str, grain: str | None) -> str:
        """A time dimension's label at a grain: "Order date (year)"."""
        return f"{label} ({self.grain(grain)})" if grain else label

    def periods(self, n: int, grain: str) -> str:
        """`n` periods of a grain: "3 months"."""
        return f"{self.number(n)} {self.grain(grain, n)}"

    def value_name(self, prefix: str, value: str) -> str:
        """A status (`status`), confidentiality (`conf`), cardinality (`card`) or quality
        dimension (`quality`) in words."""
        key = f"{prefix}_{value}"
        return self.word(key) if key in self.table else value

    def language_name(self, code: str) -> str:
        """A language's name in this interface's language ("anglais" in French)."""
        return LANGUAGE_NAMES[self.ui].get(code, AUTONYMS.get(code, code))

    def number(self, value: float | decimal.Decimal) -> str:
        """A number as this language writes it: thousands grouped, two decimals for a
        fraction (four significant digits under 1)."""
        if isinstance(value, int):
            text = f"{value:,}"
        elif value != value:  # NaN
            return "NaN"
        elif 0 < abs(float(value)) < 1:
            text = f"{float(value):.4g}"
        else:
            text = f"{value:,.2f}"
        group, mark = _NUMBERS.get(self.ui, _NUMBERS["en"])
        return text.replace(",", "\0").replace(".", mark).replace("\0", group)

    def percent(self, fraction: float, *, exact: bool = True) -> str:
        """A share as the number of a percentage: with two decimals (99.87), or as short as
        it goes (95) when not `exact`."""
        text = f"{fraction * 100:.2f}" if exact else f"{fraction * 100:g}"
        return text.replace(".", _NUMBERS.get(self.ui, _NUMBERS["en"])[1])

    def value(self, value: Any, grain: str | None = None) -> str:
        """A value read from the data, as a reader expects it: numbers grouped, a period
        by its grain (a year as 1995), nothing as "(empty)"."""
        if value is None:
            return self.word("empty_value")
        if isinstance(value, bool):
            return self.word("true" if value else "false")
        if isinstance(value, int | float | decimal.Decimal):
            return self.number(value)
        if isinstance(value, dt.datetime) and grain in (None, "day"):
            return value.isoformat(sep=" ")
        if isinstance(value, dt.date):
            if grain == "year":
                return str(value.year)
            if grain == "quarter":
                return str(self("quarter_value", year=value.year, quarter=(value.month + 2) // 3))
            if grain == "month":
                return f"{value.year}-{value.month:02d}"
            return value.strftime("%Y-%m-%d")
        text = str(value)
        return text if len(text) <= 80 else text[:79] + "…"

    def script_messages(self) -> dict[str, Any]:
        """What the search box's script needs, as JSON-ready data: its messages and the
        names of kinds."""
        kinds = {k.removeprefix("kind_"): self.word(k) for k in self.table if k.startswith("kind_")}
        return {"messages": {k: self.word(k) for k in SCRIPT_KEYS}, "kinds": kinds}
