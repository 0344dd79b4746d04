"""One batch, set-wise: identifiers repeated across its events are normalised once (an invalid
one is still reported for each event, by its index), and identity sets that add nothing keep
their stored profile unless a merge in the same batch moves them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bcone.cdp._ingest import ingest_events
from bcone.cdp.models import Identifier, Link, Profile
from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from tests.cdp.helpers import SECRET

OPENID = "wechat_openid:wxapp1"


def _event(n: int, *ids: tuple[str, str]) -> dict[str, Any]:
    return {
        "event_id": f"e-{n}",
        "type": "page.viewed",
        "ts": "2026-11-20T10:00:00+08:00",
        "identities": [{"namespace": ns, "value": v} for ns, v in ids],
        "properties": {"url": "/"},
    }


def _ingest(db: Database, tenant_id: str, events: list[dict[str, Any]]) -> Any:
    with db.session(tenant_id=tenant_id) as s:
        return ingest_events(events, session=s, secret_key=SECRET, actor="test")


def _counts(db: Database, tenant_id: str) -> tuple[int, int, int]:
    with db.session(tenant_id=tenant_id, write=False) as s:
        return (
            s.scalar(select(func.count()).select_from(Identifier)) or 0,
            s.scalar(select(func.count()).select_from(Link)) or 0,
            s.scalar(select(func.count()).select_from(Profile).where(Profile.status == "active")) or 0,
        )


def test_repeated_identifiers_in_a_batch(db: Database, tenant: TenantOut) -> None:
    out = _ingest(
        db,
        tenant.id,
        [
            _event(0, ("phone", "13800000001"), (OPENID, "o-1")),
            _event(1, ("phone", "+86 138 0000 0001")),
            _event(2, ("phone", "12")),  # not a phone number
            _event(3, ("phone", "13800000001")),
            _event(4, (OPENID, "o-2"), ("phone", "12")),
        ],
    )
    assert out.accepted == 3
    assert [(e.index, e.field) for e in out.errors] == [
        (2, "events[2].identities[0].value"),
        (4, "events[4].identities[1].value"),
    ]
    assert len({r.profile_id for r in out.results}) == 1


def test_known_sets_keep_their_profile_and_follow_a_merge_of_the_same_batch(
    db: Database, tenant: TenantOut
) -> None:
    first = _ingest(
        db,
        tenant.id,
        [
            _event(0, (OPENID, "o-1"), ("phone", "13800000001")),
            _event(1, ("jd_pin", "pin-2"), ("email", "b@x.cn")),
        ],
    )
    a, b = (r.profile_id for r in first.results)
    assert a != b
    before = _counts(db, tenant.id)
    again = _ingest(
        db, tenant.id, [_event(2, ("phone", "13800000001"), (OPENID, "o-1")), _event(3, ("jd_pin", "pin-2"))]
    )
    assert [r.profile_id for r in again.results] == [a, b]
    assert _counts(db, tenant.id) == before  # nothing written but the events
    # A known set (event 4) and a set that joins the two profiles (event 5) in one batch: the
    # known set's answer is the survivor, as if every set had been resolved.
    merged = _ingest(
        db,
        tenant.id,
        [_event(4, ("email", "b@x.cn")), _event(5, ("phone", "13800000001"), ("jd_pin", "pin-2"))],
    )
    survivor = min(a, b)  # type: ignore[type-var]
    assert [r.profile_id for r in merged.results] == [survivor, survivor]
    assert _counts(db, tenant.id)[2] == 1
