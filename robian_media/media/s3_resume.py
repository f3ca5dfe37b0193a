"""A live recording an earlier attempt of its job left in the bucket (its worker died or stopped), brought
back into the new attempt's scratch directory, maybe on another machine, so that the recorder goes on
with it (packager/live/resume.py) as the file store's worker does from its disk.

Only what the recorder reads to go on comes down: the version master, the rung playlists (they hold
every segment, date, gap and run so far) and the init segments they name, and the ``.live`` marker
that makes it the version to resume (packager/versions.py). The segments stay in the bucket until the
recorder reads them (``FollowedVersion.fetch``): the few its TS rung has yet to remux, and at the end
every one, to make the VOD version.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packager.atomic import write_atomic
from packager.playlists import MASTER_NAME, playlist_uris
from packager.versions import LIVE_MARKER

if TYPE_CHECKING:
    from .s3_store import S3MediaStore

ENDLIST = b"#EXT-X-ENDLIST"
PRELOAD_HINT = "#EXT-X-PRELOAD-HINT"
_MAP_URI = re.compile(rb'^#EXT-X-MAP:.*?URI="([^"]+)"', re.MULTILINE)
# objects a recording never writes twice (its playlists and chapters change)
MEDIA_SUFFIXES = (".m4s", ".ts", ".mp4")


@dataclass(frozen=True, slots=True)
class LeftRecording:
    """A live version found in the bucket, its playlists fetched."""

    version: int
    media: frozenset[str]  # keys of the media its playlists name (up already: never put again)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


async def fetch_left_recording(
    store: S3MediaStore, debate_id: str, version: int, debate_dir: Path
) -> LeftRecording | None:
    """v{version} (the top master points at it) into ``debate_dir`` to be resumed, if it is a recording
    still live; None if it is not (finished: its playlists end; or not all there)."""
    prefix = f"{debate_id}/v{version}"
    master = await store.read(f"{prefix}/{MASTER_NAME}")
    if master is None:
        return None
    playlists: dict[str, bytes] = {}
    for uri in playlist_uris(master.decode("utf-8")):
        if uri.endswith(".m3u8"):
            body = await store.read(f"{prefix}/{uri}")
            if body is None or ENDLIST in body:
                return None  # published, or on its way: nothing to go on with
            playlists[uri] = body
    if not playlists:
        return None
    version_dir = debate_dir / f"v{version}"
    inits = {
        f"{uri.rsplit('/', 1)[0]}/{init.decode('utf-8')}"
        for uri, body in playlists.items()
        for init in _MAP_URI.findall(body)
    }
    await store.get_all([(f"{prefix}/{name}", version_dir / name) for name in sorted(inits)])
    for uri, body in playlists.items():
        await asyncio.to_thread(_write, version_dir / uri, body)
    await asyncio.to_thread(_write, version_dir / MASTER_NAME, master)
    await asyncio.to_thread(_write, version_dir / LIVE_MARKER, f"{version}\n".encode())
    return LeftRecording(version, frozenset(_media_named(prefix, playlists)))


def _media_named(prefix: str, playlists: dict[str, bytes]) -> list[str]:
    """Keys of the media the playlists name (segments, parts, init segments), never to be put again: a
    playlist goes up after what it names (a GAP segment has no object; the preload hint, the part to
    come, is left out)."""
    keys = []
    for uri, body in playlists.items():
        base = f"{prefix}/{uri.rsplit('/', 1)[0]}"
        listed = "\n".join(
            line for line in body.decode("utf-8").splitlines() if not line.startswith(PRELOAD_HINT)
        )
        keys += [f"{base}/{name}" for name in playlist_uris(listed) if name.endswith(MEDIA_SUFFIXES)]
    return keys
