"""Validated settings: the only place that reads the environment (``ROBIAN_*`` and ``.env``)."""

from __future__ import annotations

import ipaddress
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
    pairing_code_ttl_s: int = Field(600, ge=30, le=86400, description="lifetime of a pairing code")
    pairing_attempts_per_device: int = Field(10, ge=1, description="code redemptions per device per window")
    pairing_attempts_per_address: int = Field(
        60, ge=1, description="code redemptions per client address per window"
    )
    pairing_attempt_window_s: int = Field(600, ge=1)
    device_registrations_per_address: int = Field(
        60, ge=1, description="device registrations per client address per hour"
    )
    progress_max_clock_skew_s: int = Field(
        300, ge=0, description="how far in the future a client's updated_at may be"
    )
    listeners_now_window_s: int = Field(
        300, ge=10, description="'listeners now': owners with a progress write this recent"
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

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for item in value:
                ipaddress.ip_network(str(item), strict=False)  # ValueError names the bad entry
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
            "stats": self.cache_ttl_stats,
        }
