"""Opaque keyset cursors over (timestamp, id), and the page query that carries them."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field, field_validator


def encode_cursor(at: datetime, row_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """Raise ValueError when the cursor was not made by :func:`encode_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, row_id = raw.partition("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed, UUID(row_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor this server issued; use next_cursor as given") from None


class PageQuery(BaseModel):
    limit: int = Field(50, ge=1, le=100)
    cursor: str | None = Field(None, description="next_cursor of the previous page")

    @field_validator("cursor")
    @classmethod
    def _decodable(cls, value: str | None) -> str | None:
        if value is not None:
            decode_cursor(value)
        return value

    @property
    def after(self) -> tuple[datetime, UUID] | None:
        return decode_cursor(self.cursor) if self.cursor else None


def next_cursor(count: int, limit: int, last: tuple[datetime, UUID] | None) -> str | None:
    """Pages fetch ``limit + 1`` rows: the extra row only says whether another page follows."""
    return encode_cursor(*last) if count > limit and last is not None else None
