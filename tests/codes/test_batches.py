"""Batches, keys and printer exports through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import threading
import zipfile
from datetime import date

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from bcone.catalog.schemas import SkuOut
from bcone.codes import service
from bcone.codes._crypto import KeyUnsealFailed, seal, unseal
from bcone.codes._space import _keys
from bcone.codes.errors import (
    BatchNotFound,
    BatchVoided,
    CodeKeyUnavailable,
    InvalidDigitalLink,
    SkuWithoutGtin,
    TooManyForQr,
    UnknownSku,
)
from bcone.codes.models import CodeBatch, CodeKey, CodeState
from bcone.codes.schemas import BatchIn, CodeSettingsUpdate
from bcone.core.db import Database
from bcone.core.errors import BconeError
from bcone.core.geo import UnknownDivision
from bcone.core.pagination import PageParams
from bcone.iam.schemas import TenantOut
from tests.codes.conftest import GTIN14, MakeBatch, TenantSession


def test_a_batch_is_one_row_holding_a_counter_range(
    make_batch: MakeBatch, tenant_session: TenantSession, skus: list[SkuOut]
) -> None:
    a = make_batch(
        count=1000,
        production_date=date(2026, 6, 1),
        expiry_date=date(2027, 6, 1),
        regions=["310000", "310101"],
    )
    b = make_batch(sku_id=skus[1].id, sku_code=None, count=5, level="case")
    assert (a.range_start, a.range_end, a.count) == (0, 1000, 1000)
    assert (b.range_start, b.range_end, b.level, b.gtin) == (1000, 1005, "case", "06901234567885")
    assert (a.gtin, a.sku_code, a.lot, a.regions, a.status, a.key_version) == (
        GTIN14,
        "ICT-500",
        "L240601",
        ["310000", "310101"],
        "active",
        0,
    )
    with tenant_session() as s:
        assert s.scalar(select(func.count()).select_from(CodeBatch)) == 2
        assert s.scalar(select(func.count()).select_from(CodeState)) == 0  # no row per code
        page = service.list_batches(PageParams(), session=s)
        assert [x.id for x in page.items] == [b.id, a.id]
        assert service.list_batches(PageParams(q="L2406"), session=s).total == 2
        assert service.list_batches(PageParams(), session=s, sku_id=skus[1].id).total == 1


def test_a_huge_batch_costs_nothing(make_batch: MakeBatch) -> None:
    batch = make_batch(count=100_000_000)
    assert batch.count == 100_000_000
    assert make_batch(count=1).range_start == 100_000_000


@pytest.mark.parametrize(
    ("fields", "error", "field"),
    [
        ({"sku_code": "NO-GTIN"}, SkuWithoutGtin, "sku_id"),
        ({"sku_code": "NOPE"}, UnknownSku, "sku_code"),
        ({"sku_code": None, "sku_id": "0000"}, UnknownSku, "sku_id"),
        ({"regions": ["310101", "999999"]}, UnknownDivision, "regions[1]"),
    ],
)
def test_bad_batches_are_refused_naming_the_field(
    make_batch: MakeBatch,
    tenant_session: TenantSession,
    fields: dict[str, object],
    error: type[BconeError],
    field: str,
) -> None:
    with pytest.raises(error) as caught:
        make_batch(**fields)
    assert caught.value.field == field
    with tenant_session() as s:
        assert s.scalar(select(func.count()).select_from(CodeBatch)) == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"count": 0},
        {"count": 1_000_000_001},
        {"lot": "has space"},
        {"lot": "x" * 21},
        {"level": "crate"},
        {"regions": ["31"]},
        {"production_date": "2026-06-02", "expiry_date": "2026-06-01"},
        {"sku_id": "a"},  # both sku_id and sku_code
    ],
)
def test_invalid_input_never_reaches_the_database(fields: dict[str, object]) -> None:
    data: dict[str, object] = {"sku_code": "ICT-500", "count": 10}
    data.update(fields)
    with pytest.raises(ValidationError):
        BatchIn.model_validate(data)


def test_concurrent_batches_get_disjoint_ranges(
    db: Database, tenant: TenantOut, skus: list[SkuOut], secret: str
) -> None:
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            with db.session(tenant_id=tenant.id) as s:
                b = service.create_batch(BatchIn(sku_code="ICT-500", count=100), session=s, secret_key=secret)
            results.append((b.range_start, b.range_end))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [(i * 100, i * 100 + 100) for i in range(12)]
    with db.session(tenant_id=tenant.id) as s:
        assert s.scalar(select(func.count()).select_from(CodeKey)) == 1


def test_tenants_have_their_own_keys_counters_and_batches(
    db: Database, tenant: TenantOut, other_tenant: TenantOut, make_batch: MakeBatch, secret: str
) -> None:
    from tests.codes.conftest import add_skus

    add_skus(db, other_tenant)
    mine = make_batch(count=10)
    theirs = make_batch(of=other_tenant, count=10)
    assert mine.range_start == theirs.range_start == 0
    with db.session(tenant_id=tenant.id) as s:
        mine_urls = service.sample_urls(mine.id, 10, session=s, secret_key=secret)
        with pytest.raises(BatchNotFound):
            service.get_batch(theirs.id, session=s)
    with db.session(tenant_id=other_tenant.id) as s:
        their_urls = service.sample_urls(theirs.id, 10, session=s, secret_key=secret)
    assert not set(mine_urls) & set(their_urls)


def test_void(make_batch: MakeBatch, tenant_session: TenantSession) -> None:
    batch = make_batch()
    with tenant_session() as s:
        voided = service.void_batch(batch.id, session=s, reason="leaked at the printer")
    assert (voided.status, voided.void_reason) == ("voided", "leaked at the printer")
    assert voided.voided_at is not None
    with tenant_session() as s, pytest.raises(BatchVoided):
        service.void_batch(batch.id, session=s)
    with tenant_session() as s:
        assert service.list_batches(PageParams(), session=s, status="voided").total == 1
        assert service.list_batches(PageParams(), session=s, status="active").total == 0


def test_rotation_keeps_old_codes_decodable(
    make_batch: MakeBatch, tenant_session: TenantSession, secret: str
) -> None:
    old = make_batch(count=3)
    with tenant_session() as s:
        key = service.rotate_key(session=s, secret_key=secret)
    assert key.version == 1
    new = make_batch(count=3)
    assert (old.key_version, new.key_version) == (0, 1)
    with tenant_session() as s:
        old_url = service.sample_urls(old.id, 1, session=s, secret_key=secret)[0]
        new_url = service.sample_urls(new.id, 1, session=s, secret_key=secret)[0]
        assert service.parse_digital_link(old_url).serial[0] == "0"
        assert service.parse_digital_link(new_url).serial[0] == "1"
        for url, batch in ((old_url, old), (new_url, new)):
            assert service.lookup_code(url, session=s, secret_key=secret).batch.id == batch.id
        settings = service.code_settings(session=s)
        assert (settings.current_key_version, settings.key_versions, settings.codes_issued) == (1, [0, 1], 6)
        retired = s.scalars(select(CodeKey.retired_at).where(CodeKey.version == 0)).one()
        assert retired is not None


def test_keys_are_sealed_with_the_app_secret(
    make_batch: MakeBatch, tenant: TenantOut, tenant_session: TenantSession
) -> None:
    batch = make_batch(count=1)
    with tenant_session() as s:
        sealed = s.scalars(select(CodeKey.sealed)).one()
    assert len(sealed) == 12 + 32 + 16  # nonce, key, GCM tag
    with pytest.raises(KeyUnsealFailed):
        unseal(sealed, secret_key="another secret", tenant_id=tenant.id, version=0)
    with pytest.raises(KeyUnsealFailed):
        unseal(sealed, secret_key=get_secret(), tenant_id="another tenant", version=0)
    opened = unseal(sealed, secret_key=get_secret(), tenant_id=tenant.id, version=0)
    assert (
        unseal(
            seal(opened, secret_key="s", tenant_id="t", version=2), secret_key="s", tenant_id="t", version=2
        )
        == opened
    )
    _keys.clear()  # a process that never opened the key, started with the wrong secret
    with tenant_session() as s, pytest.raises(CodeKeyUnavailable):
        service.open_export(batch.id, "csv", session=s, secret_key="wrong secret")


def get_secret() -> str:
    from bcone.core.settings import Settings

    return Settings(environment="test").secret_key


def test_csv_export_streams_every_code_once(
    make_batch: MakeBatch, tenant_session: TenantSession, secret: str
) -> None:
    batch = make_batch(count=2500, expiry_date=date(2027, 12, 31))
    with tenant_session() as s:
        export = service.open_export(batch.id, "csv", session=s, secret_key=secret)
    chunks = list(export.chunks(chunk_codes=1000))
    assert len(chunks) == 4  # header + 1000 + 1000 + 500: memory is one chunk
    lines = b"".join(chunks).decode("ascii").splitlines()
    assert lines[0] == "serial,url"
    assert len(lines) == 2501
    serials = set()
    for line in lines[1:]:
        serial, url = line.split(",")
        assert url == f"https://id.bcone.dev/01/{GTIN14}/21/{serial}?10=L240601&17=271231"
        link = service.parse_digital_link(url)
        assert (link.gtin, link.serial) == (GTIN14, serial)
        serials.add(serial)
    assert len(serials) == 2500
    assert export.filename.endswith(".csv")
    assert export.media_type.startswith("text/csv")


def test_txt_export_uses_the_tenants_resolver_host(
    make_batch: MakeBatch, tenant_session: TenantSession, secret: str
) -> None:
    batch = make_batch(count=3, lot=None)
    with tenant_session() as s:
        service.update_code_settings(
            CodeSettingsUpdate(resolver_host="QR.Acme.CN"), session=s, secret_key=secret
        )
        export = service.open_export(batch.id, "txt", session=s, secret_key=secret)
    lines = b"".join(export.chunks()).decode().splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"https://qr.acme.cn/01/{GTIN14}/21/") and "?" not in line for line in lines)


def test_qr_images_for_small_batches_and_samples(
    make_batch: MakeBatch, tenant_session: TenantSession, secret: str
) -> None:
    small, big = make_batch(count=3), make_batch(count=5000)
    with tenant_session() as s:
        svg = service.qr_zip(
            service.open_export(small.id, "txt", session=s, secret_key=secret), kind="svg", sample=None
        )
        big_export = service.open_export(big.id, "txt", session=s, secret_key=secret)
        png = service.qr_zip(big_export, kind="png", sample=2)
        with pytest.raises(TooManyForQr) as caught:
            service.qr_zip(big_export, kind="png", sample=None)
        assert caught.value.field == "count"
        with pytest.raises(TooManyForQr):
            service.qr_zip(big_export, kind="png", sample=1001)
    names = zipfile.ZipFile(io.BytesIO(svg)).namelist()
    assert len(names) == 3
    assert all(n.endswith(".svg") for n in names)
    archive = zipfile.ZipFile(io.BytesIO(png))
    assert len(archive.namelist()) == 2
    assert archive.read(archive.namelist()[0]).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("https://id.bcone.dev/01/06901234567893/21/ABC", "gtin"),  # wrong check digit
        ("https://id.bcone.dev/foo/bar", "url"),
        ("https://id.bcone.dev/01/06901234567892", "url"),  # no serial
        ("not a url", "url"),
    ],
)
def test_bad_digital_links_are_422(url: str, field: str) -> None:
    with pytest.raises(InvalidDigitalLink) as caught:
        service.parse_digital_link(url)
    assert caught.value.status == 422
    assert caught.value.field == field
