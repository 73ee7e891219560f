"""Events produced by the members service (topic members.events, keyed by member or store)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from ..events import EventData, contract

OPENING_POINTS_MAX = 10_000_000  # an opening balance above this is a typo, not a customer (M-19)
OPENING_STORED_VALUE_MAX = 100_000_000  # fen: 1,000,000.00 yuan, the most one top-up may pay (L-11); above is a typo


@contract
class StoreRegistered(EventData):
    """A store opened or changed (O-01): region, time zone, the loyalty program it runs."""

    TYPE = "members.store.registered"
    store_id: str
    name: str
    region_code: str
    timezone: str = "Asia/Shanghai"
    program: str = Field(examples=["jewelry"])


class OpeningBalance(BaseModel):
    """What a member brought from the chain's old system, given in an import row (M-19): the opening points
    balance and, optionally, the tier held there and the prepaid (stored-value) balance. Loyalty writes each once as
    an `opening` entry: points in the ledger (L-02), stored value in the stored-value ledger (L-11)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    points: int = Field(ge=0, le=OPENING_POINTS_MAX, description="opening points balance, 0..10,000,000")
    tier: str | None = Field(None, description="the program's tier code held in the old system (L-04), if given")
    import_id: str = Field(description="the import (POST /v1/imports) the row came from")
    row_no: int = Field(ge=1, description="the row of the spreadsheet (1 is the header)")
    operator: str | None = Field(None, description="staff id of who started the import (from the token)")
    stored_value: int = Field(
        0, ge=0, le=OPENING_STORED_VALUE_MAX, exclude_if=lambda v: v == 0,
        description="opening stored-value (prepaid) balance, fen, 0..100,000,000 (L-11). Additive: left out of the "
                    "body when 0, so an opening without stored value reads exactly as before")


@contract
class MemberRegistered(EventData):
    """A member file exists with a card; carries what other services need to serve them."""

    TYPE = "members.member.registered"
    VERSION = 2  # v2: the mobile travels sealed (`mobile_enc`), never in clear
    member_id: str
    store_id: str
    referrer_staff_id: str | None = None
    display_name: str = Field(description="Masked name, e.g. 王*明")
    name_index: str = Field(description="Keyed hash of the full name (blind index)")
    mobile_index: str = Field(description="Keyed hash of the mobile number (blind index)")
    mobile_enc: str = Field(description="Mobile for SMS, sealed with the events key (EVENT_PII_KEYS), "
                                        "`e1:<base64>`; only consumers holding that key (notify) open it")
    card_no: str
    card_status: str = "active"
    status: str = "active"
    birthday: date | None = Field(None, description="Year may be 1904 when unknown (M-01)")
    customer_class: str | None = Field(default=None, description="M-14 class, drives credit terms (C-02, C-03)")
    opening: OpeningBalance | None = Field(
        default=None, exclude_if=lambda v: v is None,
        description="Additive (still v2): only files imported with an opening balance carry it (M-19); left out of "
                    "the body otherwise, so every other registration reads exactly as before")


@contract
class MemberApproved(EventData):
    """A complete file was approved by the store's customer-service manager (M-04): the member now earns."""

    TYPE = "members.member.approved"
    member_id: str
    store_id: str
    approved_by: str
    referrer_staff_id: str | None = None


@contract
class MemberUpdated(EventData):
    """Fields of a member file changed (M-13); carries only what other services keep."""

    TYPE = "members.member.updated"
    VERSION = 2  # v2: the mobile travels sealed (`mobile_enc`), never in clear
    member_id: str
    store_id: str
    display_name: str
    name_index: str
    mobile_index: str
    mobile_enc: str = Field(description="Mobile sealed with the events key (EVENT_PII_KEYS)")
    referrer_staff_id: str | None = None
    birthday: date | None = None
    customer_class: str | None = Field(None, description="M-14 class, drives credit terms")


@contract
class MemberStateChanged(EventData):
    """pending_review / active / dormant / public / blacklisted / deleted (M-08)."""

    TYPE = "members.member.state_changed"
    member_id: str
    store_id: str
    from_state: str
    to_state: str
    reason: str = Field(description="Rule and cause, e.g. 'M-09: no consumption for 3 months'")


@contract
class MemberBlacklisted(EventData):
    """A phone (+ name) was blacklisted by a store (M-16); member_id when it is a member."""

    TYPE = "members.member.blacklisted"
    mobile_index: str
    store_id: str
    listed_by: str
    reason: str
    member_id: str | None = None


@contract
class MemberBlacklistLifted(EventData):
    """A store's listing of a phone was lifted (M-16): lookups stop flagging it; member_id when it is a member (the
    file's state restored travels as members.member.state_changed)."""

    TYPE = "members.member.blacklist_lifted"
    mobile_index: str
    store_id: str = Field(description="the store that had listed it")
    lifted_by: str
    reason: str
    member_id: str | None = None


@contract
class CardIssued(EventData):
    """A card was issued (M-17); `mailed` when it is posted to the member."""

    TYPE = "members.card.issued"
    member_id: str
    store_id: str
    card_no: str
    valid_until: date | None = None
    mailed: bool = False


@contract
class CardLost(EventData):
    """A card was reported lost (M-17): blocked at once."""

    TYPE = "members.card.lost"
    member_id: str
    card_no: str


@contract
class CardReplaced(EventData):
    """A lost or expired card was replaced by a new number (M-17); whether points carry over is the program's."""

    TYPE = "members.card.replaced"
    member_id: str
    old_card_no: str
    new_card_no: str


@contract
class CardExpired(EventData):
    """A card reached the end of its validity (M-17): it earns nothing until renewed."""

    TYPE = "members.card.expired"
    member_id: str
    card_no: str


@contract
class HandoverCompleted(EventData):
    """HQ confirmed a hand-over (M-12): these members now belong to the receiver; notify introduces them."""

    TYPE = "members.handover.completed"
    VERSION = 2  # v2: the receiver's name and phone travel sealed
    handover_id: str
    store_id: str
    from_staff_id: str
    to_staff_id: str
    to_staff_name_enc: str = Field(description="The receiver's name, sealed with the events key (EVENT_PII_KEYS)")
    to_staff_phone_enc: str | None = Field(default=None, description="The receiver's work mobile, sealed likewise")
    member_ids: list[str]


@contract
class StaffChanged(EventData):
    """A staff member was registered, changed position/store/leader, or left (O-01, O-03).

    Keyed by staff id. Credit keeps it to name the responsible staff member's mobile and line leader on
    overdue reminders (C-06, C-07); notify sends the staff reminder SMS to that mobile.
    """

    TYPE = "members.staff.changed"
    VERSION = 2  # v2: name and mobile travel sealed; `display_name` is masked
    staff_id: str
    store_id: str
    region_code: str | None = None
    display_name: str = Field(description="Masked name, e.g. 李*")
    name_enc: str = Field(description="Full name, sealed with the events key (EVENT_PII_KEYS)")
    position: str
    role: str
    mobile_enc: str | None = Field(default=None, description="Work mobile for service SMS, sealed with the events key; "
                                                     "consumers keep it encrypted under their own key")
    line_leader_staff_id: str | None = Field(None, description="C-06: who is fined 10% of a written-off bad debt")
    active: bool = Field(True, description="False once the staff member has left")
    access_changed_at: datetime | None = Field(
        None, description="O-03: set when the role, store, password or employment changed — every service refuses "
                          "this staff member's tokens issued before this time (vipcore.identity)")
