"""Feature — live sittings: the live job (source polling, the packager's live recorder driven segment by
segment, the recording published as a VOD version), the operator routes (start, speaker, stop), and
LL-HLS delivery (blocking playlist reloads, hinted parts, the playlist watcher).

May import: core packages, ``packager``, ``ingest`` (sources and their fetch policy)."""
