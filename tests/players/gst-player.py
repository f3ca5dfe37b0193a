"""GStreamer ``playbin3`` playing an HLS URL (run with Debian's /usr/bin/python3: python3-gst-1.0).

    python3 gst-player.py URL vod|live SECONDS [SEEK_TO]

VOD: plays, seeks to SEEK_TO (flushing, accurate), plays to EOS. Live: plays SECONDS. Prints one JSON line:
errors and warnings from the bus, the position after the seek, positions sampled, whether EOS came.
"""

from __future__ import annotations

import json
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

Gst.init(None)
url, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
seek_to = float(sys.argv[4]) if len(sys.argv) > 4 else None
playbin = Gst.ElementFactory.make("playbin3", None)
playbin.set_property("uri", url)
playbin.set_property("audio-sink", Gst.ElementFactory.make("fakesink", None))
# fakesink syncs to the clock: playback at real time, like a listener
playbin.get_property("audio-sink").set_property("sync", True)
bus = playbin.get_bus()
report: dict[str, object] = {"errors": [], "warnings": [], "positions": [], "eos": False, "seek": None}


def position() -> float | None:
    ok, value = playbin.query_position(Gst.Format.TIME)
    return value / Gst.SECOND if ok else None


def pump(until: float, stop_on_eos: bool = True, stop_on: Gst.MessageType | None = None) -> None:
    while time.monotonic() < until:
        message = bus.timed_pop(100 * Gst.MSECOND)
        if message is None:
            continue
        if message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            report["errors"].append(f"{error.message} ({debug})")  # type: ignore[attr-defined]
            return
        if message.type == Gst.MessageType.WARNING:
            warning, debug = message.parse_warning()
            report["warnings"].append(f"{warning.message} ({debug})")  # type: ignore[attr-defined]
        if stop_on is not None and message.type == stop_on:
            return
        if message.type == Gst.MessageType.EOS:
            report["eos"] = True
            if stop_on_eos:
                return


deadline = time.monotonic() + seconds
playbin.set_state(Gst.State.PLAYING)
pump(min(deadline, time.monotonic() + 3))
if seek_to is not None and not report["errors"]:
    playbin.seek_simple(
        Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.ACCURATE, int(seek_to * Gst.SECOND)
    )
    pump(time.monotonic() + 5.0, stop_on=Gst.MessageType.ASYNC_DONE)  # the flushing seek completed
    report["seek"] = position()
while time.monotonic() < deadline and not report["errors"] and not report["eos"]:
    pump(min(deadline, time.monotonic() + 1.0))
    report["positions"].append(position())  # type: ignore[attr-defined]
playbin.set_state(Gst.State.NULL)
print(json.dumps(report))
