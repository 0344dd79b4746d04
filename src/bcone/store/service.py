"""The store domain's behaviour: the only entry other domains may call.

Every function takes the unit of work as ``session=`` and returns :mod:`bcone.store.schemas`
contracts, never rows. See ``docs/store.md``.

Storefronts, pricing, sharing, commissions
    :func:`create_storefront`, :func:`ensure_storefront`, :func:`get_storefront`,
    :func:`get_storefront_by_slug`, :func:`update_storefront`, :func:`list_storefronts`,
    :func:`set_listing`, :func:`list_assortment`; :func:`resolve_price` (the unit price a
    storefront sells at, within the brand's price rules); :func:`create_share_link`,
    :func:`attribute_visit` and :func:`current_binding` (customer binding); commissions:
    :func:`accrue_commissions` (when an order is paid), :func:`mark_order_completed`,
    :func:`settle_due_commissions`, :func:`claw_back_commissions` (a refund),
    :func:`partner_statement`, :func:`sharer_leaderboard`.
"""

from __future__ import annotations

# --- storefronts, pricing, sharing, commissions ----------------------------------------------
from bcone.store._commissions import (
    accrue_commissions,
    claw_back_commissions,
    commission_totals,
    create_commission_rule,
    delete_commission_rule,
    list_commission_rules,
    list_commissions,
    mark_order_completed,
    partner_statement,
    settle_due_commissions,
    sharer_leaderboard,
    update_commission_rule,
)
from bcone.store._pricing import (
    create_price_rule,
    delete_price_rule,
    get_price_rule,
    list_price_rules,
    resolve_price,
    update_price_rule,
)
from bcone.store._sharing import (
    attribute_visit,
    create_share_link,
    current_binding,
    get_share_link,
    list_share_links,
)
from bcone.store._storefronts import (
    create_storefront,
    ensure_storefront,
    find_storefront_by_slug,
    get_store_settings,
    get_storefront,
    get_storefront_by_slug,
    list_assortment,
    list_storefronts,
    record_storefront_visit,
    remove_listing,
    set_listing,
    storefront_for_partner,
    update_store_settings,
    update_storefront,
    visit_stats,
)

__all__ = [
    # storefronts, pricing, sharing, commissions
    "accrue_commissions",
    "attribute_visit",
    "claw_back_commissions",
    "commission_totals",
    "create_commission_rule",
    "create_price_rule",
    "create_share_link",
    "create_storefront",
    "current_binding",
    "delete_commission_rule",
    "delete_price_rule",
    "ensure_storefront",
    "find_storefront_by_slug",
    "get_price_rule",
    "get_share_link",
    "get_store_settings",
    "get_storefront",
    "get_storefront_by_slug",
    "list_assortment",
    "list_commission_rules",
    "list_commissions",
    "list_price_rules",
    "list_share_links",
    "list_storefronts",
    "mark_order_completed",
    "partner_statement",
    "record_storefront_visit",
    "remove_listing",
    "resolve_price",
    "set_listing",
    "settle_due_commissions",
    "sharer_leaderboard",
    "storefront_for_partner",
    "update_commission_rule",
    "update_price_rule",
    "update_store_settings",
    "update_storefront",
    "visit_stats",
]

# --- orders, stock, coupons, payments, fulfilment --------------------------------------------
# Carts and checkout, the order states, payments (the PaymentProvider port: WeChat Pay JSAPI and
# the development simulator), fulfilment by the nearest store, stock with reservations, coupons
# and platform orders; see ``docs/store.md`` (orders).
from bcone.store._coupons import (
    create_coupon,
    get_coupon,
    list_coupons,
    set_coupon_status,
)
from bcone.store._fulfilment import get_order_settings, update_order_settings
from bcone.store._orders import (
    accept_order,
    apply_payment_notice,
    cancel_order,
    checkout,
    clear_cart,
    confirm_delivery,
    confirm_pickup,
    consumer_order,
    decline_order,
    expire_orders,
    find_payment,
    get_cart,
    get_order,
    get_order_by_number,
    get_payment,
    import_platform_orders,
    list_orders,
    list_orders_for_org,
    open_storefront,
    quote,
    ready_order,
    refund_order,
    set_cart_item,
    ship_order,
    start_payment,
)
from bcone.store._payments import (
    PaymentProvider,
    SimulatorProvider,
    configure_provider,
    provider_for,
    provider_named,
)
from bcone.store._stock import adjust_stock, get_stock, list_stock

__all__ += [
    "PaymentProvider",
    "SimulatorProvider",
    "accept_order",
    "adjust_stock",
    "apply_payment_notice",
    "cancel_order",
    "checkout",
    "clear_cart",
    "configure_provider",
    "confirm_delivery",
    "confirm_pickup",
    "consumer_order",
    "create_coupon",
    "decline_order",
    "expire_orders",
    "find_payment",
    "get_cart",
    "get_coupon",
    "get_order",
    "get_order_by_number",
    "get_order_settings",
    "get_payment",
    "get_stock",
    "import_platform_orders",
    "list_coupons",
    "list_orders",
    "list_orders_for_org",
    "list_stock",
    "open_storefront",
    "provider_for",
    "provider_named",
    "quote",
    "ready_order",
    "refund_order",
    "set_cart_item",
    "set_coupon_status",
    "ship_order",
    "start_payment",
    "update_order_settings",
]
