"""Interface texts of the catalog pages, zh-CN first."""

from __future__ import annotations

from bcone.core.imports import IMPORT_MESSAGES
from bcone.web.i18n import register_messages

CATALOG_MESSAGES: dict[str, tuple[str, str]] = {
    "catalog.title": ("商品", "Products"),
    "catalog.subtitle": (
        "产品及其 SKU：每个 SKU 有自己的条码（GTIN）、规格和指导价。",
        "Products and their SKUs: each SKU has its own barcode (GTIN), pack and list price.",
    ),
    "catalog.skus": ("SKU", "SKUs"),
    "catalog.products": ("产品", "Products"),
    "catalog.product": ("产品", "Product"),
    "catalog.product_hint": (
        "输入已有产品的名称；新产品请先在“产品”中创建。",
        "Type an existing product's name; create new products first.",
    ),
    "catalog.line": ("产品线", "Product line"),
    "catalog.line.all": ("全部产品线", "All lines"),
    "catalog.description": ("描述", "Description"),
    "catalog.status": ("状态", "Status"),
    "catalog.status.all": ("全部状态", "All statuses"),
    "catalog.status.active": ("在售", "Active"),
    "catalog.status.discontinued": ("停售", "Discontinued"),
    "catalog.sku_code": ("SKU 编码", "SKU code"),
    "catalog.sku_name": ("SKU 名称", "SKU name"),
    "catalog.gtin": ("条码（GTIN）", "Barcode (GTIN)"),
    "catalog.gtin_hint": (
        "8、12、13 或 14 位，会校验末位校验码。",
        "8, 12, 13 or 14 digits; the check digit is verified.",
    ),
    "catalog.specification": ("规格", "Pack"),
    "catalog.specification_hint": ("如 500ml×24", "e.g. 500ml×24"),
    "catalog.unit": ("单位", "Unit"),
    "catalog.unit_hint": ("如 箱、瓶", "e.g. case, bottle"),
    "catalog.list_price": ("指导价（元）", "List price (yuan)"),
    "catalog.sku_count": ("SKU 数", "SKUs"),
    "catalog.search_placeholder": ("SKU 编码、名称、条码或产品", "SKU code, name, barcode or product"),
    "catalog.products_search_placeholder": ("产品名称、产品线或描述", "Product name, line or description"),
    "catalog.new_sku": ("新建 SKU", "New SKU"),
    "catalog.new_product": ("新建产品", "New product"),
    "catalog.edit_sku": ("编辑 SKU", "Edit SKU"),
    "catalog.edit_product": ("编辑产品", "Edit product"),
    "catalog.saved": ("已保存 {name}。", "Saved {name}."),
    "catalog.created": ("已创建 {name}。", "Created {name}."),
    "catalog.empty": ("还没有商品", "No products yet"),
    "catalog.empty_hint": (
        "先创建产品，再为它添加 SKU；也可以从 Excel 或 CSV 文件批量导入 SKU，产品会自动创建。",
        "Create a product, then its SKUs, or import SKUs from an Excel or CSV file: "
        "products are created as needed.",
    ),
    "catalog.products_empty": ("还没有产品", "No products yet"),
    "catalog.no_match": ("没有符合条件的商品", "Nothing matches"),
    "catalog.no_match_hint": ("换个关键词，或清除筛选条件。", "Try another keyword or clear the filters."),
    "catalog.clear_filters": ("清除筛选", "Clear filters"),
    "catalog.import": ("批量导入", "Import"),
    "catalog.import.title": ("批量导入 SKU", "Import SKUs"),
    "catalog.import.subtitle": (
        "每行一个 SKU，按 SKU 编码匹配：已有编码会更新，新编码会创建；产品按名称匹配，不存在时自动创建。"
        "重复导入同一文件不会产生重复数据。",
        "One SKU per row, matched by SKU code: known codes are updated, new ones created. Products match "
        "by name and are created when new. Importing the same file twice changes nothing.",
    ),
    "catalog.import.template": ("SKU 模板（CSV）", "SKU template (CSV)"),
    "catalog.error.invalid_gtin": (
        "条码无效：位数不对或校验码错误。",
        "Invalid barcode: wrong length or check digit.",
    ),
    "catalog.error.duplicate_gtin": ("该条码已被其他 SKU 使用。", "Another SKU already has this barcode."),
    "catalog.error.duplicate_sku_code": ("该 SKU 编码已被使用。", "This SKU code is already in use."),
    "catalog.error.duplicate_product": ("已有同名产品。", "A product with this name exists."),
    "catalog.error.unknown_product": ("找不到该产品。", "No such product."),
    "catalog.error.product_line_mismatch": ("该产品属于另一个产品线。", "The product is in another line."),
    "catalog.error.price": (
        "请输入不小于 0、最多两位小数的金额。",
        "Enter an amount of at least 0 with at most two decimals.",
    ),
    "catalog.error.required": ("必填。", "Required."),
    "catalog.error.invalid": ("格式不正确。", "Invalid value."),
}


def register() -> None:
    """Register the catalog's messages (idempotent)."""
    register_messages(IMPORT_MESSAGES)
    register_messages(CATALOG_MESSAGES)
