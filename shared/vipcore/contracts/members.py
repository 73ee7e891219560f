"""Events produced by the members service (topic members.events, keyed by member or store)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from ..events import EventData, contract


@contract
class StoreRegistered(EventData):
    """A store opened or changed (O-01): region, time zone, the loyalty program it runs."""

    TYPE = "members.store.registered"
    store_id: str
    name: str
    region_code: str
    timezone: str = "Asia/Shanghai"
    program: str = Field(examples=["jewelry"])


@contract
class MemberRegistered(EventData):
    """A member file exists with a card; carries what other services need to serve them."""

    TYPE = "members.member.registered"
    member_id: str
    store_id: str
    referrer_staff_id: str | None = None
    display_name: str = Field(description="Masked name, e.g. 王*明")
    name_index: str = Field(description="Keyed hash of the full name (blind index)")
    mobile_index: str = Field(description="Keyed hash of the mobile number (blind index)")
    mobile: str = Field(description="Mobile for SMS; consumers keep it encrypted or masked")
    card_no: str
    card_status: str = "active"
    status: str = "active"
    birthday: date | None = Field(None, description="Year may be 1904 when unknown (M-01)")
