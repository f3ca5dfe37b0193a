"""Core — the shared worker machinery for every kind of job: the procrastinate queue and retry policy,
our ``jobs`` rows (claim and attempt fencing), submitting and cancelling, throttled job progress, what a
job announces, the resources a worker hands its tasks, publishing a version, and running workers.

May import: ``packager`` and the other core packages. Never ``ingest`` or ``live``: their tasks are
registered on the queue by the composition root (``robian_media.app``, ``robian_media.cli``)."""
