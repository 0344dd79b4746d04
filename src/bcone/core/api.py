"""Platform endpoints: administrative divisions for the console's pickers, job status for progress bars."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from bcone.core import geo, jobs
from bcone.core.deps import CurrentPrincipal, PageDep, SessionDep
from bcone.core.errors import NotFound
from bcone.core.pagination import Page

router = APIRouter(tags=["platform"])


class DivisionOut(BaseModel):
    code: str
    name: str
    short_name: str
    level: geo.DivisionLevel
    parent_code: str | None
    lng: float
    lat: float

    @classmethod
    def of(cls, division: geo.Division) -> DivisionOut:
        return cls(
            code=division.code,
            name=division.name,
            short_name=division.short_name,
            level=division.level,
            parent_code=division.parent_code,
            lng=division.lng,
            lat=division.lat,
        )


class DivisionDetail(DivisionOut):
    ancestors: list[DivisionOut]  # province first, for pre-filling cascading pickers


class DivisionNotFound(NotFound):
    code = "division_not_found"
    title = "Division not found"


class JobNotFound(NotFound):
    code = "job_not_found"
    title = "Job not found"


@router.get("/divisions", response_model=Page[DivisionOut])
def list_divisions(
    _principal: CurrentPrincipal,
    page: PageDep,
    parent: Annotated[str | None, Query(max_length=6, description="only divisions inside this code")] = None,
    level: Annotated[geo.DivisionLevel | None, Query(description="province, city or district")] = None,
) -> Page[DivisionOut]:
    """Divisions by name or code prefix (``q``); ``parent`` alone lists its direct children."""
    if parent is not None:
        geo.require_division(parent, field="parent")
    found = geo.search_divisions(page.q, parent_code=parent, level=level)
    items = [DivisionOut.of(d) for d in found[page.offset : page.offset + page.page_size]]
    return Page(items=items, total=len(found), page=page.page, page_size=page.page_size)


@router.get("/divisions/{code}", response_model=DivisionDetail)
def read_division(code: str, _principal: CurrentPrincipal) -> DivisionDetail:
    """One division with its ancestors; 404 for an unknown code."""
    division = geo.get_division(code)
    if division is None:
        raise DivisionNotFound(f"no division with code {code!r}", field="code")
    out = DivisionOut.of(division)
    return DivisionDetail(**out.model_dump(), ancestors=[DivisionOut.of(a) for a in geo.ancestors(code)])


@router.get("/jobs/{job_id}", response_model=jobs.JobStatus)
def read_job(job_id: str, principal: CurrentPrincipal, session: SessionDep) -> jobs.JobStatus:
    """A background job's status and progress; another tenant's job answers 404."""
    # The jobs table is shared by platform and tenant work (tenant_id may be empty), so it is not
    # tenant-scoped automatically: the operator sees every job, a tenant's users their own only.
    status = jobs.get_job(session, job_id)
    if status is None or (not principal.is_operator and status.tenant_id != principal.tenant_id):
        raise JobNotFound(f"no job with id {job_id!r}", field="job_id")
    return status
