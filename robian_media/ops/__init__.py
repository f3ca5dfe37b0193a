"""Core — running the processes: owned background tasks, structured logs, the health routes,
Prometheus metrics of the HTTP layer and of the process.

May import: ``settings`` and the other core packages. Never a feature package."""
