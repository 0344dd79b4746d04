"""The catalog's door: products and SKUs for the API, pages, commands and other domains.

Every function takes the unit of work as ``session=`` and returns :mod:`bcone.catalog.schemas`
contracts, never rows. GTINs are stored as 14 digits (:mod:`bcone.core.gs1`); prices are fen
inside and yuan ``Decimal`` in the contracts.
"""

from __future__ import annotations

from bcone.catalog._imports import SKU_COLUMNS, import_sku_table, import_skus
from bcone.catalog._products import (
    create_product,
    get_product,
    list_products,
    product_lines,
    update_product,
)
from bcone.catalog._skus import (
    create_products_bulk,
    create_sku,
    create_skus_bulk,
    get_sku,
    get_sku_by_code,
    get_sku_by_gtin,
    list_skus,
    stored_gtin,
    update_sku,
)

__all__ = [
    "SKU_COLUMNS",
    "create_product",
    "create_products_bulk",
    "create_sku",
    "create_skus_bulk",
    "get_product",
    "get_sku",
    "get_sku_by_code",
    "get_sku_by_gtin",
    "import_sku_table",
    "import_skus",
    "list_products",
    "list_skus",
    "product_lines",
    "stored_gtin",
    "update_product",
    "update_sku",
]
