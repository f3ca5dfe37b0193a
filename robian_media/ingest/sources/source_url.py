"""What an ingest ``source_url`` designates, and its normalised form (the debate's idempotency key)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ...jobs.errors import SourceRefused
from ...settings import Settings
from .an_portal import PortalVideo, portal_video

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class SourceLocation:
    url: str  # what is fetched (or file:// of a local file)
    key: str  # normalised: the same sitting always gets the same key
    local_path: Path | None = None
    portal: PortalVideo | None = None


def normalise_url(url: str) -> str:
    """Lower-case scheme and host, default port dropped, query sorted, fragment dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def local_source(value: str, settings: Settings) -> Path:
    """A local file inside ROBIAN_INGEST_LOCAL_DIRS, symlinks resolved, or SourceRefused."""
    raw = unquote(urlsplit(value).path) if value.startswith("file:") else value
    path = Path(raw)
    if not path.is_absolute():
        raise SourceRefused("Local sources must be absolute paths (or file:// URLs).")
    resolved = path.resolve()
    allowed = [d.resolve() for d in settings.local_source_dirs]
    if not any(resolved.is_relative_to(d) for d in allowed):
        raise SourceRefused(
            f"Local files can only be ingested from {', '.join(map(str, allowed))} "
            "(ROBIAN_INGEST_LOCAL_DIRS)."
        )
    if not resolved.is_file():
        raise SourceRefused(f"No file at {resolved}.")
    return resolved


def locate_source(source_url: str, settings: Settings) -> SourceLocation:
    """Classify ``source_url``; refuses schemes other than http(s) and file (local directories only)."""
    value = source_url.strip()
    scheme = urlsplit(value).scheme.lower()
    if scheme == "file" or (not scheme and value.startswith("/")):
        path = local_source(value, settings)
        return SourceLocation(url=path.as_uri(), key=path.as_uri(), local_path=path)
    if scheme not in ("http", "https"):
        raise SourceRefused(
            f"Only http, https and local file sources can be ingested, not {scheme or 'no'} scheme."
        )
    portal = portal_video(value, settings.an_portal_hosts)
    if portal is not None:
        return SourceLocation(url=portal.page_url, key=normalise_url(portal.page_url), portal=portal)
    return SourceLocation(url=value, key=normalise_url(value))
