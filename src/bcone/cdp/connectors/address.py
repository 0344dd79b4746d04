"""A Chinese postal address to its GB/T 2260 division code.

Platform exports write addresses as free text: ``浙江省 杭州市 西湖区 文三路 100 号``,
``北京 北京市 朝阳区 ...``, ``上海上海市浦东新区...`` or ``杭州市西湖区...`` without the province.
:func:`parse_region` strips spaces, reads the province, then the city under it, then the
district under that (each by its full or short name, the longest match first; a repeated
province name, as Taobao writes municipalities, is skipped) and answers the deepest code found.
The street part is never kept.
"""

from __future__ import annotations

from functools import cache

from bcone.core import geo


def _names(d: geo.Division) -> tuple[str, ...]:
    # Longest first: 北京市 before 北京, so a repeated name is stripped whole.
    return tuple(sorted((n for n in {d.name, d.short_name} if len(n) >= 2), key=len, reverse=True))


@cache
def _provinces() -> tuple[tuple[str, geo.Division], ...]:
    pairs = [(n, d) for d in geo.all_divisions() if d.parent_code is None for n in _names(d)]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


@cache
def _cities() -> tuple[tuple[str, geo.Division], ...]:
    pairs = [(n, d) for d in geo.all_divisions() if d.level == "city" for n in _names(d)]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


@cache
def _children(code: str) -> tuple[tuple[str, geo.Division], ...]:
    pairs = [(n, d) for d in geo.children(code) for n in _names(d)]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def _match(text: str, pairs: tuple[tuple[str, geo.Division], ...]) -> tuple[geo.Division, str] | None:
    for name, division in pairs:
        if text.startswith(name):
            return division, text[len(name) :]
    return None


def parse_region(address: str) -> str | None:
    """The deepest division code named at the start of ``address``, or None."""
    text = "".join(address.split())
    if not text:
        return None
    found = _match(text, _provinces())
    if found is None:
        found = _match(text, _cities())  # no province written: 杭州市西湖区...
        if found is None:
            return None
    current, rest = found
    for _ in range(3):
        for name in _names(current):  # 北京北京市朝阳区: the municipality written twice
            if rest.startswith(name):
                rest = rest[len(name) :]
                break
        step = _match(rest, _children(current.code))
        if step is None:
            break
        current, rest = step
    return current.code
