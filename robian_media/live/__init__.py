"""Feature — live sittings: the live job (source polling, the packager's live recorder driven segment by
segment, the recording published as a VOD version), the operator routes (start, speaker, stop), and
LL-HLS delivery (blocking playlist reloads, hinted parts, the playlist watcher). Its kind of job
(``task.LIVE``) is handed to the queue by the composition root; its own AppKeys are in ``live.keys``;
it fills the core's ``web.keys.WAIT_FOR_MEDIA`` hook with the hinted parts.

May import: core packages, ``packager``, ``ingest`` (sources and their fetch policy)."""
