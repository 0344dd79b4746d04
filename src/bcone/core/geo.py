"""China's administrative divisions (GB/T 2260 division codes), distances and nearest lookups.

The table ships with bcone (``core/data/divisions.csv``, built by ``scripts/build_divisions.py``;
``docs/divisions.md`` gives its source, vintage and limits). It has three levels: ``province``
(including the four municipalities, Hong Kong, Macau and Taiwan), ``city`` (prefecture level)
and ``district`` (county level: districts, counties, county-level cities, banners). Districts of
the municipalities and the county-level units a province governs directly (仙桃 429004) hang
straight under their province, so a district's parent is a city *or* a province.

Coordinates are centroids in GCJ-02 as published; GCJ-02 differs from WGS-84 by less than 1 km
inside China, far below the size of a district, so distances ignore the difference.
"""

from __future__ import annotations

import csv
import gc
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from bcone.core.errors import ValidationFailed

DATA_FILE = Path(__file__).parent / "data" / "divisions.csv"

DivisionLevel = Literal["province", "city", "district"]
LEVELS: tuple[DivisionLevel, ...] = ("province", "city", "district")

# IUGG mean radius of the WGS-84 ellipsoid, (2a + b) / 3, in kilometres.
EARTH_MEAN_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Division:
    """One administrative division: 6-digit code, names, level, parent and centroid."""

    code: str
    name: str
    short_name: str
    level: DivisionLevel
    parent_code: str | None
    lng: float
    lat: float


class UnknownDivision(ValidationFailed):
    code = "unknown_division"
    title = "Unknown division code"


@dataclass(frozen=True, slots=True)
class _Table:
    by_code: dict[str, Division]
    by_name: dict[str, tuple[Division, ...]]
    children: dict[str, tuple[Division, ...]]


@cache
def _table() -> _Table:
    # Some ten thousand long-lived objects: collecting garbage while creating them would double
    # the load time for nothing, since none of them is garbage.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _load()
    finally:
        if paused:
            gc.enable()


def _load() -> _Table:
    by_code: dict[str, Division] = {}
    by_name: dict[str, list[Division]] = {}
    children: dict[str, list[Division]] = {}
    with DATA_FILE.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)  # header
        for code, name, short, level, parent, lng, lat in reader:
            if level not in LEVELS:
                raise ValueError(f"{DATA_FILE}: bad level {level!r} for {code}")
            division = Division(code, name, short, level, parent or None, float(lng), float(lat))
            by_code[code] = division
            for key in {name, short}:
                by_name.setdefault(key, []).append(division)
            if division.parent_code is not None:
                children.setdefault(division.parent_code, []).append(division)
    return _Table(
        by_code=by_code,
        by_name={k: tuple(v) for k, v in by_name.items()},
        children={k: tuple(v) for k, v in children.items()},
    )


def all_divisions() -> list[Division]:
    """Every division, ordered by code."""
    return list(_table().by_code.values())


def get_division(code: str) -> Division | None:
    """The division with this 6-digit code, or None."""
    return _table().by_code.get(code)


def require_division(code: str, *, field: str) -> Division:
    """The division with this code; raises :class:`UnknownDivision` naming ``field`` otherwise."""
    division = _table().by_code.get(code) if isinstance(code, str) else None
    if division is None:
        raise UnknownDivision(f"{code!r} is not a known division code", field=field)
    return division


def find_divisions(name: str, *, parent_code: str | None = None) -> list[Division]:
    """Divisions whose full or short name is ``name`` (广东 and 广东省 both find 440000).

    ``parent_code`` keeps only divisions inside that region (any level above them), so
    ``find_divisions("朝阳", parent_code="110000")`` is 北京朝阳区 alone.
    """
    matches = _table().by_name.get(name.strip(), ())
    if parent_code is not None:
        matches = tuple(d for d in matches if d.code != parent_code and contains(parent_code, d.code))
    return sorted(matches, key=lambda d: d.code)


def search_divisions(
    query: str | None = None, *, parent_code: str | None = None, level: DivisionLevel | None = None
) -> list[Division]:
    """Divisions whose name contains ``query`` or whose code starts with it, for pickers.

    ``parent_code`` alone lists the direct children; with a query it searches the whole region.
    """
    q = (query or "").strip()
    if not q and parent_code is not None:
        pool: list[Division] = children(parent_code)
    else:
        pool = all_divisions()
        if parent_code is not None:
            pool = [d for d in pool if d.code != parent_code and contains(parent_code, d.code)]
    if q:
        pool = [d for d in pool if q in d.name or d.code.startswith(q)]
    if level is not None:
        pool = [d for d in pool if d.level == level]
    return pool


def children(code: str) -> list[Division]:
    """The divisions directly under ``code`` (cities of a province, districts of a city)."""
    return list(_table().children.get(code, ()))


def ancestors(code: str) -> list[Division]:
    """The divisions above ``code``, province first; empty for a province or an unknown code."""
    table = _table()
    chain: list[Division] = []
    division = table.by_code.get(code)
    while division is not None and division.parent_code is not None:
        division = table.by_code[division.parent_code]
        chain.append(division)
    chain.reverse()
    return chain


def province_of(code: str) -> Division | None:
    """The province (or municipality, SAR) that contains ``code``; itself for a province."""
    division = get_division(code)
    if division is None:
        return None
    return division if division.parent_code is None else ancestors(code)[0]


def contains(region_code: str, code: str) -> bool:
    """True when ``code`` is ``region_code`` itself or lies inside it."""
    if region_code == code:
        return code in _table().by_code
    return any(a.code == region_code for a in ancestors(code))


def distance_km(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance (haversine) on the WGS-84 mean radius, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_MEAN_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def nearest_division(lng: float, lat: float, level: DivisionLevel = "district") -> Division:
    """The division of ``level`` whose centroid is nearest to the point.

    An approximation of "the division containing the point": without boundaries a point near a
    border can land in the neighbour whose centroid is closer.
    """
    if level not in LEVELS:
        raise ValidationFailed(f"level must be one of {', '.join(LEVELS)}", field="level")
    candidates = _by_level(level)
    return min(candidates, key=lambda d: distance_km(lng, lat, d.lng, d.lat))


@cache
def _by_level(level: DivisionLevel) -> tuple[Division, ...]:
    return tuple(d for d in _table().by_code.values() if d.level == level)


__all__ = [
    "EARTH_MEAN_RADIUS_KM",
    "LEVELS",
    "Division",
    "DivisionLevel",
    "UnknownDivision",
    "all_divisions",
    "ancestors",
    "children",
    "contains",
    "distance_km",
    "find_divisions",
    "get_division",
    "nearest_division",
    "province_of",
    "require_division",
    "search_divisions",
]
