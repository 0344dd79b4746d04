"""Build ``src/bcone/core/data/divisions.csv`` from the ``cpca`` package's division table.

Run by hand when the source changes; the output is committed. Reproduce with::

    pip download --no-deps cpca==0.5.5 -d /tmp/cpca
    python scripts/build_divisions.py /tmp/cpca/cpca-0.5.5-py3-none-any.whl

The argument may also be an unpacked ``cpca/resources`` directory. ``cpca`` (MIT, QinYuan Du) is
read only here; bcone does not depend on it at run time. ``docs/divisions.md`` explains the
output and its limits.

What the script changes, and why:

- 12-digit statistical codes become 6-digit division codes (the last 6 digits are always 0).
- Placeholder groupings are dropped and their members attached to the province: the city-level
  ``市辖区``/``县`` of the four municipalities (110100, 120100, 310100, 500100, 500200) and the
  ``省直辖县级行政区划`` groups (139000, 419000, 429000, 469000, 659000). The district-level
  ``xx01 市辖区`` rows (no territory of their own, no coordinates) are dropped too.
- Three units abolished before the data was taken but still listed without coordinates are
  dropped (:data:`OBSOLETE`); the few current units without coordinates get approximate ones
  (:data:`APPROXIMATE_CENTRES`).
- ``short_name`` strips the administrative suffix and, for autonomous units, the ethnic names.
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "src" / "bcone" / "core" / "data" / "divisions.csv"
HEADER = ("code", "name", "short_name", "level", "parent_code", "lng", "lat")

# Grouping rows that are not a territory of their own.
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
# Abolished before the source was compiled, listed without coordinates:
# 邯郸县 (merged into 邯山区/丛台区, 2016), 江东区 (into 鄞州区, 2016), 金明区 (into 龙亭区, 2014).
OBSOLETE = frozenset({"130421", "330204", "410211"})
# Current units the source lists without coordinates: the town centre, to about 0.01 degree.
APPROXIMATE_CENTRES = {
    "139001": (114.99, 38.52),  # 定州市
    "139002": (115.22, 37.94),  # 辛集市
    "320812": (119.03, 33.55),  # 清江浦区 (淮安 city centre)
}
# Suffixes, longest first; only one is removed.
SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "林区",
    "特区",
    "新区",
    "矿区",
    "省",
    "市",
    "盟",
    "区",
    "县",
    "旗",
)
AUTONOMOUS = ("自治区", "自治州", "自治县", "自治旗")


def read_source(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    """The adcode rows and the list of ethnic group names, from a wheel or a directory."""
    if path.is_dir():
        adcodes = (path / "adcodes.csv").read_text(encoding="utf-8")
        nations = (path / "56_nations.csv").read_text(encoding="utf-8")
    else:
        with zipfile.ZipFile(path) as wheel:
            adcodes = wheel.read("cpca/resources/adcodes.csv").decode("utf-8")
            nations = wheel.read("cpca/resources/56_nations.csv").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(adcodes)))
    names = [line.strip() for line in nations.splitlines() if line.strip().endswith("族")]
    return rows, names


def short_name(name: str, ethnic_groups: list[str]) -> str:
    """``广西壮族自治区`` -> ``广西``; never shorter than two characters (``涉县`` stays)."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            stem = name[: -len(suffix)]
            break
    else:
        return name
    if suffix in AUTONOMOUS:
        # Ethnic names appear with or without 族 (恩施土家族苗族, 博尔塔拉蒙古, 新疆维吾尔).
        # 各族 (龙胜各族自治县) stands for several groups at once.
        groups = {*ethnic_groups, "各族"}
        stems = sorted(groups | {g[:-1] for g in groups}, key=len, reverse=True)
        stripped = True
        while stripped:
            stripped = False
            for group in stems:
                if stem.endswith(group) and len(stem) - len(group) >= 2:
                    stem = stem[: -len(group)]
                    stripped = True
                    break
        if stem.endswith("族") and stem[:-1] in stems:  # 鄂温克族自治旗 -> 鄂温克
            stem = stem[:-1]
    return stem


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "district"


def build(rows: list[dict[str, str]], ethnic_groups: list[str]) -> list[tuple[str, ...]]:
    """The output rows, sorted by code; raises if the hierarchy is broken."""
    kept: dict[str, dict[str, str]] = {}
    for row in rows:
        code = row["adcode"][:6]
        if row["adcode"][6:].strip("0"):
            raise ValueError(f"unexpected sub-district code {row['adcode']}")
        if row["name"] in PLACEHOLDER_NAMES or code in OBSOLETE:
            continue
        kept[code] = row
    out: list[tuple[str, ...]] = []
    for code in sorted(kept):
        row = kept[code]
        level = level_of(code)
        parent = ""
        if level == "district" and code[:4] + "00" in kept:
            parent = code[:4] + "00"
        elif level != "province":
            parent = code[:2] + "0000"
        if parent and parent not in kept:
            raise ValueError(f"{code} {row['name']}: parent {parent} missing")
        if row["longitude"] and row["latitude"]:
            lng, lat = float(row["longitude"]), float(row["latitude"])
        elif code in APPROXIMATE_CENTRES:
            lng, lat = APPROXIMATE_CENTRES[code]
        else:
            raise ValueError(f"{code} {row['name']} has no coordinates")
        name = row["name"]
        out.append((code, name, short_name(name, ethnic_groups), level, parent, f"{lng:.6f}", f"{lat:.6f}"))
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    rows, ethnic_groups = read_source(Path(argv[1]))
    out = build(rows, ethnic_groups)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with OUTPUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(out)
    levels = {lvl: sum(1 for r in out if r[3] == lvl) for lvl in ("province", "city", "district")}
    print(f"wrote {len(out)} divisions to {OUTPUT} ({levels})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
