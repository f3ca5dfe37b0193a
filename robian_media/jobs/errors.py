"""Why an ingest failed, typed by what to do about it: retry later (transient) or never (permanent).

Every message is meant for the operator reading ``GET /api/v1/jobs/{id}``: it names the source
and the cause in words they can act on.
"""

from __future__ import annotations


class IngestError(Exception):
    """A failure of turning a source into a published debate."""

    transient = False

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


class SourceNotFound(PermanentError):
    """The source answered that the resource does not exist or is not available to us (4xx)."""


class UnsupportedSource(PermanentError):
    """Nothing playable was found at the URL (no extractor, no audio, a live stream)."""


class SourceTooLarge(PermanentError):
    """The source exceeds the configured size or duration limits."""


class CorruptMedia(PermanentError):
    """The downloaded file cannot be decoded as audio."""


class InvalidSourceData(PermanentError):
    """Metadata files (data.nvs, compte rendu, acteur XML) are malformed or unsafe to parse."""


class ChapterProblem(PermanentError):
    """The chapters or the transcript do not fit the media (outside its duration, out of order)."""


class SourceUnavailable(TransientError):
    """Network error, timeout or a 5xx/429 answer."""


class HostCircuitOpen(TransientError):
    """Recent requests to this host kept failing; it is left alone for a while."""


class ProcessKilled(TransientError):
    """FFmpeg or yt-dlp was killed by a signal (out of memory, operator): worth another try."""
