"""How time grains and periods are named to people: a grain's name in each language, so a
column `order_date.year` can be headed "Date de commande (année)", and a period's name, so
the year 1992 reads `1992` rather than its first day `1992-01-01`.

The compiler names every period by its first day (a date, for machines and joins); these
names are for what people read: terminal tables, column headers, the catalog.

>>> grain_label("year", "fr")
'année'
>>> grain_label("fiscal_year", "pt-BR")  # no Portuguese name: the English one
'fiscal year'
>>> period_name(date(1992, 1, 1), "year")
'1992'
>>> period_name(date(1995, 7, 1), "fiscal_quarter", fiscal_year_start=4)
'FY1995-Q2'
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

#: The name of each grain per language (the one table of them: add a language here).
GRAIN_LABELS: Mapping[str, Mapping[str, str]] = {
    "day": {"en": "day", "fr": "jour", "de": "Tag", "es": "día"},
    "week": {"en": "week", "fr": "semaine", "de": "Woche", "es": "semana"},
    "month": {"en": "month", "fr": "mois", "de": "Monat", "es": "mes"},
    "quarter": {"en": "quarter", "fr": "trimestre", "de": "Quartal", "es": "trimestre"},
    "year": {"en": "year", "fr": "année", "de": "Jahr", "es": "año"},
    "fiscal_quarter": {
        "en": "fiscal quarter",
        "fr": "trimestre fiscal",
        "de": "Geschäftsquartal",
        "es": "trimestre fiscal",
    },
    "fiscal_year": {
        "en": "fiscal year",
        "fr": "exercice",
        "de": "Geschäftsjahr",
        "es": "año fiscal",
    },
}


def grain_label(grain: str, language: str) -> str:
    """The name of `grain` in `language` (`fr-CA` falls back to `fr`, then to English; a
    grain without a name here is shown as written)."""
    names = GRAIN_LABELS.get(grain, {})
    base = language.split("-")[0]
    return names.get(language) or names.get(base) or names.get("en") or grain


def grain_heading(label: str, grain: str, language: str) -> str:
    """A time dimension's `label` with its grain, as a column heading.

    >>> grain_heading("Date de commande", "year", "fr")
    'Date de commande (année)'
    """
    return f"{label} ({grain_label(grain, language)})"


def period_name(value: date | datetime, grain: str, fiscal_year_start: int = 1) -> str:
    """How the period that starts at `value` is shown: a year `1992`, a quarter `1992-Q1`, a
    month `1992-01`; a fiscal year by the calendar year it starts in, `FY1995` (April 1995 to
    March 1996 when `fiscal_year_start` is 4), a fiscal quarter `FY1995-Q2`; a day or a week
    (its Monday) by its date. A value that does not start such a period (a grain that is not
    the query's, a bad engine) is shown as the date it is, so nothing is ever misnamed."""
    day = value.date() if isinstance(value, datetime) else value
    if isinstance(value, datetime) and value.time() != datetime.min.time():
        return value.isoformat(sep=" ")
    months_in = (day.month - fiscal_year_start) % 12 if grain.startswith("fiscal_") else None
    if day.day != 1:
        return day.isoformat()
    if grain == "year" and day.month == 1:
        return f"{day.year}"
    if grain == "quarter" and day.month % 3 == 1:
        return f"{day.year}-Q{day.month // 3 + 1}"
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    if months_in is not None:
        start_year = day.year if day.month >= fiscal_year_start else day.year - 1
        if grain == "fiscal_year" and months_in == 0:
            return f"FY{start_year}"
        if grain == "fiscal_quarter" and months_in % 3 == 0:
            return f"FY{start_year}-Q{months_in // 3 + 1}"
    return day.isoformat()
