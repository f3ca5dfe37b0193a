"""Statements that hold only the filters a request gives.

One statement for every combination of optional filters (``$n IS NULL OR …``) is planned anew at
each execution: PostgreSQL keeps a prepared statement's generic plan only when it costs about what a
custom plan for the actual values does, and a custom plan folds the absent filters away. The
planning then costs more than running a page's query. A statement with only the filters given has
nothing to fold, so PostgreSQL plans it once per connection and shape and reuses that plan.

A template holds ``{conditions}`` where the given filters' conditions go (ANDed), each condition
``$?`` where its value goes, and ``$name`` for the values every shape has (numbered after the
filters', in the order they are listed). Only constants are interpolated; values stay parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


class Statement(NamedTuple):
    sql: str
    arguments: tuple[Any, ...]


class Filters:
    """A statement's optional filters: each one's condition, with ``$?`` where its value goes."""

    def __init__(self, conditions: Mapping[str, str]) -> None:
        self.conditions = dict(conditions)
        # one text per template and shape: at most 2**len(conditions) shapes a template
        self._composed: dict[tuple[str, tuple[str, ...], tuple[str, ...]], str] = {}

    def statement(self, template: str, values: Mapping[str, Any], **always: Any) -> Statement:
        """``template`` with the conditions whose value in ``values`` is not None, and the arguments:
        those values in the order of the conditions, then ``always`` (``$name`` in the template)."""
        given = tuple([name for name in self.conditions if values.get(name) is not None])
        key = (template, given, tuple(always))
        sql = self._composed.get(key)
        if sql is None:
            sql = self._composed[key] = self._compose(*key)
        return Statement(sql, (*[values[name] for name in given], *always.values()))

    def _compose(self, template: str, given: tuple[str, ...], names: tuple[str, ...]) -> str:
        conditions = [self.conditions[name].replace("$?", f"${n}") for n, name in enumerate(given, start=1)]
        sql = template.replace("{conditions}", "\n  AND ".join(conditions) or "true")
        numbers = {name: n for n, name in enumerate(names, start=len(given) + 1)}
        # longest names first: `$at` must not take the start of `$at_id`
        for name in sorted(names, key=len, reverse=True):
            sql = sql.replace(f"${name}", f"${numbers[name]}")
        return sql
