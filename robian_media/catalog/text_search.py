"""Turning what a person typed into PostgreSQL text-search input, folded like ``robian_unaccent``."""

from __future__ import annotations

import re
import unicodedata

MAX_TERMS = 8
# words one search may have (websearch syntax: "or" and "-" count as words)
MAX_SEARCH_WORDS = 12
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})


def fold(text: str) -> str:
    """Lower case without accents: the Python twin of the SQL ``robian_unaccent``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def words(text: str) -> list[str]:
    """Every word of ``text``, folded (letters and digits only)."""
    return re.findall(r"[a-z0-9]+", fold(text))


def search_terms(text: str) -> list[str]:
    """Words of ``text`` as safe tsquery operands (letters and digits only)."""
    return words(text)[:MAX_TERMS]


def prefix_tsquery(text: str) -> str | None:
    """``'marie & dup:*'``: every word must match, the last one as a prefix (type-ahead)."""
    terms = search_terms(text)
    if not terms:
        return None
    return " & ".join([*terms[:-1], terms[-1] + ":*"])


def all_prefixes_tsquery(text: str) -> str | None:
    """``'mar:* & dup:*'``: every word a prefix (names typed partly)."""
    terms = search_terms(text)
    return " & ".join(t + ":*" for t in terms) if terms else None
