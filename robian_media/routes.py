"""Every route of the server, named; each points at its handler module.

The small servers of ``robian-media worker`` and ``edge-metrics`` have their two routes in
ops/metrics_only.py."""

from __future__ import annotations

from aiohttp import web

from .catalog import debates, download, programme, search, speakers, transcripts
from .events import sse, ws
from .ingest import api as ingest_api
from .ingest import attach
from .legacy import debats, extraction
from .listeners import collections, devices, favorites, positions, stats
from .live import api as live_api
from .live import blocking_reload
from .media import serving
from .ops import health
from .ops.http_metrics import metrics_handler
from .podcast import chapters_json, clips, feeds
from .web import api_docs, keys, page


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/health", health.health, name="health")
    router.add_get("/health/ready", health.ready, name="health-ready")
    router.add_get("/metrics", metrics_handler, name="metrics")
    router.add_post("/api/v1/ingest", ingest_api.ingest, name="ingest")
    router.add_get("/api/v1/jobs/{job_id}", ingest_api.get_job, name="job")
    router.add_delete("/api/v1/jobs/{job_id}", ingest_api.cancel_job, name="job-cancel")
    router.add_post("/api/v1/live", live_api.start_live, name="live")
    router.add_post("/api/v1/live/{debate_id}/speaker", live_api.change_speaker, name="live-speaker")
    router.add_post("/api/v1/live/{debate_id}/stop", live_api.stop_live, name="live-stop")
    # the old mobile client's routes
    router.add_post("/api/extraction", extraction.start_extraction, name="legacy-extraction")
    router.add_get("/api/extraction/{job_id}", extraction.extraction_status, name="legacy-extraction-status")
    router.add_get("/api/v1/events", sse.events_sse, name="events-sse")
    router.add_get("/ws", ws.events_ws, name="events-ws")
    # LL-HLS blocking reloads and delta updates (nginx sends those here; without nginx, every playlist)
    router.add_get(r"/hls/{path:.+\.m3u8}", blocking_reload.serve_playlist, name="hls-playlist")
    if not app[keys.SETTINGS].behind_nginx:
        # without nginx in front, aiohttp answers /hls/ itself with the same headers
        router.add_get("/hls/{path:.+}", serving.serve_media, name="hls")  # HEAD too
        router.add_route("OPTIONS", "/hls/{path:.+}", serving.serve_media, name="hls-preflight")
    else:
        # nginx sends here the live parts it does not have yet: held until the worker writes them
        router.add_get(r"/hls/{path:.+\.m4s}", serving.serve_media, name="hls-live-part")

    # metadata API
    router.add_get("/api/v1/debates", debates.list_debates, name="debates")
    router.add_get("/api/v1/debates/{debate_id}", debates.get_debate, name="debate")
    router.add_get("/api/v1/debates/{debate_id}/chapters", debates.get_chapters, name="debate-chapters")
    router.add_get("/api/v1/debates/{debate_id}/stream", debates.get_stream, name="debate-stream")
    router.add_get(
        "/api/v1/debates/{debate_id}/transcript", transcripts.get_debate_transcript, name="debate-transcript"
    )
    router.add_post(
        "/api/v1/debates/{debate_id}/compte-rendu", attach.attach_compte_rendu, name="debate-compte-rendu"
    )
    router.add_get("/api/v1/debates/{debate_id}/download", download.download, name="debate-download")
    router.add_get("/api/v1/debates/{debate_id}/clip.m4a", clips.range_clip, name="debate-clip")
    router.add_get(
        "/api/v1/debates/{debate_id}/chapters/{index}/clip.m4a", clips.chapter_clip, name="chapter-clip"
    )
    router.add_get(
        "/api/v1/debates/{debate_id}/podcast-chapters.json",
        chapters_json.get_podcast_chapters,
        name="debate-podcast-chapters",
    )
    # podcast feeds (DESIGN §9)
    router.add_get("/api/v1/feeds/debates.rss", feeds.debates_feed, name="feed-debates")
    router.add_get("/api/v1/feeds/speakers/{speaker_id}.rss", feeds.speaker_feed, name="feed-speaker")
    router.add_get("/api/v1/programme", programme.get_programme, name="programme")
    router.add_get("/api/v1/speakers", speakers.list_speakers, name="speakers")
    router.add_get("/api/v1/speakers/{speaker_id}", speakers.get_speaker, name="speaker")
    router.add_get(
        "/api/v1/speakers/{speaker_id}/interventions",
        speakers.list_interventions,
        name="speaker-interventions",
    )
    router.add_get("/api/v1/search", search.search, name="search")
    router.add_get("/api/v1/search/suggestions", search.suggestions, name="search-suggestions")

    # the existing mobile client's routes (RobianAPI shapes)
    router.add_get("/api/debats", debats.list_debats, name="legacy-debats")
    router.add_get("/api/debats/{debate_id}", debats.get_debat, name="legacy-debat")
    router.add_get("/api/debats/{debate_id}/stream", debats.get_debat_stream, name="legacy-debat-stream")
    router.add_get("/api/debats/{debate_id}/file", debats.get_debat_file, name="legacy-debat-file")
    router.add_get("/api/programme", debats.get_programme, name="legacy-programme")

    setup_listener_routes(router)

    # the web listener page (HTML, its script and styles, the vendored hls.js)
    listener_page = page.ListenerPage()
    router.add_get("/", listener_page.index, name="page")
    router.add_get("/static/{path:.+}", listener_page.static, name="page-static")
    # Swagger UI over /api/docs/swagger.json (which setup_openapi serves)
    router.add_get("/api/docs", api_docs.api_docs_page, name="api-docs")


def setup_listener_routes(router: web.UrlDispatcher) -> None:
    """Devices (anonymous, Bearer device token), their favorites, collections, progress; public stats."""
    v1 = "/api/v1"
    router.add_post(f"{v1}/devices", devices.register_device, name="devices")
    # literal paths before /devices/{device_id}
    router.add_get(f"{v1}/devices/me", devices.show_account, name="device-me")
    router.add_delete(f"{v1}/devices/me", devices.revoke_this_device, name="device-me-revoke")
    router.add_post(f"{v1}/devices/pair", devices.start_pairing, name="device-pair")
    router.add_post(f"{v1}/devices/pair/redeem", devices.redeem_pairing, name="device-pair-redeem")
    router.add_delete(f"{v1}/devices/{{device_id}}", devices.revoke_other_device, name="device-revoke")

    router.add_get(f"{v1}/favorites", favorites.list_favorite_debates, name="favorites")
    router.add_put(f"{v1}/favorites/{{debate_id}}", favorites.put_favorite, name="favorite")
    router.add_delete(f"{v1}/favorites/{{debate_id}}", favorites.delete_favorite, name="favorite-delete")

    router.add_get(f"{v1}/collections", collections.list_owner_collections, name="collections")
    router.add_post(f"{v1}/collections", collections.post_collection, name="collections-create")
    router.add_get(f"{v1}/collections/{{collection_id}}", collections.get_owner_collection, name="collection")
    router.add_put(f"{v1}/collections/{{collection_id}}", collections.put_collection, name="collection-put")
    router.add_delete(
        f"{v1}/collections/{{collection_id}}", collections.delete_owner_collection, name="collection-delete"
    )

    router.add_get(f"{v1}/progress", positions.list_positions, name="progress")
    router.add_post(f"{v1}/progress/batch", positions.post_position_batch, name="progress-batch")
    router.add_get(f"{v1}/progress/{{debate_id}}", positions.get_debate_position, name="progress-debate")
    router.add_put(f"{v1}/progress/{{debate_id}}", positions.put_position, name="progress-put")

    router.add_get(f"{v1}/stats/global", stats.global_stats, name="stats")
    router.add_get(f"{v1}/stats/trending", stats.trending_debates, name="stats-trending")
