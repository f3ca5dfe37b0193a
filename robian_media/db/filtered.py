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

import functools
from collections.abc import Mapping
from typing import Any, NamedTuple


class Statement(NamedTuple):
    sql: str
    arguments: tuple[Any, ...]


@functools.lru_cache(maxsize=512)
def _compose(template: str, conditions: tuple[str, ...], names: tuple[str, ...]) -> str:
    numbered = [condition.replace("$?", f"${n}") for n, condition in enumerate(conditions, start=1)]
    sql = template.replace("{conditions}", "\n  AND ".join(numbered) or "true")
    # longest names first: `$at` must not take the start of `$at_id`
    numbers = {name: n for n, name in enumerate(names, start=len(conditions) + 1)}
    for name in sorted(names, key=len, reverse=True):
        sql = sql.replace(f"${name}", f"${numbers[name]}")
    return sql


def filtered(
    template: str, conditions: Mapping[str, str], values: Mapping[str, Any], **always: Any
) -> Statement:
    """``template`` with the ``conditions`` whose value in ``values`` is not None, and the arguments:
    those values in the order of ``conditions``, then ``always`` (``$name`` in the template)."""
    given = [name for name in conditions if values.get(name) is not None]
    sql = _compose(template, tuple(conditions[name] for name in given), tuple(always))
    return Statement(sql, (*(values[name] for name in given), *always.values()))
