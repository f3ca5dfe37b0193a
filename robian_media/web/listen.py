"""The listening sockets of ``serve``, bound before anything else starts.

A port already taken (another ``robian-media serve`` or ``make run``) is found in a fraction of a
second, before the database, the workers or the demo start, and reported in one line; the bound
sockets are then handed to aiohttp, so no other process can take the port in between.
"""

from __future__ import annotations

import errno
import socket


class PortUnavailable(Exception):
    """The address cannot be listened on; the message says what to do, in one line."""


def bind_listen_sockets(host: str, port: int) -> list[socket.socket]:
    """One bound socket per address ``host`` resolves to (``""``: every interface)."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise PortUnavailable(
            f"cannot listen on {host!r}: {exc.strerror}; check --host or ROBIAN_HOST"
        ) from None
    sockets: list[socket.socket] = []
    try:
        for family, _, _, _, address in dict.fromkeys((i[0], i[1], i[2], i[3], i[4]) for i in infos):
            sockets.append(socket.create_server(address[:2], family=family))
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise PortUnavailable(_explain(exc, host, port)) from None
    return sockets


def _explain(exc: OSError, host: str, port: int) -> str:
    where = f"port {port} on {host or 'every interface'}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"{where} is already in use (another robian-media running?): stop it, "
            "or choose another port with --port or ROBIAN_PORT"
        )
    if exc.errno == errno.EACCES:
        return f"{where} needs privileges: choose a port above 1023 with --port or ROBIAN_PORT"
    return f"cannot listen on {where}: {exc.strerror}"
