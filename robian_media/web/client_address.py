"""Who a request comes from: its peer address, or, when the peer is one of our trusted proxies, the
last ``X-Forwarded-For`` hop that is not. Rate limits and per-client caps count by this key; IPv6
clients are counted per /64 (one subscriber holds a whole /64).

A deployment that forgets to list its proxies in ``ROBIAN_TRUSTED_PROXIES`` makes every client share
the proxy's address (one client then exhausts everyone's limits): the first request carrying
``X-Forwarded-For`` from a peer we do not trust is logged as a warning naming that peer.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from aiohttp import web

from . import keys

log = logging.getLogger(__name__)

MAX_ADDRESS_MEMO = 4096

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Address(NamedTuple):
    trusted: bool  # a proxy of ours: its X-Forwarded-For is believed
    bucket: str  # what is counted


class ClientAddresses:
    def __init__(self, trusted_proxies: list[str]) -> None:
        self._proxies = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        self._addresses: dict[str, Address] = {}
        self.warned_untrusted_forwarding = False

    def _address(self, text: str) -> Address:
        known = self._addresses.get(text)
        if known is None:
            known = _parse_address(text, self._proxies)
            if len(self._addresses) >= MAX_ADDRESS_MEMO:
                self._addresses.clear()
            self._addresses[text] = known
        return known

    def key_for(self, peer: str, forwarded_for: list[str]) -> str:
        """The client's key: X-Forwarded-For is read right to left, only past trusted proxies."""
        client = self._address(peer)
        if client.trusted and forwarded_for:
            hops = [h.strip() for value in forwarded_for for h in value.split(",")]
            for hop in reversed([h for h in hops if h]):
                client = self._address(hop)
                if not client.trusted:
                    break
        return client.bucket

    def key(self, request: web.Request) -> str:
        return self.key_for(request.remote or "unknown", request.headers.getall("X-Forwarded-For", []))

    def check_forwarding(self, request: web.Request) -> None:
        """Warn (once per process) when a peer we do not trust sends X-Forwarded-For."""
        if self.warned_untrusted_forwarding or "X-Forwarded-For" not in request.headers:
            return
        peer = request.remote or "unknown"
        if self._address(peer).trusted:
            return
        self.warned_untrusted_forwarding = True
        log.warning(
            "requests with X-Forwarded-For come from %s, which ROBIAN_TRUSTED_PROXIES does not list: "
            "if it is your proxy, every client behind it shares one address (rate limits, caps); "
            "add its address or network to ROBIAN_TRUSTED_PROXIES",
            peer,
            extra={"peer": peer},
        )


def _parse_address(text: str, proxies: list[IPNetwork]) -> Address:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return Address(False, text[:64])
    trusted = any(ip in net for net in proxies)
    if ip.version == 6 and ip.ipv4_mapped is None:
        return Address(trusted, str(ipaddress.ip_network(f"{ip}/64", strict=False)))
    return Address(trusted, str(getattr(ip, "ipv4_mapped", None) or ip))


def client_key(request: web.Request) -> str:
    return request.app[keys.CLIENT_ADDRESSES].key(request)
