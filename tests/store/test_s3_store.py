"""The s3 media store against a real S3 API (moto's server) on loopback: what it writes, in which order,
and what a store under load (SlowDown) or lost mid-publish leaves behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from robian_media.media.store import MediaStore, MediaStoreError, create_media_store
from robian_media.settings import Settings
from tests.store.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from tests.store.s3_server import StoreProxy

DEBATE = "0b8f6a52-3c2e-4d7a-9f00-5d1f0c0ffee1"
MASTER = (
    "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    '#EXT-X-STREAM-INF:BANDWIDTH=35200,CODECS="mp4a.40.2"\na32/index.m3u8\n'
)
RUNG = '#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:6.0,\nseg_0.m4s\n#EXT-X-ENDLIST'


def version_dir(root: Path, version: int, *, download_bytes: int = 1000) -> Path:
    """A small finished version as the packager leaves it (its markers included)."""
    path = root / f"v{version}"
    (path / "a32").mkdir(parents=True)
    (path / "master.m3u8").write_text(MASTER)
    (path / "chapters.json").write_text("[]")
    (path / "chapters.vtt").write_text("WEBVTT\n")
    (path / "a32" / "index.m3u8").write_text(RUNG)
    (path / "a32" / "init.mp4").write_bytes(b"init" * 100)
    (path / "a32" / "seg_0.m4s").write_bytes(bytes([version]) * 4000)
    (path / "download.m4a").write_bytes(b"\0" * download_bytes)
    (path / ".complete").write_text(f"{version}\n")
    return path


def keys(s3: Any, bucket: str) -> set[str]:
    listing = s3.list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


def body(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def snapshot(s3: Any, bucket: str) -> dict[str, bytes]:
    """Every object of the bucket and its bytes."""
    return {key: body(s3, bucket, key) for key in keys(s3, bucket)}


@pytest.fixture
async def store(
    make_settings: Callable[..., Settings], s3_settings: dict[str, Any]
) -> AsyncIterator[MediaStore]:
    media_store = create_media_store(make_settings(**s3_settings))
    yield media_store
    await media_store.close()


async def test_a_version_goes_up_with_the_layout_keys_types_and_cache_headers(
    store: MediaStore, s3: Any, bucket: str, tmp_path: Path
) -> None:
    await store.publish(DEBATE, 1, version_dir(tmp_path, 1))
    prefix = f"media/{DEBATE}"
    assert keys(s3, bucket) == {
        f"{prefix}/master.m3u8",
        *(f"{prefix}/v1/{name}" for name in (
            "master.m3u8", "chapters.json", "chapters.vtt", "download.m4a",
            "a32/index.m3u8", "a32/init.mp4", "a32/seg_0.m4s",
        )),
    }  # fmt: skip
    expected = {
        "master.m3u8": ("application/vnd.apple.mpegurl", "public, max-age=2"),
        "v1/master.m3u8": ("application/vnd.apple.mpegurl", "public, max-age=31536000, immutable"),
        "v1/a32/index.m3u8": ("application/vnd.apple.mpegurl", "public, max-age=31536000, immutable"),
        "v1/a32/seg_0.m4s": ("video/iso.segment", "public, max-age=31536000, immutable"),
        "v1/a32/init.mp4": ("audio/mp4", "public, max-age=31536000, immutable"),
        "v1/download.m4a": ("audio/mp4", "public, max-age=31536000, immutable"),
        "v1/chapters.json": ("application/json", "public, max-age=31536000, immutable"),
        "v1/chapters.vtt": ("text/vtt", "public, max-age=31536000, immutable"),
    }
    for name, (content_type, cache_control) in expected.items():
        head = s3.head_object(Bucket=bucket, Key=f"{prefix}/{name}")
        assert (head["ContentType"], head["CacheControl"]) == (content_type, cache_control), name
    # the top master points into the version, as on disk
    assert body(s3, bucket, f"{prefix}/master.m3u8").decode().splitlines()[-1] == "v1/a32/index.m3u8"


async def test_segments_then_rung_playlists_then_the_version_master_then_one_put_of_the_top_master(
    store: MediaStore, store_proxy: StoreProxy, tmp_path: Path
) -> None:
    await store.publish(DEBATE, 1, version_dir(tmp_path, 1))
    puts = [path.split(f"/{DEBATE}/", 1)[1] for path in store_proxy.puts()]
    assert puts[-2:] == ["v1/master.m3u8", "master.m3u8"]
    assert puts.count("master.m3u8") == 1
    rung_playlist = puts.index("v1/a32/index.m3u8")
    assert all(puts.index(media) < rung_playlist for media in ("v1/a32/seg_0.m4s", "v1/a32/init.mp4"))


async def test_503_slowdown_answers_are_retried_with_backoff(
    store: MediaStore, store_proxy: StoreProxy, s3: Any, bucket: str, tmp_path: Path
) -> None:
    store_proxy.slow_downs = 4
    await store.publish(DEBATE, 1, version_dir(tmp_path, 1))
    assert [status for _, _, status in store_proxy.log].count(503) == 4
    assert f"media/{DEBATE}/master.m3u8" in keys(s3, bucket)


async def test_a_large_object_goes_up_in_parts(
    store: MediaStore, s3: Any, bucket: str, tmp_path: Path
) -> None:
    await store.publish(DEBATE, 1, version_dir(tmp_path, 1, download_bytes=20 << 20))
    head = s3.head_object(Bucket=bucket, Key=f"media/{DEBATE}/v1/download.m4a")
    assert head["ContentLength"] == 20 << 20
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of 3 parts (8 MB each)
    assert head["ContentType"] == "audio/mp4"


async def test_old_versions_go_once_two_newer_ones_are_published(
    store: MediaStore, s3: Any, bucket: str, tmp_path: Path
) -> None:
    for version in (1, 2, 3):
        await store.publish(DEBATE, version, version_dir(tmp_path, version))
        # a clip cut from this version (media/clips.py), immutable like the version's own objects
        await store.put(f"clips/{DEBATE}/v{version}/0-1000.m4a", b"clip")
    versions = {key.split("/")[2] for key in keys(s3, bucket) if key.startswith(f"media/{DEBATE}/v")}
    assert versions == {"v2", "v3"}  # v2: players on it finish it
    # a version's clips go with it
    assert {key for key in keys(s3, bucket) if "/clips/" in key} == {
        f"media/clips/{DEBATE}/v2/0-1000.m4a",
        f"media/clips/{DEBATE}/v3/0-1000.m4a",
    }
    head = s3.head_object(Bucket=bucket, Key=f"media/clips/{DEBATE}/v3/0-1000.m4a")
    assert (head["ContentType"], head["CacheControl"]) == ("audio/mp4", "public, max-age=31536000, immutable")
    assert body(s3, bucket, f"media/{DEBATE}/master.m3u8").decode().splitlines()[-1] == "v3/a32/index.m3u8"


async def test_the_store_lost_mid_publish_leaves_the_previous_version_serving(
    store: MediaStore, store_proxy: StoreProxy, s3: Any, bucket: str, tmp_path: Path
) -> None:
    await store.publish(DEBATE, 1, version_dir(tmp_path, 1))
    before = snapshot(s3, bucket)
    # the store goes down once v2's segments are up: its playlists and masters never make it
    store_proxy.down_for("PUT", r"\.m3u8$")
    with pytest.raises(MediaStoreError) as failed:
        await store.publish(DEBATE, 2, version_dir(tmp_path, 2))
    store_proxy.up()
    assert snapshot(s3, bucket) == before  # v2's segments removed
    assert "media store could not write" in str(failed.value)
    assert SECRET_ACCESS_KEY not in str(failed.value) and ACCESS_KEY_ID not in str(failed.value)


async def test_a_top_master_put_that_fails_never_points_at_missing_objects(
    store: MediaStore, store_proxy: StoreProxy, s3: Any, bucket: str, tmp_path: Path
) -> None:
    await store.publish(DEBATE, 1, version_dir(tmp_path, 1))
    before = snapshot(s3, bucket)
    store_proxy.down_for("PUT", rf"/{DEBATE}/master\.m3u8$")
    with pytest.raises(MediaStoreError):
        await store.publish(DEBATE, 2, version_dir(tmp_path, 2))
    # the old master could not be put back either: v2 stays whole rather than half-deleted
    store_proxy.up()
    top = body(s3, bucket, f"media/{DEBATE}/master.m3u8").decode()
    assert top == before[f"media/{DEBATE}/master.m3u8"].decode()
    for line in top.splitlines():
        if line and not line.startswith("#"):
            assert f"media/{DEBATE}/{line}" in keys(s3, bucket)


async def test_version_numbers_continue_after_those_in_the_store(store: MediaStore, tmp_path: Path) -> None:
    await store.publish(DEBATE, 4, version_dir(tmp_path / "other-machine", 4))
    scratch = tmp_path / "scratch" / DEBATE
    await store.prepare(DEBATE, scratch)
    from packager.versions import allocate_version

    assert allocate_version(scratch) == 5


async def test_a_publish_cancelled_midway_removes_what_it_wrote(
    store: MediaStore, store_proxy: StoreProxy, s3: Any, bucket: str, tmp_path: Path
) -> None:
    await store.publish(DEBATE, 1, version_dir(tmp_path, 1))
    before = snapshot(s3, bucket)
    store_proxy.put_delay = 0.5
    publishing = asyncio.create_task(store.publish(DEBATE, 2, version_dir(tmp_path, 2)))
    while not any("/v2/" in path for path in store_proxy.puts()):
        await asyncio.sleep(0.01)
    publishing.cancel()  # the job was cancelled (DELETE /api/v1/jobs/{id}) or its worker stopped
    with pytest.raises(asyncio.CancelledError):
        await publishing
    store_proxy.put_delay = 0.0
    assert snapshot(s3, bucket) == before
