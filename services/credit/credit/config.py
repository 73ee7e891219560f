"""Credit service settings."""

from __future__ import annotations

from pydantic import Field, SecretStr
from vipcore.settings import EventPiiKeySettings, PiiKeySettings, ServiceSettings


class CreditSettings(ServiceSettings, PiiKeySettings, EventPiiKeySettings):
    service_name: str = "credit"
    http_port: int = 8003
    default_timezone: str = Field("Asia/Shanghai", description="Business dates of stores not yet announced")
    authorization_ttl_s: int = Field(1800, description="C-04: an unused authorisation is released after this")
    coupon_release_after_s: int = Field(
        1800, gt=0, description="C-09: coupons spent at the till for a receipt whose sale has not reached credit "
                                "after this are released (spendable again)")
    scheduler_interval_s: float = Field(60.0, description="How often expired holds and the daily run are checked")
    # PII_KEYS: credit's own at-rest keys (staff mobiles, customers' contact mobiles, coupon buyers' phones);
    # EVENT_PII_KEYS: opens members.staff.changed, seals credit.invoice.overdue (vipcore.settings)
    pii_index_key: SecretStr = Field(description="Keyed hash of coupon buyers' phones (C-09), credit's own")
