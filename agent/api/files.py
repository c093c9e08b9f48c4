"""`GET /api/files/index`: the background index jobs of the resident agent (the same data as the
`files.index.progress` notices on `WS /api/events`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from agent.api.state import ERRORS, bearer, require_token, state_of

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(bearer), Depends(require_token)], responses=ERRORS)


class IndexJobsResponse(BaseModel):
    resident: bool = Field(description="whether background jobs run here (only in `agent run`)")
    running: bool = Field(description="a job is queued or indexing")
    jobs: list[dict[str, Any]] = Field(description="most recent first: root, state, estimate, done, total, "
                                       "percent, files_per_s, eta_s, indexed, skipped, chunks, ...")


@router.get("/api/files/index", response_model=IndexJobsResponse, summary="background indexing: progress per folder")
def index_jobs(request: Request) -> IndexJobsResponse:
    files = state_of(request).services.files
    if files is None:
        return IndexJobsResponse(resident=False, running=False, jobs=[])
    statuses = files.jobs.jobs()
    return IndexJobsResponse(resident=True, running=any(s.running for s in statuses),
                             jobs=[s.to_json() for s in statuses])
