"""A job as ``GET /api/v1/jobs/{id}`` shows it, whatever its kind (docs/architecture.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

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
