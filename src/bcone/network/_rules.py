"""The network's rules, free of the database: the shape of the tree, locations, sales regions.

Shared by the one-at-a-time service functions, the bulk loader and the imports, so every entry
point refuses the same things with the same error codes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

from bcone.core.geo import Division, ancestors, children, get_division, require_division
from bcone.network.errors import InvalidLocation, InvalidParent

# Which kinds may be the parent of each kind: the tree is distributor -> wholesaler -> store,
# and a store may also buy straight from a distributor.
ALLOWED_PARENT_KINDS: dict[str, tuple[str, ...]] = {
    "distributor": (),
    "wholesaler": ("distributor",),
    "store": ("distributor", "wholesaler"),
}
KIND_RANK = {"distributor": 0, "wholesaler": 1, "store": 2}

# China's extreme points are about 73.50E (Pamirs), 135.08E (Heixiazi Island), 3.86N (Zengmu
# Ansha) and 53.56N (Mohe); half a degree of margin keeps border towns inside the box while a
# swapped or mistyped coordinate falls outside it.
CHINA_LNG_MIN, CHINA_LNG_MAX = 73.0, 135.5
CHINA_LAT_MIN, CHINA_LAT_MAX = 3.5, 54.0


class Node(Protocol):
    """What the rules need to know about an organisation already in the tree."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def distributor_id(self) -> str | None: ...
    @property
    def wholesaler_id(self) -> str | None: ...


def check_parent(
    kind: str, parent: Node | None, *, org_id: str | None = None, field: str = "parent_id"
) -> None:
    """Refuse a parent that breaks the tree: wrong kind, missing, closed, itself or a descendant."""
    allowed = ALLOWED_PARENT_KINDS[kind]
    if not allowed:
        if parent is not None:
            raise InvalidParent("a distributor is at the top of the network and has no parent", field=field)
        return
    if parent is None:
        raise InvalidParent(f"a {kind} needs a parent: a {' or a '.join(allowed)}", field=field)
    if org_id is not None and (parent.id == org_id or in_subtree(parent, root_id=org_id, root_kind=kind)):
        raise InvalidParent(
            "an organisation cannot be placed under itself or its own descendant", field=field
        )
    if parent.kind not in allowed:
        raise InvalidParent(
            f"a {kind}'s parent must be a {' or a '.join(allowed)}, not a {parent.kind}", field=field
        )
    if parent.status == "closed":
        raise InvalidParent("the parent organisation is closed", field=field)


def in_subtree(node: Node, *, root_id: str, root_kind: str) -> bool:
    """Whether ``node`` lies in the subtree of the organisation ``root_id`` (itself included)."""
    if node.id == root_id:
        return True
    if root_kind == "distributor":
        return node.distributor_id == root_id
    if root_kind == "wholesaler":
        return node.wholesaler_id == root_id
    return False


def ancestry(kind: str, org_id: str, parent: Node | None) -> tuple[str | None, str | None]:
    """``(distributor_id, wholesaler_id)`` of an organisation placed under ``parent``."""
    if kind == "distributor":
        return org_id, None
    assert parent is not None  # check_parent ran first
    if kind == "wholesaler":
        return parent.id, org_id
    if parent.kind == "wholesaler":
        return parent.distributor_id, parent.id
    return parent.id, None


def locate(division: Division, lng: float | None, lat: float | None) -> tuple[float, float, bool]:
    """``(lng, lat, approximate)``: the given point if plausible, else the division's centroid."""
    if lng is None and lat is None:
        return division.lng, division.lat, True
    if lng is None or lat is None:
        raise InvalidLocation(
            "give both longitude and latitude, or neither", field="lng" if lng is None else "lat"
        )
    if not (-180 <= lng <= 180):
        raise InvalidLocation(f"longitude {lng} is outside -180..180", field="lng")
    if not (-90 <= lat <= 90):
        hint = " (longitude and latitude look swapped)" if -90 <= lng <= 90 else ""
        raise InvalidLocation(f"latitude {lat} is outside -90..90{hint}", field="lat")
    if not (CHINA_LNG_MIN <= lng <= CHINA_LNG_MAX):
        raise InvalidLocation(
            f"longitude {lng} is outside China ({CHINA_LNG_MIN}..{CHINA_LNG_MAX})", field="lng"
        )
    if not (CHINA_LAT_MIN <= lat <= CHINA_LAT_MAX):
        raise InvalidLocation(
            f"latitude {lat} is outside China ({CHINA_LAT_MIN}..{CHINA_LAT_MAX})", field="lat"
        )
    return lng, lat, False


def check_regions(codes: list[str], *, field: str = "sales_regions") -> list[str]:
    """The sales region's division codes, validated and without duplicates (order kept)."""
    out: list[str] = []
    for code in codes:
        code = code.strip()
        require_division(code, field=field)
        if code not in out:
            out.append(code)
    return out


@lru_cache(maxsize=4096)
def division_label(code: str) -> str:
    """The division's name with its ancestors, e.g. ``广东省 深圳市 南山区``."""
    division = get_division(code)
    if division is None:
        return code
    return " ".join([*(a.name for a in ancestors(code)), division.name])


@lru_cache(maxsize=512)
def region_codes(code: str) -> tuple[str, ...]:
    """``code`` and every division inside it: the codes a "located in region X" filter matches."""
    out = [code]
    stack = [code]
    while stack:
        for child in children(stack.pop()):
            out.append(child.code)
            stack.append(child.code)
    return tuple(out)


def covering_codes(code: str) -> tuple[str, ...]:
    """``code`` and its ancestors: a sales region listing any of them covers ``code``."""
    return (code, *(a.code for a in ancestors(code)))
