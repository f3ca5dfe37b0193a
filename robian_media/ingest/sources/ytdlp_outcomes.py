"""What the yt-dlp child answers about what yt-dlp found or why it failed: a refusal before downloading
(:func:`check_info`), the live answer of a page (:func:`live_stream`), a failure's kind (:func:`classify`).

Plain functions of yt-dlp's info dicts and exceptions; they run in the child (:mod:`ytdlp_child`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .socket_guard import SocketGuard

# protocols whose downloads stay inside this Python process (and so behind the socket guard)
NATIVE_PROTOCOLS = {"http", "https", "m3u8", "m3u8_native", "http_dash_segments", "https_dash_segments"}


class TooLarge(Exception):
    pass


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it, through yt-dlp's ``exc_info`` and ``cause`` links."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen or len(seen) > 20:
            continue
        seen.add(id(current))
        yield current
        exc_info = getattr(current, "exc_info", None)
        if isinstance(exc_info, tuple) and len(exc_info) == 3:
            todo.append(exc_info[1])
        todo.extend([getattr(current, "cause", None), current.__cause__, current.__context__])


def classify(exc: BaseException, guard: SocketGuard) -> tuple[str, str]:
    """(kind, message) of a failed extraction or download; kind drives retry or not."""
    from yt_dlp.networking.exceptions import HTTPError, TransportError
    from yt_dlp.utils import UnsupportedError

    if guard.refusals:
        return "refused", guard.refusals[-1]
    chain = list(exception_chain(exc))
    for item in chain:
        if isinstance(item, TooLarge):
            return "too_large", str(item)
        if isinstance(item, HTTPError):
            status = item.status
            url = getattr(getattr(item, "response", None), "url", None) or "the source"
            if 300 <= status < 400:
                return (
                    "not_found",
                    f"{url} keeps redirecting (HTTP {status}): too many redirects, probably a loop.",
                )
            text = f"{url} answered HTTP {status} {item.reason or ''}".strip()
            if status >= 500 or status in (408, 425, 429):
                return "transient", text
            return "not_found", text
        if isinstance(item, UnsupportedError):
            return "unsupported", f"No audio or video was found at {item.url}."
    for item in chain:
        if isinstance(item, TransportError | ConnectionError | TimeoutError):
            return "transient", f"Network error while fetching the source: {item}"
    return "failed", str(exc).removeprefix("ERROR: ")


def check_info(info: dict[str, Any], request: dict[str, Any]) -> str | None:
    """A reason to refuse what extraction found, before downloading it."""
    if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
        return "live:This source is a live stream; live sittings are followed with POST /api/v1/live."
    duration = info.get("duration")
    if duration and duration > request["max_duration"]:
        limit = request["max_duration"]
        return f"too_large:The source lasts {duration:.0f} s, more than the {limit:.0f} s allowed."
    size = info.get("filesize") or info.get("filesize_approx")
    if size and size > request["max_bytes"]:
        return f"too_large:The source is {size} bytes, more than the {request['max_bytes']} allowed."
    protocol = str(info.get("protocol") or "")
    if protocol and not set(protocol.split("+")) <= NATIVE_PROTOCOLS:
        return f"unsupported:The source's protocol {protocol} is not supported."
    return None


HLS_PROTOCOLS = {"m3u8", "m3u8_native"}


def live_stream(info: dict[str, Any]) -> dict[str, Any]:
    """The ``live`` answer for what extraction found: its HLS manifest, or why there is none."""
    if info.get("live_status") in ("was_live", "not_live", "post_live") or info.get("is_live") is False:
        return {"type": "error", "kind": "unsupported", "message": "This page's video is not live."}
    if info.get("live_status") == "is_upcoming":
        return {"type": "error", "kind": "unsupported", "message": "This page has no live stream now."}
    formats = info.get("formats") or [info]
    hls = [f for f in formats if f.get("protocol") in HLS_PROTOCOLS and f.get("url")]
    if not hls:
        protocols = sorted({str(f.get("protocol")) for f in formats if f.get("protocol")})
        message = "This page has no live stream now."
        if protocols:
            message = f"This page has no live stream now (its media is {', '.join(protocols)}, not HLS)."
        return {"type": "error", "kind": "unsupported", "message": message}
    # the master playlist when there is one: the live source picks its audio rendition itself
    chosen = hls[-1]
    return {
        "type": "live",
        "playlist_url": chosen.get("manifest_url") or chosen["url"],
        "title": info.get("title"),
        "timestamp": info.get("release_timestamp") or info.get("timestamp"),
    }
