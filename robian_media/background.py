"""Owned background tasks: cancelled and awaited by their owner, failures logged, never lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


async def cancel_and_wait(task: asyncio.Task[object]) -> None:
    """Cancel ``task`` and wait for it to end; re-raises only if *we* are being cancelled."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except Exception:
        log.exception("background task failed", extra={"task": task.get_name()})


async def complete_despite_cancel(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` to its end even if we are cancelled meanwhile (then re-raise the cancel).

    For cleanup that must not be left half-done, such as withdrawing files a failed publish left.
    """
    task = asyncio.ensure_future(awaitable)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise
