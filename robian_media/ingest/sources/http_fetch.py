"""Our own HTTP fetches of source metadata (data.nvs, comptes rendus, acteurs), behind the policy.

Redirects are followed by hand so that every hop is checked (scheme, allowlist, and IP literals,
which aiohttp never sends to the resolver); host names are checked by :class:`GuardedResolver` on
the addresses a connection is actually about to use. Failures are typed (transient or not) and
counted by the per-host circuit breaker.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from ...jobs.circuit_breaker import CircuitBreakers
from ...jobs.errors import SourceNotFound, SourceRefused, SourceTooLarge, SourceUnavailable
from .fetch_policy import FetchPolicy, parse_ip

MAX_REDIRECTS = 5
USER_AGENT = "robian-media (+https://github.com/robian-media)"


@dataclass(frozen=True, slots=True)
class Peeked:
    url: str  # after redirects
    content_type: str
    body: bytes


class GuardedResolver(AbstractResolver):
    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if not self._policy.host_allowed(host):
            raise SourceRefused(f"The host {host} is not in ROBIAN_INGEST_ALLOWLIST.")
        results = await self._inner.resolve(host, port, family)
        self._policy.check_addresses(host, [ip for r in results if (ip := parse_ip(r["host"]))])
        return results

    async def close(self) -> None:
        await self._inner.close()


class SourceClient:
    """An aiohttp session bound to a fetch policy and the worker's circuit breakers."""

    def __init__(self, policy: FetchPolicy, breakers: CircuitBreakers, *, timeout: float = 30.0) -> None:
        self.policy = policy
        self.breakers = breakers
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=GuardedResolver(policy), limit_per_host=4),
            timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=10),
            headers={"User-Agent": USER_AGENT},
            trust_env=False,
        )

    async def close(self) -> None:
        await self._session.close()

    def _check_hop(self, url: str) -> str:
        host = self.policy.check_url_shape(url)
        literal = parse_ip(host)
        if literal is not None:
            self.policy.check_addresses(host, [literal])
        return host

    async def fetch(self, url: str, *, max_bytes: int, what: str) -> bytes:
        """The body of ``url`` (≤ ``max_bytes``) after checked redirects; ``what`` names it in errors."""
        return (await self._get(url, max_bytes=max_bytes, what=what, head_only=False)).body

    async def peek(self, url: str, *, head_bytes: int, what: str) -> Peeked:
        """Where ``url`` ends after checked redirects, its content type and its first ``head_bytes``."""
        return await self._get(url, max_bytes=head_bytes, what=what, head_only=True)

    async def _get(self, url: str, *, max_bytes: int, what: str, head_only: bool) -> Peeked:
        for _ in range(MAX_REDIRECTS + 1):
            host = self._check_hop(url)
            async with self.breakers.guard(host), self._request(url, what) as response:
                if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                    url = urljoin(url, response.headers["Location"])
                    continue
                _raise_for_status(response, what)
                if head_only:
                    body = await _read_head(response, max_bytes, what)
                else:
                    body = await _read_limited(response, max_bytes, what)
                return Peeked(url=url, content_type=response.content_type, body=body)
        raise SourceNotFound(f"The {what} at {url} redirects more than {MAX_REDIRECTS} times.")

    @asynccontextmanager
    async def _request(self, url: str, what: str) -> AsyncIterator[aiohttp.ClientResponse]:
        try:
            async with self._session.get(url, allow_redirects=False) as response:
                yield response
        except SourceRefused:
            raise
        except aiohttp.ClientConnectorError as exc:
            raise SourceUnavailable(
                f"Cannot connect to {urlsplit(url).netloc} for the {what}: {exc}"
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SourceUnavailable(
                f"Fetching the {what} at {url} failed: {exc or type(exc).__name__}"
            ) from None


def _raise_for_status(response: aiohttp.ClientResponse, what: str) -> None:
    status = response.status
    if status < 300:
        return
    text = f"The {what} at {response.url} answered HTTP {status} {response.reason or ''}".strip()
    if status >= 500 or status in (408, 425, 429):
        raise SourceUnavailable(text + ".")
    raise SourceNotFound(text + ".")


async def _read_limited(response: aiohttp.ClientResponse, max_bytes: int, what: str) -> bytes:
    length = response.content_length
    if length is not None and length > max_bytes:
        raise SourceTooLarge(f"The {what} is {length} bytes, more than the {max_bytes} accepted.")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise SourceTooLarge(f"The {what} is larger than the {max_bytes} bytes accepted.")
            chunks.append(chunk)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SourceUnavailable(f"Reading the {what} failed: {exc or type(exc).__name__}") from None
    return b"".join(chunks)


async def _read_head(response: aiohttp.ClientResponse, head_bytes: int, what: str) -> bytes:
    """The first ``head_bytes`` of the body (the rest is not read: the connection is dropped)."""
    try:
        return await response.content.read(head_bytes)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SourceUnavailable(f"Reading the {what} failed: {exc or type(exc).__name__}") from None
