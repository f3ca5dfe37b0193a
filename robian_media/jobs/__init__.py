"""Core — the shared worker machinery for every kind of job: the procrastinate queue and retry policy,
our ``jobs`` rows (claim and attempt fencing), submitting and cancelling, throttled job progress, the
resources a worker hands its tasks (per-host circuit breakers among them), publishing a version, and
running workers (``serve``'s in-process one, ``robian-media worker`` processes).

May import: ``packager``, ``settings`` and the other core packages. Never ``ingest`` or ``live``: each
declares its kind of job as a ``queue.JobTask`` and the composition root (``robian_media.app``,
``robian_media.cli``) hands those to the queue."""
