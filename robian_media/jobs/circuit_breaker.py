"""One circuit breaker per source host: stop hammering a host whose requests keep failing.

After ``threshold`` transient failures in a row a host is left alone for ``cooldown`` seconds;
then one trial request is let through (half-open): success closes the circuit, failure reopens it.
Answers such as 404 prove the host is up, so only transient failures count. State is per worker
process, which is enough to keep each worker from retrying a dead host in a tight loop: one set,
in the worker's resources, is shared by every task it runs (ingest and live fetch alike).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from .errors import HostCircuitOpen, PermanentError, TransientError


@dataclass(slots=True)
class HostState:
    failures: int = 0
    opened_at: float | None = None
    trial_running: bool = False


class CircuitBreakers:
    def __init__(
        self, *, threshold: int = 5, cooldown: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._hosts: dict[str, HostState] = {}

    def _state(self, host: str) -> HostState:
        return self._hosts.setdefault(host.lower(), HostState())

    def before_request(self, host: str) -> None:
        state = self._state(host)
        if state.opened_at is None:
            return
        remaining = state.opened_at + self.cooldown - self._clock()
        if remaining > 0 or state.trial_running:
            raise HostCircuitOpen(
                f"Requests to {host} failed {state.failures} times in a row; "
                f"it is left alone for {max(remaining, 1):.0f} s more."
            )
        state.trial_running = True

    def record_success(self, host: str) -> None:
        self._hosts.pop(host.lower(), None)

    def record_failure(self, host: str) -> None:
        state = self._state(host)
        state.failures += 1
        state.trial_running = False
        if state.failures >= self.threshold:
            state.opened_at = self._clock()

    @asynccontextmanager
    async def guard(self, host: str) -> AsyncIterator[None]:
        self.before_request(host)
        try:
            yield
        except TransientError:
            self.record_failure(host)
            raise
        except PermanentError:
            # the host answered (a 404 is an answer): it is up
            self.record_success(host)
            raise
        except BaseException:
            # cancelled: says nothing about the host, but the trial slot is released
            self._state(host).trial_running = False
            raise
        self.record_success(host)
