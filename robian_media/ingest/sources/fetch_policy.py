"""Which URLs ingest may fetch (docs/architecture.md §4): http(s) only, public addresses only,
allowlisted hosts.

The same policy is checked three times: when a job is submitted (a fast 422), on every connection
our own HTTP client opens (resolver + each redirect hop), and on every socket the yt-dlp subprocess
opens (:mod:`robian_media.ingest.sources.socket_guard`). Checking addresses after DNS resolution and at
connect time is what keeps DNS rebinding and redirects from reaching internal services.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ...jobs.errors import SourceRefused

if TYPE_CHECKING:  # the yt-dlp subprocess imports this module: keep its start light
    from ...settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64 = ipaddress.ip_network("64:ff9b::/96")
# categories ROBIAN_INGEST_ALLOW_PRIVATE opens; link-local (cloud metadata), multicast, reserved and
# the unspecified address stay closed whatever the setting
PRIVATE_CATEGORIES = frozenset({"loopback", "private", "non-public"})


def embedded_ipv4(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo), else ``ip`` itself."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return ip


def address_category(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address, or None when it is one."""
    ip = embedded_ipv4(ip)
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-public"
    return None


def parse_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0].strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    allowlist: tuple[str, ...] = ()
    allow_private: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        return cls(allowlist=tuple(settings.ingest_allowlist), allow_private=settings.ingest_allow_private)

    def as_json(self) -> dict[str, Any]:
        return {"allowlist": list(self.allowlist), "allow_private": self.allow_private}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FetchPolicy:
        return cls(allowlist=tuple(data["allowlist"]), allow_private=bool(data["allow_private"]))

    def host_allowed(self, host: str) -> bool:
        """An empty allowlist allows any host; an entry allows itself and its subdomains."""
        if not self.allowlist:
            return True
        host = host.lower().rstrip(".").strip("[]")
        return any(host == entry or host.endswith("." + entry) for entry in self.allowlist)

    def address_refusal(self, ip: IPAddress) -> str | None:
        """A reason to refuse connecting to ``ip``, or None."""
        category = address_category(ip)
        if category is None or (self.allow_private and category in PRIVATE_CATEGORIES):
            return None
        hint = (
            " (ROBIAN_INGEST_ALLOW_PRIVATE opens loopback and private ranges)"
            if (category in PRIVATE_CATEGORIES)
            else ""
        )
        return f"{ip} is a {category} address{hint}"

    def check_url_shape(self, url: str) -> str:
        """Scheme and allowlist, before any DNS; returns the host."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise SourceRefused(
                f"Only http and https sources can be fetched, not {parts.scheme or 'no'} scheme."
            )
        host = parts.hostname
        if not host:
            raise SourceRefused(f"The URL {url!r} has no host.")
        if parts.username or parts.password:
            raise SourceRefused("Source URLs with credentials (user:password@) are refused.")
        if not self.host_allowed(host):
            raise SourceRefused(
                f"The host {host} is not in ROBIAN_INGEST_ALLOWLIST ({', '.join(self.allowlist)})."
            )
        return host

    def check_addresses(self, host: str, addresses: list[IPAddress]) -> None:
        if not addresses:
            raise SourceRefused(f"The host {host} has no address.")
        for ip in addresses:
            reason = self.address_refusal(ip)
            if reason is not None:
                raise SourceRefused(f"The host {host} is refused: {reason}.")

    async def check_url(self, url: str) -> None:
        """Everything checkable before fetching: scheme, allowlist, and every address the host has now."""
        host = self.check_url_shape(url)
        literal = parse_ip(host)
        if literal is not None:
            self.check_addresses(host, [literal])
            return
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise SourceRefused(f"The host {host} cannot be resolved: {exc.strerror}.") from None
        self.check_addresses(host, [ip for info in infos if (ip := parse_ip(str(info[4][0])))])
