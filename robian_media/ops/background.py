"""Owned background tasks: cancelled and awaited by their owner, failures logged, never lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


# a task still running this long after its cancel lost it (a library swallowed it): cancel it again
RECANCEL_AFTER_S = 1.0


async def cancel_and_wait(task: asyncio.Task[object]) -> None:
    """Cancel ``task`` and wait for it to end; re-raises only if *we* are being cancelled.

    A cancel a library swallowed (psycopg's pool can: the sweeper then went back to sleep and a
    Ctrl-C hung) is repeated every second until the task ends, each time with a warning.
    """
    loop = asyncio.get_running_loop()
    again: asyncio.TimerHandle

    def cancel_again() -> None:
        nonlocal again
        log.warning("task ignored its cancellation; cancelling it again", extra={"task": task.get_name()})
        task.cancel()
        again = loop.call_later(RECANCEL_AFTER_S, cancel_again)

    task.cancel()
    again = loop.call_later(RECANCEL_AFTER_S, cancel_again)
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except Exception:
        log.exception("background task failed", extra={"task": task.get_name()})
    finally:
        again.cancel()


def raise_if_cancelling() -> None:
    """Call in an ``except`` around an await of a long-lived task: end the task if it is being cancelled.

    A library may turn the ``CancelledError`` it received mid-operation into an error of its own
    (psycopg/procrastinate a ``ConnectorException``, a socket an ``OSError``). Caught as a failure,
    the cancel is lost: the loop sleeps and goes on, and the owner awaiting it waits forever (a hung
    Ctrl-C). ``cancelling()`` still counts the request, so the task can end as asked.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def start_task(coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
    """A task whose failure is logged the moment it happens (its owner still cancels and awaits it)."""
    task = asyncio.create_task(coro, name=name)
    task.add_done_callback(_log_failure)
    return task


@contextlib.asynccontextmanager
async def running(coro: Coroutine[Any, Any, object], name: str) -> AsyncIterator[asyncio.Task[object]]:
    """Run ``coro`` as an owned task for the duration of the block (for ``cleanup_ctx`` generators)."""
    task = start_task(coro, name)
    try:
        yield task
    finally:
        # at shutdown the cleanup itself may be running in a cancelled task: end the child either way
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # a failure was logged when it ended
            await task


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s stopped", task.get_name(), exc_info=task.exception())


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
