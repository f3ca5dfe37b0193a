"""What a running job needs from its worker process, handed to tasks through procrastinate's context."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from ..cache.store import Cache
from ..events.bus import EventBus
from ..media.clips import ClipStore
from ..media.store import MediaStore
from ..media.urls import MediaUrls
from ..settings import Settings
from .circuit_breaker import CircuitBreakers
from .metrics import JobMetrics

CONTEXT_KEY = "robian"


@dataclass(slots=True)
class WorkerResources:
    settings: Settings
    pool: asyncpg.Pool
    bus: EventBus
    cache: Cache | None
    ffmpeg: str
    store: MediaStore
    breakers: CircuitBreakers = field(default_factory=CircuitBreakers)
    metrics: JobMetrics = field(default_factory=JobMetrics)
    # intervention clips made ahead by the publishing job (None: not made ahead, made on first request)
    clips: ClipStore | None = None

    def master_url(self, debate_id: str) -> str:
        return MediaUrls(self.settings.public_base_url).master(debate_id)
