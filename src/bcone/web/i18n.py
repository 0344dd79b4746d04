"""Interface language: zh-CN first, English second.

Each domain registers its messages with :func:`register_messages`; templates call ``t("key")``.
The locale comes from the ``bcone_locale`` cookie (the language switch sets it), else the
``Accept-Language`` header, else the configured default.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import Request

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
LOCALE_COOKIE = "bcone_locale"
# The language each locale falls back to when a key has no text in it. English is the lingua
# franca of the code base, so a key missing in zh-CN shows its English text, never a blank.
FALLBACK_LOCALE = "en"

logger = logging.getLogger(__name__)

_MESSAGES: dict[str, dict[str, str]] = {locale: {} for locale in LOCALES}


def normalise_locale(value: str | None) -> str | None:
    """Map a language tag (``zh``, ``zh-cn``, ``zh-Hans-CN``, ``en-US``, ``EN``) to a supported locale."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    for locale in LOCALES:
        if tag == locale.lower():
            return locale
    primary = tag.split("-", 1)[0]
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def register_messages(messages: Mapping[str, tuple[str, str]]) -> None:
    """Add ``{key: (zh-CN text, English text)}``; a key registered twice must agree in both languages."""
    for key, texts in messages.items():
        if len(texts) != len(LOCALES) or not all(isinstance(x, str) and x for x in texts):
            raise ValueError(f"message {key!r} needs non-empty text for each of {', '.join(LOCALES)}")
        for locale, text in zip(LOCALES, texts, strict=True):
            existing = _MESSAGES[locale].get(key)
            if existing is not None and existing != text:
                raise ValueError(f"message {key!r} registered twice with different {locale} text")
        for locale, text in zip(LOCALES, texts, strict=True):
            _MESSAGES[locale][key] = text


def registered_keys(locale: str) -> frozenset[str]:
    """Every key that has text in ``locale`` (for completeness checks)."""
    return frozenset(_MESSAGES.get(locale, {}))


def has_message(key: str) -> bool:
    """Whether ``key`` is registered."""
    return any(key in texts for texts in _MESSAGES.values())


def translate(key: str, locale: str, **params: object) -> str:
    """The text of ``key`` in ``locale``; falls back to English, then to the key itself.

    ``params`` fill ``{name}`` placeholders. A placeholder the caller did not pass is left as it
    is (and logged) rather than failing the whole page.
    """
    text = _MESSAGES.get(normalise_locale(locale) or DEFAULT_LOCALE, {}).get(key)
    if text is None:
        text = _MESSAGES[FALLBACK_LOCALE].get(key)
    if text is None:
        logger.debug("no message registered for %r", key)
        text = key
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        logger.warning("message %r could not be filled with %s", key, sorted(params))
        return text


def _accept_language(header: str) -> list[tuple[float, int, str]]:
    """``Accept-Language`` entries as (quality, position, tag), best first (RFC 9110 §12.5.4)."""
    entries: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, rest = part.strip().partition(";")
        quality = 1.0
        for param in rest.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            entries.append((-quality, position, tag))
    entries.sort()
    return entries


def locale_from_accept_language(header: str) -> str | None:
    """The supported locale the browser prefers most, if any."""
    for _quality, _position, tag in _accept_language(header):
        locale = normalise_locale(tag)
        if locale is not None:
            return locale
    return None


def request_locale(request: Request, default: str = DEFAULT_LOCALE) -> str:
    """The caller's interface language."""
    cookie = normalise_locale(request.cookies.get(LOCALE_COOKIE))
    if cookie is not None:
        return cookie
    header = locale_from_accept_language(request.headers.get("accept-language", ""))
    if header is not None:
        return header
    return normalise_locale(default) or DEFAULT_LOCALE
