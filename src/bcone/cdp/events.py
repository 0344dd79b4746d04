"""The typed schemas of incoming consumer events, one per event type.

Every event shares the envelope of the outbox (``docs/events.md``): ``event_id`` (the client's,
which makes retries idempotent), ``type``, ``ts`` (with a time zone), ``identities``, ``org_id``,
``sku``, ``region``, ``amount`` (integer fen) and ``properties``. Each type then says which of
them it needs and what its ``properties`` hold. Known property fields are typed; others are kept.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from bcone.core.events import EVENT_TYPE_PATTERN, REGION_PATTERN

MAX_IDENTITIES = 20
ShortText = Annotated[str, Field(min_length=1, max_length=64)]
Fen = Annotated[StrictInt, Field(ge=0, le=10**13)]
Channel = Literal["tmall", "jd", "douyin", "wechat", "store", "other"]


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: Annotated[str, Field(min_length=1, max_length=64)]
    value: Annotated[str, Field(min_length=1, max_length=256)]


class _Properties(BaseModel):
    model_config = ConfigDict(extra="allow")


class EventIn(BaseModel):
    """The envelope; an event type this platform does not know is validated with this alone."""

    model_config = ConfigDict(extra="forbid")

    event_id: ShortText
    type: Annotated[str, Field(max_length=64, pattern=EVENT_TYPE_PATTERN)]
    ts: AwareDatetime
    identities: Annotated[list[IdentityIn], Field(default_factory=list, max_length=MAX_IDENTITIES)]
    org_id: ShortText | None = None
    sku: ShortText | None = None
    region: Annotated[str, Field(pattern=REGION_PATTERN)] | None = None
    amount: Fen | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    def properties_dict(self) -> dict[str, Any]:
        props: Any = self.properties
        if isinstance(props, BaseModel):
            return props.model_dump(exclude_none=True)
        return dict(props)


class PageViewedProperties(_Properties):
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    title: Annotated[str, Field(max_length=500)] | None = None
    referrer: Annotated[str, Field(max_length=2048)] | None = None


class PageViewed(EventIn):
    """A page of a mini program, H5 or store front was seen."""

    type: Literal["page.viewed"]
    properties: PageViewedProperties  # type: ignore[assignment]


class OrderPaidProperties(_Properties):
    order_id: ShortText
    channel: Channel | None = None
    quantity: Annotated[StrictInt, Field(ge=1)] | None = None


class OrderPaid(EventIn):
    """An order was paid; ``amount`` is what the consumer paid, in fen."""

    type: Literal["order.paid"]
    amount: Fen
    properties: OrderPaidProperties  # type: ignore[assignment]


class CodeScannedProperties(_Properties):
    code: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    result: Annotated[str, Field(max_length=32)] | None = None


class CodeScanned(EventIn):
    """A consumer scanned a unit's code (一物一码)."""

    type: Literal["code.scanned"]
    properties: CodeScannedProperties = CodeScannedProperties()  # type: ignore[assignment]


class StoreVisited(EventIn):
    """Someone was at a store; ``org_id`` is the store."""

    type: Literal["store.visited"]
    org_id: ShortText


class ProfileIdentifiedProperties(_Properties):
    traits: dict[str, Any] = {}


class ProfileIdentified(EventIn):
    """A consumer told who they are (login, membership sign-up): joins their identifiers."""

    type: Literal["profile.identified"]
    identities: Annotated[list[IdentityIn], Field(min_length=1, max_length=MAX_IDENTITIES)]
    properties: ProfileIdentifiedProperties = ProfileIdentifiedProperties()  # type: ignore[assignment]


class ShareClickedProperties(_Properties):
    content_id: ShortText
    channel: Channel | None = None
    shared_by: ShortText | None = None


class ShareClicked(EventIn):
    """A shared link or poster was opened."""

    type: Literal["share.clicked"]
    properties: ShareClickedProperties  # type: ignore[assignment]


EVENT_TYPES: dict[str, type[EventIn]] = {
    "page.viewed": PageViewed,
    "order.paid": OrderPaid,
    "code.scanned": CodeScanned,
    "store.visited": StoreVisited,
    "profile.identified": ProfileIdentified,
    "share.clicked": ShareClicked,
}
