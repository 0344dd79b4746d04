"""Authenticity checks: verdicts, counting under concurrency, events, tenants sharing a GTIN."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bcone.codes import service
from bcone.codes.models import CodeCheck, CodeState
from bcone.codes.schemas import BatchOut, CheckOut, CodeSettingsUpdate, Location
from bcone.core.db import Database
from bcone.core.events import outbox
from bcone.core.geo import UnknownDivision
from bcone.iam.schemas import TenantOut
from tests.codes.conftest import GTIN14, MakeBatch, TenantSession, add_skus

Urls = Callable[[BatchOut, int], list[str]]


def check(db: Database, url: str, secret: str, location: Location | None = None) -> CheckOut:
    link = service.parse_digital_link(url)
    with db.session() as s:
        return service.check_code(
            link.gtin, link.serial, location or Location(), session=s, secret_key=secret
        )


def events(db: Database) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.seq)).mappings().all()
    return [{**r, "properties": json.loads(r["properties"])} for r in rows]


def test_first_check_then_repeats_then_the_warning(
    db: Database, make_batch: MakeBatch, first_urls: Urls, secret: str, tenant: TenantOut
) -> None:
    url = first_urls(make_batch(), 1)[0]
    first = check(db, url, secret, Location(lat=31.2304, lng=121.4737))
    assert (first.verdict, first.genuine, first.check_count) == ("genuine", True, 1)
    assert first.product is not None
    assert first.product.name == "冰红茶 500ml"
    assert (first.lot, first.gtin, first.first_region) == ("L240601", GTIN14, "310101")
    assert first.first_region_name == "上海市黄浦区"
    verdicts = [check(db, url, secret, Location(region="110101")) for _ in range(5)]
    assert [v.check_count for v in verdicts] == [2, 3, 4, 5, 6]
    assert [v.verdict for v in verdicts] == ["checked_before"] * 4 + ["suspicious"]
    # The first check's time and place stay the first.
    assert {v.first_checked_at for v in verdicts} == {first.first_checked_at}
    assert {v.first_region for v in verdicts} == {"310101"}
    with db.session(tenant_id=tenant.id) as s:
        history = s.scalars(select(CodeCheck).order_by(CodeCheck.ordinal)).all()
        assert [(c.ordinal, c.region) for c in history] == [(1, "310101")] + [
            (i, "110101") for i in range(2, 7)
        ]
    scans = events(db)
    assert len(scans) == 6
    assert {e["type"] for e in scans} == {"code.scanned"}
    assert {e["tenant_id"] for e in scans} == {tenant.id}
    assert [e["properties"]["verdict"] for e in scans] == ["genuine"] + ["checked_before"] * 4 + [
        "suspicious"
    ]
    assert scans[0]["sku"] == "ICT-500"
    assert scans[0]["region"] == "310101"
    assert scans[0]["properties"]["lat"] == 31.2304


def test_the_threshold_is_a_tenant_setting(
    db: Database, make_batch: MakeBatch, first_urls: Urls, secret: str, tenant_session: TenantSession
) -> None:
    url = first_urls(make_batch(), 1)[0]
    with tenant_session() as s:
        service.update_code_settings(CodeSettingsUpdate(warn_threshold=2), session=s, secret_key=secret)
    assert [check(db, url, secret).verdict for _ in range(3)] == ["genuine", "checked_before", "suspicious"]


def test_forged_mistyped_and_unknown_codes_are_not_genuine(
    db: Database, make_batch: MakeBatch, first_urls: Urls, secret: str
) -> None:
    url = first_urls(make_batch(), 1)[0]
    serial = service.parse_digital_link(url).serial
    typo = serial[:7] + ("A" if serial[7] != "A" else "B") + serial[8:]
    forged = check(db, url.replace(serial, typo), secret)
    assert (forged.verdict, forged.genuine, forged.check_count) == ("forged", False, 0)
    assert check(db, url.replace(serial, "ZZZ"), secret).verdict == "forged"
    unknown_gtin = check(db, url.replace(GTIN14, "06901234567885"), secret)  # no batch of that GTIN
    assert unknown_gtin.verdict == "unknown"
    scans = events(db)
    assert [e["properties"]["verdict"] for e in scans] == ["forged", "forged"]  # no tenant for the last
    with db.engine.connect() as conn:
        assert conn.execute(select(CodeState.__table__.c.id)).first() is None


def test_a_serial_of_another_sku_is_not_genuine(
    db: Database, make_batch: MakeBatch, first_urls: Urls, secret: str
) -> None:
    other = make_batch(sku_code="ICT-1L")
    make_batch()  # the GTIN in the URL has a batch, but not this serial's
    url = first_urls(other, 1)[0].replace("06901234567885", GTIN14)
    assert check(db, url, secret).verdict == "unknown"


def test_a_voided_batch_checks_not_genuine(
    db: Database, make_batch: MakeBatch, first_urls: Urls, secret: str, tenant_session: TenantSession
) -> None:
    batch = make_batch()
    url = first_urls(batch, 1)[0]
    assert check(db, url, secret).genuine
    with tenant_session() as s:
        service.void_batch(batch.id, session=s, reason="leaked")
    voided = check(db, url, secret)
    assert (voided.verdict, voided.genuine, voided.lot) == ("voided", False, "L240601")
    assert events(db)[-1]["properties"]["verdict"] == "voided"


def test_bad_locations_are_refused(
    db: Database, make_batch: MakeBatch, first_urls: Urls, secret: str
) -> None:
    url = first_urls(make_batch(), 1)[0]
    with pytest.raises(UnknownDivision) as caught:
        check(db, url, secret, Location(region="999999"))
    assert caught.value.field == "region"
    with pytest.raises(ValidationError, match="less than or equal to 90"):
        Location(lat=91, lng=0)
    with pytest.raises(ValidationError, match="lat and lng together"):
        Location(lat=30)
    assert events(db) == []


def test_fifty_concurrent_first_checks_count_exactly_once(
    db: Database, make_batch: MakeBatch, first_urls: Urls, secret: str, tenant: TenantOut
) -> None:
    url = first_urls(make_batch(), 1)[0]
    barrier = threading.Barrier(50)
    results: list[CheckOut] = []
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            barrier.wait()
            results.append(check(db, url, secret))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scan) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.check_count for r in results) == list(range(1, 51))
    assert [r.verdict for r in results].count("genuine") == 1
    with db.session(tenant_id=tenant.id) as s:
        assert s.scalars(select(CodeState.check_count)).one() == 50
        assert len(s.scalars(select(CodeCheck.id)).all()) == 50
    assert len(events(db)) == 50


def test_two_brands_sharing_a_gtin_are_told_apart_by_the_key(
    db: Database, tenant: TenantOut, other_tenant: TenantOut, make_batch: MakeBatch, secret: str
) -> None:
    add_skus(db, other_tenant)
    mine, theirs = make_batch(count=5), make_batch(of=other_tenant, count=5)
    with db.session(tenant_id=other_tenant.id) as s:
        their_url = service.sample_urls(theirs.id, 1, session=s, secret_key=secret)[0]
    with db.session(tenant_id=tenant.id) as s:
        my_url = service.sample_urls(mine.id, 1, session=s, secret_key=secret)[0]
    assert check(db, their_url, secret).batch_id == theirs.id
    assert check(db, my_url, secret).batch_id == mine.id
    assert {e["tenant_id"] for e in events(db)} == {tenant.id, other_tenant.id}
    with db.session(tenant_id=tenant.id) as s:
        assert s.scalars(select(CodeState.batch_id)).all() == [mine.id]


def test_lookup_shows_state_and_history(
    db: Database, make_batch: MakeBatch, first_urls: Urls, secret: str, tenant_session: TenantSession
) -> None:
    from bcone.codes.errors import CodeNotGenuine, InvalidSerial

    batch = make_batch()
    url, unchecked = first_urls(batch, 2)
    check(db, url, secret, Location(region="310101"))
    check(db, url, secret)
    serial = service.parse_digital_link(url).serial
    with tenant_session() as s:
        found = service.lookup_code(serial.lower(), session=s, secret_key=secret)
        assert (found.serial, found.check_count, found.url) == (serial, 2, url)
        assert [(c.ordinal, c.region) for c in found.checks] == [(1, "310101"), (2, None)]
        assert service.lookup_code(unchecked, session=s, secret_key=secret).check_count == 0
        with pytest.raises(InvalidSerial) as caught:
            service.lookup_code(
                serial[:-1] + ("0" if serial[-1] != "0" else "1"), session=s, secret_key=secret
            )
        assert caught.value.field == "code"
        with pytest.raises(CodeNotGenuine):
            service.lookup_code(url.replace(GTIN14, "06901234567885"), session=s, secret_key=secret)


def test_unknown_key_versions_cost_no_database_read_each(
    db: Database, make_batch: MakeBatch, first_urls: Urls, secret: str, tenant: TenantOut
) -> None:
    from sqlalchemy import event

    url = first_urls(make_batch(), 1)[0]
    serial = service.parse_digital_link(url).serial
    forged = url.replace(serial, "7" + serial[1:])  # key version 7: the tenant has only 0
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for _ in range(3):
            assert check(db, forged, secret).verdict == "forged"
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert sum("code_keys" in s for s in statements) == 1  # the first miss only
    with db.session(tenant_id=tenant.id) as s:
        assert service.rotate_key(session=s, secret_key=secret).version == 1
    # A version made here is found at once (the miss is forgotten).
    with db.session(tenant_id=tenant.id, write=False) as s:
        from bcone.codes._space import TenantKeys

        assert TenantKeys(s, tenant.id, secret).get(1) is not None
