"""Leads: captured from a form (the API), a CSV/XLSX import or a referral (the referrer is
credited), qualified, and converted into an account and an opportunity. Conversion is idempotent
and a converted lead is read-only; the referrer joins the opportunity's team (role ``other``) with
a contribution, so the bonus allocation credits the referral too.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bcone.core.auth import Role
from bcone.core.db import utcnow
from bcone.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from bcone.core.imports import (
    Column,
    ImportMode,
    ImportReport,
    RowOutcome,
    Table,
    TableRow,
    read_table,
    run_import,
)
from bcone.core.money import yuan_to_fen
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.crm._growth import visible_owner_ids
from bcone.crm._records import Viewer, _check_user, create_account, create_opportunity
from bcone.crm.models import Account, Contact, Contribution, Lead, TeamMember
from bcone.crm.schemas import (
    AccountIn,
    LeadConvert,
    LeadConverted,
    LeadIn,
    LeadOut,
    LeadQualify,
    OpportunityIn,
)

LEAD_COLUMNS = (
    Column("company", ("company", "公司", "客户名称"), required=True),
    Column("contact_name", ("contact_name", "联系人"), required=True),
    Column("phone", ("phone", "电话")),
    Column("email", ("email", "邮箱")),
    Column("need", ("need", "需求")),
    Column("estimated_yuan", ("estimated_yuan", "预计金额")),
    Column("referrer_name", ("referrer_name", "推荐人")),
)
REFERRAL_WEIGHT = 10  # the referrer's contribution points on the opportunity


class LeadNotFound(NotFound):
    code = "lead_not_found"
    title = "Lead not found"


class LeadConvertedAlready(Conflict):
    code = "lead_converted"
    title = "The lead is converted and read-only"


def _row(session: Session, lead_id: str, viewer: Viewer, *, lock: bool = False) -> Lead:
    stmt = select(Lead).where(Lead.id == lead_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).one_or_none()
    if row is None or not _sees(row, session, viewer):
        raise LeadNotFound(f"no lead {lead_id}", field="lead_id")
    return row


def _sees(row: Lead, session: Session, viewer: Viewer) -> bool:
    owners = visible_owner_ids(session, viewer)
    if owners is None:
        return True
    if viewer.role == Role.sales_manager.value and row.owner_user_id is None:
        return True  # unassigned leads are the managers' to hand out
    return row.owner_user_id in owners or row.referrer_user_id == viewer.user_id


def create_lead(data: LeadIn, *, session: Session, viewer: Viewer) -> LeadOut:
    """Capture a lead. A referral names its referrer (a user, credited on conversion, or a name)."""
    if data.source == "referral" and not (data.referrer_user_id or data.referrer_name):
        raise ValidationFailed("a referral names its referrer", field="referrer_user_id")
    if data.referrer_user_id:
        _check_user(session, data.referrer_user_id, "referrer_user_id")
    owner = data.owner_user_id
    if owner:
        if viewer.role == Role.sales_rep.value and owner != viewer.user_id:
            raise Forbidden("a sales rep captures leads for themselves", field="owner_user_id")
        _check_user(session, owner, "owner_user_id")
    elif viewer.role == Role.sales_rep.value:
        owner = viewer.user_id
    values = data.model_dump(exclude={"currency", "owner_user_id"})
    row = Lead(**values, owner_user_id=owner, status="new", qualification_note="")
    session.add(row)
    session.flush()
    return LeadOut.model_validate(row)


def list_leads(
    params: PageParams,
    *,
    session: Session,
    viewer: Viewer,
    status: str | None = None,
    source: str | None = None,
) -> Page[LeadOut]:
    """Leads, newest first; ``q`` searches company, contact and phone."""
    stmt = select(Lead).order_by(Lead.created_at.desc(), Lead.id.desc())
    owners = visible_owner_ids(session, viewer)
    if owners is not None:
        mine = [Lead.owner_user_id.in_(owners), Lead.referrer_user_id == viewer.user_id]
        if viewer.role == Role.sales_manager.value:
            mine.append(Lead.owner_user_id.is_(None))
        stmt = stmt.where(or_(*mine))
    if status:
        stmt = stmt.where(Lead.status == status)
    if source:
        stmt = stmt.where(Lead.source == source)
    if params.q:
        stmt = stmt.where(
            or_(
                Lead.company.icontains(params.q, autoescape=True),
                Lead.contact_name.icontains(params.q, autoescape=True),
                Lead.phone.contains(params.q, autoescape=True),
            )
        )
    rows, total = paginate_rows(session, stmt, params)
    return Page(
        items=[LeadOut.model_validate(r) for r in rows],
        total=total,
        page=params.page,
        page_size=params.page_size,
    )


def get_lead(lead_id: str, *, session: Session, viewer: Viewer) -> LeadOut:
    return LeadOut.model_validate(_row(session, lead_id, viewer))


def qualify_lead(lead_id: str, data: LeadQualify, *, session: Session, viewer: Viewer) -> LeadOut:
    """Mark a lead qualified or disqualified (again, if need be); a converted lead is read-only."""
    row = _row(session, lead_id, viewer, lock=True)
    if row.status == "converted":
        raise LeadConvertedAlready("a converted lead cannot change", field="status")
    if data.owner_user_id and data.owner_user_id != row.owner_user_id:
        if viewer.role == Role.sales_rep.value:
            raise Forbidden("a sales rep cannot hand a lead over", field="owner_user_id")
        _check_user(session, data.owner_user_id, "owner_user_id")
        row.owner_user_id = data.owner_user_id
    row.status = "qualified" if data.qualified else "disqualified"
    row.qualification_note = data.note
    session.flush()
    return LeadOut.model_validate(row)


def convert_lead(lead_id: str, data: LeadConvert, *, session: Session, viewer: Viewer) -> LeadConverted:
    """Turn a qualified lead into an account (the one given, the one named like the company, or a
    new one) with the lead's contact, and an opportunity. Converting again returns the first result."""
    row = _row(session, lead_id, viewer, lock=True)
    if row.status == "converted":
        assert row.account_id
        assert row.opportunity_id
        return LeadConverted(
            lead=LeadOut.model_validate(row),
            account_id=row.account_id,
            opportunity_id=row.opportunity_id,
            created=False,
        )
    if row.status != "qualified":
        raise Conflict(f"only a qualified lead is converted; this one is {row.status}", field="status")
    if data.account_id:
        account = session.scalars(select(Account).where(Account.id == data.account_id)).one_or_none()
        if account is None:
            raise ValidationFailed(f"no account {data.account_id}", field="account_id")
        account_id = account.id
    else:
        found = session.scalars(select(Account.id).where(Account.name == row.company)).first()
        account_id = (
            found
            or create_account(
                AccountIn(name=row.company, owner_user_id=row.owner_user_id), session=session
            ).id
        )
    session.add(
        Contact(
            account_id=account_id,
            name=row.contact_name,
            title="",
            phone=row.phone,
            email=row.email,
            decision_role="influencer",
        )
    )
    owner = row.owner_user_id or viewer.user_id
    if viewer.role == Role.sales_rep.value and owner != viewer.user_id:
        raise Forbidden("the lead's owner converts it", field="lead_id")
    opp = create_opportunity(
        OpportunityIn(
            account_id=account_id,
            name=data.opportunity_name or f"{row.company} {row.need[:40]}".strip(),
            owner_user_id=owner,
            amount_fen=row.estimated_fen if data.amount_fen is None else data.amount_fen,
            close_date=data.close_date,
            grade=data.grade,
        ),
        session=session,
        viewer=viewer,
    )
    if row.referrer_user_id:
        session.add(
            TeamMember(opportunity_id=opp.id, user_id=row.referrer_user_id, role="other", note="referral")
        )
        session.add(
            Contribution(
                opportunity_id=opp.id,
                user_id=row.referrer_user_id,
                what=f"referral: {row.company}",
                weight=REFERRAL_WEIGHT,
                recorded_by=viewer.user_id,
            )
        )
    row.status = "converted"
    row.account_id = account_id
    row.opportunity_id = opp.id
    row.converted_at = utcnow()
    session.flush()
    return LeadConverted(
        lead=LeadOut.model_validate(row), account_id=account_id, opportunity_id=opp.id, created=True
    )


def import_leads(
    data: bytes, filename: str, *, session: Session, viewer: Viewer, mode: ImportMode = ImportMode.valid_rows
) -> ImportReport:
    """Import leads from CSV/XLSX (one per row, source ``import``); the report lists bad rows."""
    table: Table = read_table(data, filename, LEAD_COLUMNS)

    def apply(row: TableRow) -> RowOutcome:
        estimated = row.get("estimated_yuan")
        try:
            fen = yuan_to_fen(estimated) if estimated else 0
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="estimated_yuan") from None
        if fen < 0:
            raise ValidationFailed("an estimate is not negative", field="estimated_yuan")
        lead = LeadIn(
            company=row.get("company"),
            contact_name=row.get("contact_name"),
            phone=row.get("phone"),
            email=row.get("email"),
            need=row.get("need"),
            source="import",
            referrer_name=row.get("referrer_name"),
            estimated_fen=fen,
        )
        create_lead(lead, session=session, viewer=viewer)
        return "created"

    return run_import(
        session=session,
        table=table,
        mode=mode,
        apply=apply,
        field_aliases={"estimated_fen": "estimated_yuan"},
    )
