"""Settings variables renamed in this release (durations end in ``_SECONDS``): the old names are still
read, with a warning naming the new one, until the next release drops them with this module."""

from __future__ import annotations

import warnings

from pydantic import AliasChoices
from pydantic_settings import PydanticBaseSettingsSource

# old name → new
RENAMED_VARIABLES = {
    "ROBIAN_PAIRING_CODE_TTL_S": "ROBIAN_PAIRING_CODE_TTL_SECONDS",
    "ROBIAN_PAIRING_ATTEMPT_WINDOW_S": "ROBIAN_PAIRING_ATTEMPT_WINDOW_SECONDS",
    "ROBIAN_PROGRESS_MAX_CLOCK_SKEW_S": "ROBIAN_PROGRESS_MAX_CLOCK_SKEW_SECONDS",
    "ROBIAN_LISTENERS_NOW_WINDOW_S": "ROBIAN_LISTENERS_NOW_WINDOW_SECONDS",
}


def renamed_from(old: str) -> AliasChoices:
    """Read a renamed setting under its new variable, else under its old one."""
    return AliasChoices(RENAMED_VARIABLES[old], old)


def warn_renamed(sources: tuple[PydanticBaseSettingsSource, ...]) -> None:
    """One FutureWarning per old name still set (environment or ``.env``): shown to operators by default."""
    given = {name.upper() for source in sources for name in getattr(source, "env_vars", {})}
    for old in sorted(given & RENAMED_VARIABLES.keys()):
        warnings.warn(
            f"{old} is deprecated: set {RENAMED_VARIABLES[old]} instead (the old name goes next release)",
            FutureWarning,
            stacklevel=2,
        )
