"""Fixtures of the codes tests: a tenant with SKUs, and sessions bound to it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from sqlalchemy.orm import Session

from bcone.catalog import service as catalog
from bcone.catalog.schemas import ProductIn, SkuIn, SkuOut
from bcone.codes import service
from bcone.codes.schemas import BatchIn, BatchOut
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.iam.schemas import TenantOut

GTIN = "6901234567892"
GTIN14 = "06901234567892"
OTHER_GTIN = "6901234567885"

TenantSession = Callable[..., AbstractContextManager[Session]]


@pytest.fixture
def secret(settings: Settings) -> str:
    return settings.secret_key


@pytest.fixture
def tenant_session(db: Database, tenant: TenantOut) -> TenantSession:
    def _open(of: TenantOut | None = None) -> AbstractContextManager[Session]:
        return db.session(tenant_id=(of or tenant).id)

    return _open


def add_skus(db: Database, tenant: TenantOut) -> list[SkuOut]:
    with db.session(tenant_id=tenant.id) as s:
        catalog.create_product(ProductIn(name="冰红茶", line="茶饮"), session=s)
        return [
            catalog.create_sku(
                SkuIn(
                    product_name="冰红茶",
                    sku_code="ICT-500",
                    gtin=GTIN,
                    name="冰红茶 500ml",
                    specification="500ml×15",
                    list_price="45.00",
                ),
                session=s,
            ),
            catalog.create_sku(
                SkuIn(
                    product_name="冰红茶",
                    sku_code="ICT-1L",
                    gtin=OTHER_GTIN,
                    name="冰红茶 1L",
                    list_price="6",
                ),
                session=s,
            ),
            catalog.create_sku(
                SkuIn(product_name="冰红茶", sku_code="NO-GTIN", name="散装", list_price="1"), session=s
            ),
        ]


@pytest.fixture
def skus(db: Database, tenant: TenantOut) -> list[SkuOut]:
    return add_skus(db, tenant)


MakeBatch = Callable[..., BatchOut]


@pytest.fixture
def make_batch(db: Database, tenant: TenantOut, skus: list[SkuOut], secret: str) -> MakeBatch:
    def _make(of: TenantOut | None = None, **fields: object) -> BatchOut:
        data: dict[str, object] = {"sku_code": "ICT-500", "count": 1000, "lot": "L240601"}
        data.update(fields)
        with db.session(tenant_id=(of or tenant).id) as s:
            return service.create_batch(BatchIn.model_validate(data), session=s, secret_key=secret)

    return _make


@pytest.fixture
def first_urls(db: Database, tenant: TenantOut, secret: str) -> Callable[[BatchOut, int], list[str]]:
    def _urls(batch: BatchOut, n: int) -> list[str]:
        with db.session(tenant_id=tenant.id, write=False) as s:
            return service.sample_urls(batch.id, n, session=s, secret_key=secret)

    return _urls
