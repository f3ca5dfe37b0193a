"""What the listener tests check of the debates they embed (rows come from tests/factories.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tests.factories import DEBATE_FIELDS


def assert_debate_shape(debate: dict[str, Any], debate_id: UUID) -> None:
    """docs/architecture.md §4 Debate, exactly these fields."""
    assert set(debate) == DEBATE_FIELDS
    assert debate["id"] == str(debate_id)
