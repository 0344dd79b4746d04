"""A tenant's code space: its settings row, its keys (versioned, rotatable) and in-memory caches.

Keys and batch ranges never change once written (a batch is voided, never moved or deleted), so
both are cached per process: decoding a serial reads no key from the database after the first
time, and finding a counter's batch is a binary search over the cached ranges. A counter that
falls in no cached range reloads the ranges once (another process may have created a batch).
"""

from __future__ import annotations

import bisect
import string
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bcone.codes import _cache
from bcone.codes._crypto import KeyUnsealFailed, new_code_secret, seal, unseal
from bcone.codes._identity import WeChatApp
from bcone.codes._serials import MAX_KEY_VERSION
from bcone.codes._serials import CodeKey as SerialKey
from bcone.codes.errors import CodeKeyUnavailable, KeyVersionsExhausted
from bcone.codes.models import DEFAULT_WARN_THRESHOLD, CodeBatch, CodeKey, CodeSpace
from bcone.codes.schemas import CodeSettingsOut, CodeSettingsUpdate, KeyOut
from bcone.core.db import utcnow
from bcone.core.errors import ValidationFailed
from bcone.core.tenancy import current_tenant

# Where printed codes point when a tenant has not set its own resolver host.
DEFAULT_RESOLVER_HOST = "id.bcone.dev"

_lock = threading.Lock()
_keys: dict[tuple[str, int], SerialKey] = {}
# (tenant, version) looked up and not found, and when: a version made since (a rotation in
# another process) is seen at most MISS_RECHECK_SECONDS later; rotation here forgets the miss.
_misses: dict[tuple[str, int], float] = {}
MISS_RECHECK_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class _Ranges:
    starts: list[int]
    ends: list[int]
    ids: list[str]


_ranges: dict[str, _Ranges] = {}


def dialect_insert(session: Session, table: type) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ``ON CONFLICT`` support for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _space_row(session: Session, *, lock: bool) -> CodeSpace | None:
    stmt = select(CodeSpace)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()


def locked_space(session: Session, *, secret_key: str) -> CodeSpace:
    """The tenant's code space, created with its first key if new, locked until the commit.

    On PostgreSQL the row lock serialises batch creation and key rotation of one tenant; on
    SQLite the unit of work already holds the database's write lock.
    """
    tenant_id = current_tenant(session)
    insert = dialect_insert(session, CodeSpace).values(
        tenant_id=tenant_id,
        next_counter=0,
        current_key_version=0,
        warn_threshold=DEFAULT_WARN_THRESHOLD,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.execute(insert.on_conflict_do_nothing(index_elements=["tenant_id"]))
    space = _space_row(session, lock=True)
    assert space is not None
    exists = session.scalars(
        select(CodeKey.id).where(CodeKey.version == space.current_key_version)
    ).one_or_none()
    if exists is None:
        _add_key(session, tenant_id, space.current_key_version, secret_key)
    return space


def _add_key(session: Session, tenant_id: str, version: int, secret_key: str) -> CodeKey:
    row = CodeKey(
        version=version,
        sealed=seal(new_code_secret(), secret_key=secret_key, tenant_id=tenant_id, version=version),
    )
    session.add(row)
    session.flush()
    _misses.pop((tenant_id, version), None)
    return row


def rotate_key(*, session: Session, secret_key: str) -> KeyOut:
    """Start a new key version: new batches use it, codes of older versions still decode.

    The version is one base32 character of every serial, so a tenant has 32 versions (0..31).
    """
    space = locked_space(session, secret_key=secret_key)
    version = space.current_key_version + 1
    if version > MAX_KEY_VERSION:
        raise KeyVersionsExhausted(f"all {MAX_KEY_VERSION + 1} key versions are used", field="key_version")
    now = utcnow()
    for old in session.scalars(select(CodeKey).where(CodeKey.retired_at.is_(None))):
        old.retired_at = now
    tenant_id = current_tenant(session)
    row = _add_key(session, tenant_id, version, secret_key)
    space.current_key_version = version
    session.flush()
    return KeyOut(version=row.version, created_at=row.created_at)


class TenantKeys(Mapping[int, SerialKey]):
    """A tenant's keys by version, opened on first use and cached for the process."""

    def __init__(self, session: Session, tenant_id: str, secret_key: str) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._secret_key = secret_key

    def get(self, version: int, default: SerialKey | None = None) -> SerialKey | None:  # type: ignore[override]
        key = _keys.get((self._tenant_id, version))
        if key is not None:
            return key
        # A version this tenant does not have (forged serials name any of 32): look again at most
        # every few seconds, so a flood of them costs no database read each.
        if (
            time.monotonic() - _misses.get((self._tenant_id, version), -MISS_RECHECK_SECONDS)
            < MISS_RECHECK_SECONDS
        ):
            return default
        sealed = self._session.execute(
            select(CodeKey.sealed).where(CodeKey.tenant_id == self._tenant_id, CodeKey.version == version)
        ).scalar_one_or_none()
        if sealed is None:
            with _lock:
                _misses[(self._tenant_id, version)] = time.monotonic()
            return default
        try:
            secret = unseal(sealed, secret_key=self._secret_key, tenant_id=self._tenant_id, version=version)
        except KeyUnsealFailed as exc:
            raise CodeKeyUnavailable(str(exc)) from None
        key = SerialKey(version=version, secret=secret)
        with _lock:
            _keys[(self._tenant_id, version)] = key
        return key

    def __getitem__(self, version: int) -> SerialKey:
        key = self.get(version)
        if key is None:
            raise KeyError(version)
        return key

    def __iter__(self) -> Iterator[int]:
        stmt = select(CodeKey.version).where(CodeKey.tenant_id == self._tenant_id).order_by(CodeKey.version)
        return iter(list(self._session.scalars(stmt)))

    def __len__(self) -> int:
        return len(list(iter(self)))


def batch_for_counter(session: Session, tenant_id: str, counter: int) -> str | None:
    """The id of the tenant's batch whose range holds ``counter``, or None.

    Ranges are handed out in increasing order, so only a counter beyond the last cached range
    can belong to a batch created since the cache was filled: only then are the ranges reloaded.
    """
    ranges = _ranges.get(tenant_id) or _load_ranges(session, tenant_id)
    if not ranges.starts or counter >= ranges.ends[-1]:
        ranges = _load_ranges(session, tenant_id)
    i = bisect.bisect_right(ranges.starts, counter) - 1
    if i >= 0 and counter < ranges.ends[i]:
        return ranges.ids[i]
    return None


def _load_ranges(session: Session, tenant_id: str) -> _Ranges:
    stmt = (
        select(CodeBatch.range_start, CodeBatch.range_end, CodeBatch.id)
        .where(CodeBatch.tenant_id == tenant_id)
        .order_by(CodeBatch.range_start)
    )
    rows = session.execute(stmt).all()
    ranges = _Ranges([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    with _lock:
        _ranges[tenant_id] = ranges
    return ranges


def resolver_host(space: CodeSpace | None) -> str:
    return (space.resolver_host if space is not None else None) or DEFAULT_RESOLVER_HOST


def code_settings(*, session: Session) -> CodeSettingsOut:
    """The tenant's code settings (defaults when it has made no code yet)."""
    space = _space_row(session, lock=False)
    versions = list(session.scalars(select(CodeKey.version).order_by(CodeKey.version)))
    issued = session.scalar(select(func.coalesce(func.sum(CodeBatch.range_end - CodeBatch.range_start), 0)))
    return CodeSettingsOut(
        resolver_host=resolver_host(space),
        warn_threshold=space.warn_threshold if space else DEFAULT_WARN_THRESHOLD,
        current_key_version=space.current_key_version if space else 0,
        key_versions=versions,
        codes_issued=int(issued or 0),
        wechat_appid=space.wechat_appid if space else None,
        wechat_scope=space.wechat_scope if space else None,
        wechat_open_platform_id=space.wechat_open_platform_id if space else None,
        wechat_secret_set=bool(space and space.wechat_secret_sealed),
        nps_survey_url=space.nps_survey_url if space else None,
    )


def update_code_settings(data: CodeSettingsUpdate, *, session: Session, secret_key: str) -> CodeSettingsOut:
    """Change the resolver host or the warning threshold; only the fields sent change."""
    space = locked_space(session, secret_key=secret_key)
    sent = data.model_fields_set
    if "resolver_host" in sent:
        space.resolver_host = data.resolver_host.lower() if data.resolver_host else None
    if "warn_threshold" in sent and data.warn_threshold is not None:
        space.warn_threshold = data.warn_threshold
    tenant_id = current_tenant(session)
    if "wechat_appid" in sent:
        space.wechat_appid = data.wechat_appid or None
    if "wechat_secret" in sent:
        space.wechat_secret_sealed = (
            seal(
                data.wechat_secret.encode(),
                secret_key=secret_key,
                tenant_id=tenant_id,
                version=WECHAT_SECRET_SLOT,
            )
            if data.wechat_secret
            else None
        )
    if "wechat_scope" in sent and data.wechat_scope:
        space.wechat_scope = data.wechat_scope
    if "wechat_open_platform_id" in sent:
        space.wechat_open_platform_id = data.wechat_open_platform_id or None
    if "nps_survey_url" in sent:
        space.nps_survey_url = check_survey_template(data.nps_survey_url or "") or None
    session.flush()
    _cache.forget_settings(tenant_id)
    return code_settings(session=session)


def warn_threshold(session: Session) -> int:
    space = _space_row(session, lock=False)
    return space.warn_threshold if space else DEFAULT_WARN_THRESHOLD


def space_of(session: Session) -> CodeSpace | None:
    return _space_row(session, lock=False)


# The sealed WeChat app secret uses a key slot no code key version can take (0..31).
WECHAT_SECRET_SLOT = 1000
SURVEY_FIELDS = ("org_id", "sku", "region", "serial")


def check_survey_template(template: str) -> str:
    """An NPS survey link template, checked: a path or an http(s) URL, known placeholders only."""
    template = template.strip()
    if not template:
        return ""
    if not template.startswith(("/", "https://", "http://")):
        raise ValidationFailed(
            "the survey link is a path (/nps/...) or an http(s) URL", field="nps_survey_url"
        )
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValidationFailed(
            f"the survey link template is malformed: {exc}", field="nps_survey_url"
        ) from None
    unknown = sorted(set(names) - set(SURVEY_FIELDS))
    if unknown:
        raise ValidationFailed(
            f"unknown placeholder {{{unknown[0]}}} (known: {', '.join(SURVEY_FIELDS)})",
            field="nps_survey_url",
        )
    return template


def survey_link(template: str | None, values: Mapping[str, str | None]) -> str | None:
    """The survey link for one scan: placeholders filled, else the values as query parameters."""
    if not template:
        return None
    clean = {k: values.get(k) or "" for k in SURVEY_FIELDS}
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    if names:
        return template.format(**{k: quote(v, safe="") for k, v in clean.items()})
    separator = "&" if "?" in template else "?"
    return template + separator + urlencode(clean)


@dataclass(frozen=True, slots=True)
class ScanPageSettings:
    """What the scan page needs of the tenant's settings (cached like the other scan reads)."""

    wechat: WeChatApp | None
    nps_survey_url: str | None


def scan_page_settings(session: Session, tenant_id: str, secret_key: str) -> ScanPageSettings:
    def load() -> ScanPageSettings:
        space = session.scalars(select(CodeSpace).where(CodeSpace.tenant_id == tenant_id)).one_or_none()
        app = None
        if space is not None and space.wechat_appid and space.wechat_secret_sealed:
            try:
                secret = unseal(
                    space.wechat_secret_sealed,
                    secret_key=secret_key,
                    tenant_id=tenant_id,
                    version=WECHAT_SECRET_SLOT,
                ).decode()
            except KeyUnsealFailed as exc:
                raise CodeKeyUnavailable(str(exc)) from None
            app = WeChatApp(
                appid=space.wechat_appid,
                secret=secret,
                scope=space.wechat_scope or "snsapi_base",
                open_platform_id=space.wechat_open_platform_id,
            )
        return ScanPageSettings(wechat=app, nps_survey_url=space.nps_survey_url if space else None)

    found: ScanPageSettings = _cache.page_settings.get((_cache.database_key(session), tenant_id), load)
    return found
