"""Interface texts of the codes pages and the consumers' scan page, zh-CN first."""

from __future__ import annotations

from bcone.web.i18n import register_messages

CODES_MESSAGES: dict[str, tuple[str, str]] = {
    "nav.codes": ("一物一码", "Unit codes"),
    # The consumers' scan page.
    "codes.scan.title": ("防伪查询", "Authenticity check"),
    "codes.scan.genuine": ("正品", "Genuine"),
    "codes.scan.genuine_first": (
        "您是第一次查询此码，感谢购买正品。",
        "You are the first to check this code. Thank you for buying the genuine product.",
    ),
    "codes.scan.checked_before": ("正品（已被查询过）", "Genuine (checked before)"),
    "codes.scan.checked_before_detail": (
        "此码已被查询 {count} 次，首次查询于 {when}{where}。",
        "This code has been checked {count} times, first on {when}{where}.",
    ),
    "codes.scan.suspicious": ("谨防假冒", "Possible counterfeit"),
    "codes.scan.suspicious_detail": (
        "此码已被查询 {count} 次（超过 {threshold} 次），首次查询于 {when}{where}。如非您本人查询，请谨防假冒。",
        "This code has been checked {count} times (more than {threshold}), first on {when}{where}. "
        "If those were not your checks, the product may be counterfeit.",
    ),
    "codes.scan.where": ("，地点：{place}", " in {place}"),
    "codes.scan.not_genuine": ("非正品码", "Not a genuine code"),
    "codes.scan.not_genuine_detail": (
        "查无此码：它不是本品牌发放的防伪码，或输入有误。请勿购买，并向品牌方反映。",
        "This code was not issued by the brand, or it was mistyped. Do not buy it; please tell the brand.",
    ),
    "codes.scan.voided": ("此码已作废", "This code was withdrawn"),
    "codes.scan.voided_detail": (
        "该批次的码已被品牌方作废，商品可能不是正品。",
        "The brand withdrew this batch of codes; the product may not be genuine.",
    ),
    "codes.scan.product": ("商品", "Product"),
    "codes.scan.specification": ("规格", "Pack"),
    "codes.scan.lot": ("批号", "Lot"),
    "codes.scan.production_date": ("生产日期", "Production date"),
    "codes.scan.expiry_date": ("有效期至", "Best before"),
    "codes.scan.serial": ("防伪码", "Code"),
    "codes.scan.check_count": ("查询次数", "Times checked"),
    # Console.
    "codes.title": ("一物一码", "Unit codes"),
    "codes.subtitle": (
        "为每件商品生成唯一二维码：消费者扫码验真，批次泄露可作废。",
        "A unique QR code on every unit: consumers scan to check it is genuine; leaked batches can be voided.",
    ),
    "codes.batches": ("码批次", "Code batches"),
    "codes.new_batch": ("生成码", "Generate codes"),
    "codes.lookup": ("查码", "Code look-up"),
    "codes.lookup_hint": ("粘贴扫码得到的网址或防伪码。", "Paste the scanned URL or the serial."),
    "codes.lookup_button": ("查询", "Look up"),
    "codes.sku_code": ("SKU 编码", "SKU code"),
    "codes.gtin": ("条码（GTIN）", "GTIN"),
    "codes.count": ("数量", "Count"),
    "codes.level": ("包装层级", "Packing level"),
    "codes.level.unit": ("盒", "Unit"),
    "codes.level.case": ("箱", "Case"),
    "codes.level.pallet": ("垛", "Pallet"),
    "codes.lot": ("批号", "Lot"),
    "codes.production_date": ("生产日期", "Production date"),
    "codes.expiry_date": ("有效期至", "Expiry"),
    "codes.regions": ("计划销售区域", "Planned sales regions"),
    "codes.regions_hint": (
        "行政区划代码，多个用空格分隔，如 310000 320100",
        "Division codes, space-separated, e.g. 310000 320100",
    ),
    "codes.key_version": ("密钥版本", "Key version"),
    "codes.status": ("状态", "Status"),
    "codes.status.all": ("全部状态", "All statuses"),
    "codes.status.active": ("有效", "Active"),
    "codes.status.voided": ("已作废", "Voided"),
    "codes.created_at": ("创建时间", "Created"),
    "codes.export_csv": ("导出 CSV", "Export CSV"),
    "codes.export_txt": ("导出 TXT", "Export TXT"),
    "codes.qr_sample": ("二维码样张", "QR samples"),
    "codes.void": ("作废", "Void"),
    "codes.void_reason": ("作废原因", "Reason"),
    "codes.void_confirm": (
        "作废后该批次所有码都将验为非正品，确定吗？",
        "Every code of this batch will check not genuine. Void it?",
    ),
    "codes.voided_flash": ("已作废批次 {lot}。", "Voided batch {lot}."),
    "codes.created_flash": ("已生成 {count} 个码。", "Generated {count} codes."),
    "codes.empty": ("还没有码批次", "No code batches yet"),
    "codes.empty_hint": (
        "为有条码的 SKU 生成一批码，导出给印刷厂。",
        "Generate a batch for a SKU with a GTIN and export it for the printer.",
    ),
    "codes.checks": ("查询记录", "Checks"),
    "codes.checked_at": ("查询时间", "Checked at"),
    "codes.region": ("地区", "Region"),
    "codes.never_checked": ("此码尚未被查询。", "This code has not been checked yet."),
    "codes.check_count": ("查询次数", "Times checked"),
    "codes.settings": ("码设置", "Code settings"),
    "codes.settings_hint": (
        "印在码上的网址域名、疑似假冒的查询次数阈值，以及生成码所用的密钥版本。",
        "The host printed in every URL, the check count that warns of a possible counterfeit, and the key "
        "version new batches use.",
    ),
    "codes.resolver_host": ("扫码域名", "Resolver host"),
    "codes.resolver_host_hint": (
        "指向本系统的域名，如 qr.example.cn；修改只影响之后导出的码。",
        "A host pointing at this server, e.g. qr.example.cn; only later exports use it.",
    ),
    "codes.warn_threshold": ("疑似假冒阈值（次）", "Warning threshold (checks)"),
    "codes.warn_threshold_hint": (
        "同一个码被查询超过这个次数时，提示消费者谨防假冒。",
        "Above this many checks of one code, consumers are warned it may be counterfeit.",
    ),
    "codes.current_key": (
        "当前密钥版本：{version}（共 {count} 个版本）",
        "Current key version: {version} ({count} in all)",
    ),
    "codes.rotate_key": ("轮换密钥", "Rotate key"),
    "codes.rotate_confirm": (
        "新批次将使用新密钥，已印刷的码仍然有效。确定轮换吗？",
        "New batches will use a new key; printed codes stay valid. Rotate?",
    ),
    "codes.settings_saved": ("已保存码设置。", "Code settings saved."),
    "codes.key_rotated": (
        "密钥已轮换，当前版本 {version}。",
        "Key rotated; version {version} is now current.",
    ),
    "codes.error.unknown_sku": ("找不到该 SKU。", "No such SKU."),
    "codes.error.sku_without_gtin": (
        "该 SKU 没有条码，请先补充条码。",
        "This SKU has no GTIN; add its barcode first.",
    ),
    "codes.error.unknown_division": ("未知的行政区划代码。", "Unknown division code."),
    "codes.error.invalid": ("请检查此项。", "Please check this field."),
    "codes.error.required": ("必填。", "Required."),
    "codes.error.invalid_serial": ("不是本品牌的防伪码。", "Not a code of this brand."),
    "codes.error.invalid_digital_link": (
        "无法识别的网址或条码校验位错误。",
        "Unrecognised URL or wrong GTIN check digit.",
    ),
    "codes.error.code_not_genuine": ("本品牌没有发放此码。", "This brand never issued this code."),
}


def register() -> None:
    register_messages(CODES_MESSAGES)


PACKING_MESSAGES: dict[str, tuple[str, str]] = {
    "codes.packing": ("装箱与发货", "Packing and shipping"),
    "codes.packing_hint": (
        "EPCIS 事件：赋码激活、装箱、拆箱、发货、收货、门店开箱。",
        "EPCIS events: commissioning, packing, unpacking, shipping, receiving, store open-box scans.",
    ),
    "codes.packing.events": ("最近事件", "Recent events"),
    "codes.packing.no_events": ("还没有事件。", "No events yet."),
    "codes.packing.kind": ("事件", "Event"),
    "codes.packing.kind.commission": ("赋码激活", "Commissioning"),
    "codes.packing.kind.aggregate": ("装箱", "Packing"),
    "codes.packing.kind.disaggregate": ("拆箱", "Unpacking"),
    "codes.packing.kind.ship": ("发货", "Shipping"),
    "codes.packing.kind.receive": ("收货", "Receiving"),
    "codes.packing.kind.open": ("门店开箱", "Opened at store"),
    "codes.packing.time": ("时间", "Time"),
    "codes.packing.parent": ("箱/托码", "Case or pallet"),
    "codes.packing.count": ("码数", "Codes"),
    "codes.packing.ship": ("发货", "Ship"),
    "codes.packing.ship_serials": (
        "箱码、托码或单品码（每行一个）",
        "Case, pallet or unit serials (one per line)",
    ),
    "codes.packing.destination": ("收货方", "Destination"),
    "codes.packing.shipped_flash": ("已发货 {count} 件。", "Shipped {count} items."),
    "codes.diversion": ("窜货监控", "Diversion"),
    "codes.diversion_hint": (
        "扫码地点超出发货经销商的销售区域或批次的计划区域时产生预警。",
        "Alerts when a code is scanned outside its distributor's sales regions or its batch's planned regions.",
    ),
    "codes.diversion.map": ("预警分布", "Where alerts happen"),
    "codes.diversion.alerts": ("预警", "Alerts"),
    "codes.diversion.groups": ("按经销商、SKU、省份汇总", "By distributor, SKU and province"),
    "codes.diversion.no_alerts": ("没有窜货预警。", "No diversion alerts."),
    "codes.diversion.distributor": ("经销商", "Distributor"),
    "codes.diversion.province": ("省份", "Province"),
    "codes.diversion.region": ("扫码地区", "Scanned in"),
    "codes.diversion.expected": ("应售区域", "Expected regions"),
    "codes.diversion.reason": ("原因", "Reason"),
    "codes.diversion.reason.outside_sales_region": (
        "超出经销商销售区域",
        "Outside the distributor's regions",
    ),
    "codes.diversion.reason.outside_batch_region": ("超出批次计划区域", "Outside the batch's regions"),
    "codes.diversion.distance": ("超出距离 (km)", "Beyond (km)"),
    "codes.diversion.count": ("预警数", "Alerts"),
    "codes.diversion.filter": ("筛选", "Filter"),
    "codes.diversion.all": ("全部", "All"),
}
