"""``robian-media nginx-conf``: the nginx origin (and edge cache) configuration for the current settings.

The configuration itself lives in ``nginx/*.conf.in``; this module only fills in values. A placeholder
alone on its line (``{{ name }}`` or ``{{> snippet }}``) takes a block, indented like the placeholder and
dropped when empty; ``{{ name }}`` inside a line takes a single-line value.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..settings import Settings
from ..web.errors import (
    PROBLEM_BASE,
    PROBLEM_CONTENT_TYPE,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
)

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "nginx"

_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\{\{(?P<include>>)?\s*(?P<name>[\w-]+)\s*\}\}[ \t]*$", re.MULTILINE)
_INLINE = re.compile(r"\{\{\s*(?P<name>\w+)\s*\}\}")
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
# characters a double-quoted nginx string cannot carry as-is ("$" starts a variable)
_UNSAFE_PATH = re.compile(r'["\\$\x00-\x1f\x7f]')

# the errors nginx answers itself (its own refusals, an unreachable API), in the API's problem+json shape;
# not 400: a request line nginx cannot parse has no URI to redirect to a named location with
_PROBLEMS: tuple[tuple[int, str, str, str], ...] = (
    (Forbidden.status, Forbidden.title, Forbidden.slug, "This client may not read this resource."),
    (NotFound.status, NotFound.title, NotFound.slug, "No resource at this path."),
    (405, "Method not allowed", "method-not-allowed", "This method is not allowed here."),
    (
        PayloadTooLarge.status,
        PayloadTooLarge.title,
        PayloadTooLarge.slug,
        "The request body is larger than this server accepts.",
    ),
    (
        TooManyRequests.status,
        TooManyRequests.title,
        TooManyRequests.slug,
        "Too many requests from this address; retry in a second.",
    ),
    (500, "Internal server error", "internal", "The server failed to answer this request."),
    (502, "Bad gateway", "bad-gateway", "The API is unreachable; retry shortly."),
    (
        ServiceUnavailable.status,
        ServiceUnavailable.title,
        ServiceUnavailable.slug,
        "The service is unavailable; retry shortly.",
    ),
    (504, "Gateway timeout", "gateway-timeout", "The API did not answer in time; retry shortly."),
)


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def reachable(self) -> Address:
        """Where a local client connects to reach a server listening here (not the wildcard)."""
        if self.host == "0.0.0.0":  # noqa: S104 - recognising the wildcard, not binding to it
            return Address("127.0.0.1", self.port)
        if self.host == "::":
            return Address("::1", self.port)
        return self


def parse_address(text: str) -> Address:
    """``HOST:PORT`` or ``[IPv6]:PORT``."""
    match = re.fullmatch(r"\[(?P<v6>[0-9A-Fa-f:.]+)\]:(?P<port>\d+)|(?P<host>[^:\[\]]+):(?P<port4>\d+)", text)
    if match is None:
        raise ValueError(f"{text!r} is not HOST:PORT (IPv6: [ADDRESS]:PORT)")
    host = match["v6"] or match["host"]
    port = int(match["port"] or match["port4"])
    if not 1 <= port <= 65535:
        raise ValueError(f"{text!r}: the port must be 1-65535")
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        if match["v6"] or not _HOSTNAME.match(host):
            raise ValueError(f"{text!r}: {host!r} is neither an IP address nor a host name") from None
    return Address(host, port)


@dataclass(frozen=True)
class NginxLayout:
    """What the command line says: where nginx listens, which API nodes it fronts, where it keeps files."""

    listen: Address
    upstreams: list[Address]
    edge_listen: Address | None = None
    # the origin the edge fronts; unset = this configuration's own origin (``listen``)
    edge_origin: Address | None = None
    # runtime files (pid, logs, temp, cache); unset = relative paths, resolved against `nginx -p DIR`
    prefix: Path | None = None


def render_nginx_conf(settings: Settings, layout: NginxLayout) -> str:
    """A complete nginx.conf: the origin, and the edge cache when ``layout.edge_listen`` is set."""
    if not layout.upstreams:
        raise ValueError("at least one --upstream (an API node) is required")
    if layout.edge_origin is not None and layout.edge_listen is None:
        raise ValueError("--edge-origin needs --edge-listen")
    if layout.edge_listen is not None and layout.edge_listen == layout.listen:
        raise ValueError("--edge-listen must differ from --listen")
    media_root = _nginx_path(settings.media_root.resolve(), "the media root (ROBIAN_MEDIA_ROOT)")
    prefix = _nginx_path(layout.prefix.resolve(), "--prefix") + "/" if layout.prefix else ""
    values = {
        "run_hint": f"nginx -c FILE -p {prefix[:-1]}" if prefix else "nginx -c FILE -p DIR",
        "user_line": f"user {settings.nginx_user};" if settings.nginx_user else "",
        "worker_processes": settings.nginx_worker_processes,
        "prefix": prefix,
        "media_root": media_root,
        "listen": str(layout.listen),
        "client_max_body_size": str(settings.max_body_bytes),
        "api_rate": str(settings.nginx_api_rate),
        "api_burst": str(settings.nginx_api_burst),
        "streams_per_address": str(settings.events_listeners_per_address),
        "hls_live_rate": str(settings.nginx_hls_live_rate),
        "hls_live_burst": str(settings.nginx_hls_live_burst),
        "upstream_servers": "\n".join(
            f"server {address} max_fails=3 fail_timeout=10s;" for address in layout.upstreams
        ),
        "real_ip": _real_ip(settings, layout),
        "metrics_allow": "\n".join(
            f"allow {network};" for network in ["127.0.0.0/8", "::1", *settings.nginx_metrics_allow]
        ),
        "problem_pages": _problem_pages(),
        "edge": "",
        **_store_values(settings, prefix),
    }
    values["hls_locations"] = _render(
        "hls-store.conf.in" if settings.s3_location else "hls-files.conf.in", values
    ).rstrip("\n")
    if layout.edge_listen is not None:
        origin = layout.edge_origin or layout.listen.reachable()
        edge_values = {**values, "edge_listen": str(layout.edge_listen), "edge_origin": str(origin)}
        values["edge"] = _render("edge.conf.in", edge_values).rstrip("\n")
    return _render("nginx.conf.in", values)


def _store_values(settings: Settings, prefix: str) -> dict[str, str]:
    """The s3 store's bucket behind /hls/ (path-style URLs); empty blocks for the file store."""
    location = settings.s3_location
    if location is None:
        return {"store_cache": "", "store_upstream": ""}
    bucket, key_prefix = location
    endpoint = urlsplit(settings.s3_endpoint_url or f"https://s3.{settings.s3_region}.amazonaws.com")
    host = endpoint.hostname or ""
    if not _HOSTNAME.match(host) and not _is_ip(host):
        raise ValueError(f"ROBIAN_S3_ENDPOINT_URL: {host!r} is not a host name")
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    netloc = endpoint.netloc.rsplit("@", 1)[-1]
    return {
        "store_cache": (
            f'proxy_cache_path "{prefix}store_cache" levels=1:2 keys_zone=robian_store:32m max_size=10g '
            "inactive=30d use_temp_path=off;"
        ),
        "store_upstream": "\n".join(
            [
                "# the media store (ROBIAN_MEDIA_STORE, ROBIAN_S3_ENDPOINT_URL)",
                "upstream robian_store {",
                f"    server {Address(host, port)};",
                "    keepalive 16;",
                "}",
            ]
        ),
        "store_scheme": endpoint.scheme,
        "store_host": netloc,
        "store_path": f"{bucket}/{key_prefix}/" if key_prefix else f"{bucket}/",
        "store_tls": (
            f"proxy_ssl_server_name on;\nproxy_ssl_name {host};" if endpoint.scheme == "https" else ""
        ),
    }


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _nginx_path(path: Path, what: str) -> str:
    text = str(path)
    if _UNSAFE_PATH.search(text):
        raise ValueError(f"{what} {text!r} contains a quote, backslash, '$' or control character")
    return text.rstrip("/") or "/"


def _real_ip(settings: Settings, layout: NginxLayout) -> str:
    """Believe X-Forwarded-For only from the hops in front of us: the local edge, configured proxies."""
    trusted = list(settings.nginx_trusted_proxies)
    if layout.edge_listen is not None and layout.edge_origin is None:
        trusted.extend(_addresses_of(layout.listen.reachable().host))
    if not trusted:
        return ""
    lines = ["# the client address is the last one the hop in front appended to X-Forwarded-For"]
    lines += [f"set_real_ip_from {network};" for network in dict.fromkeys(trusted)]
    lines.append("real_ip_header X-Forwarded-For;")
    return "\n".join(lines)


def _addresses_of(host: str) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        return sorted({str(info[4][0]) for info in infos})


def _problem_pages() -> str:
    lines = ["# the errors nginx answers itself are problem+json, like the API's"]
    lines += [f"error_page {status} @problem_{status};" for status, *_ in _PROBLEMS]
    for status, title, slug, detail in _PROBLEMS:
        problem = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
        body = json.dumps(problem, separators=(",", ":"))
        quoted = body.replace("\\", "\\\\").replace("'", "\\'")
        lines += [
            f"location @problem_{status} {{",
            # no types: the failed URI's extension (.m4s, .json) must not pick the Content-Type
            "    types { }",
            f"    default_type {PROBLEM_CONTENT_TYPE};",
            *(["    add_header Retry-After 1 always;"] if status == TooManyRequests.status else []),
            f"    return {status} '{quoted}';",
            "}",
        ]
    return "\n".join(lines)


def _render(name: str, values: dict[str, str]) -> str:
    template = (TEMPLATE_DIR / name).read_text(encoding="utf-8")

    def block(match: re.Match[str]) -> str:
        key = match["name"]
        if match["include"]:
            text = _render(f"{key}.conf.in", values).rstrip("\n")
        elif key in values:
            text = values[key]
        else:
            raise KeyError(f"{name}: unknown placeholder {key!r}")
        indent = match["indent"]
        return "\n".join(indent + line if line else line for line in text.split("\n")) if text else "\x00"

    def inline(match: re.Match[str]) -> str:
        value = values.get(match["name"])
        if value is None or "\n" in value:
            raise KeyError(f"{name}: {match['name']!r} is not a one-line value")
        return value

    text = _INLINE.sub(inline, _BLOCK.sub(block, template))
    # an empty block leaves no blank line behind
    return re.sub(r"^\x00\n", "", text, flags=re.MULTILINE)
