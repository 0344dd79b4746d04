"""Errors of the catalog, each with a stable ``code``."""

from __future__ import annotations

from bcone.core.errors import Conflict, NotFound, ValidationFailed


class ProductNotFound(NotFound):
    code = "product_not_found"
    title = "Product not found"


class SkuNotFound(NotFound):
    code = "sku_not_found"
    title = "SKU not found"


class UnknownProduct(ValidationFailed):
    """A SKU names a product this tenant does not have."""

    code = "unknown_product"
    title = "Unknown product"


class DuplicateProduct(Conflict):
    code = "duplicate_product"
    title = "Product name already in use"


class DuplicateSkuCode(Conflict):
    code = "duplicate_sku_code"
    title = "SKU code already in use"


class DuplicateGtin(Conflict):
    code = "duplicate_gtin"
    title = "GTIN already used by another SKU"


class InvalidGtin(ValidationFailed):
    code = "invalid_gtin"
    title = "Invalid GTIN"


class ProductLineMismatch(ValidationFailed):
    """An import row puts an existing product in another product line."""

    code = "product_line_mismatch"
    title = "Product is in another line"
