"""Fixtures of the promotions tests: the codes fixtures (SKUs, batches, URLs), a store and scans."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from bcone.codes import service as codes
from bcone.codes.schemas import BatchOut, Location
from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn, OrganizationOut
from bcone.promotions import service
from bcone.promotions.schemas import CampaignIn, CampaignOut
from tests.codes.conftest import first_urls, make_batch, secret, skus, tenant_session

__all__ = ["first_urls", "make_batch", "secret", "skus", "tenant_session"]

RED_PACKET = {"kind": "red_packet", "probability": 1.0, "amount_fen": 100}

Scan = Callable[..., dict[str, object]]
MakeCampaign = Callable[..., CampaignOut]
FirstUrls = Callable[[BatchOut, int], list[str]]


def split_url(url: str) -> tuple[str, str]:
    """(gtin, serial) of a printed Digital Link URL."""
    parts = urlsplit(url).path.split("/")
    return parts[2], parts[4]


@pytest.fixture
def store(db: Database, tenant: TenantOut) -> OrganizationOut:
    with db.session(tenant_id=tenant.id) as s:
        network.create_organization(
            OrganizationIn(kind="distributor", code="D-SH", name="上海饮品", division_code="310101"),
            session=s,
        )
        return network.create_organization(
            OrganizationIn(
                kind="store", code="S-1", name="联华超市", parent_code="D-SH", division_code="310101"
            ),
            session=s,
        )


@pytest.fixture
def scan(db: Database, secret: str) -> Scan:
    """Scan a URL as the scan page does: check, then the listeners, in one unit of work.

    Returns the listeners' answer (``{"reward": {...}}``, or ``{}`` when nothing is shown).
    """

    def _scan(url: str, region: str | None = None, **context: str) -> dict[str, object]:
        gtin, serial = split_url(url)
        with db.session(write=True) as s:
            check = codes.check_code(gtin, serial, Location(region=region), session=s, secret_key=secret)
            return codes.notify_scan_listeners(check, {"locale": "en", **context}, session=s)

    return _scan


@pytest.fixture
def make_campaign(db: Database, tenant: TenantOut) -> MakeCampaign:
    def _make(activate: bool = True, **fields: object) -> CampaignOut:
        data: dict[str, object] = {"name": "Summer", "prizes": [RED_PACKET], "budget_fen": 100_000}
        data.update(fields)
        with db.session(tenant_id=tenant.id) as s:
            campaign = service.create_campaign(CampaignIn.model_validate(data), session=s)
            if activate:
                campaign = service.change_status(campaign.id, "activate", session=s)
            return campaign

    return _make


def reward_of(answer: dict[str, object]) -> dict[str, object]:
    reward = answer.get("reward")
    assert isinstance(reward, dict), answer
    return reward
