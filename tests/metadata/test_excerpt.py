"""The excerpt a passage hit shows (DESIGN §8): the words around the ones searched, found as the French
search finds them (accents, case, ligatures and endings aside), shown as they were written."""

from __future__ import annotations

import pytest

from robian_media.catalog.text_search import excerpt

FILLER = "Mes chers collègues, la séance est reprise et nous poursuivons la discussion du texte. " * 3


@pytest.mark.parametrize(
    ("query", "written"),
    [
        ("hopital", "l'Hôpital"),
        ("écologie", "ÉCOLOGIE"),
        ("voeu", "vœux"),
        ("oecumenique", "Œcuméniques"),
        ("amendement", "amendements"),
        ("Noël", "noel"),
    ],
)
def test_the_excerpt_is_around_the_words_as_written(query: str, written: str) -> None:
    text = f"{FILLER}Puis vint {written} du jour, dont il fut longuement question. {FILLER}"
    shown = excerpt(text, query)
    assert written in shown
    assert shown.startswith("…") and shown.endswith("…")
    assert len(shown) <= 162


def test_a_word_only_inside_another_is_not_a_match() -> None:
    text = f"La surécologie, disait-il. {FILLER}Mais l'écologie, elle, est notre affaire. {FILLER}"
    shown = excerpt(text, "écologie")
    assert "l'écologie, elle" in shown and "surécologie" not in shown


def test_without_a_match_the_text_begins_and_short_texts_are_whole() -> None:
    assert excerpt(FILLER * 2, "budget").startswith("Mes chers collègues")
    assert excerpt("Le budget.", "budget") == "Le budget."
    assert excerpt(FILLER * 2, "").startswith("Mes chers")
