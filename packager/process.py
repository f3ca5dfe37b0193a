"""Child processes (FFmpeg, and the server's yt-dlp child): started so they die with us, stderr drained,
stopped in three steps — ask, wait with a deadline, kill — and always reaped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections import deque


def die_with_parent() -> list[str]:
    """argv prefix: the kernel kills the child if we die (even by SIGKILL), so no orphan keeps writing."""
    if sys.platform.startswith("linux"):
        setpriv = shutil.which("setpriv")
        if setpriv:
            return [setpriv, "--pdeathsig", "KILL", "--"]
    return []


async def drain_stderr(stream: asyncio.StreamReader, tail: deque[str]) -> None:
    """Read ``stream`` to its end (a full pipe blocks the child), keeping its last lines in ``tail``."""
    async for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip()
        if line:
            tail.append(line)


def _signal(proc: asyncio.subprocess.Process, sig: signal.Signals, group: bool) -> None:
    if group:
        # a child started with start_new_session leads its own group: the group takes grandchildren
        # (FFmpeg started by yt-dlp) with it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)


async def stop_process(
    proc: asyncio.subprocess.Process,
    *,
    grace: float = 3.0,
    ask: bytes | None = None,
    group: bool = False,
) -> int:
    """Stop ``proc`` and reap it; returns its exit status.

    With ``ask`` (FFmpeg's ``q``), the child is asked first: ``ask`` written on its stdin if still open, stdin
    closed (for a child reading its input there, the end of input is the ask), ``grace`` seconds to finish.
    Then SIGTERM (without ``ask``, stdin closed and SIGTERM is the ask), ``grace`` seconds, SIGKILL.
    ``group`` signals the child's whole process group too.
    """
    if proc.returncode is not None:
        return proc.returncode
    steps: list[signal.Signals | None] = [signal.SIGTERM, signal.SIGKILL]
    if ask is not None:
        steps.insert(0, None)
    if proc.stdin is not None and not proc.stdin.is_closing():
        if ask is not None:
            with contextlib.suppress(OSError, RuntimeError, TimeoutError):
                proc.stdin.write(ask)
                await asyncio.wait_for(proc.stdin.drain(), grace)
        with contextlib.suppress(OSError, RuntimeError):
            proc.stdin.close()
    for step in steps:
        if step is not None:
            _signal(proc, step, group)
        try:
            # shielded: a deadline that passes must not cancel the wait that reaps the child
            deadline = None if step == signal.SIGKILL else grace
            return await asyncio.wait_for(asyncio.shield(proc.wait()), deadline)
        except TimeoutError:
            continue
    return await proc.wait()
