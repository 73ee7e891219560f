"""The notify screens' calls (issue 12): campaigns, templates, consent, message log, parked queue, audit — each to
notify's API with the logged-in staff member's token, so notify decides who may (O-02) and audits who did."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..adapters.upstream import Upstream
from .desk import Session


class NotifyDesk:
    def __init__(self, upstream: Upstream) -> None:
        self.up = upstream

    async def _get(self, s: Session, path: str, **params: Any) -> Any:
        return await self.up.call("notify", "GET", path, s.token, params=params)

    # -- campaigns (N-01) --
    async def campaigns(self, s: Session, status: str) -> list[dict[str, Any]]:
        """Campaigns, newest first, with their state; notify refuses roles that do not run campaigns."""
        return list((await self._get(s, "/v1/campaigns", status=status))["campaigns"])

    async def campaign(self, s: Session, campaign_id: str) -> dict[str, Any]:
        """One campaign's state and counts: pending, queued, sent, delivered, failed, suppressed, quiet hours."""
        return dict(await self._get(s, f"/v1/campaigns/{campaign_id}"))

    async def preview_campaign(self, s: Session, segment: dict[str, Any], body: str) -> dict[str, Any]:
        """How many members the segment holds (with consent: N-03) and a sample text."""
        return dict(await self.up.call("notify", "POST", "/v1/campaigns/preview", s.token,
                                       json={"segment": segment, "template_body": body}))

    async def create_campaign(self, s: Session, campaign: dict[str, Any]) -> dict[str, Any]:
        """Schedule it; notify audits the operator of the token."""
        return dict(await self.up.call("notify", "POST", "/v1/campaigns", s.token, json=campaign))

    async def move_campaign(self, s: Session, campaign_id: str, pause: bool) -> dict[str, Any]:
        """Pause (queued messages wait, none lost or sent twice) or resume; notify decides and audits (N-01)."""
        return dict(await self.up.call("notify", "POST", f"/v1/campaigns/{campaign_id}/"
                                       f"{'pause' if pause else 'resume'}", s.token))

    # -- messages (N-05, N-06) --
    async def messages(self, s: Session, limit: int, **filters: Any) -> dict[str, Any]:
        """The message log, newest first, filtered at notify and paged there by `before`."""
        return dict(await self._get(s, "/v1/messages", limit=limit, **filters))

    async def parked(self, s: Session, limit: int, after: str | None) -> dict[str, Any]:
        return dict(await self._get(s, "/v1/parked", limit=limit, after=after))

    async def retry(self, s: Session, message_id: str) -> dict[str, Any]:
        """N-05: send a parked message again; notify names the operator of the token in history and audit."""
        return dict(await self.up.call("notify", "POST", f"/v1/messages/{message_id}/retry", s.token))

    # -- templates (N-02) --
    async def catalog(self, s: Session) -> list[dict[str, Any]]:
        return list((await self._get(s, "/v1/templates/catalog"))["templates"])

    async def save_template(self, s: Session, key: str, language: str, brand: str, body: str) -> dict[str, Any]:
        return dict(await self.up.call("notify", "PUT", f"/v1/templates/{quote(key)}/{language}", s.token,
                                       json={"body": body, "brand": brand or "*"}))

    async def preview_template(self, s: Session, key: str, language: str, body: str,
                               fields: dict[str, str]) -> dict[str, Any]:
        return dict(await self.up.call("notify", "POST", f"/v1/templates/{quote(key)}/{language}/preview", s.token,
                                       json={"body": body, "fields": fields}))

    # -- consent (N-03) --
    async def preferences(self, s: Session, member_id: str) -> dict[str, Any]:
        return dict(await self._get(s, f"/v1/members/{quote(member_id)}/preferences"))

    async def set_preferences(self, s: Session, member_id: str, consent: bool | None,
                              language: str | None) -> dict[str, Any]:
        body = {k: v for k, v in (("marketing_consent", consent), ("language", language)) if v is not None}
        return dict(await self.up.call("notify", "PUT", f"/v1/members/{quote(member_id)}/preferences", s.token,
                                       json=body))

    async def opted_out(self, s: Session, limit: int, after: str | None, store_id: str) -> dict[str, Any]:
        return dict(await self._get(s, "/v1/opted-out", limit=limit, after=after, store_id=store_id))

    # -- audit (O-02) --
    async def audit(self, s: Session, limit: int, before: int | None, subject: str, action: str) -> dict[str, Any]:
        return dict(await self._get(s, "/v1/audit", limit=limit, before=before, subject=subject, action=action))
