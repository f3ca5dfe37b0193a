"""Days and timestamps as clients must write them.

pydantic alone also reads a number as a Unix time ("1700000000", 0.0, even "-3e-177"): an API whose
documentation says ``YYYY-MM-DD`` or ISO 8601 then answers for 1970 instead of refusing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value.strip()):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


def _timestamp_text(value: object) -> object:
    if isinstance(value, int | float):
        raise ValueError("a timestamp is written as ISO 8601 text with its offset, e.g. 2026-03-10T14:00:00Z")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_day)]
"""A day, YYYY-MM-DD."""


def _representable(value: dt.datetime) -> dt.datetime:
    # 0001-01-01T00:00+00:01 is year 0 in UTC: Python and the database driver cannot carry it
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("this instant is out of range once in UTC") from None
    return value


IsoTimestamp = Annotated[AwareDatetime, BeforeValidator(_timestamp_text), AfterValidator(_representable)]
"""An instant, ISO 8601 with an offset."""
