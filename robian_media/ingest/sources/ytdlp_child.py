"""The yt-dlp subprocess: ``python -m robian_media.ingest.sources.ytdlp_child`` with a JSON request on stdin.

Running yt-dlp in its own process lets a cancel kill it (with the ffmpeg it may start), keeps its
blocking I/O off the server's event loop, and lets :class:`SocketGuard` police every socket it opens.
It answers on stdout with one JSON object per line: ``progress`` messages, then ``done`` or ``error``;
yt-dlp's own log goes to stderr.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .fetch_policy import FetchPolicy
from .socket_guard import SocketGuard

# protocols whose downloads stay inside this Python process (and so behind the socket guard)
NATIVE_PROTOCOLS = {"http", "https", "m3u8", "m3u8_native", "http_dash_segments", "https_dash_segments"}


class TooLarge(Exception):
    pass


class Reporter:
    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def send(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message) + "\n")
        self._out.flush()


class StderrLogger:
    """yt-dlp prints to stdout unless given a logger; stdout is our protocol channel.

    It also remembers yt-dlp's one notice of a file over ``max_filesize``: yt-dlp then skips the
    download without raising, and the job should say why.
    """

    def __init__(self) -> None:
        self.too_large: str | None = None

    def debug(self, msg: str) -> None:
        if "larger than max-filesize" in msg:
            announced = re.search(r"\((\d+) bytes >", msg)
            self.too_large = f"it announces {announced.group(1)} bytes" if announced else "its size says so"
        if not msg.startswith("[debug] "):
            print(msg, file=sys.stderr)

    info = debug

    def warning(self, msg: str) -> None:
        print(f"WARNING: {msg}", file=sys.stderr)

    def error(self, msg: str) -> None:
        print(msg, file=sys.stderr)


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


def find_live(request: dict[str, Any], reporter: Reporter) -> None:
    """Extraction only: the page's live HLS manifest (``type: live``) or an error."""
    import yt_dlp

    guard = SocketGuard(FetchPolicy.from_json(request["policy"]))
    guard.install()
    options: dict[str, Any] = {
        "noplaylist": True,
        "playlist_items": "1",
        "logger": StderrLogger(),
        "quiet": True,
        "extractor_retries": 0,
        "socket_timeout": 20,
        "proxy": "",
        "cachedir": False,
        "no_color": True,
    }
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(request["url"], download=False)
            if info.get("_type") == "playlist":
                info = next((e for e in info.get("entries") or [] if e), None) or {}
    except Exception as exc:
        kind, message = classify(exc, guard)
        if kind == "unsupported":
            message = "This page has no live stream now (no HLS stream was found in it)."
        reporter.send({"type": "error", "kind": kind, "message": message})
        return
    reporter.send(live_stream(info))


def run(request: dict[str, Any], reporter: Reporter) -> None:
    if request.get("mode") == "live":
        find_live(request, reporter)
        return
    import yt_dlp

    guard = SocketGuard(FetchPolicy.from_json(request["policy"]))
    guard.install()
    max_bytes = int(request["max_bytes"])

    def on_progress(status: dict[str, Any]) -> None:
        downloaded = status.get("downloaded_bytes") or 0
        if downloaded > max_bytes:
            raise TooLarge(f"The source is larger than the {max_bytes} bytes allowed.")
        if status.get("status") == "finished":
            reporter.send({"type": "downloaded"})  # the rate watchdog stops here
        if status.get("status") != "downloading":
            return
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        fraction = None
        if total:
            fraction = min(1.0, downloaded / total)
        elif status.get("fragment_count"):
            fraction = min(1.0, (status.get("fragment_index") or 0) / status["fragment_count"])
        reporter.send({"type": "progress", "downloaded": downloaded, "total": total, "fraction": fraction})

    logger = StderrLogger()
    options: dict[str, Any] = {
        "format": "bestaudio/best",
        "outtmpl": {"default": str(Path(request["out_dir"]) / "source.%(ext)s")},
        "paths": {"home": request["out_dir"], "temp": request["out_dir"]},
        "noplaylist": True,
        "playlist_items": "1",
        "logger": logger,
        "quiet": True,
        "noprogress": True,
        "progress_hooks": [on_progress],
        "max_filesize": max_bytes,
        # our job queue retries transient failures with backoff; yt-dlp's own retries stay short
        "retries": 2,
        "fragment_retries": 3,
        "extractor_retries": 0,
        "socket_timeout": 20,
        # every download stays in this process, behind the socket guard; an ffmpeg fallback may
        # read local files only
        "external_downloader": {"default": "native"},
        "external_downloader_args": {"ffmpeg_i": ["-protocol_whitelist", "file,crypto,data"]},
        "proxy": "",
        "cachedir": False,
        "no_color": True,
    }
    if request.get("ffmpeg_location"):
        options["ffmpeg_location"] = request["ffmpeg_location"]
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(request["url"], download=False)
            if info.get("_type") == "playlist":
                entries = [e for e in info.get("entries") or [] if e]
                if not entries:
                    raise yt_dlp.utils.UnsupportedError(request["url"])
                info = entries[0]
            refusal = check_info(info, request)
            if refusal is not None:
                kind, message = refusal.split(":", 1)
                reporter.send({"type": "error", "kind": kind, "message": message})
                return
            info = ydl.process_ie_result(info, download=True)
    except Exception as exc:
        kind, message = classify(exc, guard)
        reporter.send({"type": "error", "kind": kind, "message": message})
        return
    downloads = info.get("requested_downloads") or []
    path = downloads[0].get("filepath") if downloads else None
    if not path or not Path(path).is_file():
        if logger.too_large is not None:
            message = f"The source is larger than the {max_bytes} bytes allowed: {logger.too_large}."
            reporter.send({"type": "error", "kind": "too_large", "message": message})
            return
        reporter.send({"type": "error", "kind": "unsupported", "message": "yt-dlp downloaded nothing."})
        return
    reporter.send(
        {
            "type": "done",
            "path": path,
            "title": info.get("title"),
            "duration": info.get("duration"),
            "timestamp": info.get("timestamp") or info.get("release_timestamp"),
            "chapters": [
                {"start": c.get("start_time"), "end": c.get("end_time"), "title": c.get("title")}
                for c in info.get("chapters") or []
            ],
            "extractor": info.get("extractor_key"),
        }
    )


def die_with_parent() -> None:
    """A worker killed with SIGKILL cannot stop us: ask Linux to (other platforms: best effort)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def main() -> int:
    die_with_parent()
    # keep the protocol channel for ourselves: anything printed by libraries goes to stderr
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr
    reporter = Reporter(protocol)
    try:
        request = json.loads(sys.stdin.read())
    except ValueError as exc:
        reporter.send({"type": "error", "kind": "failed", "message": f"bad request: {exc}"})
        return 2
    run(request, reporter)
    return 0


if __name__ == "__main__":
    sys.exit(main())
