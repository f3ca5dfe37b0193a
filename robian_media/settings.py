"""Validated settings: the only place that reads the environment (``ROBIAN_*`` and ``.env``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    admin_token: SecretStr | None = None
    ingest_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    ingest_allow_private: bool = False
    ladder: str = "speech"
    ffmpeg: str | None = None
    workers: int | None = Field(
        None, ge=0, le=64, description="in-process workers; 0 = none; unset = 2 when embedded"
    )

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # nginx answers /hls/ and X-Accel-Redirect downloads; without it aiohttp serves media itself
    behind_nginx: bool = False
    max_body_bytes: int = Field(1 << 20, ge=1024)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])

    # TTLs of the existing mobile client's cache namespaces
    cache_ttl_debates: int = 300
    cache_ttl_streaming: int = 3600
    cache_ttl_metadata: int = 86400
    cache_local_max_entries: int = Field(2048, ge=16)

    # live events (DESIGN §5): replay buffer, fan-out stream, per-connection limits
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

    log_level: str = "INFO"
    log_json: bool = True
    min_free_disk_bytes: int = Field(512 << 20, ge=0)

    model_config = SettingsConfigDict(
        env_prefix="ROBIAN_", env_file=".env", extra="ignore", populate_by_name=True
    )

    @field_validator("ingest_allowlist", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @property
    def media_root(self) -> Path:
        return self.media_root_dir or self.data_dir / "media"

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
        }
