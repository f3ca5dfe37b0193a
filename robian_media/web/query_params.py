"""Shared shape of query-string models: blank values are absent, unknown parameters are ignored."""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


def split_commas(value: object) -> object:
    """``a,b`` → ``["a", "b"]`` for list parameters (a ``BeforeValidator``); ``,`` alone is an error."""
    if not isinstance(value, str):
        return value
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts:
        raise ValueError("name at least one value (comma-separated)")
    return parts


class QueryModel(BaseModel):
    # unknown parameters (cache busters, client telemetry) are ignored rather than refused: they
    # never reach a query or a cache key, which only see the validated fields
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            # empty only (Swagger's allowEmptyValue): "limit= " is a mistake worth a 422
            return {k: v for k, v in data.items() if v != ""}
        return data

    @cached_property
    def cache_key(self) -> str:
        """A short stable key of the validated values (two spellings of one query share it)."""
        return hashlib.blake2b(self.model_dump_json().encode(), digest_size=12).hexdigest()
