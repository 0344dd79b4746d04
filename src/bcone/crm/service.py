"""The crm domain's behaviour: the only entry other domains may call.

Accounts and contacts, sales teams, a configurable pipeline, opportunities with stage moves gated
by the relationship scorecard, the iron triangle and its timeline, the versioned scorecard, the
calibrated win-rate model (trained as a job) and the forecast. Every function takes the unit of
work as ``session=``; functions about opportunities also take a :class:`Viewer` for role scoping.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bcone.core.pagination import Page, PageParams
from bcone.crm._model import (
    MIN_CLOSED,
    TRAIN_JOB,
    Scorer,
    closed_count,
    enqueue_training,
    forecast,
    generate_pipeline,
    model_metrics,
    model_status,
    train_win_model,
    training_set,
)
from bcone.crm._records import (
    Viewer,
    add_activity,
    add_contact,
    add_contribution,
    add_team_member,
    assessments,
    create_account,
    create_opportunity,
    create_sales_team,
    create_template_version,
    current_template,
    get_account,
    list_accounts,
    list_contacts,
    list_opportunity_rows,
    list_sales_teams,
    move_stage,
    opportunity_out,
    opportunity_row,
    pipeline,
    record_assessment,
    remove_team_member,
    replace_pipeline,
    stage_history,
    team,
    template_versions,
    timeline,
    update_account,
    update_opportunity,
)
from bcone.crm.schemas import OpportunityOut

__all__ = [
    "MIN_CLOSED",
    "TRAIN_JOB",
    "Scorer",
    "Viewer",
    "add_activity",
    "add_contact",
    "add_contribution",
    "add_team_member",
    "assessments",
    "closed_count",
    "create_account",
    "create_opportunity",
    "create_sales_team",
    "create_template_version",
    "current_template",
    "enqueue_training",
    "forecast",
    "generate_pipeline",
    "get_account",
    "get_opportunity",
    "list_accounts",
    "list_contacts",
    "list_opportunities",
    "list_sales_teams",
    "model_metrics",
    "model_status",
    "move_stage",
    "pipeline",
    "record_assessment",
    "remove_team_member",
    "replace_pipeline",
    "stage_history",
    "team",
    "template_versions",
    "timeline",
    "train_win_model",
    "training_set",
    "update_account",
    "update_opportunity",
]


def get_opportunity(opp_id: str, *, session: Session, viewer: Viewer) -> OpportunityOut:
    """One opportunity the viewer may see, with its win probability and the main reasons."""
    row = opportunity_row(session, opp_id, viewer)
    out = opportunity_out(row)
    out.probability = Scorer(session).probabilities([row])[row.id]
    return out


def list_opportunities(
    params: PageParams, *, session: Session, viewer: Viewer, with_probability: bool = True, **filters: Any
) -> Page[OpportunityOut]:
    """One page of the opportunities the viewer may see (filters: see ``list_opportunity_rows``),
    each with its probability (reasons only on the detail)."""
    rows, total = list_opportunity_rows(params, session=session, viewer=viewer, **filters)
    items = [opportunity_out(r) for r in rows]
    if with_probability and rows:
        probs = Scorer(session).probabilities(rows, reasons=False)
        for item in items:
            item.probability = probs[item.id]
    return Page(items=items, total=total, page=params.page, page_size=params.page_size)
