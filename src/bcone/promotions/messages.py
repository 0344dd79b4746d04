"""Interface texts of the promotions pages and of the reward shown on the scan page, zh-CN first."""

from __future__ import annotations

from bcone.web.i18n import register_messages

PROMOTIONS_MESSAGES: dict[str, tuple[str, str]] = {
    "nav.promotions": ("扫码活动", "Scan rewards"),
    "promotions.title": ("扫码活动", "Scan-reward campaigns"),
    "promotions.subtitle": (
        "消费者扫码验真后按活动规则抽奖：红包、积分、优惠券或谢谢参与；售出门店获得返利。",
        "A genuine scan draws a prize under the campaign's rules: a red packet, points, a coupon or "
        "thanks for taking part; the store that sold the unit earns a rebate.",
    ),
    "promotions.name": ("活动名称", "Name"),
    "promotions.status": ("状态", "Status"),
    "promotions.status.draft": ("草稿", "Draft"),
    "promotions.status.active": ("进行中", "Active"),
    "promotions.status.paused": ("已暂停", "Paused"),
    "promotions.status.ended": ("已结束", "Ended"),
    "promotions.budget": ("预算（元）", "Budget (yuan)"),
    "promotions.budget_points": ("积分预算", "Points budget"),
    "promotions.daily_fen": ("每日上限（分）", "Daily limit (fen)"),
    "promotions.per_consumer_limit": ("每人中奖次数上限", "Wins per consumer"),
    "promotions.store_rebate_fen": ("门店返利（分/瓶）", "Store rebate (fen per scan)"),
    "promotions.rate_limit_scans": ("每小时扫码上限", "Scans per hour per identity"),
    "promotions.max_scans_per_minute": ("每人每分钟扫码上限", "Scans per identity per minute"),
    "promotions.max_scans_per_hour": (
        "每人每小时扫码上限（频率规则）",
        "Scans per identity per hour (velocity)",
    ),
    "promotions.max_codes_per_device_day": ("每设备每日不同码上限", "Distinct codes per device per day"),
    "promotions.cluster_min_codes": ("同箱聚集预警：码数", "Cluster flag: codes of one case"),
    "promotions.cluster_km": ("同箱聚集预警：距门店公里", "Cluster flag: km from the store"),
    "promotions.flags": ("风控预警", "Fraud flags"),
    "promotions.flags_hint": (
        "同一身份在远离门店处扫同一箱多个码，以及频率规则拒绝的扫码。",
        "One identity scanning many codes of one case far from its store, and scans refused by velocity rules.",
    ),
    "promotions.flags_empty": ("暂无风控预警。", "No fraud flags."),
    "promotions.refused_empty": ("暂无被频率规则拒绝的扫码。", "No scans refused by velocity rules."),
    "promotions.flag.identity": ("身份", "Identity"),
    "promotions.flag.case": ("箱码", "Case"),
    "promotions.flag.count": ("码数", "Codes"),
    "promotions.flag.distance": ("距门店（公里）", "Km from store"),
    "promotions.flag.region": ("扫码地区", "Scanned in"),
    "promotions.flag.reason": ("原因", "Reason"),
    "promotions.flag.last_seen": ("最近", "Last seen"),
    "promotions.refused": ("频率规则拒绝", "Refused by velocity rules"),
    "promotions.attempt.code": ("码", "Code"),
    "promotions.attempt.device": ("设备", "Device"),
    "promotions.attempt.when": ("时间", "When"),
    "promotions.starts_at": ("开始", "Starts"),
    "promotions.ends_at": ("结束", "Ends"),
    "promotions.sku_ids": ("SKU（ID，逗号分隔）", "SKUs (ids, comma separated)"),
    "promotions.gtins": ("GTIN（逗号分隔）", "GTINs (comma separated)"),
    "promotions.regions": ("地区（行政区划代码，逗号分隔）", "Regions (division codes, comma separated)"),
    "promotions.prizes": ("奖池", "Prize pool"),
    "promotions.prizes_help": (
        "每行一个奖项：类型,概率,金额或积分或券码（如 red_packet,0.1,188；random_red_packet,0.2,50-500；"
        "points,0.3,20；coupon,0.05,SAVE5）。剩余概率为谢谢参与。",
        "One tier per line: kind,probability,amount or points or coupon (e.g. red_packet,0.1,188; "
        "random_red_packet,0.2,50-500; points,0.3,20; coupon,0.05,SAVE5). The rest is thanks for taking part.",
    ),
    "promotions.new": ("新建活动", "New campaign"),
    "promotions.save": ("保存", "Save"),
    "promotions.create": ("创建", "Create"),
    "promotions.activate": ("启动", "Activate"),
    "promotions.pause": ("暂停", "Pause"),
    "promotions.end": ("结束活动", "End"),
    "promotions.empty": ("还没有活动。", "No campaigns yet."),
    "promotions.figures": ("实时数据", "Live figures"),
    "promotions.scans": ("扫码次数", "Scans"),
    "promotions.winners": ("中奖", "Winners"),
    "promotions.thanks": ("谢谢参与", "Thanks"),
    "promotions.spent": ("已发放（元）", "Paid out (yuan)"),
    "promotions.rebates": ("门店返利（元）", "Store rebates (yuan)"),
    "promotions.budget_left": ("预算余额（元）", "Budget left (yuan)"),
    "promotions.refusals": ("未发放原因", "Refusals by reason"),
    "promotions.saved": ("已保存。", "Saved."),
    "promotions.scan.red_packet": ("恭喜获得红包 ¥{yuan}！", "You won a red packet of ¥{yuan}!"),
    "promotions.scan.points": ("恭喜获得 {points} 积分！", "You won {points} points!"),
    "promotions.scan.coupon": ("恭喜获得优惠券：{coupon}", "You won a coupon: {coupon}"),
    "promotions.scan.thanks": ("谢谢参与！", "Thanks for taking part!"),
    "promotions.scan.refused.already_rewarded": ("该码已参与过抽奖。", "This code has already been drawn."),
    "promotions.scan.refused.budget_exhausted": (
        "奖品已发完，感谢支持。",
        "The rewards are all gone, thank you.",
    ),
    "promotions.scan.refused.daily_limit": (
        "今日奖品已发完，明天再来。",
        "Today's rewards are gone; come back tomorrow.",
    ),
    "promotions.scan.refused.consumer_limit": (
        "您的中奖次数已达上限。",
        "You have reached the limit of wins.",
    ),
    "promotions.scan.refused.rate_limited": (
        "扫码过于频繁，请稍后再试。",
        "Too many scans; try again later.",
    ),
    "promotions.scan.refused.blocked": ("该账号暂不能参与活动。", "This account cannot take part."),
    "promotions.scan.refused.no_identity": (
        "请在微信中打开以领取奖励。",
        "Open in WeChat to claim the reward.",
    ),
}


def register() -> None:
    """Register the promotions messages (idempotent)."""
    register_messages(PROMOTIONS_MESSAGES)
