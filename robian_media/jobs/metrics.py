"""Prometheus metrics of the ingest jobs a worker runs: outcomes, and how fast packaging goes.

``serve``'s in-process worker counts into the app's registry (its ``/metrics``); a ``robian-media
worker`` process into its own, served on ``ROBIAN_WORKER_METRICS_PORT``. The realtime factor is
``rate(robian_packaging_media_seconds_total) / rate(robian_packaging_wall_seconds_total)``: seconds of
audio packaged per second spent packaging.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

OUTCOMES = ("succeeded", "failed", "retried", "cancelled", "requeued")


class JobMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.attempts = Counter(
            "robian_ingest_attempts_total",
            "Ingest attempts ended, by outcome (retried: a transient failure; requeued: the worker stopped)",
            ["outcome"],
            registry=self.registry,
        )
        self.running = Gauge(
            "robian_ingest_jobs_running", "Ingest jobs this process is running now", registry=self.registry
        )
        self.media_seconds = Counter(
            "robian_packaging_media_seconds_total",
            "Seconds of audio packaged (published versions)",
            registry=self.registry,
        )
        self.wall_seconds = Counter(
            "robian_packaging_wall_seconds_total",
            "Seconds spent packaging them (probe, loudness, encoding, finalising)",
            registry=self.registry,
        )
        for outcome in OUTCOMES:
            self.attempts.labels(outcome)

    def packaged(self, media_seconds: float, wall_seconds: float) -> None:
        self.media_seconds.inc(media_seconds)
        self.wall_seconds.inc(wall_seconds)
