"""Interface texts of the channel network pages, zh-CN first."""

from __future__ import annotations

from bcone.core.imports import IMPORT_MESSAGES
from bcone.web.i18n import register_messages

NETWORK_MESSAGES: dict[str, tuple[str, str]] = {
    "network.title": ("渠道网络", "Channel network"),
    "network.subtitle": (
        "经销商、分销商和门店组成的渠道网络：经销商 → 分销商（二批）→ 门店。",
        "Distributors, wholesalers and stores: distributor → wholesaler → store.",
    ),
    "network.partner_scope": ("仅显示你所在组织及其下级。", "Showing your organisation and those below it."),
    "network.kind": ("类型", "Type"),
    "network.kind.all": ("全部类型", "All types"),
    "network.kind.distributor": ("经销商", "Distributor"),
    "network.kind.wholesaler": ("分销商", "Wholesaler"),
    "network.kind.store": ("门店", "Store"),
    "network.status": ("状态", "Status"),
    "network.status.all": ("全部状态", "All statuses"),
    "network.status.active": ("正常", "Active"),
    "network.status.suspended": ("暂停", "Suspended"),
    "network.status.closed": ("关闭", "Closed"),
    "network.code": ("编码", "Code"),
    "network.code_hint": (
        "伙伴编码，在本品牌内唯一，导入时按编码更新。",
        "Partner code, unique in your brand; imports update by code.",
    ),
    "network.name": ("名称", "Name"),
    "network.parent": ("上级组织", "Parent"),
    "network.parent_hint": (
        "输入上级的编码或名称。分销商挂在经销商下，门店挂在经销商或分销商下；经销商没有上级。",
        "Type the parent's code or name. Wholesalers sit under a distributor, stores under a "
        "distributor or wholesaler; distributors have no parent.",
    ),
    "network.division": ("行政区划", "Division"),
    "network.division_filter": ("所在地区", "Region"),
    "network.division_hint": (
        "输入区划代码或名称，如 440305 或 南山区。",
        "Type a division code or name, e.g. 440305 or 南山区.",
    ),
    "network.address": ("地址", "Address"),
    "network.lng": ("经度", "Longitude"),
    "network.lat": ("纬度", "Latitude"),
    "network.location_hint": (
        "可不填：不填时使用所在区划的中心点，并标记为近似位置。",
        "Optional: without them the division's centre is used and marked approximate.",
    ),
    "network.location_approximate": ("近似位置", "Approximate location"),
    "network.sales_regions": ("销售区域", "Sales regions"),
    "network.sales_regions_hint": (
        "区划代码，用逗号分隔。填省级代码即覆盖全省。",
        "Division codes separated by commas. A province's code covers the whole province.",
    ),
    "network.contact_name": ("联系人", "Contact"),
    "network.contact_phone": ("联系电话", "Contact phone"),
    "network.contact_phone_hint": (
        "手机号或固定电话，如 13800138000、0755-26001234。",
        "Mobile or landline, e.g. 13800138000, 0755-26001234.",
    ),
    "network.children": ("下级组织", "Children"),
    "network.view_children": ("查看下级", "View children"),
    "network.search_placeholder": ("编码、名称、地址或联系人", "Code, name, address or contact"),
    "network.new": ("新建组织", "New organisation"),
    "network.new_store": ("新建门店", "New store"),
    "network.new_distributor": ("新建经销商", "New distributor"),
    "network.edit": ("编辑组织", "Edit organisation"),
    "network.saved": ("已保存 {name}。", "Saved {name}."),
    "network.created": ("已创建 {name}。", "Created {name}."),
    "network.empty": ("还没有渠道组织", "No organisations yet"),
    "network.empty_hint": (
        "先添加经销商，再添加其下的分销商和门店；也可以从 Excel 或 CSV 文件批量导入。",
        "Add your distributors first, then their wholesalers and stores, "
        "or import them from an Excel or CSV file.",
    ),
    "network.no_match": ("没有符合条件的组织", "No organisation matches"),
    "network.no_match_hint": ("换个关键词，或清除筛选条件。", "Try another keyword or clear the filters."),
    "network.clear_filters": ("清除筛选", "Clear filters"),
    "network.filters": ("筛选", "Filters"),
    "network.import": ("批量导入", "Import"),
    "network.import.title": ("批量导入渠道网络", "Import the channel network"),
    "network.import.subtitle": (
        "上传 Excel（.xlsx）或 CSV（UTF-8 或 GBK）文件，第一行为表头。按编码匹配：已有编码会更新，"
        "新编码会创建；重复导入同一文件不会产生重复数据。",
        "Upload an Excel (.xlsx) or CSV (UTF-8 or GBK) file with the header in row 1. Rows match by code: "
        "known codes are updated, new ones created; importing the same file twice changes nothing.",
    ),
    "network.import.what": ("导入内容", "What to import"),
    "network.import.what.organizations": ("渠道组织", "Organisations"),
    "network.import.what.staff": ("人员", "Staff"),
    "network.import.template_orgs": ("组织模板（CSV）", "Organisation template (CSV)"),
    "network.import.template_staff": ("人员模板（CSV）", "Staff template (CSV)"),
    "network.staff.title": ("人员", "Staff"),
    "network.staff.subtitle": (
        "业务员属于品牌，负责拜访若干组织；导购在门店工作；KOC 为某个组织分享推荐。",
        "Sales reps belong to the brand and cover organisations; shop assistants work in a store; "
        "KOCs share for an organisation.",
    ),
    "network.staff.kind.sales_rep": ("业务员", "Sales rep"),
    "network.staff.kind.shop_assistant": ("导购", "Shop assistant"),
    "network.staff.kind.koc": ("KOC", "KOC"),
    "network.staff.status.active": ("在职", "Active"),
    "network.staff.status.inactive": ("离职", "Inactive"),
    "network.staff.name": ("姓名", "Name"),
    "network.staff.phone": ("手机号", "Phone"),
    "network.staff.employee_code": ("工号", "Employee code"),
    "network.staff.org": ("所属组织", "Organisation"),
    "network.staff.org_hint": (
        "导购填所在门店，KOC 填为其分享的组织；业务员留空。",
        "A shop assistant's store, the organisation a KOC shares for; empty for sales reps.",
    ),
    "network.staff.assigned": ("负责组织", "Covers"),
    "network.staff.assigned_hint": (
        "仅业务员：负责的组织编码，用逗号分隔。",
        "Sales reps only: codes of the organisations they cover, comma separated.",
    ),
    "network.staff.search_placeholder": ("姓名、手机号或工号", "Name, phone or employee code"),
    "network.staff.new": ("新建人员", "New staff member"),
    "network.staff.edit": ("编辑人员", "Edit staff member"),
    "network.staff.empty": ("还没有人员", "No staff yet"),
    "network.staff.empty_hint": (
        "添加业务员、导购和 KOC，或从文件批量导入。",
        "Add sales reps, shop assistants and KOCs, or import them from a file.",
    ),
    "network.error.unknown_division": ("未知的行政区划代码。", "Unknown division code."),
    "network.error.ambiguous_division": (
        "有多个同名区划，请输入代码或带上级名称。",
        "Several divisions have this name: type the code or add the province.",
    ),
    "network.error.invalid_parent": (
        "上级组织不符合层级：经销商 → 分销商 → 门店。",
        "The parent breaks the tree: distributor → wholesaler → store.",
    ),
    "network.error.unknown_organization": ("找不到该组织。", "No such organisation."),
    "network.error.duplicate_code": ("该编码已被使用。", "This code is already in use."),
    "network.error.invalid_location": (
        "经纬度不合理：需同时填写，且应在中国境内。",
        "Give both coordinates, inside China.",
    ),
    "network.error.has_children": (
        "该组织有下级，不能修改类型。",
        "This organisation has children; its type cannot change.",
    ),
    "network.error.invalid_staff_organization": (
        "所属组织与人员类型不符：导购属于门店，KOC 需要所属组织，业务员不属于任何组织。",
        "The organisation does not fit: a shop assistant works in a store, a KOC needs one, "
        "a sales rep has none.",
    ),
    "network.error.phone": ("电话号码格式不正确。", "Not a valid phone number."),
    "network.error.number": ("请输入数字。", "Enter a number."),
    "network.error.required": ("必填。", "Required."),
    "network.error.invalid": ("格式不正确。", "Invalid value."),
}


def register() -> None:
    """Register the network's messages (idempotent)."""
    register_messages(IMPORT_MESSAGES)
    register_messages(NETWORK_MESSAGES)
