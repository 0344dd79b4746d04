"""The crm domain's behaviour: the only entry other domains may call.

Accounts and contacts, sales teams, a configurable pipeline, opportunities with stage moves gated
by the relationship scorecard, the iron triangle and its timeline, the versioned scorecard, the
calibrated win-rate model (trained as a job) and the forecast. Every function takes the unit of
work as ``session=``; functions about opportunities also take a :class:`Viewer` for role scoping.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bcone.core.pagination import PageParams
from bcone.crm._bonus import (
    allocate_bonus,
    bonus_of,
    bonus_policy,
    bonus_statement,
    bonus_summary,
    cancel_won,
    set_bonus_policy,
)
from bcone.crm._collab import (
    add_activity,
    create_request,
    list_requests,
    mentions_of,
    parse_mentions,
    requests_assigned,
    set_task_done,
    update_request,
)
from bcone.crm._growth import (
    TIER_JOB,
    close_growth_task,
    create_tier_model,
    current_tier_model,
    enqueue_tiering,
    generate_growth_tasks,
    growth_summary,
    list_growth_tasks,
    run_tiering,
    score_accounts,
    tier_history,
    tier_model_versions,
    visible_owner_ids,
)
from bcone.crm._leads import (
    LEAD_COLUMNS,
    convert_lead,
    create_lead,
    get_lead,
    import_leads,
    list_leads,
    qualify_lead,
)
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
    get_contact,
    list_accounts,
    list_contacts,
    list_opportunity_page,
    list_sales_teams,
    opportunity_out,
    opportunity_row,
    pipeline,
    record_assessment,
    relationship_map,
    remove_team_member,
    replace_pipeline,
    stage_history,
    team,
    template_versions,
    timeline,
    update_account,
    update_contact,
    update_opportunity,
)
from bcone.crm._records import move_stage as _move_stage
from bcone.crm._visits import (
    CHECKIN_RADIUS_M,
    check_in,
    distribution_rate,
    get_visit,
    list_plans,
    plan_visits,
    record_audit,
    take_order,
    visit_records,
)
from bcone.crm.schemas import OpportunityOut, OpportunityPage

__all__ = [
    "CHECKIN_RADIUS_M",
    "LEAD_COLUMNS",
    "MIN_CLOSED",
    "TIER_JOB",
    "TRAIN_JOB",
    "Scorer",
    "Viewer",
    "add_activity",
    "add_contact",
    "add_contribution",
    "add_team_member",
    "allocate_bonus",
    "assessments",
    "bonus_of",
    "bonus_policy",
    "bonus_statement",
    "bonus_summary",
    "cancel_won",
    "check_in",
    "close_growth_task",
    "closed_count",
    "convert_lead",
    "create_account",
    "create_lead",
    "create_opportunity",
    "create_request",
    "create_sales_team",
    "create_template_version",
    "create_tier_model",
    "current_template",
    "current_tier_model",
    "distribution_rate",
    "enqueue_tiering",
    "enqueue_training",
    "forecast",
    "generate_growth_tasks",
    "generate_pipeline",
    "get_account",
    "get_contact",
    "get_lead",
    "get_opportunity",
    "get_visit",
    "growth_summary",
    "import_leads",
    "list_accounts",
    "list_contacts",
    "list_growth_tasks",
    "list_leads",
    "list_opportunities",
    "list_plans",
    "list_requests",
    "list_sales_teams",
    "mentions_of",
    "model_metrics",
    "model_status",
    "move_stage",
    "parse_mentions",
    "pipeline",
    "plan_visits",
    "qualify_lead",
    "record_assessment",
    "record_audit",
    "relationship_map",
    "remove_team_member",
    "replace_pipeline",
    "requests_assigned",
    "run_tiering",
    "score_accounts",
    "set_bonus_policy",
    "set_task_done",
    "stage_history",
    "take_order",
    "team",
    "template_versions",
    "tier_history",
    "tier_model_versions",
    "timeline",
    "train_win_model",
    "training_set",
    "update_account",
    "update_contact",
    "update_opportunity",
    "update_request",
    "visible_owner_ids",
    "visit_records",
]


def get_opportunity(opp_id: str, *, session: Session, viewer: Viewer) -> OpportunityOut:
    """One opportunity the viewer may see, with its win probability and the main reasons."""
    row = opportunity_row(session, opp_id, viewer)
    out = opportunity_out(row)
    out.probability = Scorer(session).probabilities([row])[row.id]
    return out


def list_opportunities(
    params: PageParams, *, session: Session, viewer: Viewer, with_probability: bool = True, **filters: Any
) -> OpportunityPage:
    """One page of the opportunities the viewer may see (filters: see ``list_opportunity_rows``),
    each with its probability (reasons only on the detail)."""
    rows, total, capped = list_opportunity_page(params, session=session, viewer=viewer, **filters)
    items = [opportunity_out(r) for r in rows]
    if with_probability and rows:
        probs = Scorer(session).probabilities(rows, reasons=False)
        for item in items:
            item.probability = probs[item.id]
    return OpportunityPage(
        items=items, total=total, page=params.page, page_size=params.page_size, total_capped=capped
    )


def move_stage(opp_id: str, to_stage: str, *, session: Session, viewer: Viewer) -> OpportunityOut:
    """Move an opportunity (see ``_records.move_stage``); a move to won allocates the deal's
    bonus pool across its iron triangle at once (ledger entries in the same transaction)."""
    out = _move_stage(opp_id, to_stage, session=session, viewer=viewer)
    if out.status == "won":
        allocate_bonus(opp_id, session=session, viewer=viewer)
    return out
