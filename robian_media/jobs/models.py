"""A job as ``GET /api/v1/jobs/{id}`` shows it, whatever its kind (docs/architecture.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
JobStage = Literal["fetching", "probing", "packaging", "publishing"]


class Job(BaseModel):
    id: UUID
    kind: Literal["ingest", "live", "compte_rendu"]
    status: JobStatus
    stage: JobStage | None
    progress: float
    error: str | None
    debate_id: UUID | None
    created_at: datetime
    updated_at: datetime
    # what the public may read instead of ``error`` (jobs/errors.py); not part of the answer
    error_category: str | None = Field(None, exclude=True)

    def for_public(self) -> Job:
        """The job as anyone may see it: the kind of failure, not its details (hosts, URLs)."""
        if self.error is None:
            return self
        if self.error_category is not None:
            return self.model_copy(update={"error": self.error_category})
        return self.model_copy(update={"error": "cancelled" if self.status == "cancelled" else "failed"})
