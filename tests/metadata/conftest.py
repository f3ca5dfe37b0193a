from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def marker() -> str:
    """A value of this test's own (a chamber, a group, a word) so rows of other tests never match."""
    return "T" + uuid.uuid4().hex[:10]
