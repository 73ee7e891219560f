"""Turns wanted messages into rows: template per brand and language (N-02), consent, quiet hours and the
daily cap (N-03), one row per cause, template and recipient (N-04), with a first history entry."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.pii import Keyring, encrypt

from ..adapters.tables import contacts, message_history, messages, stores, templates
from ..domain import rules
from ..domain.templates import DEFAULT_LANGUAGE, DEFAULTS, render

DEFAULT_TZ = "Asia/Shanghai"
DUE_AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)  # before any database clock: the dispatcher takes it now


@dataclass
class Wanted:
    """One message an event asks for, before consent and rendering."""

    cause_event_id: uuid.UUID
    template: str
    category: rules.Category
    recipient: str  # member id, or 'customer' / 'staff'
    variables: dict[str, Any]
    member_id: str | None = None
    mobile: str | None = None  # customer/staff audiences: the number the event carries
    store_id: str | None = None
    brand: str | None = None
    traceparent: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def message_id(self) -> uuid.UUID:
        return uuid.uuid5(self.cause_event_id, f"{self.template}:{self.recipient}")


async def template_bodies(conn: AsyncConnection, keys: set[str]) -> dict[tuple[str, str, str], str]:
    rows = await conn.execute(sa.select(templates.c.brand, templates.c.key, templates.c.language, templates.c.body)
                              .where(templates.c.key.in_(keys)))
    return {(r.brand, r.key, r.language): r.body for r in rows}


def pick_template(overrides: dict[tuple[str, str, str], str], brand: str, key: str, language: str) -> str:
    """Brand's own text, then every brand's, then the built-in; in the language, else zh-CN (N-02)."""
    for lang in (language, DEFAULT_LANGUAGE):
        for b in (brand, "*"):
            if (b, key, lang) in overrides:
                return overrides[(b, key, lang)]
        if (key, lang) in DEFAULTS:
            return DEFAULTS[(key, lang)]
    raise KeyError(key)


def local_time(variables: dict[str, Any], tz: str) -> str:
    """The event's time (starts_at, else occurred_at) on the store's wall clock, for templates."""
    t = variables.get("starts_at") or variables.get("occurred_at")
    return t.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if isinstance(t, datetime) else ""


class Planner:
    def __init__(self, *, enc_key: Keyring, company_name: str, daily_cap: int,
                 clock: Callable[[], datetime]) -> None:
        self.enc_key = enc_key
        self.company_name = company_name
        self.daily_cap = daily_cap
        self.clock = clock

    async def insert(self, conn: AsyncConnection, wanted: list[Wanted]) -> int:
        """Insert the messages (existing ones untouched: N-04); returns how many are new."""
        if not wanted:
            return 0
        now = self.clock()
        ids = {w.member_id for w in wanted if w.member_id}
        known = {r.member_id: r for r in await conn.execute(
            sa.select(contacts, stores.c.timezone).select_from(
                contacts.outerjoin(stores, stores.c.store_id == contacts.c.store_id))
            .where(contacts.c.member_id.in_(ids)))}
        tzs = dict((await conn.execute(sa.select(stores.c.store_id, stores.c.timezone).where(
            stores.c.store_id.in_({w.store_id for w in wanted if w.store_id})))).tuples().all())
        sent_today = await self._marketing_today(conn, {w.member_id for w in wanted
                                                        if w.category == "marketing" and w.member_id}, now)
        overrides = await template_bodies(conn, {w.template for w in wanted})
        rows = []
        for w in wanted:
            c = known.get(w.member_id) if w.member_id else None
            tz = (c.timezone if c is not None else None) or tzs.get(w.store_id or "") or DEFAULT_TZ
            language = c.language if c is not None else DEFAULT_LANGUAGE
            sender = w.brand or self.company_name
            variables = {"display_name": c.display_name if c is not None else "会员",
                         "local_time": local_time(w.variables, tz), **w.variables}
            body = render(pick_template(overrides, sender, w.template, language), sender, variables,
                          marketing=w.category == "marketing", language=language)
            if w.member_id:
                mobile_enc = c.mobile_enc if c is not None else None
            else:
                mobile_enc = encrypt(self.enc_key, w.mobile) if w.mobile else None
            d = rules.decide(w.category, now=now, tz=tz,
                             consent=bool(c is not None and c.marketing_consent),
                             opted_out=bool(c is not None and c.opted_out_at is not None),
                             sent_today=sent_today.get(w.member_id or "", 0), daily_cap=self.daily_cap)
            if d.status == "queued" and w.category == "marketing" and w.member_id:
                sent_today[w.member_id] = sent_today.get(w.member_id, 0) + 1
            status = d.status if mobile_enc is not None or d.status == "suppressed" else "no_contact"
            rows.append({"message_id": w.message_id, "cause_event_id": w.cause_event_id, "template": w.template,
                         "recipient": w.recipient, "member_id": w.member_id, "mobile_enc": mobile_enc,
                         "store_id": (c.store_id if c is not None else None) or w.store_id,
                         "sender": sender, "body": body, "category": w.category, "status": status,
                         "suppressed_reason": d.reason if d.status == "suppressed" else None,
                         "deferred": d.reason if d.status == "queued" else None,
                         "next_attempt_at": d.not_before or DUE_AT_ONCE, "traceparent": w.traceparent,
                         "created_at": now, "updated_at": now, **w.extra})
        new = (await conn.execute(pg_insert(messages).on_conflict_do_nothing().returning(
            messages.c.message_id, messages.c.status, messages.c.suppressed_reason, messages.c.deferred),
            rows)).all()
        history = [{"message_id": r.message_id, "status": r.status,
                    "detail": r.suppressed_reason or r.deferred} for r in new]
        if history:
            await conn.execute(message_history.insert(), history)
        return len(new)

    async def _marketing_today(self, conn: AsyncConnection, member_ids: set[str | None],
                               now: datetime) -> dict[str, int]:
        """N-03 cap: marketing messages not suppressed, per member, since local midnight (store time)."""
        if not member_ids:
            return {}
        rows = await conn.execute(
            sa.select(messages.c.member_id, messages.c.created_at, stores.c.timezone)
            .select_from(messages.join(contacts, contacts.c.member_id == messages.c.member_id)
                         .outerjoin(stores, stores.c.store_id == contacts.c.store_id))
            .where(messages.c.member_id.in_(member_ids), messages.c.category == "marketing",
                   messages.c.status != "suppressed", messages.c.created_at >= now - timedelta(days=2)))
        counts: dict[str, int] = {}
        for r in rows:
            if r.created_at >= rules.local_day_start(now, r.timezone or DEFAULT_TZ):
                counts[r.member_id] = counts.get(r.member_id, 0) + 1
        return counts
