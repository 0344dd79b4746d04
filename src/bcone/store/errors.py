"""Errors of the store domain, each with a stable ``code``."""

from __future__ import annotations

from bcone.core.errors import Conflict, NotFound, ValidationFailed

# --- storefronts, pricing, sharing, commissions ----------------------------------------------


class StorefrontNotFound(NotFound):
    code = "storefront_not_found"
    title = "Storefront not found"


class StorefrontExists(Conflict):
    code = "storefront_exists"
    title = "This partner already has a storefront"


class SlugTaken(Conflict):
    code = "storefront_slug_taken"
    title = "This storefront address is taken"


class InvalidStorefront(ValidationFailed):
    code = "invalid_storefront"
    title = "Invalid storefront"


class UnknownSku(ValidationFailed):
    code = "unknown_sku"
    title = "Unknown SKU"


class PriceOutsideRules(ValidationFailed):
    code = "price_outside_rules"
    title = "The price is outside the brand's price rules"


class PriceRuleNotFound(NotFound):
    code = "price_rule_not_found"
    title = "Price rule not found"


class PriceRuleExists(Conflict):
    code = "price_rule_exists"
    title = "A price rule with this scope exists"


class CommissionRuleNotFound(NotFound):
    code = "commission_rule_not_found"
    title = "Commission rule not found"


class CommissionRuleExists(Conflict):
    code = "commission_rule_exists"
    title = "A commission rule with this scope exists"


class ShareLinkNotFound(NotFound):
    code = "share_link_not_found"
    title = "Share link not found"


class CommissionNotFound(NotFound):
    code = "commission_not_found"
    title = "Commission not found"


# --- orders, stock, coupons, payments, fulfilment --------------------------------------------


class OutOfStock(Conflict):
    code = "out_of_stock"
    title = "Not enough stock"


class StockFloor(Conflict):
    code = "stock_below_reserved"
    title = "Stock on hand cannot fall below what is reserved"


class CouponNotFound(NotFound):
    code = "coupon_not_found"
    title = "Coupon not found"


class CouponExists(Conflict):
    code = "coupon_exists"
    title = "A coupon with this code exists"


class CouponNotApplicable(ValidationFailed):
    code = "coupon_not_applicable"
    title = "The coupon cannot be used for this order"


class InvalidOrder(ValidationFailed):
    code = "invalid_order"
    title = "Invalid order"


class OrderNotFound(NotFound):
    code = "order_not_found"
    title = "Order not found"


class OrderStateConflict(Conflict):
    code = "order_state_conflict"
    title = "The order cannot make this change in its current status"


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    title = "Payment not found"


class PaymentMismatch(ValidationFailed):
    code = "payment_mismatch"
    title = "The payment does not match the order"


class InvalidCallbackSignature(ValidationFailed):
    code = "invalid_callback_signature"
    title = "The payment callback does not verify"
    status = 401


class PaymentProviderUnavailable(Conflict):
    code = "payment_provider_unavailable"
    status = 503
    title = "The payment provider is not configured or unreachable"
