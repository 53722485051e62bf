"""How business names are compared: case, accents and spaces versus underscores do not matter.

>>> normalize_name("Chiffre d'affaires NET") == normalize_name("chiffre_d'affaires_net")
True
>>> normalize_name("Région  client")
'region client'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SEPARATORS = re.compile(r"[\s_\-]+")


@lru_cache(maxsize=1 << 17)
def normalize_name(text: str) -> str:
    """The comparison key of a term id, label or synonym."""
    if text.isascii():  # nothing to decompose (a glossary of 10,000 terms has 70,000 names)
        return _SEPARATORS.sub(" ", text.casefold()).strip()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # typographic apostrophes are common in French labels typed on phones and Macs
    stripped = stripped.replace("\u2019", "'").replace("\u2018", "'")
    return _SEPARATORS.sub(" ", stripped.casefold()).strip()
