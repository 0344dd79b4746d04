"""Net Promoter Score: surveys and responses (OLTP), and NPS by store, region and SKU over time
(warehouse, from the ``nps.responded`` events each response appends).

NPS = % promoters (9-10) − % detractors (0-6) of the responses, from −100 to 100.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bcone.analytics import _sql
from bcone.analytics.errors import InvalidParameter, InvalidScore, SurveyClosed, SurveyNotFound
from bcone.analytics.models import NpsResponse, NpsSurvey
from bcone.analytics.schemas import (
    NpsFigures,
    NpsPoint,
    NpsReport,
    ResponseIn,
    ResponseOut,
    SurveyIn,
    SurveyOut,
)
from bcone.core import geo
from bcone.core.events import append_event
from bcone.core.tenancy import bind_tenant, current_tenant, unscoped
from bcone.core.warehouse.port import Dialect

EVENT_TYPE = "nps.responded"
BREAKDOWNS = ("store", "region", "sku")


def survey_url(survey_id: str) -> str:
    """The public page of a survey; the scan page appends ``?org_id=&sku=&region=&serial=``."""
    return f"/nps/{survey_id}"


def _out(row: NpsSurvey, responses: int = 0) -> SurveyOut:
    return SurveyOut(
        id=row.id,
        name=row.name,
        question=row.question,
        follow_up=row.follow_up,
        status=row.status,
        created_at=row.created_at,
        responses=responses,
        url=survey_url(row.id),
    )


def create_survey(data: SurveyIn, *, session: Session) -> SurveyOut:
    row = NpsSurvey(
        tenant_id=current_tenant(session), name=data.name, question=data.question, follow_up=data.follow_up
    )
    session.add(row)
    session.flush()
    return _out(row)


def list_surveys(*, session: Session) -> list[SurveyOut]:
    counts: dict[str, int] = {
        str(survey_id): int(n)
        for survey_id, n in session.execute(
            select(NpsResponse.survey_id, func.count()).group_by(NpsResponse.survey_id)
        ).all()
    }
    rows = session.scalars(select(NpsSurvey).order_by(NpsSurvey.created_at.desc(), NpsSurvey.id))
    return [_out(r, int(counts.get(r.id, 0))) for r in rows]


def set_survey_status(survey_id: str, status: str, *, session: Session) -> SurveyOut:
    if status not in ("active", "closed"):
        raise InvalidParameter("status must be active or closed", field="status")
    row = session.get(NpsSurvey, survey_id)
    if row is None or row.tenant_id != current_tenant(session):
        raise SurveyNotFound(f"no survey {survey_id!r}", field="survey_id")
    row.status = status
    session.flush()
    return _out(row)


def public_survey(survey_id: str, *, session: Session) -> tuple[str, SurveyOut]:
    """The survey behind a public link, whoever's it is: (tenant id, survey). The session is
    bound to that tenant afterwards."""
    unscoped(session)
    row = session.get(NpsSurvey, survey_id) if len(survey_id) <= 36 else None
    if row is None:
        raise SurveyNotFound(f"no survey {survey_id!r}", field="survey_id")
    bind_tenant(session, row.tenant_id)
    return row.tenant_id, _out(row)


def check_score(value: Any) -> int:
    """A whole number 0..10 (an int or its decimal text); anything else names ``score``."""
    if isinstance(value, bool):
        raise InvalidScore("score must be a whole number from 0 to 10", field="score")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            raise InvalidScore(f"score must be a whole number from 0 to 10, got {value!r}", field="score")
        value = int(text)
    if not isinstance(value, int) or not 0 <= value <= 10:
        raise InvalidScore(f"score must be a whole number from 0 to 10, got {value!r}", field="score")
    return value


def submit_response(survey_id: str, data: ResponseIn, *, session: Session) -> ResponseOut:
    """Store one answer and append ``nps.responded`` (properties ``score``, ``survey_id``) in the
    same transaction. Checked before anything is written."""
    _tenant, survey = public_survey(survey_id, session=session)
    score = check_score(data.score)
    if survey.status != "active":
        raise SurveyClosed("this survey is closed", field="survey_id")
    region = (data.region or "").strip() or None
    if region is not None and geo.get_division(region) is None:
        raise InvalidParameter(f"{region!r} is not a division code", field="region")
    row = NpsResponse(
        tenant_id=current_tenant(session),
        survey_id=survey.id,
        score=score,
        comment=data.comment.strip(),
        profile_id=(data.profile_id or "").strip() or None,
        org_id=(data.org_id or "").strip() or None,
        sku=(data.sku or "").strip() or None,
        region=region,
        serial=(data.serial or "").strip() or None,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        type=EVENT_TYPE,
        event_id=f"{EVENT_TYPE}:{row.id}",
        ts=row.created_at,
        profile_id=row.profile_id,
        org_id=row.org_id,
        sku=row.sku,
        region=row.region,
        properties={"score": score, "survey_id": survey.id},
    )
    return ResponseOut(
        id=row.id,
        survey_id=survey.id,
        score=score,
        comment=row.comment,
        org_id=row.org_id,
        sku=row.sku,
        region=row.region,
        created_at=row.created_at,
    )


def recent_comments(survey_id: str | None, *, session: Session, limit: int = 20) -> list[ResponseOut]:
    stmt = select(NpsResponse).where(NpsResponse.comment != "")
    if survey_id:
        stmt = stmt.where(NpsResponse.survey_id == survey_id)
    rows = session.scalars(stmt.order_by(NpsResponse.created_at.desc(), NpsResponse.id).limit(limit))
    return [
        ResponseOut(
            id=r.id,
            survey_id=r.survey_id,
            score=r.score,
            comment=r.comment,
            org_id=r.org_id,
            sku=r.sku,
            region=r.region,
            created_at=r.created_at,
        )
        for r in rows
    ]


# --- The report (warehouse) ---------------------------------------------------------------------


def _key(breakdown: str) -> str:
    return {"store": "coalesce(org_id, '')", "region": "coalesce(region, '')", "sku": "coalesce(sku, '')"}[
        breakdown
    ]


def report_sql(dialect: Dialect, breakdown: str, with_survey: bool, *, by_period: bool) -> str:
    score = _sql.property_int(dialect, "score")
    survey = f" AND {_sql.property_text(dialect, 'survey_id')} = $survey_id" if with_survey else ""
    group = _sql.local_period("week") if by_period else _key(breakdown)
    return f"""
WITH answers AS (
    SELECT {group} AS k, {score} AS score
    FROM tenant_events
    WHERE type = $event_type AND ts >= $since AND ts < $until{survey}
)
SELECT k, count(*) AS responses,
       sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
       sum(CASE WHEN score >= 7 AND score <= 8 THEN 1 ELSE 0 END) AS passives,
       sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
FROM answers WHERE score >= 0 AND score <= 10
GROUP BY k ORDER BY responses DESC, k
"""


def _figures(key: str, label: str, n: int, pro: int, pas: int, det: int) -> dict[str, Any]:
    nps = round(100.0 * (pro - det) / n, 2) if n else 0.0
    return {
        "key": key,
        "label": label,
        "responses": n,
        "promoters": pro,
        "passives": pas,
        "detractors": det,
        "nps": nps,
    }


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def build_report(
    dialect: Dialect,
    rows: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]],
    *,
    since: date,
    until: date,
    start: datetime,
    end: datetime,
    breakdown: str,
    survey_id: str | None,
    labels: Callable[[str], str],
) -> NpsReport:
    if breakdown not in BREAKDOWNS:
        raise InvalidParameter(f"breakdown must be one of {', '.join(BREAKDOWNS)}", field="breakdown")
    params: dict[str, Any] = {"since": start, "until": end, "event_type": EVENT_TYPE}
    if survey_id:
        params["survey_id"] = survey_id
    groups = [
        NpsFigures(**_figures(str(k or ""), labels(str(k or "")), int(n), int(p), int(a), int(d)))
        for k, n, p, a, d in rows(report_sql(dialect, breakdown, bool(survey_id), by_period=False), params)
    ]
    series = sorted(
        (
            NpsPoint(period=_as_date(k), **_figures("", "", int(n), int(p), int(a), int(d)))
            for k, n, p, a, d in rows(report_sql(dialect, breakdown, bool(survey_id), by_period=True), params)
        ),
        key=lambda point: point.period,
    )
    n = sum(g.responses for g in groups)
    total = NpsFigures(
        **_figures(
            "",
            "",
            n,
            sum(g.promoters for g in groups),
            sum(g.passives for g in groups),
            sum(g.detractors for g in groups),
        )
    )
    return NpsReport(
        since=since,
        until=until,
        survey_id=survey_id,
        breakdown=breakdown,
        total=total,
        series=series,
        groups=groups,
    )
