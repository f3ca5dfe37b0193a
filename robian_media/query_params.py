"""Shared shape of query-string models: blank values are absent, unknown parameters are ignored."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def split_commas(value: object) -> object:
    """``a,b`` → ``["a", "b"]`` for list parameters (a ``BeforeValidator``)."""
    return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value


def _iso_day(value: object) -> object:
    # pydantic alone reads "1700000000" or "-3e-177" as a Unix time: a day is written YYYY-MM-DD only
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value.strip()):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_day)]
"""A day in a query string, as YYYY-MM-DD."""


class QueryModel(BaseModel):
    # unknown parameters (cache busters, client telemetry) are ignored rather than refused: they
    # never reach a query or a cache key, which only see the validated fields
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data

    def cache_key(self) -> str:
        """A short stable key of the validated values (two spellings of one query share it)."""
        return hashlib.blake2b(self.model_dump_json().encode(), digest_size=12).hexdigest()
