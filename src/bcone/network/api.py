"""HTTP API of the channel network: organisations, staff, coverage and file imports.

Every role of the brand reads the network; partner users read only their own organisation and
its subtree. Owners, admins and sales managers change it.

The reads are ``async`` and call the service through ``run_blocking``: one thin hop to a
database thread instead of FastAPI's thread pool for the handler and again for the answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status

from bcone.core.auth import BRAND_ROLES, Principal, Role
from bcone.core.db import run_blocking
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.imports import MAX_IMPORT_BYTES, ImportMode, ImportRejected, ImportReport
from bcone.core.pagination import Page
from bcone.network import service
from bcone.network.schemas import (
    OrganizationIn,
    OrganizationOut,
    OrganizationUpdate,
    OrgKind,
    OrgStatus,
    StaffIn,
    StaffKind,
    StaffOut,
    StaffStatus,
    StaffUpdate,
)

router = APIRouter(tags=["network"])

Reader = Annotated[Principal, Depends(require_roles(*Role))]
BrandReader = Annotated[Principal, Depends(require_roles(*BRAND_ROLES))]
Manager = Annotated[Principal, Depends(require_roles(Role.sales_manager))]
Upload = Annotated[UploadFile, File(description="CSV (UTF-8 or GBK) or XLSX; the header is row 1")]
Mode = Annotated[ImportMode, Form(description="all_or_nothing (default) or valid_rows")]


def _read_upload(file: UploadFile) -> tuple[bytes, str]:
    # One byte over the limit is enough for read_table to refuse the file without reading it all.
    return file.file.read(MAX_IMPORT_BYTES + 1), file.filename or "upload"


def _answer(report: ImportReport) -> ImportReport:
    if report.mode is ImportMode.all_or_nothing and not report.imported:
        raise ImportRejected(report)
    return report


@router.get("/network/organizations")
async def list_organizations(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    kind: OrgKind | None = None,
    status: OrgStatus | None = None,
    division: Annotated[
        str | None, Query(description="division code: organisations located inside it")
    ] = None,
    parent_id: str | None = None,
) -> Page[OrganizationOut]:
    """Organisations, searchable (``q``: code, name, address, contact) and filterable."""
    return await run_blocking(
        service.list_organizations,
        page,
        session=session,
        kind=kind,
        status=status,
        division=division,
        parent_id=parent_id,
        scope_org_id=service.partner_scope(principal),
    )


@router.post("/network/organizations", status_code=status.HTTP_201_CREATED)
def create_organization(body: OrganizationIn, _: Manager, session: SessionDep) -> OrganizationOut:
    """Add a distributor, wholesaler or store (owner, admin, sales manager)."""
    return service.create_organization(body, session=session)


@router.post("/network/organizations/import")
def import_organizations(
    _: Manager, session: SessionDep, file: Upload, mode: Mode = ImportMode.all_or_nothing
) -> ImportReport:
    """Create or update organisations from a file, matched by code; 422 with the report when rejected."""
    data, filename = _read_upload(file)
    return _answer(service.import_organizations(data, filename, session=session, mode=mode))


@router.get("/network/organizations/{org_id}")
async def get_organization(org_id: str, principal: Reader, session: SessionDep) -> OrganizationOut:
    """One organisation (a partner only sees its own subtree)."""
    scope = service.partner_scope(principal)
    return await run_blocking(service.get_organization, org_id, session=session, scope_org_id=scope)


@router.patch("/network/organizations/{org_id}")
def update_organization(
    org_id: str, body: OrganizationUpdate, _: Manager, session: SessionDep
) -> OrganizationOut:
    """Change an organisation; only the fields sent change (owner, admin, sales manager)."""
    return service.update_organization(org_id, body, session=session)


@router.get("/network/coverage")
async def organizations_covering(
    _: BrandReader,
    session: SessionDep,
    division_code: Annotated[str, Query(description="the division to cover")],
    kind: OrgKind | None = None,
) -> list[OrganizationOut]:
    """Active organisations whose sales region covers the division (or a region above it)."""
    return await run_blocking(service.organizations_covering, division_code, session=session, kind=kind)


@router.get("/network/staff")
async def list_staff(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    kind: StaffKind | None = None,
    status: StaffStatus | None = None,
    org_id: str | None = None,
) -> Page[StaffOut]:
    """Staff, searchable (``q``: name, phone, employee code) and filterable by organisation."""
    return await run_blocking(
        service.list_staff,
        page,
        session=session,
        kind=kind,
        status=status,
        org_id=org_id,
        scope_org_id=service.partner_scope(principal),
    )


@router.post("/network/staff", status_code=status.HTTP_201_CREATED)
def create_staff(body: StaffIn, _: Manager, session: SessionDep) -> StaffOut:
    """Add a sales rep, shop assistant or KOC (owner, admin, sales manager)."""
    return service.create_staff(body, session=session)


@router.post("/network/staff/import")
def import_staff(
    _: Manager, session: SessionDep, file: Upload, mode: Mode = ImportMode.all_or_nothing
) -> ImportReport:
    """Create or update staff from a file, matched by employee code; 422 with the report when rejected."""
    data, filename = _read_upload(file)
    return _answer(service.import_staff(data, filename, session=session, mode=mode))


@router.get("/network/staff/{staff_id}")
async def get_staff(staff_id: str, principal: Reader, session: SessionDep) -> StaffOut:
    """One staff member (a partner only sees those of its subtree)."""
    scope = service.partner_scope(principal)
    return await run_blocking(service.get_staff, staff_id, session=session, scope_org_id=scope)


@router.patch("/network/staff/{staff_id}")
def update_staff(staff_id: str, body: StaffUpdate, _: Manager, session: SessionDep) -> StaffOut:
    """Change a staff member; only the fields sent change (owner, admin, sales manager)."""
    return service.update_staff(staff_id, body, session=session)
