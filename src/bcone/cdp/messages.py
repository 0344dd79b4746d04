"""Interface texts of the consumer (CDP) pages, zh-CN first."""

from __future__ import annotations

from bcone.web.i18n import register_messages

CDP_MESSAGES: dict[str, tuple[str, str]] = {
    "nav.cdp": ("消费者", "Consumers"),
    "cdp.title": ("消费者档案", "Consumer profiles"),
    "cdp.subtitle": (
        "天猫、京东、抖音、微信和门店的消费者事件按身份标识归并为一人一档；手机号和邮箱只保存加密摘要和掩码。",
        "Events from Tmall, JD, Douyin, WeChat and stores, joined into one profile per person by their "
        "identifiers; phones and emails are kept only as keyed hashes and masked forms.",
    ),
    "cdp.search_placeholder": ("手机号、邮箱、openid 或档案 ID", "Phone, email, openid or profile id"),
    "cdp.profile": ("档案", "Profile"),
    "cdp.profile_id": ("档案 ID", "Profile id"),
    "cdp.identifiers": ("身份标识", "Identifiers"),
    "cdp.identifier_count": ("标识数", "Identifiers"),
    "cdp.namespace": ("类型", "Namespace"),
    "cdp.value": ("值", "Value"),
    "cdp.created_at": ("创建时间", "Created"),
    "cdp.updated_at": ("更新时间", "Updated"),
    "cdp.quarantined": ("已隔离", "Quarantined"),
    "cdp.quarantined_hint": (
        "该标识同时出现在过多消费者身上（如门店共用手机号），不再用于合并档案。",
        "Seen with too many consumers (e.g. a shop's shared phone): no longer used to join profiles.",
    ),
    "cdp.empty": ("还没有消费者档案", "No consumer profiles yet"),
    "cdp.empty_hint": (
        "通过 API（POST /api/v1/cdp/events）或命令 bcone cdp import 导入事件后，这里会出现档案。",
        "Profiles appear once events come in through the API (POST /api/v1/cdp/events) or bcone cdp import.",
    ),
    "cdp.no_match": ("没有符合条件的档案", "No profile matches"),
    "cdp.no_match_hint": (
        "手机号和邮箱需输入完整值才能匹配。",
        "Phones and emails match only when typed in full.",
    ),
    "cdp.clear_filters": ("清除搜索", "Clear search"),
    "cdp.back": ("返回档案列表", "Back to profiles"),
    "cdp.merged_profiles": ("已合并的档案", "Merged profiles"),
    "cdp.organizations": ("关联门店与经销商", "Linked organisations"),
    "cdp.organizations_empty": ("近期事件没有关联的组织。", "No organisation in the recent events."),
    "cdp.events": ("近期事件", "Recent events"),
    "cdp.events_empty": ("还没有事件。", "No events yet."),
    "cdp.event_type": ("事件", "Event"),
    "cdp.event_time": ("时间", "Time"),
    "cdp.event_org": ("组织", "Organisation"),
    "cdp.event_sku": ("SKU", "SKU"),
    "cdp.event_amount": ("金额（元）", "Amount (yuan)"),
    "cdp.event_source": ("来源", "Source"),
    "cdp.source.warehouse": ("数据仓库", "Warehouse"),
    "cdp.source.outbox": ("待同步", "Outbox"),
    "cdp.event_count": ("事件数", "Events"),
    "cdp.links": ("关联记录", "Links"),
    "cdp.links_hint": (
        "两个标识在同一事件中出现即产生关联。合并有误时可解除关联，档案会重新拆分并记入审计。",
        "Two identifiers seen in one event are linked. Remove a wrong link and the profile splits "
        "again; the audit trail records it.",
    ),
    "cdp.link_status.active": ("有效", "Active"),
    "cdp.link_status.removed": ("已解除", "Removed"),
    "cdp.unlink": ("解除关联", "Unlink"),
    "cdp.unlink_confirm": ("确定解除这条关联？档案可能会拆分。", "Remove this link? The profile may split."),
    "cdp.unlinked": ("已解除关联。", "The link was removed."),
    "cdp.audit": ("合并审计", "Merge audit"),
    "cdp.audit_empty": ("没有合并记录。", "No merges recorded."),
    "cdp.audit.kind": ("操作", "Change"),
    "cdp.audit.kind.merge": ("合并", "Merge"),
    "cdp.audit.kind.split": ("拆分", "Split"),
    "cdp.audit.kind.unlink": ("解除关联", "Unlink"),
    "cdp.audit.kind.quarantine": ("隔离", "Quarantine"),
    "cdp.audit.kind.release": ("解除隔离", "Release"),
    "cdp.audit.others": ("涉及档案", "Other profiles"),
    "cdp.audit.cause": ("原因", "Cause"),
    "cdp.event.page.viewed": ("浏览页面", "Page viewed"),
    "cdp.event.order.paid": ("支付订单", "Order paid"),
    "cdp.event.code.scanned": ("扫码", "Code scanned"),
    "cdp.event.store.visited": ("到店", "Store visited"),
    "cdp.event.profile.identified": ("身份识别", "Profile identified"),
    "cdp.event.share.clicked": ("点击分享", "Share clicked"),
}


def register() -> None:
    """Register the CDP's messages (idempotent)."""
    register_messages(CDP_MESSAGES)
