"""Requests held open at once (LL-HLS waits, event streams): at most ``total`` in this process and
``per_client`` for one client (keyed as :mod:`.client_address` says), so one client cannot take every
slot of a process nor a process be made to hold unbounded work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ServiceUnavailable, TooManyRequests

RETRY_AFTER = {"Retry-After": "1"}


class ClientSlots:
    def __init__(self, total: int, per_client: int, what: str) -> None:
        self.total = total
        self.per_client = per_client
        self.what = what  # "live playlist reloads waiting": how the refusals name them
        self.held = 0
        self._by_client: dict[str, int] = {}

    def held_by(self, client: str) -> int:
        return self._by_client.get(client, 0)

    def take(self, client: str) -> None:
        """Take a slot for ``client``; 503 when the process is full, 429 when the client is."""
        if self.held >= self.total:
            raise ServiceUnavailable(
                f"Too many {self.what} on this server; retry shortly.", headers=RETRY_AFTER
            )
        mine = self._by_client.get(client, 0)
        if mine >= self.per_client:
            raise TooManyRequests(
                f"Too many {self.what} from your address (at most {self.per_client} at once).",
                headers=RETRY_AFTER,
            )
        self._by_client[client] = mine + 1
        self.held += 1

    def give_back(self, client: str) -> None:
        self.held -= 1
        mine = self._by_client[client] - 1
        if mine:
            self._by_client[client] = mine
        else:
            del self._by_client[client]

    @contextmanager
    def hold(self, client: str) -> Iterator[None]:
        self.take(client)
        try:
            yield
        finally:
            self.give_back(client)
