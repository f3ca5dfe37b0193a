"""The admin token: from settings, else generated once and kept (0600) in the data dir."""

from __future__ import annotations

import os
import secrets

from ..settings import Settings


def resolve_admin_token(settings: Settings) -> str:
    if settings.admin_token is not None:
        token = settings.admin_token.get_secret_value()
        if len(token) < 16:
            raise ValueError("ROBIAN_ADMIN_TOKEN must be at least 16 characters")
        return token
    path = settings.data_dir / "admin-token"
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token
