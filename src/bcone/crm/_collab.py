"""Front and back office working one opportunity (前后场协同): requests to presales, delivery and
finance with due dates and a status, comments with @mentions, and tasks marked done."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bcone.core.db import utcnow
from bcone.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from bcone.core.pagination import PageParams
from bcone.crm._records import Viewer, _check_user, _may_write, opportunity_row
from bcone.crm.models import Activity, BackOfficeRequest, Mention
from bcone.crm.schemas import (
    ActivityIn,
    BackOfficeRequestIn,
    BackOfficeRequestOut,
    BackOfficeRequestUpdate,
    TimelineEntry,
)
from bcone.iam import service as iam

# @ at the start or after a space or an opening/separating mark, then an email or a name.
MENTION = re.compile(
    r"(?:^|(?<=[\s(（,，;；:：]))@([A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}|[^\s@,，。.;；:：!！?？()（）]+)"
)
# Moves of a request: open -> accepted -> done, or rejected before it is done.
NEXT_STATUS = {"open": {"accepted", "done", "rejected"}, "accepted": {"done", "rejected"}}


def parse_mentions(text: str) -> list[str]:
    """The names or emails mentioned with @ in ``text``, in order, without repeats."""
    return list(dict.fromkeys(m.group(1) for m in MENTION.finditer(text)))


def resolve_mentions(session: Session, tokens: list[str]) -> list[str]:
    """The user ids of the mentioned tokens (an email, its local part or a display name);
    422 naming ``body`` for a mention that is nobody in this tenant."""
    ids: list[str] = []
    for token in tokens:
        low = token.lower()
        found = None
        for user in iam.list_users(session=session, params=PageParams(q=token, page_size=50)).items:
            if low in (user.email.lower(), user.email.lower().split("@")[0], user.display_name.lower()):
                found = user.id
                break
        if found is None:
            raise ValidationFailed(f"@{token} is nobody in this tenant", field="body", mention=token)
        ids.append(found)
    return list(dict.fromkeys(ids))


def add_activity(opp_id: str, data: ActivityIn, *, session: Session, viewer: Viewer) -> TimelineEntry:
    """A task (with assignee and due date) or a comment; the users it mentions are stored."""
    opportunity_row(session, opp_id, viewer)
    if data.assignee_user_id:
        _check_user(session, data.assignee_user_id, "assignee_user_id")
    if data.kind == "comment" and (data.due_date or data.assignee_user_id):
        raise ValidationFailed("a comment has no assignee or due date", field="kind")
    mentioned = resolve_mentions(session, parse_mentions(data.body))
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
    session.add_all([Mention(activity_id=a.id, opportunity_id=opp_id, user_id=uid) for uid in mentioned])
    session.flush()
    return TimelineEntry(
        kind=data.kind,
        at=a.created_at,
        user_id=a.author_user_id,
        text=a.body,
        done=False,
        due_date=a.due_date,
        id=a.id,
        mentions=mentioned,
    )


def set_task_done(
    opp_id: str, activity_id: str, done: bool, *, session: Session, viewer: Viewer
) -> TimelineEntry:
    """Mark a task done (or open again): its assignee or whoever may change the opportunity."""
    task = session.scalars(
        select(Activity).where(Activity.id == activity_id, Activity.opportunity_id == opp_id)
    ).one_or_none()
    if task is None or viewer.user_id is None or task.assignee_user_id != viewer.user_id:
        opp = opportunity_row(session, opp_id, viewer)  # not the assignee: the deal's team
        if task is None or task.kind != "task":
            raise NotFound(f"no task {activity_id}", field="activity_id")
        _may_write(opp, viewer, session)
    task.done = done
    session.flush()
    return TimelineEntry(
        kind="task",
        at=task.created_at,
        user_id=task.author_user_id,
        text=task.body,
        done=task.done,
        due_date=task.due_date,
        id=task.id,
    )


def mentions_of(user_id: str, *, session: Session, limit: int = 50) -> list[TimelineEntry]:
    """The comments that mention ``user_id``, newest first."""
    stmt = (
        select(Activity)
        .join(Mention, Mention.activity_id == Activity.id)
        .where(Mention.user_id == user_id)
        .order_by(Activity.created_at.desc())
        .limit(limit)
    )
    return [
        TimelineEntry(
            kind=a.kind, at=a.created_at, user_id=a.author_user_id, text=a.body, id=a.id, mentions=[user_id]
        )
        for a in session.scalars(stmt)
    ]


def _request_out(row: BackOfficeRequest, today: date | None = None) -> BackOfficeRequestOut:
    out = BackOfficeRequestOut.model_validate(row)
    out.overdue = row.status in ("open", "accepted") and row.due_date < (today or date.today())
    return out


def create_request(
    opp_id: str, data: BackOfficeRequestIn, *, session: Session, viewer: Viewer
) -> BackOfficeRequestOut:
    """Ask the back office (presales, delivery, finance) for help on an open opportunity."""
    opp = opportunity_row(session, opp_id, viewer)
    _may_write(opp, viewer, session)
    if data.due_date < date.today():
        raise ValidationFailed("the due date is in the past", field="due_date")
    if data.assignee_user_id:
        _check_user(session, data.assignee_user_id, "assignee_user_id")
    row = BackOfficeRequest(
        opportunity_id=opp_id,
        kind=data.kind,
        body=data.body,
        requested_by=viewer.user_id,
        assignee_user_id=data.assignee_user_id,
        due_date=data.due_date,
        status="open",
        response="",
    )
    session.add(row)
    session.flush()
    return _request_out(row)


def list_requests(opp_id: str, *, session: Session, viewer: Viewer) -> list[BackOfficeRequestOut]:
    opportunity_row(session, opp_id, viewer)
    stmt = (
        select(BackOfficeRequest)
        .where(BackOfficeRequest.opportunity_id == opp_id)
        .order_by(BackOfficeRequest.due_date, BackOfficeRequest.id)
    )
    return [_request_out(r) for r in session.scalars(stmt)]


def update_request(
    opp_id: str, request_id: str, data: BackOfficeRequestUpdate, *, session: Session, viewer: Viewer
) -> BackOfficeRequestOut:
    """Accept, finish or reject a request: its assignee, or whoever may change the opportunity."""
    row = session.scalars(
        select(BackOfficeRequest)
        .where(BackOfficeRequest.id == request_id, BackOfficeRequest.opportunity_id == opp_id)
        .with_for_update()
    ).one_or_none()
    if row is None or viewer.user_id is None or row.assignee_user_id != viewer.user_id:
        # Not the assignee (who answers without seeing the rest of the deal): the deal's team.
        opp = opportunity_row(session, opp_id, viewer)
        if row is None:
            raise NotFound(f"no request {request_id}", field="request_id")
        try:
            _may_write(opp, viewer, session)
        except Forbidden as exc:
            raise Forbidden("only the assignee or the deal's team answers", field="request_id") from exc
    if data.status == row.status:
        return _request_out(row)
    if data.status not in NEXT_STATUS.get(row.status, set()):
        raise Conflict(f"a {row.status} request cannot become {data.status}", field="status")
    if data.status == "rejected" and not data.response:
        raise ValidationFailed("a rejection gives its reason", field="response")
    row.status = data.status
    if data.response:
        row.response = data.response
    if data.status in ("done", "rejected"):
        row.closed_at = utcnow()
    if row.assignee_user_id is None and data.status == "accepted":
        row.assignee_user_id = viewer.user_id
    session.flush()
    return _request_out(row)


def requests_assigned(
    user_id: str, *, session: Session, open_only: bool = True
) -> list[BackOfficeRequestOut]:
    """The requests assigned to a back-office user, by due date."""
    stmt = select(BackOfficeRequest).where(BackOfficeRequest.assignee_user_id == user_id)
    if open_only:
        stmt = stmt.where(BackOfficeRequest.status.in_(("open", "accepted")))
    return [_request_out(r) for r in session.scalars(stmt.order_by(BackOfficeRequest.due_date))]
