"""Text PostgreSQL can store: neither NUL characters nor lone surrogates (which are not UTF-8).

Either in a query string or a JSON body would make the database refuse the statement (a 500);
they are refused at the edge instead, as a 422 naming where they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNSTORABLE = "Text may not contain the NUL character or invalid Unicode (lone surrogates)."


def _unstorable(text: str) -> bool:
    """True when PostgreSQL could not store ``text``."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _label(text: str) -> str:
    """A name safe to echo in a problem (escaped when it could not be encoded)."""
    return ascii(text) if _unstorable(text) else text


def unstorable_strings(value: Any, where: str) -> list[dict[str, Any]]:
    """Every string (key or value) of a JSON document that the database could not store."""
    if isinstance(value, str):
        return (
            [{"location": where, "message": UNSTORABLE, "type": "invalid_character"}]
            if _unstorable(value)
            else []
        )
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(unstorable_strings(key, f"{where}.{_label(key)}"))
            found.extend(unstorable_strings(item, f"{where}.{_label(key)}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(unstorable_strings(item, f"{where}.{index}"))
    return found


def unstorable_query(query: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every query parameter (name or value) the database could not store."""
    return [
        {"location": f"query.{_label(name)}", "message": UNSTORABLE, "type": "invalid_character"}
        for name, value in query.items()
        if _unstorable(value) or _unstorable(name)
    ]
