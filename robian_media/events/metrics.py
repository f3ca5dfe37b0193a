"""Prometheus metrics of the event bus, in the registry of whoever owns the bus."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class EventMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.listeners = Gauge(
            "robian_events_listeners",
            "Connected event listeners by kind (sse, ws, queue)",
            ["kind"],
            registry=registry,
        )
        self.published = Counter(
            "robian_events_published_total",
            "Events published, by channel kind and path (redis, or local: no Redis or Redis down)",
            ["channel", "path"],
            registry=registry,
        )
        self.delivered = Counter(
            "robian_events_delivered_total",
            "Events handed to listeners of this process (live or replayed), by listener kind",
            ["kind"],
            registry=registry,
        )
        self.dropped = Counter(
            "robian_events_dropped_total",
            "Events a listener of this process did not get because it was too slow",
            ["kind"],
            registry=registry,
        )
        self.slow_disconnects = Counter(
            "robian_events_slow_consumer_disconnects_total",
            "Listeners disconnected because they could not keep up",
            ["kind"],
            registry=registry,
        )
        self.redis_up = Gauge(
            "robian_events_redis_up",
            "1 when this process reads and writes events through Redis, 0 while it falls back to memory",
            registry=registry,
        )
        for kind in ("sse", "ws", "queue"):
            self.listeners.labels(kind)
            self.delivered.labels(kind)
            self.dropped.labels(kind)
            self.slow_disconnects.labels(kind)
