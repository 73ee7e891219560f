"""Notify's HTTP bodies: what operators and providers send, and what the API answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field
from vipcore.inputs import AwareTime, Count, IdentOf, Mobile, RequestModel, ResponseModel, ShortIdent, TextOf

from ..domain.segments import Segment

Language = Literal["zh-CN", "en"]
TemplateKey = Annotated[str, IdentOf(80), Field(examples=["tier_changed", "campaign.spring_sale"])]
TemplateBody = Annotated[str, TextOf(1000, min_length=1, multiline=True)]
Brand = Annotated[str, TextOf(60, min_length=1)]
MessageStatus = Literal["held", "queued", "sending", "sent", "delivered", "undelivered", "parked", "suppressed",
                        "no_contact"]


# -- requests ---------------------------------------------------------------------------------------

class TemplateIn(RequestModel):
    """N-02: a template's text for one brand and language."""

    body: TemplateBody
    brand: Brand = Field("*", description="'*' for every brand")


class PreferencesIn(RequestModel):
    """N-03 marketing consent and N-02 message language of one member."""

    marketing_consent: bool | None = None
    language: Language | None = None


class PurgeIn(RequestModel):
    """N-06: erase bodies of finished messages older than this many days."""

    retention_days: Count = Field(le=36_500)


class PreviewIn(RequestModel):
    """A segment (N-01) and the campaign text to try on it."""

    segment: Segment
    template_body: TemplateBody
    brand: Brand | None = Field(None, description="defaults to the company's name (N-02)")


class CampaignIn(PreviewIn):
    """A campaign: segment, text, release rate and start time."""

    name: Annotated[str, TextOf(200, min_length=1)]
    rate_per_s: int = Field(200, ge=1, le=100_000, strict=True, description="messages released per second")
    scheduled_at: AwareTime | None = Field(None, description="start time (UTC offset required); now if absent")


class SimulatorReceiptIn(RequestModel):
    """A delivery report from the SMS gateway simulator (N-05)."""

    model_config = ConfigDict(extra="ignore")  # providers add fields over time
    message_id: Annotated[str, IdentOf(200)]
    status: ShortIdent = Field(examples=["DELIVERED", "UNDELIVERED"])
    error: Annotated[str, TextOf(500)] | None = None


class SimulatorInboundIn(RequestModel):
    """A member's reply through the simulator (N-03 opt-out by TD / 退订 / STOP)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    from_: Annotated[str, TextOf(32, min_length=1)] = Field(alias="from")
    text: Annotated[str, TextOf(1000, multiline=True)]


# -- answers ----------------------------------------------------------------------------------------

class HistoryEntry(ResponseModel):
    status: str
    detail: str | None = None
    at: datetime


class MessageView(ResponseModel):
    """One message as operators see it: numbers masked (N-06)."""

    message_id: str
    cause_event_id: str
    template: str
    recipient: str = Field(description="member, customer or staff")
    member_id: str | None = None
    store_id: str | None = Field(None, description="the member's store when the message was made")
    category: str
    campaign_id: str | None = None
    to: str | None = Field(None, examples=["139****0091"])
    sender: str | None = None
    body: str | None = None
    body_purged: bool
    encoding: str | None = None
    segments: int | None = None
    status: str
    suppressed_reason: str | None = None
    deferred: str | None = None
    attempts: int
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    provider_message_id: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    delivered_at: datetime | None = None


class MessageWithHistory(MessageView):
    history: list[HistoryEntry]


class MessageList(ResponseModel):
    counts: dict[str, int] | None = Field(None, description=(
        "asked with `counts`: the filter's messages per status (the status filter left out)"))
    counts_capped: bool | None = Field(None, description=(
        "the count stopped at the filter's newest 100,000 (there may be more: narrow it, e.g. by date)"))
    messages: list[MessageView]
    next_before: str | None = Field(None, description="the next page: pass as `before` (none when this is the last)")


class MemberLog(ResponseModel):
    member_id: str
    messages: list[MessageWithHistory]


class ParkedList(ResponseModel):
    count: int = Field(description="every parked message")
    messages: list[MessageView]
    next_after: str | None = Field(None, description="the next page: pass as `after` (none when this is the last)")


class RetryOut(ResponseModel):
    message_id: str
    status: str


class TemplateOut(ResponseModel):
    key: str
    language: str
    brand: str
    body: str
    encoding: str = Field(description="GSM-7 or UCS-2 (N-04)")
    template_units: int


class StoredTemplate(ResponseModel):
    brand: str
    key: str
    language: str
    body: str
    updated_at: datetime | None = None


class TemplateList(ResponseModel):
    templates: list[StoredTemplate]


class PreferencesOut(ResponseModel):
    member_id: str
    marketing_consent: bool | None = None
    language: str | None = None


class PurgeOut(ResponseModel):
    purged: int


class ReceiptOut(ResponseModel):
    status: str | None = Field(description="the message's status after the receipt")


class InboundOut(ResponseModel):
    opted_out: list[str] = Field(description="members whose marketing consent the reply withdrew")


class PreviewOut(ResponseModel):
    recipients: int
    with_consent: int
    sample: str


class CampaignCreated(PreviewOut):
    campaign_id: str
    status: str


class Suppressed(ResponseModel):
    model_config = ConfigDict(extra="allow")
    consent: int
    opted_out: int
    cap: int


class CampaignCounts(ResponseModel):
    pending: int
    queued: int
    sent: int
    delivered: int
    failed: int
    suppressed: Suppressed
    deferred_quiet_hours: int


class CampaignStatus(ResponseModel):
    campaign_id: str
    name: str
    status: str
    recipients: int | None = None
    rate_per_s: int
    scheduled_at: datetime | None = None
    finished_at: datetime | None = None
    counts: CampaignCounts
    send_rate_per_s: float | None = None


class CampaignMoved(ResponseModel):
    campaign_id: str
    status: str



class CampaignListed(ResponseModel):
    campaign_id: str
    name: str
    status: str
    recipients: int | None = None
    rate_per_s: int
    scheduled_at: datetime
    finished_at: datetime | None = None
    created_at: datetime


class CampaignList(ResponseModel):
    campaigns: list[CampaignListed]


# -- transactional messages (L-07, L-11 spending codes) ---------------------------------------------

class CodeVariables(RequestModel):
    code: Annotated[str, Field(pattern=r"^[0-9]{4,8}$")]
    minutes: Annotated[int, Field(ge=1, le=60)]


class TransactionalIn(RequestModel):
    """Internal (members): a transactional SMS to one phone, sent at once: no marketing consent, quiet hours or
    daily cap apply (N-03 governs marketing only); the body is erased as soon as the provider accepts it."""

    message_id: uuid.UUID = Field(description="the cause (members' challenge id): one message per id (N-04)")
    member_id: Annotated[str, IdentOf(64)]
    mobile: Mobile
    template: Literal["proof_code"]
    brand: Brand | None = None
    variables: CodeVariables


class TransactionalOut(ResponseModel):
    message_id: str
    status: str


# -- the console's desk (entrypoints/desk_http.py) ----------------------------------------------------

class TemplatePreviewIn(RequestModel):
    """N-02: a template text to try with sample fields (the operator's values; a sample of each field's type for
    the rest)."""

    body: TemplateBody
    brand: Brand | None = Field(None, description="defaults to the company's name")
    fields: dict[Annotated[str, IdentOf(64)], Annotated[str, TextOf(200)]] = Field(
        default_factory=dict, max_length=50, examples=[{"display_name": "李*华", "points": "3000"}])


class TemplatePreviewOut(ResponseModel):
    key: str
    language: str
    brand: str
    text: str = Field(description="what the member would receive: 【brand】 first, the opt-out hint for marketing")
    fields: dict[str, str | int | float | bool | None]
    encoding: str
    segments: int
    characters: int


class SavedTemplate(ResponseModel):
    brand: str
    body: str
    updated_at: datetime | None = None


class CatalogEntry(ResponseModel):
    key: str
    language: str
    source: str = Field(description="the event type whose fields the template may use, or 'a campaign recipient'")
    category: str = Field(description="service or marketing (N-03)")
    variables: list[str]
    default_body: str | None = Field(None, description="the built-in text used where HQ saved none")
    saved: list[SavedTemplate]


class TemplateCatalog(ResponseModel):
    templates: list[CatalogEntry]


class ContactPreferences(ResponseModel):
    """N-03 consent and N-02 language of one member (no mobile: N-06)."""

    member_id: str
    store_id: str
    display_name: str
    language: str
    marketing_consent: bool
    opted_out_at: datetime | None = None
    status: str


class OptedOutList(ResponseModel):
    count: int = Field(description="every opted-out member")
    members: list[ContactPreferences]
    next_after: str | None = Field(None, description="the next page: pass as `after`")


class AuditEntry(ResponseModel):
    id: int
    at: datetime
    operator: str = Field(description="the staff id of the token that acted (O-02)")
    action: str
    subject: str
    detail: dict[str, Any]


class AuditList(ResponseModel):
    entries: list[AuditEntry]
    next_before: int | None = Field(None, description="the next page: pass as `before`")
class MessageCounts(ResponseModel):
    """GET /v1/message-counts (issue 12: the console's SMS tile for today)."""

    since: datetime
    until: datetime | None = None
    counts: dict[str, int] = Field(description="messages created in the period, per current status")
