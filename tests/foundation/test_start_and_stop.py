"""Starting and stopping ``robian-media serve`` as a person does: twice on one port, Ctrl-C at any moment."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from robian_media.app import JOB_TASKS
from robian_media.jobs.queue import create_job_queue, opened
from robian_media.ops.background import cancel_and_wait
from tests.services import ServerProcess, free_port, server_env

# the worker's grace plus the time to close the pools, the event bus and the sockets
STOP_BOUND_S = 15.0


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_busy_port_is_refused_at_once_in_one_line(tmp_path: Path, database_url: str, command: str) -> None:
    env = server_env(database_url=database_url, data_dir=str(tmp_path / "data"), workers="1")
    with socket.create_server(("127.0.0.1", 0)) as other:
        port = other.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "robian_media.cli", command, "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
    print(f"{command} on a busy port: exit {done.returncode} after {elapsed:.2f} s")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"port {port}" in lines[0] and "already in use" in lines[0] and "--port" in lines[0]
    assert done.stdout == ""
    # nothing started: no database, no worker (their first lines never came)
    assert not (tmp_path / "data").exists()


def test_ctrl_c_at_any_moment_of_start_up_ends_the_process(tmp_path: Path, database_url: str) -> None:
    env = server_env(
        database_url=database_url,
        data_dir=str(tmp_path / "data"),
        workers="1",
        worker_shutdown_grace_seconds="2",
        log_level="WARNING",
    )
    # how long start-up takes here (the machine is shared): the Ctrl-Cs are spread over all of it
    warm_up = ServerProcess(env, tmp_path / "warm-up.log")
    began = time.monotonic()
    warm_up.start()
    started_in = time.monotonic() - began
    assert warm_up.stop(timeout=STOP_BOUND_S) == 0, warm_up.output()
    slow: list[str] = []
    for attempt in range(20):
        # even attempts: spread from the first imports to a second of serving; odd ones: the moment
        # /health first answers, when the worker and its stalled-job sweeper make their first queries
        # (where a swallowed cancel hung about one stop in three)
        delay = attempt * (started_in + 1.0) / 19 if attempt % 2 == 0 else None
        port = free_port()
        log = tmp_path / f"serve-{attempt}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "robian_media.cli", "serve", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if delay is None:
            wait_for_health(port, proc)
        else:
            time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        try:
            code = proc.wait(timeout=STOP_BOUND_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"attempt {attempt}: still running {STOP_BOUND_S} s after Ctrl-C:\n{log.read_text()}")
        took = time.monotonic() - sent
        output = log.read_text(errors="replace")
        # 130: Ctrl-C while the command was still loading; -SIGINT: before Python had started
        assert code in (0, 130, -signal.SIGINT), f"attempt {attempt}: exit {code}\n{output}"
        assert "Traceback" not in output and "CleanupError" not in output, f"attempt {attempt}:\n{output}"
        assert "ERROR" not in output, f"attempt {attempt}:\n{output}"
        slow.append(f"{'up' if delay is None else f'{delay:.2f}s'}→{took:.2f}s")
    print(f"started in {started_in:.2f} s; Ctrl-C after → stopped in:", ", ".join(slow))


def wait_for_health(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server did not start")


async def test_a_task_that_swallows_its_cancel_is_cancelled_again() -> None:
    """What a library swallowing a cancel did to the stalled-job sweeper: its owner waited forever."""
    swallowed = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            swallowed.set()  # as psycopg's pool did: carry on as if nothing happened
        await asyncio.sleep(60)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task), timeout=10)
    assert swallowed.is_set() and task.cancelled()


async def test_a_stop_while_the_job_queue_connects_leaves_none_of_its_pool_running(make_settings) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C while the queue's pool is still connecting (a slow PostgreSQL): the pool is closed then
    and there. Left to the event loop's end, one of its tasks took that late cancel for a failed
    connection and waited for work forever: ``serve`` then never exited."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # a PostgreSQL that accepts and never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    queue = create_job_queue(f"postgresql://postgres@127.0.0.1:{port}/robian", make_settings(), JOB_TASKS)

    async def start() -> None:
        async with opened(queue):
            await asyncio.Event().wait()

    starting = asyncio.create_task(start())
    try:
        async with asyncio.timeout(10):
            while not accepted:
                await asyncio.sleep(0.02)
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
        running = [t for t in asyncio.all_tasks() if "psycopg" in t.get_coro().cr_code.co_filename]
        assert running == []
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
