"""Why an ingest failed, typed by what to do about it: retry later (transient) or never (permanent).

Every message is meant for the operator reading ``GET /api/v1/jobs/{id}`` with the admin token: it
names the source and the cause in words they can act on (hosts, addresses, URLs with their query).
The public sees only its ``category``.
"""

from __future__ import annotations


class IngestError(Exception):
    """A failure of turning a source into a published debate."""

    transient = False
    # what anyone may read of it (GET /api/v1/jobs/{id} without the admin token, the jobs channel)
    category = "ingest failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermanentError(IngestError):
    """Retrying cannot help: the input itself is wrong or refused."""


class TransientError(IngestError):
    """The same job may succeed later: retried with exponential backoff."""

    transient = True


class SourceRefused(PermanentError):
    """The ingest policy forbids this source (scheme, address range, allowlist, local directory)."""

    category = "source refused"


class SourceNotFound(PermanentError):
    """The source answered that the resource does not exist or is not available to us (4xx)."""

    category = "source not found"


class UnsupportedSource(PermanentError):
    """Nothing playable was found at the URL (no extractor, no audio, a live stream)."""

    category = "no audio found at the source"


class SourceTooLarge(PermanentError):
    """The source exceeds the configured size or duration limits."""

    category = "source too large"


class CorruptMedia(PermanentError):
    """The downloaded file cannot be decoded as audio."""

    category = "not audio"


class InvalidSourceData(PermanentError):
    """Metadata files (data.nvs, compte rendu, acteur XML) are malformed or unsafe to parse."""

    category = "invalid source data"


class ChapterProblem(PermanentError):
    """The chapters or the transcript do not fit the media (outside its duration, out of order)."""

    category = "chapters do not fit the audio"


class SourceUnavailable(TransientError):
    """Network error, timeout or a 5xx/429 answer."""

    category = "source unreachable"


class HostCircuitOpen(TransientError):
    """Recent requests to this host kept failing; it is left alone for a while."""

    category = "source unreachable"


class ProcessKilled(TransientError):
    """FFmpeg or yt-dlp was killed by a signal (out of memory, operator): worth another try."""

    category = "processing interrupted"
