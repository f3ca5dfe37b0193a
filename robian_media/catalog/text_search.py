"""Turning what a person typed into PostgreSQL text-search input, folded like ``robian_unaccent``."""

from __future__ import annotations

import re
import unicodedata

MAX_TERMS = 8
# words one search may have (websearch syntax: "or" and "-" count as words)
MAX_SEARCH_WORDS = 12
EXCERPT_CHARS = 160
# letters two forms of a French word share at least (pluriel, féminin, conjugated endings)
_STEM = 4
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


def excerpt(text: str, query: str, width: int = EXCERPT_CHARS) -> str:
    """About ``width`` characters of ``text`` around the first word matching a word of ``query``.

    Matching is accent-blind and stem-tolerant like the French search (a word matches when both share
    their first letters: "amendements" for "amendement"); without a match, the text's beginning.
    """
    stems = [term[: max(_STEM, len(term) - 2)] for term in search_terms(query)]
    found = next(
        (m for m in re.finditer(r"\w+", text) if any(fold(m.group()).startswith(stem) for stem in stems)),
        None,
    )
    if len(text) <= width:
        return text
    middle = found.start() if found is not None else 0
    start = max(0, min(middle - width // 3, len(text) - width))
    if start > 0:
        start = text.find(" ", start) + 1 or start  # begin on a word
    end = start + width
    if end < len(text):
        end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
    return ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")


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
