"""The media disk fills up while a sitting is being packaged (a small tmpfs as the media root).

The job fails with a reason an operator understands, nothing of the half-made version stays (the
space comes back), and what was published before keeps playing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from packager.vod import package
from robian_media.app import create_app
from robian_media.web import keys
from tests.ingest.conftest import ffmpeg_reads, submit, wait_job
from tests.ingest.origin import Origin


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs; the platform may refuse (not root, no mount namespace): then skip, saying so."""
    mount_point = tmp_path / "media"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or 'mount failed'}); needs root")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Write a filler file until only ``leave`` bytes are free."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with filler.open("wb") as out:
        out.write(b"\0" * max(0, free - leave))
    return filler


def free_bytes(disk: Path) -> int:
    return shutil.disk_usage(disk).free


async def test_a_full_media_disk_fails_the_job_cleanly_and_keeps_what_was_published(
    aiohttp_client: Any, ingest_settings: Any, origin: Origin, small_disk: Path, media: Path
) -> None:
    settings = ingest_settings(media_root_dir=small_disk, min_free_disk_bytes=0, job_max_attempts=2)
    client = await aiohttp_client(create_app(settings))
    status, first = await submit(client, origin.url("/files/speech.m4a"))
    assert status == 202
    assert (await wait_job(client, first["job_id"]))["status"] == "succeeded"
    published = small_disk / first["debate_id"]
    before = sorted(p.name for p in published.iterdir())

    fill(small_disk, leave=200_000)
    free_before = free_bytes(small_disk)
    status, second = await submit(client, origin.url("/files/long.m4a"))
    job = await wait_job(client, second["job_id"], timeout=180)
    assert job["status"] == "failed", job
    assert "No space left on device" in job["error"] or "disk" in job["error"].lower(), job["error"]

    # nothing half-made: no version directory, and the space it took is free again
    leftover = small_disk / second["debate_id"]
    assert not leftover.exists() or not any(p.name.startswith("v") for p in leftover.iterdir())
    assert free_bytes(small_disk) >= free_before - 16_384
    response = await client.get(f"/api/v1/debates/{second['debate_id']}/stream")
    assert response.status == 404  # never published

    # the sitting published before is untouched and still plays
    assert sorted(p.name for p in published.iterdir()) == before
    await ffmpeg_reads(str(client.make_url(f"/hls/{first['debate_id']}/master.m3u8")))

    # and a new version of it that cannot fit leaves v1 current (the packager's own guarantee)
    with pytest.raises(Exception) as raised:
        await package(media / "long.m4a", published, ladder=settings.ladder, ffmpeg=client.app[keys.FFMPEG])
    assert sorted(p.name for p in published.iterdir()) == before, raised.value
    assert "v1/" in (published / "master.m3u8").read_text()
    await ffmpeg_reads(str(client.make_url(f"/hls/{first['debate_id']}/master.m3u8")))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(small_disk / "filler")
