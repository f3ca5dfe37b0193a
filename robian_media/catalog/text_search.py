"""Turning what a person typed into PostgreSQL text-search input, folded like ``robian_unaccent``."""

from __future__ import annotations

import functools
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


def _folding_to() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Which characters fold to each ASCII letter, and which to two of them ("œ" to "oe")."""
    single: dict[str, str] = {}
    double: dict[str, list[str]] = {}
    for code in range(0x80, 0x250):  # Latin-1 and Latin Extended: the letters of French and its names
        ch = chr(code)
        folded = fold(ch)
        if len(folded) == 1 and folded.isascii() and folded.isalnum():
            single[folded] = single.get(folded, "") + ch
        elif len(folded) == 2 and folded.isascii() and folded.isalpha():
            double.setdefault(folded, []).append(ch)
    return single, double


_FOLDS_TO, _LIGATURES_OF = _folding_to()


def _folded_pattern(term: str) -> str:
    """A regex matching any text ``fold`` turns into ``term`` (ASCII letters and digits)."""
    if not term:
        return ""
    options = [f"[{term[0]}{_FOLDS_TO.get(term[0], '')}]{_folded_pattern(term[1:])}"]
    options += [f"{ligature}{_folded_pattern(term[2:])}" for ligature in _LIGATURES_OF.get(term[:2], [])]
    return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"


@functools.lru_cache(maxsize=256)
def _stems_matcher(query: str) -> re.Pattern[str] | None:
    """The start of a word sharing its first letters with a word of ``query``, accents and case aside."""
    stems = [term[: max(_STEM, len(term) - 2)] for term in search_terms(query)]
    if not stems:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(_folded_pattern(stem) for stem in stems) + ")", re.IGNORECASE)


def excerpt(text: str, query: str, width: int = EXCERPT_CHARS) -> str:
    """About ``width`` characters of ``text`` around the first word matching a word of ``query``.

    Matching is accent-blind and stem-tolerant like the French search (a word matches when both share
    their first letters: "amendements" for "amendement"); without a match, the text's beginning. The
    words are found by one regex over the text as written (each letter stands for its accented forms),
    not by folding every word: a page of hits is cut in well under a millisecond.
    """
    if len(text) <= width:
        return text
    matcher = _stems_matcher(query)
    found = matcher.search(text) if matcher is not None else None
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
