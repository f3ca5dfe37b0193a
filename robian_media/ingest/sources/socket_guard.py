"""Enforce a :class:`FetchPolicy` on every socket of this process (the yt-dlp subprocess only).

yt-dlp follows redirects, fetches manifests, segments and keys through whatever HTTP library it
picked; all of them end in ``socket.getaddrinfo`` and ``socket.connect``. Wrapping those two is the
one place that sees every host name and every address actually connected to, after redirects and
after DNS (so a name that resolved to a public address at submit time and to 127.0.0.1 now is
refused now).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from .fetch_policy import FetchPolicy, parse_ip


class ConnectionRefusedByPolicy(ConnectionRefusedError):
    """An OSError, so the HTTP libraries treat it as the failed connection it is."""


class SocketGuard:
    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy
        self.refusals: list[str] = []
        self._getaddrinfo: Callable[..., Any] = socket.getaddrinfo
        self._connect: Callable[..., Any] = socket.socket.connect
        self._connect_ex: Callable[..., Any] = socket.socket.connect_ex

    def _refuse(self, reason: str) -> ConnectionRefusedByPolicy:
        self.refusals.append(reason)
        return ConnectionRefusedByPolicy(reason)

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host is None:
            return self._getaddrinfo(host, port, *args, **kwargs)
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not self.policy.host_allowed(name):
            raise self._refuse(f"The host {name} is not in ROBIAN_INGEST_ALLOWLIST.")
        infos = self._getaddrinfo(host, port, *args, **kwargs)
        for info in infos:
            ip = parse_ip(str(info[4][0]))
            reason = self.policy.address_refusal(ip) if ip is not None else "not an IP address"
            if reason is not None:
                raise self._refuse(f"The host {name} is refused: {reason}.")
        return infos

    def check_address(self, sock: socket.socket, address: Any) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            raise self._refuse(f"Sockets of family {sock.family!r} are not allowed while fetching sources.")
        host = str(address[0])
        ip = parse_ip(host)
        if ip is None:
            # connect() with a name resolves inside the C library: resolve (and check) it here first
            self.getaddrinfo(host, address[1], sock.family, sock.type)
            return
        reason = self.policy.address_refusal(ip)
        if reason is not None:
            raise self._refuse(f"Connecting to {reason} is refused.")

    def install(self) -> None:
        guard = self

        def connect(sock: socket.socket, address: Any) -> None:
            guard.check_address(sock, address)
            guard._connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            guard.check_address(sock, address)
            return int(guard._connect_ex(sock, address))

        socket.getaddrinfo = self.getaddrinfo
        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
