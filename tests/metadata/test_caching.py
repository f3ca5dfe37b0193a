"""Cached responses: hits skip the database, invalidation shows changes, ETags, Redis outages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from robian_media.app import create_app
from robian_media.cache.invalidation import debate_changed, debate_published, speakers_changed
from robian_media.cache.redis_client import create_redis
from robian_media.cache.store import Cache
from robian_media.settings import Settings
from tests.factories import create_chapters, create_debate, create_speaker, publish_version
from tests.services import RedisServer

ClientFactory = Callable[..., Any]


async def title_of(client: Any, debate_id: Any) -> str:
    resp = await client.get(f"/api/v1/debates/{debate_id}")
    assert resp.status == 200
    return str((await resp.json())["title"])


async def test_cached_until_the_debate_changes(client: Any, db: asyncpg.Connection, marker: str) -> None:
    debate = await create_debate(db, chamber=marker, title="Avant")
    assert await title_of(client, debate) == "Avant"
    listed = await (await client.get("/api/v1/debates", params={"chamber": marker})).json()

    await db.execute("UPDATE debates SET title = 'Après' WHERE id = $1", debate)
    # served from the cache: the database is not asked again
    assert await title_of(client, debate) == "Avant"
    assert await (await client.get("/api/v1/debates", params={"chamber": marker})).json() == listed

    await debate_changed(client.app, debate)
    assert await title_of(client, debate) == "Après"
    listed = await (await client.get("/api/v1/debates", params={"chamber": marker})).json()
    assert listed["items"][0]["title"] == "Après"


async def test_publishing_a_version_refreshes_stream_and_interventions(
    client: Any, db: asyncpg.Connection, marker: str
) -> None:
    speaker = await create_speaker(db, f"Jean {marker}")
    debate = await create_debate(db, chamber=marker, status="processing", version=None)
    await create_chapters(db, debate, [{"start": 0, "end": 5, "speaker_id": speaker}])
    assert (await client.get(f"/api/v1/debates/{debate}/stream")).status == 404
    before = await (await client.get(f"/api/v1/speakers/{speaker}/interventions")).json()
    assert before["items"][0]["master_url"] is None

    # what the packager's publish step does, then tells the API
    await publish_version(db, debate, 2)
    await db.execute("UPDATE debates SET status = 'published' WHERE id = $1", debate)
    await debate_published(client.app, debate)

    stream = await client.get(f"/api/v1/debates/{debate}/stream")
    assert stream.status == 200
    assert (await stream.json())["variants"][0]["url"].endswith("/v2/a32/index.m3u8")
    after = await (await client.get(f"/api/v1/speakers/{speaker}/interventions")).json()
    assert after["items"][0]["master_url"] is not None

    await db.execute("UPDATE speakers SET name = 'Jean Renommé' WHERE id = $1", speaker)
    await speakers_changed(client.app)
    detail = await (await client.get(f"/api/v1/debates/{debate}")).json()
    assert detail["chapters"][0]["speaker"]["name"] == "Jean Renommé"


async def test_etag_revalidation(client: Any, db: asyncpg.Connection, marker: str) -> None:
    debate = await create_debate(db, chamber=marker)
    first = await client.get(f"/api/v1/debates/{debate}")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"] == "public, max-age=30"

    again = await client.get(f"/api/v1/debates/{debate}", headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    assert again.headers["ETag"] == etag
    weak = await client.get(f"/api/v1/debates/{debate}", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status == 304

    await db.execute("UPDATE debates SET title = 'Nouveau titre' WHERE id = $1", debate)
    await debate_changed(client.app, debate)
    changed = await client.get(f"/api/v1/debates/{debate}", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    assert (await changed.json())["title"] == "Nouveau titre"

    for path, cache_control in (
        (f"/api/v1/debates/{debate}/stream", "public, max-age=60"),
        ("/api/v1/speakers", "public, max-age=3600"),
        ("/api/v1/programme?date=2026-03-10", "public, max-age=300"),
        ("/api/v1/debates", "public, max-age=30"),
    ):
        resp = await client.get(path)
        assert resp.headers["Cache-Control"] == cache_control, path
        assert (await client.get(path, headers={"If-None-Match": resp.headers["ETag"]})).status == 304


async def test_another_node_sees_an_invalidation_made_by_a_worker(
    aiohttp_client: ClientFactory, make_settings: Callable[..., Settings], db: asyncpg.Connection, marker: str
) -> None:
    settings = make_settings(cache_local_ttl=0)
    node = await aiohttp_client(create_app(settings))
    debate = await create_debate(db, chamber=marker, title="Avant")
    assert await title_of(node, debate) == "Avant"
    await db.execute("UPDATE debates SET title = 'Après' WHERE id = $1", debate)
    assert await title_of(node, debate) == "Avant"

    # a worker process holds no application: a Cache on the same Redis is enough
    assert settings.redis_url is not None
    redis = create_redis(settings.redis_url)
    worker_cache = Cache(
        redis, prefix=settings.redis_prefix, ttls=settings.cache_ttls(), local_max_entries=16
    )
    await debate_changed(worker_cache, debate)
    await redis.aclose()
    assert await title_of(node, debate) == "Après"


async def test_namespaces_keep_their_ttl_in_redis(
    client: Any, db: asyncpg.Connection, settings: Settings, marker: str
) -> None:
    debate = await create_debate(db, chamber=marker)
    await client.get(f"/api/v1/debates/{debate}/stream")
    await client.get(f"/api/v1/debates/{debate}")
    await client.get("/api/v1/speakers")
    assert settings.redis_url is not None
    redis = Redis.from_url(settings.redis_url)
    prefix = settings.redis_prefix + "cache:"
    assert 3500 < await redis.ttl(f"{prefix}streaming:stream:{debate}") <= 3600
    assert 290 < await redis.ttl(f"{prefix}debates:detail:{debate}") <= 300
    speakers_keys = [k async for k in redis.scan_iter(match=f"{prefix}metadata:speakers:*")]
    assert speakers_keys and 86000 < await redis.ttl(speakers_keys[0]) <= 86400
    await redis.aclose()


async def test_redis_stopping_mid_test_keeps_answering(
    aiohttp_client: ClientFactory,
    make_settings: Callable[..., Settings],
    redis_server: RedisServer,
    db: asyncpg.Connection,
    marker: str,
) -> None:
    client = await aiohttp_client(create_app(make_settings(redis_url=redis_server.url, cache_local_ttl=0)))
    debate = await create_debate(db, chamber=marker, title="Toujours là")
    assert (await client.get(f"/api/v1/debates/{debate}")).status == 200

    redis_server.stop()
    for path in (
        f"/api/v1/debates/{debate}",
        f"/api/v1/debates/{debate}/stream",
        f"/api/v1/debates?chamber={marker}",
        "/api/v1/speakers",
        "/api/v1/search?q=toujours",
    ):
        for _ in range(2):  # a miss, then a hit from the in-memory fallback
            resp = await client.get(path)
            assert resp.status == 200, (path, await resp.text())
    await db.execute("UPDATE debates SET title = 'Changé' WHERE id = $1", debate)
    await debate_changed(client.app, debate)  # remembered, replayed when Redis is back
    assert await title_of(client, debate) == "Changé"
    redis_server.start()


async def test_disabled_cache_always_reads_the_database(
    aiohttp_client: ClientFactory, make_settings: Callable[..., Settings], db: asyncpg.Connection, marker: str
) -> None:
    app: web.Application = create_app(make_settings(cache_enabled=False))
    client = await aiohttp_client(app)
    debate = await create_debate(db, chamber=marker, title="Un")
    assert await title_of(client, debate) == "Un"
    await db.execute("UPDATE debates SET title = 'Deux' WHERE id = $1", debate)
    assert await title_of(client, debate) == "Deux"
