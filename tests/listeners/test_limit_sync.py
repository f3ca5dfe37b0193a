"""The rate limits' Redis sync loop ends when cancelled, even when a cancel is absorbed mid-call.

Seen under load: a cancel landing inside a Redis call came back as a RedisError, the limiter's
sync absorbed it, the loop went on, and the app's cleanup waited for it forever.
"""

from __future__ import annotations

import asyncio

from robian_media.web.rate_limit import SYNC_INTERVAL_S, sync_forever


async def test_sync_loop_ends_even_if_a_cancel_is_absorbed() -> None:
    inside = asyncio.Event()
    absorbed = 0

    async def absorbing_sync() -> None:
        nonlocal absorbed
        inside.set()
        if absorbed:
            return
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:  # what the Redis client did with the first cancel
            absorbed += 1

    task = asyncio.create_task(sync_forever(absorbing_sync))
    await asyncio.wait_for(inside.wait(), 10 * SYNC_INTERVAL_S + 5)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=30)  # not wait_for: it would wait for the loop too
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=5)
    assert task in done, "the sync loop went on after being cancelled"
    assert task.cancelled()
