"""Stopping a child process the polite way: ask (SIGTERM), wait with a deadline, kill, always reap."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal


def _signal_group(proc: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    # children started with start_new_session lead their own group: the group takes grandchildren
    # (ffmpeg started by yt-dlp) with it
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)


async def stop_process(proc: asyncio.subprocess.Process, grace: float = 3.0) -> int:
    """Stop ``proc`` (and its process group) and reap it; returns its exit status."""
    if proc.returncode is not None:
        return proc.returncode
    _signal_group(proc, signal.SIGTERM)
    try:
        return await asyncio.wait_for(asyncio.shield(proc.wait()), grace)
    except TimeoutError:
        _signal_group(proc, signal.SIGKILL)
        return await proc.wait()
