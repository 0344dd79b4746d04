"""The default pipeline and the default relationship scorecard (客情判断标准) of a new tenant."""

from __future__ import annotations

from typing import Any

# key, 中文, English, outcome, prior probability, scorecard items required to enter the stage
DEFAULT_STAGES: list[tuple[str, str, str, str, float, list[str]]] = [
    ("qualify", "线索", "Qualify", "open", 0.10, []),
    ("needs", "需求确认", "Needs", "open", 0.25, ["identify_pain", "metrics"]),
    (
        "solution",
        "方案",
        "Solution",
        "open",
        0.45,
        ["identify_pain", "metrics", "decision_criteria", "champion"],
    ),
    (
        "negotiation",
        "商务谈判",
        "Negotiation",
        "open",
        0.65,
        ["identify_pain", "metrics", "decision_criteria", "champion", "economic_buyer", "decision_process"],
    ),
    (
        "won",
        "赢单",
        "Won",
        "won",
        1.0,
        [
            "identify_pain",
            "metrics",
            "decision_criteria",
            "champion",
            "economic_buyer",
            "decision_process",
            "paper_process",
        ],
    ),
    ("lost", "输单", "Lost", "lost", 0.0, []),
]

_LEVELS = [
    (0, "无", "None"),
    (1, "弱", "Weak"),
    (2, "部分", "Partial"),
    (3, "强", "Strong"),
]

# key, dimension, 中文, English, evidence required (中文, English)
_ITEMS: list[tuple[str, str, str, str, str, str]] = [
    (
        "metrics",
        "meddpicc",
        "量化指标",
        "Metrics",
        "客户认可的量化收益（如降本、增收数字）",
        "Quantified gains the customer agreed to",
    ),
    (
        "economic_buyer",
        "meddpicc",
        "经济决策人",
        "Economic buyer",
        "与预算拍板人的会面记录",
        "A meeting with the budget holder",
    ),
    (
        "decision_criteria",
        "meddpicc",
        "决策标准",
        "Decision criteria",
        "书面的选型标准或评分表",
        "Written selection criteria",
    ),
    (
        "decision_process",
        "meddpicc",
        "决策流程",
        "Decision process",
        "决策步骤、参与人和时间表",
        "Steps, people and dates of the decision",
    ),
    (
        "paper_process",
        "meddpicc",
        "采购流程",
        "Paper process",
        "采购、法务、付款流程及时间",
        "Procurement, legal and payment steps",
    ),
    (
        "identify_pain",
        "meddpicc",
        "痛点",
        "Identified pain",
        "客户亲口确认的业务痛点",
        "A business pain the customer confirmed",
    ),
    (
        "champion",
        "meddpicc",
        "内部支持者",
        "Champion",
        "支持者主动推动的具体行动",
        "Actions the champion took for us",
    ),
    (
        "competition",
        "meddpicc",
        "竞争态势",
        "Competition",
        "竞争对手及客户对其的评价",
        "Competitors and the customer's view of them",
    ),
    (
        "rel_decision_maker",
        "relationship",
        "与决策者关系",
        "Decision maker relationship",
        "近期一对一交流记录",
        "A recent one-to-one exchange",
    ),
    (
        "rel_influencer",
        "relationship",
        "与影响者关系",
        "Influencer relationship",
        "影响者对方案的正面反馈",
        "Positive feedback from an influencer",
    ),
    (
        "rel_user",
        "relationship",
        "与使用者关系",
        "User relationship",
        "使用者试用或认可记录",
        "A user's trial or endorsement",
    ),
    (
        "rel_gatekeeper",
        "relationship",
        "与把关者关系",
        "Gatekeeper relationship",
        "把关者提供的信息或引荐",
        "Information or introductions from a gatekeeper",
    ),
]


def default_items() -> list[dict[str, Any]]:
    """The default scorecard: MEDDPICC plus relationship depth with each decision role, 0..3."""
    return [
        {
            "key": key,
            "dimension": dim,
            "label_zh": zh,
            "label_en": en,
            "levels": [{"score": s, "label_zh": lz, "label_en": le} for s, lz, le in _LEVELS],
            "evidence_zh": ev_zh,
            "evidence_en": ev_en,
            "evidence_from_score": 2,
        }
        for key, dim, zh, en, ev_zh, ev_en in _ITEMS
    ]
