"""The console's left navigation: one entry per domain page, the active one found by path.

The shell knows the domains' pages only by their paths (it sits below them in the layers), so a
new domain adds its entry with :func:`register_nav_item` from its ``web.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NavItem:
    """One link of the left navigation."""

    key: str  # message key of the label, also the entry's id in the page
    href: str
    icon: str  # name of an icon in templates/icons.html
    order: int
    prefixes: tuple[str, ...] = ()  # paths that belong to the entry (default: href)
    super_only: bool = False  # shown to owners and admins only
    # A partner user (bound to one organisation) sees only the pages that serve partners; a
    # brand user sees every page but those made for partners alone.
    partner: bool = False  # shown to partner users
    brand: bool = True  # shown to the brand's own users


_ITEMS: dict[str, NavItem] = {}


def register_nav_item(item: NavItem) -> None:
    """Add (or replace, by key) an entry of the left navigation."""
    _ITEMS[item.key] = item


def _matches(path: str, prefix: str) -> bool:
    if prefix == "/":
        return path == "/"
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def nav_for(path: str, principal: Any) -> list[dict[str, Any]]:
    """The entries ``principal`` may see, in order, the one owning ``path`` marked active.

    The longest matching prefix wins, so ``/network/staff`` belongs to staff, not to network.
    """
    is_super = bool(principal is not None and principal.has_role())
    is_partner = bool(getattr(principal, "is_partner", False))
    visible = [
        i
        for i in sorted(_ITEMS.values(), key=lambda i: (i.order, i.key))
        if (is_super or not i.super_only) and (i.partner if is_partner else i.brand)
    ]
    best: tuple[int, str] | None = None
    for item in visible:
        for prefix in item.prefixes or (item.href,):
            if _matches(path, prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), item.key)
    active = best[1] if best else None
    return [
        {"key": i.key, "href": i.href, "icon": i.icon, "label_key": i.key, "active": i.key == active}
        for i in visible
    ]


for _item in (
    NavItem("nav.overview", "/", "chart", 10, partner=True),
    NavItem("nav.network", "/network", "network", 20, partner=True),
    NavItem("nav.staff", "/network/staff", "staff", 30, partner=True),
    NavItem("nav.catalog", "/catalog", "box", 40, partner=True),
    NavItem("nav.settings", "/settings/users", "settings", 90, prefixes=("/settings",), super_only=True),
):
    register_nav_item(_item)
