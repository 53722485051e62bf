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
#: each Latin-1 letter decomposed (NFKD) without its accents: no Latin-1 character is a
#: combining mark, and NFKD decomposes each character alone, so a Latin-1 text translated
#: by this table is the text decomposed and stripped below, without a loop in Python
_LATIN1 = {
    code: "".join(
        c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c)
    )
    for code in range(0x80, 0x100)
}


@lru_cache(maxsize=1 << 17)
def normalize_name(text: str) -> str:
    """The comparison key of a term id, label or synonym."""
    if text.isascii():  # nothing to decompose (a glossary of 10,000 terms has 70,000 names)
        return _SEPARATORS.sub(" ", text.casefold()).strip()
    if max(text) <= "\xff":  # Latin-1 (French, Spanish, German...): each letter alone
        return _SEPARATORS.sub(" ", text.translate(_LATIN1).casefold()).strip()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # typographic apostrophes are common in French labels typed on phones and Macs
    stripped = stripped.replace("\u2019", "'").replace("\u2018", "'")
    return _SEPARATORS.sub(" ", stripped.casefold()).strip()
