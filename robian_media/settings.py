"""Validated settings: the only place that reads the environment (``ROBIAN_*`` and ``.env``)."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from .renamed_settings import renamed_from, warn_renamed


def default_data_dir() -> Path:
    """Platform convention: XDG on Linux, Application Support on macOS, LOCALAPPDATA on Windows."""
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "robian-media"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local")) / "robian-media"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else home / ".local" / "share") / "robian-media"


class Settings(BaseSettings):
    database_url: str | None = Field(
        None, description="PostgreSQL DSN; unset = embedded PostgreSQL in the data dir"
    )
    redis_url: str | None = Field(None, description="Redis URL; unset = in-process cache and event bus")
    redis_prefix: str = Field("robian:", description="prefix of every Redis key this deployment writes")
    data_dir: Path = Field(default_factory=default_data_dir)
    media_root_dir: Path | None = Field(None, alias="ROBIAN_MEDIA_ROOT")
    public_base_url: str = "http://127.0.0.1:8080"
    # where published media lives (docs/media-store.md): `file` = the media root; `s3://BUCKET[/PREFIX]`
    media_store: str = Field(
        "file", pattern=r"^(file|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9._/-]*)?)$"
    )
    s3_endpoint_url: str | None = Field(None, pattern=r"^https?://[^\s/]+/?$")
    s3_region: str = "us-east-1"
    # the standard variables of every S3 client (not ROBIAN_*); unset = anonymous requests
    s3_access_key_id: SecretStr | None = Field(None, alias="AWS_ACCESS_KEY_ID")
    s3_secret_access_key: SecretStr | None = Field(None, alias="AWS_SECRET_ACCESS_KEY")
    # a store request failing (5xx, SlowDown, no connection) is retried with backoff this long
    s3_retry_seconds: float = Field(60.0, gt=0, le=3600)
    admin_token: SecretStr | None = None
    ingest_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    ingest_allow_private: bool = False
    ladder: str = "speech"
    ffmpeg: str | None = None
    workers: int | None = Field(
        None, ge=0, le=64, description="in-process workers; 0 = none; unset = 2 when embedded"
    )
    # ingest jobs one worker runs at once: packaging keeps about one core busy per job
    worker_concurrency: int = Field(2, ge=1, le=64)
    # new jobs wake workers at once (LISTEN/NOTIFY); polling finds retries that come due
    worker_poll_seconds: float = Field(2.0, gt=0)
    # a worker silent this long is presumed dead and its running jobs are re-queued
    worker_heartbeat_seconds: float = Field(10.0, gt=0)
    stalled_worker_seconds: float = Field(30.0, gt=0)
    # how long a stopping worker lets running jobs finish before re-queueing them
    worker_shutdown_grace_seconds: float = Field(10.0, ge=0)
    # `robian-media worker` serves /metrics and /health here (0 = not at all)
    worker_metrics_port: int = Field(0, ge=0, le=65535)
    worker_metrics_host: str = "127.0.0.1"
    job_max_attempts: int = Field(5, ge=1, le=50)
    # transient failures are retried after base, 2×base, 4×base… (capped)
    job_retry_base_seconds: float = Field(5.0, ge=0)
    job_retry_max_seconds: float = Field(600.0, ge=0)
    ingest_local_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="directories local-file ingest may read; empty = {data dir}/inbox"
    )
    ingest_max_bytes: int = Field(8 << 30, ge=1 << 20, description="largest source download")
    ingest_max_duration_seconds: float = Field(16 * 3600, gt=0, description="longest source accepted")
    # a source bringing less than this on average over ingest_stall_seconds is abandoned (and retried)
    ingest_stall_seconds: float = Field(60.0, gt=0, description="window of the download rate check")
    ingest_min_bytes_per_second: int = Field(1024, ge=0, description="slowest download rate accepted")
    # live sittings (README "Live sittings"): LL-HLS part and segment targets (cut on AAC frames)
    live_part_seconds: float = Field(0.5, ge=0.2, le=2.0)
    live_segment_seconds: float = Field(2.0, ge=1.0, le=6.0)
    # DVR window of live playlists in seconds; 0 = the whole sitting (EVENT playlist)
    live_dvr_seconds: float = Field(0.0, ge=0)
    live_source_poll_seconds: float = Field(0.25, gt=0, le=10)
    # no new source segment this long: the run ends and a gap will be marked when it is back
    live_stall_seconds: float = Field(5.0, gt=0)
    # no new source segment this long: the sitting is over (ENDLIST, VOD)
    live_outage_seconds: float = Field(300.0, gt=0)
    live_max_seconds: float = Field(16 * 3600, gt=0, description="longest live sitting recorded")
    # requests for a live part not written yet (the preload hint) held at once by one API process
    live_part_waiters: int = Field(2000, ge=1)
    # LL-HLS blocking playlist reloads held at once by one API process (more get 503 + Retry-After)
    live_reload_waiters: int = Field(4000, ge=1)
    # blocking reloads (and, apart, requests for live parts) one client address may have held at once
    # (more get 429): a player holds one or two; a household or a carrier's NAT shares one address
    live_waiters_per_client: int = Field(32, ge=1)
    # longest wait for yt-dlp to find the live stream of a page (POST /api/v1/live with a page URL)
    live_resolve_seconds: float = Field(30.0, gt=0, le=300)
    # hosts of the Assemblée nationale video portal (video.<uid> pages, /Datas/an/<uid>/…)
    an_portal_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["videos.assemblee-nationale.fr"]
    )
    # AN open data: one acteur (PA…) / organe (PO…) XML per uid
    an_acteur_url: str = "https://www.assemblee-nationale.fr/dyn/opendata/{uid}.xml"
    an_organe_url: str = "https://www.assemblee-nationale.fr/dyn/opendata/{uid}.xml"

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # nginx answers /hls/ and X-Accel-Redirect downloads; without it aiohttp serves media itself
    behind_nginx: bool = False
    max_body_bytes: int = Field(1 << 20, ge=1024)
    # without nginx in front (it bounds these itself): slow-loris clients trickling a request
    request_head_timeout_seconds: float = Field(
        15.0, gt=0, le=75, description="longest wait for a request head (and idle keep-alive) without nginx"
    )
    request_body_grace_seconds: float = Field(
        10.0, gt=0, description="time a request body gets before its minimum rate applies"
    )
    request_body_min_bytes_per_second: int = Field(
        1024, ge=1, description="slowest average rate a request body may arrive at"
    )
    # clips (DESIGN §9) kept under {media root}/clips: the least recently used go past this many bytes
    clips_max_bytes: int = Field(
        2 << 30, ge=0, description="disk budget of clips (least recently used evicted)"
    )
    # `nginx-conf`: who may read /metrics through nginx besides loopback, and which hops in front of it
    # (a CDN, a load balancer) nginx believes about the client address; the local edge is always believed
    nginx_metrics_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    nginx_trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    nginx_api_rate: int = Field(30, ge=1, description="API requests per second per client address at nginx")
    nginx_api_burst: int = Field(60, ge=0, description="API requests above the rate nginx still accepts")
    # LL-HLS blocking reloads and hinted parts (held by the API) per second per client address at nginx:
    # a player makes about two of each per part duration
    nginx_hls_live_rate: int = Field(20, ge=1, description="LL-HLS held requests per second per address")
    nginx_hls_live_burst: int = Field(40, ge=0, description="LL-HLS held requests above the rate accepted")
    nginx_worker_processes: str = Field("auto", pattern=r"^(auto|[1-9][0-9]{0,2})$")
    # worker user when the nginx master runs as root (nginx's default is nobody)
    nginx_user: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*( [A-Za-z_][A-Za-z0-9_.-]*)?$")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])

    # TTLs of the existing mobile client's cache namespaces
    cache_ttl_debates: int = 300
    cache_ttl_streaming: int = 3600
    cache_ttl_metadata: int = 86400
    cache_ttl_stats: int = Field(30, ge=1, description="global and trending stats")
    cache_local_max_entries: int = Field(2048, ge=16)
    # false: every API response is built from the database (benchmarks, debugging)
    cache_enabled: bool = True
    # in-process copy of cached responses in front of Redis ("micro-cache"): another node's
    # invalidation reaches this node within this many seconds; 0 = always ask Redis
    cache_local_ttl: float = Field(1.0, ge=0, le=60)

    # requests per client IP per sliding minute on the API (health, metrics, /hls/ exempt); 0 = off
    rate_limit_per_minute: int = Field(1200, ge=0)
    # peers whose X-Forwarded-For is believed (addresses or CIDR networks, comma-separated)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1", "::1"])

    # listeners: devices, pairing, playback progress, stats
    pairing_code_ttl_seconds: int = Field(
        600,
        ge=30,
        le=86400,
        validation_alias=renamed_from("ROBIAN_PAIRING_CODE_TTL_S"),
        description="lifetime of a pairing code",
    )
    pairing_attempts_per_device: int = Field(10, ge=1, description="code redemptions per device per window")
    pairing_attempts_per_address: int = Field(
        60, ge=1, description="code redemptions per client address per window"
    )
    pairing_attempt_window_seconds: int = Field(
        600, ge=1, validation_alias=renamed_from("ROBIAN_PAIRING_ATTEMPT_WINDOW_S")
    )
    device_registrations_per_address: int = Field(
        60, ge=1, description="device registrations per client address per hour"
    )
    progress_max_clock_skew_seconds: int = Field(
        300,
        ge=0,
        validation_alias=renamed_from("ROBIAN_PROGRESS_MAX_CLOCK_SKEW_S"),
        description="how far in the future a client's updated_at may be",
    )
    listeners_now_window_seconds: int = Field(
        300,
        ge=10,
        validation_alias=renamed_from("ROBIAN_LISTENERS_NOW_WINDOW_S"),
        description="'listeners now': owners with a progress write this recent",
    )

    # live events (docs/architecture.md §5): replay buffer, fan-out stream, per-connection limits
    events_replay_len: int = Field(
        1000, ge=10, le=1_000_000, description="events kept per channel for resuming (Redis stream or memory)"
    )
    events_replay_seconds: int = Field(
        3600, ge=10, le=7 * 86400, description="age after which events leave the replay buffer"
    )
    events_fanout_len: int = Field(
        10_000, ge=100, le=10_000_000, description="events (all channels) a node can catch up on after a blip"
    )
    events_max_channels: int = Field(32, ge=1, le=1000, description="channels one connection may follow")
    events_max_listeners: int = Field(
        50_000, ge=1, description="SSE + WebSocket listeners per API process; more get 503"
    )
    events_listeners_per_address: int = Field(
        100,
        ge=1,
        description="SSE + WebSocket listeners one client address (an IPv6 /64) may hold on one API process "
        "(more get 429); nginx-conf renders the same cap per address",
    )
    events_listener_buffer_bytes: int = Field(
        256 << 10, ge=4096, description="unsent bytes a listener may owe before it is dropped as too slow"
    )
    events_listener_queue: int = Field(
        1000, ge=16, description="events a listener may hold while its replay is sent (and queue subscribers)"
    )
    events_heartbeat_seconds: float = Field(
        15.0, gt=0, le=15.0, description="SSE comment / WebSocket ping interval"
    )
    events_ws_max_message_bytes: int = Field(
        4096, ge=256, le=1 << 20, description="larger client messages get an error; 16x larger closes"
    )
    events_ws_idle_seconds: float = Field(
        60.0, gt=0, description="a WebSocket following no channel is closed after this long"
    )

    gc_threshold: int = Field(
        50_000,
        ge=0,
        description="allocations between young-generation collections (Python's default is 700); "
        "0 keeps Python's default. With thousands of listeners the default makes full collections "
        "walk every connection's objects several times a second",
    )

    log_level: str = "INFO"
    log_json: bool = True
    min_free_disk_bytes: int = Field(512 << 20, ge=0)

    model_config = SettingsConfigDict(
        env_prefix="ROBIAN_", env_file=".env", extra="ignore", populate_by_name=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the usual sources in the usual order; only looked at for renamed variables still in use
        warn_renamed((env_settings, dotenv_settings))
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    @field_validator(
        "ingest_allowlist",
        "cors_origins",
        "nginx_metrics_allow",
        "nginx_trusted_proxies",
        "trusted_proxies",
        "an_portal_hosts",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("nginx_metrics_allow", "nginx_trusted_proxies", "trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        # normalised ("10.0.0.1/8" → "10.0.0.0/8") so nginx never sees a host-bits-set network
        try:
            return [str(ipaddress.ip_network(item, strict=False)) for item in value]
        except ValueError as exc:
            raise ValueError(f"expected IP networks like 10.0.0.0/8: {exc}") from None

    @field_validator("ingest_local_dirs", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("an_acteur_url", "an_organe_url")
    @classmethod
    def _has_uid(cls, value: str) -> str:
        if "{uid}" not in value or not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL containing {uid}")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @property
    def s3_location(self) -> tuple[str, str] | None:
        """(bucket, key prefix) of an s3 media store, None for the file store."""
        if not self.media_store.startswith("s3://"):
            return None
        bucket, _, prefix = self.media_store.removeprefix("s3://").partition("/")
        return bucket, prefix.strip("/")

    @property
    def media_root(self) -> Path:
        return self.media_root_dir or self.data_dir / "media"

    @property
    def local_source_dirs(self) -> list[Path]:
        return self.ingest_local_dirs or [self.data_dir / "inbox"]

    @property
    def work_dir(self) -> Path:
        """Downloads in progress, one directory per job."""
        return self.data_dir / "work"

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def worker_count(self) -> int:
        if self.workers is not None:
            return self.workers
        return 2 if self.embedded_database else 0

    def cache_ttls(self) -> dict[str, int]:
        return {
            "debates": self.cache_ttl_debates,
            "streaming": self.cache_ttl_streaming,
            "metadata": self.cache_ttl_metadata,
            "stats": self.cache_ttl_stats,
        }
