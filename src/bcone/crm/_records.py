"""Accounts, contacts, sales teams, the pipeline, opportunities and their stage moves, the iron
triangle, the activity timeline and the relationship scorecard.

Who sees what (:class:`Viewer`): owners and admins see every opportunity; a sales manager sees
their own, those of the teams they lead and those whose iron triangle they are in; a sales rep
sees their own and those whose iron triangle they are in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, or_, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from bcone.core.auth import Principal, Role
from bcone.core.db import as_utc, utcnow
from bcone.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from bcone.core.events import append_event
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.crm._defaults import DEFAULT_STAGES, default_items
from bcone.crm.errors import (
    AccountNotFound,
    ContactNotFound,
    DuplicateAccount,
    DuplicateSalesTeam,
    InvalidScorecard,
    OpportunityClosed,
    OpportunityNotFound,
    ScorecardItemsMissing,
    UnknownOrganization,
    UnknownStage,
    UnknownUser,
)
from bcone.crm.models import (
    Account,
    Activity,
    Assessment,
    BackOfficeRequest,
    Contact,
    Contribution,
    Mention,
    Opportunity,
    SalesTeam,
    SalesTeamMember,
    ScorecardTemplate,
    Stage,
    StageChange,
    TeamMember,
    TierChange,
)
from bcone.crm.schemas import (
    AccountIn,
    AccountOut,
    AccountUpdate,
    ActivityIn,
    AssessmentIn,
    AssessmentOut,
    ContactIn,
    ContactNode,
    ContactOut,
    ContactUpdate,
    ContributionIn,
    ContributionOut,
    OpportunityIn,
    OpportunityOut,
    OpportunityUpdate,
    SalesTeamIn,
    SalesTeamOut,
    ScorecardItem,
    ScorecardTemplateIn,
    ScorecardTemplateOut,
    StageChangeOut,
    StageIn,
    StageOut,
    TeamMemberIn,
    TeamMemberOut,
    TeamOut,
    TimelineEntry,
)
from bcone.iam import service as iam
from bcone.network import service as network

T = TypeVar("T")


@dataclass(frozen=True)
class Viewer:
    """Who reads or writes, for role scoping; ``user_id=None`` with ``role=None`` is the system."""

    user_id: str | None
    role: str | None

    @classmethod
    def of(cls, principal: Principal) -> Viewer:
        return cls(principal.user_id, principal.role.value if principal.role else None)

    @classmethod
    def system(cls) -> Viewer:
        return cls(None, None)

    @property
    def sees_all(self) -> bool:
        if self.role is None:
            return self.user_id is None
        return self.role in (Role.owner.value, Role.admin.value)


# --- helpers -------------------------------------------------------------------------------------


def _insert_once(session: Session, make: Callable[[], list[Any]], reread: Callable[[], T]) -> T:
    """Insert rows in a savepoint; if a concurrent unit of work inserted them first, read theirs."""
    try:
        with session.begin_nested():
            session.add_all(make())
    except IntegrityError:
        pass
    return reread()


def _check_user(session: Session, user_id: str, field: str) -> None:
    try:
        iam.get_user(user_id, session=session)
    except NotFound as exc:
        raise UnknownUser(f"no user {user_id} in this tenant", field=field) from exc


# --- pipeline ------------------------------------------------------------------------------------


def _stage_rows(session: Session) -> list[Stage]:
    return list(session.scalars(select(Stage).order_by(Stage.position)))


def pipeline(*, session: Session) -> list[StageOut]:
    """The tenant's stages in order; a tenant without any gets the default pipeline."""
    return [StageOut.model_validate(s) for s in stage_rows(session)]


def stage_rows(session: Session) -> list[Stage]:
    rows = _stage_rows(session)
    if rows:
        return rows

    def make() -> list[Any]:
        return [
            Stage(
                key=key,
                name_zh=zh,
                name_en=en,
                position=i,
                outcome=outcome,
                prior_probability=prior,
                required_items=list(required),
            )
            for i, (key, zh, en, outcome, prior, required) in enumerate(DEFAULT_STAGES)
        ]

    return _insert_once(session, make, lambda: _stage_rows(session))


def replace_pipeline(stages: list[StageIn], *, session: Session) -> list[StageOut]:
    """Replace the tenant's stages; stages in use by opportunities must stay."""
    keys = [s.key for s in stages]
    if len(set(keys)) != len(keys):
        raise ValidationFailed("stage keys must be unique", field="stages")
    outcomes = {s.outcome for s in stages}
    if outcomes != {"open", "won", "lost"}:
        raise ValidationFailed("a pipeline needs open stages, a won stage and a lost stage", field="stages")
    item_keys = {i.key for i in current_template_items(session)}
    for i, s in enumerate(stages):
        unknown = sorted(set(s.required_items) - item_keys)
        if unknown:
            raise ValidationFailed(
                f"unknown scorecard items: {', '.join(unknown)}", field=f"stages.{i}.required_items"
            )
    in_use = set(session.scalars(select(Opportunity.stage_key).distinct()))
    dropped = sorted(in_use - set(keys))
    if dropped:
        raise Conflict(f"stages in use cannot be removed: {', '.join(dropped)}", field="stages")
    session.execute(delete(Stage))
    session.add_all(
        [
            Stage(
                key=s.key,
                name_zh=s.name_zh,
                name_en=s.name_en,
                position=i,
                outcome=s.outcome,
                prior_probability=s.prior_probability,
                required_items=list(s.required_items),
            )
            for i, s in enumerate(stages)
        ]
    )
    session.flush()
    return pipeline(session=session)


# --- accounts and contacts -----------------------------------------------------------------------


def _account_row(session: Session, account_id: str) -> Account:
    row = session.scalars(select(Account).where(Account.id == account_id)).one_or_none()
    if row is None:
        raise AccountNotFound(f"no account {account_id}", field="account_id")
    return row


def _check_account_name(session: Session, name: str, except_id: str | None = None) -> None:
    found = session.scalars(select(Account.id).where(Account.name == name)).first()
    if found is not None and found != except_id:
        raise DuplicateAccount(f"there is already an account named {name!r}", field="name")


def create_account(data: AccountIn, *, session: Session) -> AccountOut:
    """Add an account; a network account names an organisation of the channel network."""
    _check_account_name(session, data.name)
    if data.kind == "network":
        if not data.network_org_id:
            raise ValidationFailed("a network account needs network_org_id", field="network_org_id")
        try:
            network.get_organization(data.network_org_id, session=session)
        except NotFound as exc:
            raise UnknownOrganization(
                f"no organisation {data.network_org_id}", field="network_org_id"
            ) from exc
    elif data.network_org_id:
        raise ValidationFailed("only a network account names an organisation", field="network_org_id")
    if data.owner_user_id:
        _check_user(session, data.owner_user_id, "owner_user_id")
    row = Account(**data.model_dump())
    session.add(row)
    session.flush()
    return AccountOut.model_validate(row)


def update_account(
    account_id: str, data: AccountUpdate, *, session: Session, changed_by: str | None = None
) -> AccountOut:
    """Change an account; a new name is copied to its opportunities (their search uses it)."""
    row = _account_row(session, account_id)
    sent = data.model_fields_set
    if "name" in sent and data.name and data.name != row.name:
        _check_account_name(session, data.name, row.id)
        row.name = data.name
        for opp in session.scalars(select(Opportunity).where(Opportunity.account_id == row.id)):
            opp.account_name = data.name
            opp.search_text = search_text(opp.name, data.name)
    if "owner_user_id" in sent:
        if data.owner_user_id:
            _check_user(session, data.owner_user_id, "owner_user_id")
        row.owner_user_id = data.owner_user_id
    for name in ("industry", "notes", "potential", "strategic_fit"):
        if name in sent and getattr(data, name) is not None:
            setattr(row, name, getattr(data, name))
    if "tier" in sent and data.tier != row.tier:
        if data.tier is not None:
            session.add(
                TierChange(account_id=row.id, from_tier=row.tier, to_tier=data.tier, changed_by=changed_by)
            )
        row.tier = data.tier
    session.flush()
    return AccountOut.model_validate(row)


def get_account(account_id: str, *, session: Session) -> AccountOut:
    return AccountOut.model_validate(_account_row(session, account_id))


def list_accounts(
    params: PageParams,
    *,
    session: Session,
    tier: str | None = None,
    owner_user_id: str | None = None,
    owner_user_ids: list[str] | None = None,
) -> Page[AccountOut]:
    """Accounts by name; ``q`` searches name and industry; ``owner_user_ids`` limits the list to
    those owners' accounts (a rep's or a team's scope on the console)."""
    stmt = select(Account).order_by(Account.name, Account.id)
    if params.q:
        stmt = stmt.where(
            or_(
                Account.name.icontains(params.q, autoescape=True),
                Account.industry.icontains(params.q, autoescape=True),
            )
        )
    if tier:
        stmt = stmt.where(Account.tier == tier)
    if owner_user_id:
        stmt = stmt.where(Account.owner_user_id == owner_user_id)
    if owner_user_ids is not None:
        stmt = stmt.where(Account.owner_user_id.in_(owner_user_ids))
    rows, total = paginate_rows(session, stmt, params)
    items = [AccountOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, page=params.page, page_size=params.page_size)


def _contact_row(session: Session, contact_id: str) -> Contact:
    row = session.get(Contact, contact_id)
    if row is None:
        raise ContactNotFound(f"no contact {contact_id}", field="contact_id")
    return row


def _check_reports_to(session: Session, account_id: str, contact_id: str | None, boss_id: str) -> None:
    """``boss_id`` must be another contact of the same account, and not one who (directly or
    through others) reports to ``contact_id``: the reporting lines stay a forest."""
    field = "reports_to_contact_id"
    if boss_id == contact_id:
        raise ValidationFailed("a contact does not report to themselves", field=field)
    boss = session.get(Contact, boss_id)
    if boss is None or boss.account_id != account_id:
        raise ValidationFailed(f"no contact {boss_id} at this account", field=field)
    if contact_id is None:
        return
    stmt = select(Contact.id, Contact.reports_to_contact_id).where(Contact.account_id == account_id)
    lines = {row.id: row.reports_to_contact_id for row in session.execute(stmt)}
    seen: set[str] = set()
    current: str | None = boss_id
    while current is not None and current not in seen:
        if current == contact_id:
            raise ValidationFailed("the reporting line would form a cycle", field=field)
        seen.add(current)
        current = lines.get(current)


def add_contact(account_id: str, data: ContactIn, *, session: Session) -> ContactOut:
    _account_row(session, account_id)
    if data.reports_to_contact_id:
        _check_reports_to(session, account_id, None, data.reports_to_contact_id)
    if data.owner_user_id:
        _check_user(session, data.owner_user_id, "owner_user_id")
    row = Contact(account_id=account_id, **data.model_dump())
    session.add(row)
    session.flush()
    return ContactOut.model_validate(row)


def update_contact(contact_id: str, data: ContactUpdate, *, session: Session) -> ContactOut:
    """Change the fields sent; a new reporting line is checked against cycles. The contact row is
    locked so that two concurrent changes of one account's lines cannot together form a cycle
    unnoticed (the account row is locked too: it serialises changes across its contacts)."""
    row = _contact_row(session, contact_id)
    sent = data.model_fields_set
    if "reports_to_contact_id" in sent:
        session.execute(select(Account.id).where(Account.id == row.account_id).with_for_update())
        if data.reports_to_contact_id:
            _check_reports_to(session, row.account_id, row.id, data.reports_to_contact_id)
        row.reports_to_contact_id = data.reports_to_contact_id
    if "owner_user_id" in sent:
        if data.owner_user_id:
            _check_user(session, data.owner_user_id, "owner_user_id")
        row.owner_user_id = data.owner_user_id
    for name in ("name", "title", "phone", "email", "decision_role", "attitude", "relationship_strength"):
        if name in sent and getattr(data, name) is not None:
            setattr(row, name, getattr(data, name))
    session.flush()
    return ContactOut.model_validate(row)


def get_contact(contact_id: str, *, session: Session) -> ContactOut:
    return ContactOut.model_validate(_contact_row(session, contact_id))


def list_contacts(account_id: str, *, session: Session) -> list[ContactOut]:
    _account_row(session, account_id)
    rows = session.scalars(select(Contact).where(Contact.account_id == account_id).order_by(Contact.name))
    return [ContactOut.model_validate(r) for r in rows]


def relationship_map(account_id: str, *, session: Session) -> list[ContactNode]:
    """The account's contacts as trees by reporting line, roots first, names in order."""
    contacts = list_contacts(account_id, session=session)
    nodes = {c.id: ContactNode(contact=c) for c in contacts}
    roots: list[ContactNode] = []
    for c in contacts:
        boss = nodes.get(c.reports_to_contact_id or "")
        (boss.reports if boss is not None else roots).append(nodes[c.id])
    return roots


# --- sales teams ---------------------------------------------------------------------------------


def create_sales_team(data: SalesTeamIn, *, session: Session) -> SalesTeamOut:
    """A sales team with its manager and members (a user belongs to one team)."""
    if session.scalars(select(SalesTeam.id).where(SalesTeam.name == data.name)).first():
        raise DuplicateSalesTeam(f"there is already a team named {data.name!r}", field="name")
    if data.manager_user_id:
        _check_user(session, data.manager_user_id, "manager_user_id")
    members = list(dict.fromkeys(data.member_user_ids))
    for i, uid in enumerate(members):
        _check_user(session, uid, f"member_user_ids.{i}")
    taken = list(session.scalars(select(SalesTeamMember.user_id).where(SalesTeamMember.user_id.in_(members))))
    if taken:
        raise Conflict(f"already in another team: {', '.join(taken)}", field="member_user_ids")
    team = SalesTeam(name=data.name, manager_user_id=data.manager_user_id)
    session.add(team)
    session.flush()
    session.add_all([SalesTeamMember(team_id=team.id, user_id=uid) for uid in members])
    session.flush()
    return SalesTeamOut(
        id=team.id, name=team.name, manager_user_id=team.manager_user_id, member_user_ids=members
    )


def list_sales_teams(*, session: Session) -> list[SalesTeamOut]:
    teams = list(session.scalars(select(SalesTeam).order_by(SalesTeam.name)))
    members: dict[str, list[str]] = {}
    for team_id, uid in session.execute(select(SalesTeamMember.team_id, SalesTeamMember.user_id)):
        members.setdefault(team_id, []).append(uid)
    return [
        SalesTeamOut(
            id=t.id, name=t.name, manager_user_id=t.manager_user_id, member_user_ids=members.get(t.id, [])
        )
        for t in teams
    ]


def team_names(session: Session) -> dict[str, str]:
    return {str(tid): str(name) for tid, name in session.execute(select(SalesTeam.id, SalesTeam.name))}


# --- opportunities -------------------------------------------------------------------------------


def _visible_ids_query(viewer: Viewer) -> Any:
    """The ids a sales rep or manager may see: one ``UNION`` of index look-ups (own, iron
    triangle, led teams); None for owners, admins and the system (everything)."""
    uid = viewer.user_id
    opp = aliased(Opportunity)  # not correlated with the outer query's table
    parts: list[Select[Any]] = [
        select(opp.id).where(opp.owner_user_id == uid),
        select(TeamMember.opportunity_id).where(TeamMember.user_id == uid),
    ]
    if viewer.role == Role.sales_manager.value:
        led = select(SalesTeam.id).where(SalesTeam.manager_user_id == uid)
        parts.append(select(opp.id).where(opp.sales_team_id.in_(led)))
    return union(*parts)


def _no_access(viewer: Viewer) -> bool:
    return viewer.user_id is None or viewer.role not in (Role.sales_rep.value, Role.sales_manager.value)


def scoped(stmt: Select[Any], viewer: Viewer) -> Select[Any]:
    """``stmt`` over opportunities limited to what ``viewer`` may see."""
    if viewer.sees_all:
        return stmt
    if _no_access(viewer):
        return stmt.where(Opportunity.id.is_(None))
    return stmt.where(Opportunity.id.in_(_visible_ids_query(viewer)))


# Up to this many visible opportunities, a list binds their ids: the database then reads those
# rows by primary key instead of joining the id set against the whole table.
BOUND_IDS_MAX = 1000


def _scoped_for_page(session: Session, stmt: Select[Any], viewer: Viewer) -> Select[Any] | None:
    """Like :func:`scoped`, with the visible ids fetched first when there are few; None when the
    viewer sees nothing."""
    if viewer.sees_all:
        return stmt
    if _no_access(viewer):
        return None
    uid = viewer.user_id
    # A look-up on the (tenant, owner, close date) index first: a rep who owns many deals goes
    # straight to the large-scope plan, without gathering the union of every visible id.
    owned = session.scalars(
        select(Opportunity.id).where(Opportunity.owner_user_id == uid).limit(BOUND_IDS_MAX + 1)
    ).all()
    if len(owned) <= BOUND_IDS_MAX:
        ids = list(
            session.scalars(select(_visible_ids_query(viewer).subquery().c[0]).limit(BOUND_IDS_MAX + 1))
        )
        if not ids:
            return None
        if len(ids) <= BOUND_IDS_MAX:
            return stmt.where(Opportunity.id.in_(ids))
    # Many visible rows: own deals by the owner index, plus the few of the iron triangle (and, for
    # a manager, the teams they lead), as one OR the database answers from its indexes.
    parts = [
        Opportunity.owner_user_id == uid,
        Opportunity.id.in_(select(TeamMember.opportunity_id).where(TeamMember.user_id == uid)),
    ]
    if viewer.role == Role.sales_manager.value:
        led = select(SalesTeam.id).where(SalesTeam.manager_user_id == uid)
        parts.append(Opportunity.sales_team_id.in_(led))
    return stmt.where(or_(*parts))


def opportunity_row(session: Session, opp_id: str, viewer: Viewer, *, lock: bool = False) -> Opportunity:
    """The opportunity if ``viewer`` may see it; 404 otherwise (no hint that it exists)."""
    stmt = scoped(select(Opportunity).where(Opportunity.id == opp_id), viewer)
    if lock:
        stmt = stmt.with_for_update()
    row: Opportunity | None = session.scalars(stmt).one_or_none()
    if row is None:
        raise OpportunityNotFound(f"no opportunity {opp_id}", field="opportunity_id")
    return row


def opportunity_out(row: Opportunity) -> OpportunityOut:
    return OpportunityOut(
        id=row.id,
        account_id=row.account_id,
        account_name=row.account_name,
        name=row.name,
        owner_user_id=row.owner_user_id,
        sales_team_id=row.sales_team_id,
        stage_key=row.stage_key,
        status=row.status,
        amount_fen=row.amount_fen,
        currency=row.currency,
        close_date=row.close_date,
        grade=row.grade,
        forecast_category=row.forecast_category,
        own_estimate=row.own_estimate,
        stage_moves=row.stage_moves,
        closed_at=row.closed_at,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
    )


def search_text(name: str, account_name: str) -> str:
    """What the opportunity search matches: name and account name, lower-cased."""
    return f"{name} {account_name}".lower()


def _team_of(session: Session, user_id: str) -> str | None:
    return session.scalars(select(SalesTeamMember.team_id).where(SalesTeamMember.user_id == user_id)).first()


def _may_write(row: Opportunity, viewer: Viewer, session: Session) -> None:
    if viewer.sees_all or viewer.user_id == row.owner_user_id:
        return
    if viewer.role == Role.sales_manager.value and row.sales_team_id:
        led = session.scalars(
            select(SalesTeam.id).where(
                SalesTeam.id == row.sales_team_id, SalesTeam.manager_user_id == viewer.user_id
            )
        ).first()
        if led:
            return
    if (
        viewer.user_id
        and session.scalars(
            select(TeamMember.id).where(
                TeamMember.opportunity_id == row.id, TeamMember.user_id == viewer.user_id
            )
        ).first()
    ):
        return
    raise Forbidden(
        "only the owner, the team's manager or the iron triangle may change this", field="opportunity_id"
    )


def create_opportunity(data: OpportunityIn, *, session: Session, viewer: Viewer) -> OpportunityOut:
    """Open an opportunity at the first stage (or ``stage_key``, if it is open and its items are met)."""
    account = _account_row(session, data.account_id)
    owner = data.owner_user_id or viewer.user_id
    if owner is None:
        raise ValidationFailed("owner_user_id is required", field="owner_user_id")
    if owner != viewer.user_id:
        if viewer.role == Role.sales_rep.value:
            raise Forbidden("a sales rep opens opportunities for themselves", field="owner_user_id")
        _check_user(session, owner, "owner_user_id")
    stages = stage_rows(session)
    open_stages = [s for s in stages if s.outcome == "open"]
    stage = open_stages[0]
    if data.stage_key:
        found = [s for s in open_stages if s.key == data.stage_key]
        if not found:
            raise UnknownStage(f"no open stage {data.stage_key!r}", field="stage_key")
        stage = found[0]
        if stage.required_items:
            raise ScorecardItemsMissing(
                f"stage {stage.key} needs scorecard items: {', '.join(stage.required_items)}",
                field="stage_key",
                missing=list(stage.required_items),
            )
    row = Opportunity(
        account_id=account.id,
        account_name=account.name,
        name=data.name,
        search_text=search_text(data.name, account.name),
        owner_user_id=owner,
        sales_team_id=_team_of(session, owner),
        stage_key=stage.key,
        max_stage_position=stage.position,
        status="open",
        amount_fen=data.amount_fen,
        currency="CNY",
        close_date=data.close_date,
        grade=data.grade,
        forecast_category=data.forecast_category,
        own_estimate=data.own_estimate,
        stage_moves=0,
    )
    session.add(row)
    session.flush()
    session.add(
        StageChange(opportunity_id=row.id, from_stage=None, to_stage=stage.key, changed_by=viewer.user_id)
    )
    session.flush()
    return opportunity_out(row)


def update_opportunity(
    opp_id: str, data: OpportunityUpdate, *, session: Session, viewer: Viewer
) -> OpportunityOut:
    row = opportunity_row(session, opp_id, viewer, lock=True)
    _may_write(row, viewer, session)
    sent = data.model_fields_set
    if "owner_user_id" in sent and data.owner_user_id and data.owner_user_id != row.owner_user_id:
        if viewer.role == Role.sales_rep.value:
            raise Forbidden("a sales rep cannot hand an opportunity over", field="owner_user_id")
        _check_user(session, data.owner_user_id, "owner_user_id")
        row.owner_user_id = data.owner_user_id
        row.sales_team_id = _team_of(session, data.owner_user_id)
    for name in ("name", "amount_fen", "close_date", "grade"):
        if name in sent:
            value = getattr(data, name)
            if value is None:
                raise ValidationFailed(f"{name} cannot be empty", field=name)
            setattr(row, name, value)
    row.search_text = search_text(row.name, row.account_name)
    if "forecast_category" in sent and data.forecast_category:
        if (data.forecast_category == "closed") != (row.status != "open"):
            raise ValidationFailed(
                "closed is the category of closed opportunities", field="forecast_category"
            )
        row.forecast_category = data.forecast_category
    if "own_estimate" in sent:
        row.own_estimate = data.own_estimate
    session.flush()
    return opportunity_out(row)


def list_opportunity_rows(
    params: PageParams, *, session: Session, viewer: Viewer, **filters: Any
) -> tuple[list[Opportunity], int]:
    """One page of visible opportunities by close date and their total (see :func:`_list_rows`)."""
    rows, total, _capped = _list_rows(params, session=session, viewer=viewer, **filters)
    return rows, total


def _list_rows(
    params: PageParams,
    *,
    session: Session,
    viewer: Viewer,
    stage: str | None = None,
    status: str | None = None,
    owner_user_id: str | None = None,
    sales_team_id: str | None = None,
    account_id: str | None = None,
    grade: str | None = None,
    forecast_category: str | None = None,
    close_from: date | None = None,
    close_to: date | None = None,
) -> tuple[list[Opportunity], int, bool]:
    """One page of visible opportunities by close date; ``q`` searches name and account name.

    The total is exact when the search alone decides it (no scope, no filter: its match count)
    or when the page is the last one; otherwise it is counted up to ``COUNT_PAGES_AHEAD`` pages
    ahead (the third value says it is a lower bound)."""
    visible = _scoped_for_page(session, select(Opportunity), viewer)
    if visible is None:
        return [], 0, False
    stmt = visible.order_by(Opportunity.close_date, Opportunity.id)
    search_total: int | None = None
    if params.q:
        stmt, search_total = _search(session, stmt, params.q)
    for column, value in (
        (Opportunity.stage_key, stage),
        (Opportunity.status, status),
        (Opportunity.owner_user_id, owner_user_id),
        (Opportunity.sales_team_id, sales_team_id),
        (Opportunity.account_id, account_id),
        (Opportunity.grade, grade),
        (Opportunity.forecast_category, forecast_category),
    ):
        if value:
            stmt = stmt.where(column == value)
    if close_from:
        stmt = stmt.where(Opportunity.close_date >= close_from)
    if close_to:
        stmt = stmt.where(Opportunity.close_date <= close_to)
    if search_total == 0:
        return [], 0, False  # nothing has the text, whatever the scope and filters
    filtered = viewer.sees_all is False or any(
        (
            stage,
            status,
            owner_user_id,
            sales_team_id,
            account_id,
            grade,
            forecast_category,
            close_from,
            close_to,
        )
    )
    if filtered or search_total is None:
        return page_with_capped_count(session, stmt, params, exact=None)
    if search_total >= 0:
        return page_with_capped_count(session, stmt, params, exact=search_total)
    return page_with_capped_count(session, stmt, params, exact=None, at_least=-search_total)


# A list counts its rows only this many pages past the one shown: the pager can always go that
# far ahead, and a count over 100,000 rows (or a rep's scope joined against them) does not run
# on every page view. The API says when the total is such a lower bound (``total_capped``).
COUNT_PAGES_AHEAD = 10
# ...and at least this many rows: small lists (and small pages) always get their exact total.
COUNT_EXACT_UP_TO = 1000
# From this offset on, a page walks the ordering index once over ids ("deferred join").
DEFERRED_JOIN_FROM = 1000


def page_with_capped_count(
    session: Session, stmt: Select[Any], params: PageParams, *, exact: int | None, at_least: int = 0
) -> tuple[list[Opportunity], int, bool]:
    """One page of ``stmt`` and its total, counted at most ``COUNT_PAGES_AHEAD`` pages past this
    one (and at least up to row ``COUNT_EXACT_UP_TO``); the third value says the total is then a
    lower bound. ``exact``, when the caller knows the total, is used as it is; ``at_least``, a
    count the caller stopped early, spares the count when it already reaches past the cap.

    A shallow page reads its rows, then counts without ordering (the cheapest index the filters
    allow). A deep page walks the ordering index once over ids only, for its own ids and those
    of the pages ahead, and reads its rows by id: the offset is never walked twice.
    """
    ahead = max(COUNT_EXACT_UP_TO - params.offset, params.page_size * (COUNT_PAGES_AHEAD + 1))
    if params.offset >= DEFERRED_JOIN_FROM:
        ids = list(
            session.scalars(stmt.with_only_columns(Opportunity.id).limit(ahead + 1).offset(params.offset))
        )
        page_ids = ids[: params.page_size]
        rows = (
            list(session.scalars(stmt.where(Opportunity.id.in_(page_ids)).limit(len(page_ids))))
            if page_ids
            else []
        )
        found: int | None = len(ids) if ids else None
    else:
        rows = list(session.scalars(stmt.limit(params.page_size).offset(params.offset)))
        found = len(rows) if len(rows) < params.page_size and (rows or params.page == 1) else None
        if found is not None:
            return rows, params.offset + found, False  # the last page tells the total
    if exact is not None:
        return rows, exact, False
    if found is None:
        cap = params.offset + ahead
        if at_least > cap:
            return rows, cap, True  # the caller already counted past the cap (a common search word)
        limited = stmt.order_by(None).with_only_columns(Opportunity.id).limit(cap + 1).subquery()
        counted = int(session.scalar(select(func.count()).select_from(limited)) or 0)
        return (rows, cap, True) if counted > cap else (rows, counted, False)
    if found > ahead:
        return rows, params.offset + ahead, True
    return rows, params.offset + found, False


def list_opportunity_page(
    params: PageParams, *, session: Session, viewer: Viewer, **filters: Any
) -> tuple[list[Opportunity], int, bool]:
    """Like :func:`list_opportunity_rows`, with the count's cap: (rows, total, total_capped)."""
    return _list_rows(params, session=session, viewer=viewer, **filters)


# Up to this many matches a search reads the matching rows by id and sorts them; above it, it
# walks the close-date index and checks each row (the first page fills quickly).
SEARCH_SELECTIVE = 2000


def _search(session: Session, stmt: Select[Any], q: str) -> tuple[Select[Any], int]:
    """Add the text search to ``stmt``, choosing the plan by how many rows match the text.

    The matches are counted first over the covering (tenant_id, search_text, id) index, and only
    up to ``SEARCH_SELECTIVE + 1``: a common word stops the count early. The count (negative when
    it stopped there: more rows match) also lets an empty search skip the page query.
    """
    pattern = q.lower()
    match = aliased(Opportunity)
    matching = select(match.id).where(match.search_text.contains(pattern, autoescape=True))
    counted = select(func.count()).select_from(matching.limit(SEARCH_SELECTIVE + 1).subquery())
    total = int(session.scalar(counted) or 0)
    if total <= SEARCH_SELECTIVE:
        return stmt.where(Opportunity.id.in_(matching)), total
    return stmt.where(Opportunity.search_text.contains(pattern, autoescape=True)), -total


def latest_assessments(session: Session, opp_ids: list[str]) -> dict[str, Assessment]:
    """The latest assessment of each opportunity (the one that counts)."""
    out: dict[str, Assessment] = {}
    for i in range(0, len(opp_ids), 500):
        chunk = opp_ids[i : i + 500]
        stmt = (
            select(Assessment)
            .where(Assessment.opportunity_id.in_(chunk))
            .order_by(Assessment.assessed_at, Assessment.id)
        )
        for a in session.scalars(stmt):
            out[a.opportunity_id] = a
    return out


def move_stage(opp_id: str, to_stage: str, *, session: Session, viewer: Viewer) -> OpportunityOut:
    """Move an opportunity to ``to_stage``; 422 listing the scorecard items the stage still needs.

    The row is locked (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers), so concurrent
    moves form one chain in the history: each change starts where the previous one ended.
    """
    row = opportunity_row(session, opp_id, viewer, lock=True)
    _may_write(row, viewer, session)
    if row.status != "open":
        raise OpportunityClosed(f"the opportunity is {row.status}", field="to_stage")
    stages = {s.key: s for s in stage_rows(session)}
    stage = stages.get(to_stage)
    if stage is None:
        raise UnknownStage(f"no stage {to_stage!r}", field="to_stage")
    if stage.key == row.stage_key:
        return opportunity_out(row)
    latest = latest_assessments(session, [row.id]).get(row.id)
    scores = latest.scores if latest else {}
    missing = [k for k in stage.required_items if int(scores.get(k, 0)) < 1]
    if missing:
        raise ScorecardItemsMissing(
            f"stage {stage.key} needs scorecard items: {', '.join(missing)}",
            field="to_stage",
            missing=missing,
        )
    session.add(
        StageChange(
            opportunity_id=row.id, from_stage=row.stage_key, to_stage=stage.key, changed_by=viewer.user_id
        )
    )
    row.stage_key = stage.key
    row.stage_moves += 1
    if stage.outcome == "open":
        row.max_stage_position = max(row.max_stage_position, stage.position)
    else:
        row.status = stage.outcome
        row.closed_at = utcnow()
        row.forecast_category = "closed"
        append_outcome_event(session, row)
    session.flush()
    return opportunity_out(row)


def append_outcome_event(session: Session, row: Opportunity) -> None:
    """``opportunity.won`` / ``opportunity.lost`` to the warehouse, in the move's transaction.

    The event id carries the move number, so a later outcome of the same deal (a won deal
    cancelled into lost) is a new event, while appending the same move again is a no-op.
    """
    if row.status not in ("won", "lost"):
        return
    account = session.get(Account, row.account_id)
    org_id = account.network_org_id if account is not None and account.kind == "network" else None
    append_event(
        session,
        type=f"opportunity.{row.status}",
        event_id=f"opportunity.{row.status}:{row.id}:{row.stage_moves}",
        ts=utcnow(),
        org_id=org_id,
        amount=row.amount_fen,
        properties={
            "opportunity_id": row.id,
            "grade": row.grade,
            "stage": row.stage_key,
            "owner": row.owner_user_id,
        },
    )


def stage_history(opp_id: str, *, session: Session, viewer: Viewer) -> list[StageChangeOut]:
    opportunity_row(session, opp_id, viewer)
    stmt = (
        select(StageChange)
        .where(StageChange.opportunity_id == opp_id)
        .order_by(StageChange.changed_at, StageChange.id)
    )
    return [StageChangeOut.model_validate(c) for c in session.scalars(stmt)]


# --- iron triangle and timeline ------------------------------------------------------------------


def team(opp_id: str, *, session: Session, viewer: Viewer) -> TeamOut:
    opportunity_row(session, opp_id, viewer)
    members = session.scalars(
        select(TeamMember).where(TeamMember.opportunity_id == opp_id).order_by(TeamMember.role)
    )
    contribs = session.scalars(
        select(Contribution).where(Contribution.opportunity_id == opp_id).order_by(Contribution.recorded_at)
    )
    return TeamOut(
        members=[TeamMemberOut.model_validate(m) for m in members],
        contributions=[ContributionOut.model_validate(c) for c in contribs],
    )


def add_team_member(opp_id: str, data: TeamMemberIn, *, session: Session, viewer: Viewer) -> TeamMemberOut:
    row = opportunity_row(session, opp_id, viewer)
    _may_write(row, viewer, session)
    _check_user(session, data.user_id, "user_id")
    existing = session.scalars(
        select(TeamMember).where(
            TeamMember.opportunity_id == opp_id,
            TeamMember.user_id == data.user_id,
            TeamMember.role == data.role,
        )
    ).one_or_none()
    if existing is not None:
        return TeamMemberOut.model_validate(existing)
    member = TeamMember(opportunity_id=opp_id, user_id=data.user_id, role=data.role, note=data.note)
    session.add(member)
    session.flush()
    return TeamMemberOut.model_validate(member)


def remove_team_member(opp_id: str, member_id: str, *, session: Session, viewer: Viewer) -> None:
    row = opportunity_row(session, opp_id, viewer)
    _may_write(row, viewer, session)
    result = session.execute(
        delete(TeamMember).where(TeamMember.id == member_id, TeamMember.opportunity_id == opp_id)
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound(f"no team member {member_id}", field="member_id")


def add_contribution(
    opp_id: str, data: ContributionIn, *, session: Session, viewer: Viewer
) -> ContributionOut:
    """Record what a member of the iron triangle did, with its weight in points."""
    row = opportunity_row(session, opp_id, viewer)
    _may_write(row, viewer, session)
    is_member = session.scalars(
        select(TeamMember.id).where(TeamMember.opportunity_id == opp_id, TeamMember.user_id == data.user_id)
    ).first()
    if not is_member and data.user_id != row.owner_user_id:
        raise ValidationFailed("contributions are recorded for members of the team", field="user_id")
    c = Contribution(
        opportunity_id=opp_id,
        user_id=data.user_id,
        what=data.what,
        weight=data.weight,
        recorded_by=viewer.user_id,
    )
    session.add(c)
    session.flush()
    return ContributionOut.model_validate(c)


def add_activity(opp_id: str, data: ActivityIn, *, session: Session, viewer: Viewer) -> TimelineEntry:
    opportunity_row(session, opp_id, viewer)
    if data.assignee_user_id:
        _check_user(session, data.assignee_user_id, "assignee_user_id")
    if data.kind == "comment" and (data.due_date or data.assignee_user_id):
        raise ValidationFailed("a comment has no assignee or due date", field="kind")
    a = Activity(
        opportunity_id=opp_id,
        kind=data.kind,
        body=data.body,
        author_user_id=viewer.user_id,
        assignee_user_id=data.assignee_user_id,
        due_date=data.due_date,
        done=False,
    )
    session.add(a)
    session.flush()
    return TimelineEntry(
        kind=data.kind,
        at=a.created_at,
        user_id=a.author_user_id,
        text=a.body,
        done=False,
        due_date=a.due_date,
    )


def timeline(opp_id: str, *, session: Session, viewer: Viewer) -> list[TimelineEntry]:
    """Tasks, comments (with their mentions), back-office requests, stage changes, contributions
    and assessments, newest first."""
    opportunity_row(session, opp_id, viewer)
    out: list[TimelineEntry] = []
    mentions: dict[str, list[str]] = {}
    for activity_id, user_id in session.execute(
        select(Mention.activity_id, Mention.user_id).where(Mention.opportunity_id == opp_id)
    ):
        mentions.setdefault(activity_id, []).append(user_id)
    for a in session.scalars(select(Activity).where(Activity.opportunity_id == opp_id)):
        out.append(
            TimelineEntry(
                kind=a.kind,
                at=a.created_at,
                user_id=a.author_user_id,
                text=a.body,
                done=a.done,
                due_date=a.due_date,
                id=a.id,
                mentions=mentions.get(a.id, []),
            )
        )
    for r in session.scalars(select(BackOfficeRequest).where(BackOfficeRequest.opportunity_id == opp_id)):
        out.append(
            TimelineEntry(
                kind="request",
                at=r.created_at,
                user_id=r.requested_by,
                text=f"[{r.kind}] {r.body}"
                + (f" → {r.status}: {r.response}" if r.response else f" → {r.status}"),
                done=r.status in ("done", "rejected"),
                due_date=r.due_date,
                id=r.id,
            )
        )
    for c in session.scalars(select(StageChange).where(StageChange.opportunity_id == opp_id)):
        out.append(
            TimelineEntry(
                kind="stage_change",
                at=c.changed_at,
                user_id=c.changed_by,
                text=f"{c.from_stage or '∅'} → {c.to_stage}",
            )
        )
    for k in session.scalars(select(Contribution).where(Contribution.opportunity_id == opp_id)):
        out.append(
            TimelineEntry(
                kind="contribution", at=k.recorded_at, user_id=k.user_id, text=f"{k.what} (+{k.weight})"
            )
        )
    for s in session.scalars(select(Assessment).where(Assessment.opportunity_id == opp_id)):
        total = sum(int(v) for v in s.scores.values())
        out.append(
            TimelineEntry(
                kind="assessment",
                at=s.assessed_at,
                user_id=s.assessed_by,
                text=f"v{s.template_version}: {total}",
            )
        )
    return sorted(out, key=lambda e: as_utc(e.at), reverse=True)


# --- scorecard -----------------------------------------------------------------------------------


def _template_out(row: ScorecardTemplate) -> ScorecardTemplateOut:
    return ScorecardTemplateOut(
        id=row.id,
        version=row.version,
        items=[ScorecardItem.model_validate(i) for i in row.items],
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _latest_template(session: Session) -> ScorecardTemplate | None:
    return session.scalars(
        select(ScorecardTemplate).order_by(ScorecardTemplate.version.desc()).limit(1)
    ).first()


def current_template_row(session: Session) -> ScorecardTemplate:
    """The newest template version; a tenant without one gets the default (version 1)."""
    row = _latest_template(session)
    if row is not None:
        return row

    def reread() -> ScorecardTemplate:
        found = _latest_template(session)
        assert found is not None
        return found

    return _insert_once(session, lambda: [ScorecardTemplate(version=1, items=default_items())], reread)


def current_template_items(session: Session) -> list[ScorecardItem]:
    return [ScorecardItem.model_validate(i) for i in current_template_row(session).items]


def current_template(*, session: Session) -> ScorecardTemplateOut:
    return _template_out(current_template_row(session))


def template_versions(*, session: Session) -> list[ScorecardTemplateOut]:
    current_template_row(session)
    rows = session.scalars(select(ScorecardTemplate).order_by(ScorecardTemplate.version.desc()))
    return [_template_out(r) for r in rows]


def template_scales(session: Session) -> dict[int, dict[str, int]]:
    """Per template version, each item's scale maximum (to turn scores into 0..1)."""
    out: dict[int, dict[str, int]] = {}
    for version, items in session.execute(select(ScorecardTemplate.version, ScorecardTemplate.items)):
        out[version] = {i["key"]: max(level["score"] for level in i["levels"]) for i in items}
    return out


def create_template_version(
    data: ScorecardTemplateIn, *, session: Session, viewer: Viewer
) -> ScorecardTemplateOut:
    """Editing the scorecard makes a new version; assessments keep the version they used."""
    keys = [i.key for i in data.items]
    if len(set(keys)) != len(keys):
        raise InvalidScorecard("item keys must be unique", field="items")
    for n, item in enumerate(data.items):
        scores = [level.score for level in item.levels]
        if len(set(scores)) != len(scores) or min(scores) != 0:
            raise InvalidScorecard("each level needs its own score, starting at 0", field=f"items.{n}.levels")
        if item.evidence_from_score > item.scale_max:
            raise InvalidScorecard(
                "evidence_from_score is above the scale", field=f"items.{n}.evidence_from_score"
            )
    required = {k for s in stage_rows(session) for k in s.required_items}
    dropped = sorted(required - set(keys))
    if dropped:
        raise InvalidScorecard(
            f"items required by stages cannot be removed: {', '.join(dropped)}", field="items"
        )
    items = [i.model_dump() for i in data.items]
    for _attempt in range(5):
        version = (session.scalar(select(func.max(ScorecardTemplate.version))) or 0) + 1
        row = ScorecardTemplate(version=version, items=items, created_by=viewer.user_id)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue  # another editor took this version number: take the next
        return _template_out(row)
    raise Conflict("the scorecard is being edited concurrently; try again", field="items")


def record_assessment(opp_id: str, data: AssessmentIn, *, session: Session, viewer: Viewer) -> AssessmentOut:
    """Score an opportunity against the current template; evidence is required from each item's
    ``evidence_from_score`` up. Items not sent count as 0."""
    row = opportunity_row(session, opp_id, viewer)
    _may_write(row, viewer, session)
    template = current_template_row(session)
    items = {i.key: i for i in (ScorecardItem.model_validate(x) for x in template.items)}
    evidence: dict[str, str] = {}
    for key, score in data.scores.items():
        item = items.get(key)
        if item is None:
            raise InvalidScorecard(f"no item {key!r} in scorecard v{template.version}", field=f"scores.{key}")
        if score not in {level.score for level in item.levels}:
            raise InvalidScorecard(f"{key}: {score} is not on the scale", field=f"scores.{key}")
        text = (data.evidence.get(key) or "").strip()
        if score >= item.evidence_from_score and score > 0 and not text:
            raise InvalidScorecard(f"{key}: a score of {score} needs evidence", field=f"evidence.{key}")
        if text:
            evidence[key] = text[:2000]
    unknown = sorted(set(data.evidence) - set(data.scores))
    if unknown:
        raise InvalidScorecard(
            f"evidence for items not scored: {', '.join(unknown)}", field=f"evidence.{unknown[0]}"
        )
    a = Assessment(
        opportunity_id=opp_id,
        template_id=template.id,
        template_version=template.version,
        scores=dict(data.scores),
        evidence=evidence,
        assessed_by=viewer.user_id,
    )
    session.add(a)
    session.flush()
    return AssessmentOut.model_validate(a)


def assessments(opp_id: str, *, session: Session, viewer: Viewer) -> list[AssessmentOut]:
    """Every assessment of the opportunity, newest first (the first one counts)."""
    opportunity_row(session, opp_id, viewer)
    stmt = (
        select(Assessment)
        .where(Assessment.opportunity_id == opp_id)
        .order_by(Assessment.assessed_at.desc(), Assessment.id.desc())
    )
    return [AssessmentOut.model_validate(a) for a in session.scalars(stmt)]
