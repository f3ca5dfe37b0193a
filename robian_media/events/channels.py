"""Channel names (docs/architecture.md §5): which exist, how their ids look, how many one connection
may follow.

``debates``, ``jobs``, ``system`` are global; ``job:{id}``, ``debate:{id}``, ``live:{id}`` follow one
thing. Ids that are UUIDs are written in canonical lower-case form, so ``job:ABC…`` and ``job:abc…``
are the same channel for publishers and listeners alike.

``parts:{id}`` is internal: a live worker publishing with the s3 store tells API nodes that a live
sitting's playlists changed (several times a second); no client may follow it.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterable

GLOBAL_CHANNELS = frozenset({"debates", "jobs", "system"})
# prefixes of per-thing channels; `owner:{id}` is private to that owner's devices (device_auth)
ID_PREFIXES = frozenset({"job", "debate", "live", "owner"})
# per-thing channels only the server's own processes publish and follow (never relayed to clients)
INTERNAL_PREFIXES = frozenset({"parts"})
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class ChannelError(ValueError):
    """A channel list a client must fix; the message says how."""


def canonical_channel(name: str, *, internal: bool = True) -> str:
    """The canonical form of one channel name, or ``ChannelError`` (``internal``: ours may be named)."""
    name = name.strip()
    if name in GLOBAL_CHANNELS:
        return name
    prefix, sep, ident = name.partition(":")
    if not sep or (prefix not in ID_PREFIXES and not (internal and prefix in INTERNAL_PREFIXES)):
        known = ", ".join(sorted(GLOBAL_CHANNELS) + [f"{p}:{{id}}" for p in sorted(ID_PREFIXES)])
        raise ChannelError(f"unknown channel {name[:80]!r}; channels are {known}")
    if not _ID.fullmatch(ident):
        raise ChannelError(f"{name[:80]!r}: the id must be 1-64 letters, digits, '-' or '_'")
    with contextlib.suppress(ValueError):
        ident = str(uuid.UUID(ident))
    return f"{prefix}:{ident}"


def channel_kind(name: str) -> str:
    """A bounded label for metrics: the global name or the id prefix."""
    return name.partition(":")[0]


def parse_channels(names: Iterable[str], *, limit: int) -> list[str]:
    """Canonical, de-duplicated channels in the given order; at least one, at most ``limit``."""
    seen: dict[str, None] = {}
    for raw in names:
        if raw.strip():
            seen[canonical_channel(raw, internal=False)] = None
    if not seen:
        raise ChannelError("name at least one channel")
    if len(seen) > limit:
        raise ChannelError(f"{len(seen)} channels asked; one connection may follow at most {limit}")
    return list(seen)
