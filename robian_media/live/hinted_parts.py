"""Requests for a live part that is not written yet: the hinted part (``EXT-X-PRELOAD-HINT``) and the
couple after it are held until the worker writes them (RFC 8216bis §6.2.6), so that a player asking
for the hint saves a round trip.

Only names of a live rung's own pattern are held (``{debate}/v{n}/{rung}/part_{s}_{i}.m4s`` within
:data:`AHEAD` parts of the hint, or ``seg_{s}.m4s`` of the segment being built), never more than the
process's (and one client's) share of slots at a time. The wait uses the rung playlist's watcher: the
worker renames each part into place before it rewrites the playlist, so when the playlist changes
the part is whole. A name the stream does not reach within three target durations gets a 503, one
it passes by (or ends without) a 404.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from packager.playlists import PLAYLIST_NAME

from ..web.client_slots import ClientSlots
from ..web.errors import NotFound, ServiceUnavailable
from .playlist_snapshot import Snapshot

if TYPE_CHECKING:
    from .playlist_watch import PlaylistWatch

_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_NUMBER = r"(?:0|[1-9][0-9]{0,8})"  # as the packager writes it: part_01_0 is not part_1_0
LIVE_MEDIA = re.compile(
    rf"^(?P<rung>{_NAME}/v[0-9]{{1,9}}/{_NAME})/"
    rf"(?:part_(?P<segment>{_NUMBER})_(?P<part>{_NUMBER})|seg_(?P<whole>{_NUMBER}))\.m4s$"
)
# parts past the hint a request may wait for: a player a little ahead of the playlist it read
AHEAD = 2


def _near(wanted: re.Match[str], hint: tuple[int, int]) -> bool:
    """True when ``wanted`` is the hinted part, one of the next :data:`AHEAD`, or the open segment."""
    segment, part = hint
    if wanted["whole"] is not None:
        return int(wanted["whole"]) == segment
    number, index = int(wanted["segment"]), int(wanted["part"])
    # the segment being built may close after any of its parts: the next one's first parts count too
    return (number == segment and part <= index <= part + AHEAD) or (number == segment + 1 and index < AHEAD)


def _passed(wanted: re.Match[str], hint: tuple[int, int] | None) -> bool:
    """True when the hint moved beyond ``wanted``: it was written then, or never will be."""
    if hint is None:
        return True
    if wanted["whole"] is not None:
        return hint[0] > int(wanted["whole"])
    return hint > (int(wanted["segment"]), int(wanted["part"]))


class HintedParts:
    def __init__(self, watch: PlaylistWatch, slots: ClientSlots) -> None:
        self.watch = watch
        self.slots = slots

    async def wait(self, root: Path, relative: str, client: str) -> None:
        """Returns once the file ``relative`` names is written, if it is a live rung's hinted part (or
        near it): the caller answers with it then (the media root's file, or the store's object).

        Raises NotFound at once for any other missing name, ServiceUnavailable when the part does not
        come, TooManyRequests when ``client`` already has its share of waits.
        """
        wanted = LIVE_MEDIA.match(relative)
        if wanted is None:
            raise NotFound("No media at this path.")
        playlist = self.watch.locate(root, f"{wanted['rung']}/{PLAYLIST_NAME}")
        try:
            snapshot = await self.watch.snapshot(playlist)
        except FileNotFoundError:
            raise NotFound("No media at this path.") from None
        if self.watch.written(root, relative):  # written meanwhile
            return
        if snapshot.position.ended or snapshot.hint is None or not _near(wanted, snapshot.hint):
            raise NotFound("No media at this path (not the live stream's next part).")
        within = 3 * max(snapshot.position.target, 1.0)

        def arrived(now: Snapshot) -> bool:
            return self.watch.written(root, relative) or now.position.ended or _passed(wanted, now.hint)

        with self.slots.hold(client):
            found = await self.watch.wait_for(playlist, arrived, within)
        # the s3 store's: a part the playlist went past went up before it
        if self.watch.written(root, relative) or (found is not None and _passed(wanted, found.hint)):
            return
        if found is None:
            raise ServiceUnavailable(
                f"The live part did not appear within {within:.0f} s (the stream stalled?).",
                headers={"Retry-After": "1"},
            )
        raise NotFound("No media at this path (the live stream went past it).")
