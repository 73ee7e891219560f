"""Campaigns: a segment and a template, previewed with the recipient count, scheduled, released to the
dispatcher at the configured rate, pausable and resumable. Each recipient is one message row
(cause = campaign, recipient = member: N-04), so pausing and resuming never sends twice. Campaigns are
marketing: consent, opt-outs, the daily cap and quiet hours apply (N-03)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.errors import Conflict, NotFound
from vipcore.logs import get_logger
from vipcore.redact import safe_error

from ..adapters.audit import record
from ..adapters.tables import campaigns, contacts, message_history, messages, stores
from ..domain import rules
from ..domain.segments import Segment
from ..domain.templates import DEFAULT_LANGUAGE, compiled
from .planner import DEFAULT_TZ, DUE_AT_ONCE

log = get_logger(__name__)
TEMPLATE = "campaign"
CHUNK = 5000


def segment_filter(seg: Segment) -> list[Any]:
    c, s = contacts.c, stores.c
    conds: list[Any] = [c.status.not_in(("blacklisted", "deleted"))]
    if seg.store_ids:
        conds.append(c.store_id.in_(seg.store_ids))
    if seg.region_codes:
        conds.append(s.region_code.in_(seg.region_codes))
    if seg.tiers:
        conds.append(sa.func.coalesce(c.tier, "normal").in_(seg.tiers))
    if seg.customer_classes:
        conds.append(c.customer_class.in_(seg.customer_classes))
    if seg.birthday_month:
        conds.append(c.birthday_month == seg.birthday_month)
    if seg.last_purchase_after:
        conds.append(c.last_purchase_at >= seg.last_purchase_after)
    if seg.last_purchase_before:
        conds.append(c.last_purchase_at < seg.last_purchase_before)
    if seg.consent_only:
        conds += [c.marketing_consent.is_(True), c.opted_out_at.is_(None)]
    return conds


def _from() -> Any:
    return contacts.outerjoin(stores, stores.c.store_id == contacts.c.store_id)


class Campaigns:
    def __init__(self, engine: AsyncEngine, *, daily_cap: int, clock: Callable[[], datetime],
                 wake_dispatch: Callable[[], None], tick_s: float = 0.05, idle_s: float = 1.0) -> None:
        self.engine = engine
        self.daily_cap = daily_cap
        self.clock = clock
        self.wake_dispatch = wake_dispatch
        self.tick_s = tick_s  # while a campaign is released
        self.idle_s = idle_s  # while none runs: how soon a scheduled one starts (20 transactions/s idle otherwise)
        self._stop = asyncio.Event()

    async def preview(self, seg: Segment, body: str, brand: str) -> dict[str, Any]:
        """Recipient count (and how many have marketing consent) and a sample text."""
        conds = segment_filter(seg)
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(
                sa.func.count(), sa.func.count().filter(contacts.c.marketing_consent.is_(True),
                                                        contacts.c.opted_out_at.is_(None)),
                sa.func.min(contacts.c.display_name)).select_from(_from()).where(*conds))).one()
        sample = compiled(body, brand, marketing=True)({"display_name": row[2] or "王*明", "tier": "vip",
                                                         "store_id": "S1"})
        return {"recipients": row[0], "with_consent": row[1], "sample": sample}

    async def create(self, *, name: str, brand: str, body: str, seg: Segment, rate_per_s: int,
                     scheduled_at: datetime | None, operator: str) -> uuid.UUID:
        """Schedule a campaign; the operator is audited (O-02)."""
        cid = uuid.uuid4()
        async with self.engine.begin() as conn:
            await conn.execute(campaigns.insert().values(
                campaign_id=cid, name=name, brand=brand, template_body=body, segment=seg.model_dump(mode="json"),
                rate_per_s=rate_per_s, scheduled_at=scheduled_at or self.clock(), status="scheduled"))
            await record(conn, operator, "campaign.created", str(cid), name=name, rate_per_s=rate_per_s,
                         scheduled_at=(scheduled_at or self.clock()).isoformat())
        return cid

    async def listing(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        """Campaigns, newest first (N-01): what the console lists with pause / resume."""
        q = sa.select(campaigns.c.campaign_id, campaigns.c.name, campaigns.c.status, campaigns.c.recipients,
                      campaigns.c.rate_per_s, campaigns.c.scheduled_at, campaigns.c.finished_at,
                      campaigns.c.created_at).order_by(campaigns.c.created_at.desc()).limit(limit)
        if status:
            q = q.where(campaigns.c.status == status)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
        return [{**dict(r), "campaign_id": str(r["campaign_id"])} for r in rows]

    async def set_status(self, cid: uuid.UUID, to: str, operator: str) -> str:
        """pause: queued messages go back to held (none is lost or sent twice); resume: release again.
        Refused (Conflict) when the campaign is in no state to go there. The operator is audited (O-02)."""
        allowed_from = {"paused": ("running", "scheduled"), "running": ("paused",)}[to]
        async with self.engine.begin() as conn:
            cur = (await conn.execute(sa.select(campaigns.c.status).where(campaigns.c.campaign_id == cid)
                                      .with_for_update())).scalar()
            if cur is None:
                raise NotFound("campaign_id", "no such campaign")
            if cur not in allowed_from:
                raise Conflict("N-01", "status", f"campaign is {cur}: cannot go from {cur} to {to}")
            resumed_to = to
            if to == "running":
                started = (await conn.execute(sa.select(sa.func.count()).where(
                    messages.c.campaign_id == cid))).scalar()
                resumed_to = "running" if started else "scheduled"
            await conn.execute(campaigns.update().where(campaigns.c.campaign_id == cid).values(status=resumed_to))
            if to == "paused":
                await self._move(conn, cid, "queued", "held", "campaign paused")
            await record(conn, operator, "campaign.paused" if to == "paused" else "campaign.resumed", str(cid),
                         status_before=cur)
            return resumed_to

    async def counts(self, cid: uuid.UUID) -> dict[str, Any]:
        """Counts: pending, queued, sent, delivered, failed, suppressed by consent/opt-out/cap, quiet hours."""
        async with self.engine.connect() as conn:
            c = (await conn.execute(sa.select(campaigns).where(campaigns.c.campaign_id == cid))).mappings().first()
            if c is None:
                raise NotFound("campaign_id", "no such campaign")
            rows = (await conn.execute(sa.select(messages.c.status, messages.c.suppressed_reason, messages.c.deferred,
                                                 sa.func.count()).where(messages.c.campaign_id == cid)
                                       .group_by(messages.c.status, messages.c.suppressed_reason,
                                                 messages.c.deferred))).all()
            times = (await conn.execute(sa.select(sa.func.min(messages.c.sent_at), sa.func.max(messages.c.sent_at))
                                        .where(messages.c.campaign_id == cid))).one()
        by_status: dict[str, int] = {}
        suppressed: dict[str, int] = {"consent": 0, "opted_out": 0, "cap": 0}
        deferred = 0
        for status, reason, defer, n in rows:
            by_status[status] = by_status.get(status, 0) + n
            if status == "suppressed" and reason:
                suppressed[reason] = suppressed.get(reason, 0) + n
            if defer == "quiet_hours" and status in ("held", "queued"):
                deferred += n
        sent = sum(by_status.get(s, 0) for s in ("sent", "delivered", "undelivered"))
        span = (times[1] - times[0]).total_seconds() if times[0] and times[1] else 0.0
        return {"campaign_id": str(cid), "name": c["name"], "status": c["status"], "recipients": c["recipients"],
                "rate_per_s": c["rate_per_s"], "scheduled_at": c["scheduled_at"], "finished_at": c["finished_at"],
                "counts": {"pending": by_status.get("held", 0), "queued": by_status.get("queued", 0)
                           + by_status.get("sending", 0), "sent": sent,
                           "delivered": by_status.get("delivered", 0),
                           "failed": by_status.get("parked", 0) + by_status.get("undelivered", 0),
                           "suppressed": suppressed, "deferred_quiet_hours": deferred},
                "send_rate_per_s": round(sent / span, 1) if span > 0 else None}

    # ---- background: start due campaigns, release at the rate, finish ----
    async def run(self) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                busy = await self.tick()
            except Exception as e:  # noqa: BLE001 - database away: next tick
                log.warning("campaign tick failed", error=safe_error(e))
                await asyncio.sleep(1.0)
            try:  # releasing: small steps keep the rate smooth; otherwise only due campaigns are looked for
                await asyncio.wait_for(self._stop.wait(), self.tick_s if busy else max(self.tick_s, self.idle_s))
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stop.set()

    async def tick(self) -> bool:
        """Start due campaigns and release each running one's allowance; True while any campaign runs."""
        async with self.engine.begin() as conn:
            due = (await conn.execute(sa.select(campaigns.c.campaign_id).where(
                campaigns.c.status == "scheduled", campaigns.c.scheduled_at <= self.clock())
                .with_for_update(skip_locked=True))).scalars().all()
            for cid in due:
                await self.materialize(conn, cid)
        async with self.engine.begin() as conn:
            # The allowance lives in the campaign's row and is refilled by the database's clock, so the instances
            # of notify share one bucket per campaign: whoever holds the row's lock releases, the others skip it,
            # and `rate_per_s` is the chain's rate however many instances run (docs/scaling.md).
            running = (await conn.execute(sa.select(campaigns.c.campaign_id, campaigns.c.rate_per_s,
                                                    campaigns.c.release_tokens, campaigns.c.release_at,
                                                    sa.func.clock_timestamp())
                                          .where(campaigns.c.status == "running")
                                          .with_for_update(skip_locked=True))).all()
            released = 0
            for cid, rate, tokens, since, now in running:
                dt = max(0.0, (now - since).total_seconds()) if since is not None else 0.0
                allowance = min(float(tokens) + rate * dt, float(rate))  # at most one second's worth at once
                n = int(allowance)
                moved = await self._move(conn, cid, "held", "queued", "campaign release", limit=n) if n else 0
                released += moved
                if moved == 0 and not await self._open(conn, cid):
                    await conn.execute(campaigns.update().where(campaigns.c.campaign_id == cid)
                                       .values(status="done", finished_at=sa.func.now()))
                else:
                    await conn.execute(campaigns.update().where(campaigns.c.campaign_id == cid)
                                       .values(release_tokens=allowance - moved, release_at=now))
        if released:
            self.wake_dispatch()
        return bool(running or due)

    async def _open(self, conn: AsyncConnection, cid: uuid.UUID) -> bool:
        return bool((await conn.execute(sa.select(sa.literal(1)).where(
            messages.c.campaign_id == cid, messages.c.status.in_(("held", "queued", "sending"))).limit(1))).first())

    async def _move(self, conn: AsyncConnection, cid: uuid.UUID, frm: str, to: str, detail: str,
                    limit: int | None = None) -> int:
        pick = sa.select(messages.c.message_id).where(messages.c.campaign_id == cid, messages.c.status == frm)
        if limit is not None:
            pick = pick.limit(limit)
        moved = (sa.update(messages).where(messages.c.message_id.in_(pick.with_for_update(skip_locked=True)
                                                                     .scalar_subquery()))
                 .values(status=to, updated_at=sa.func.now()).returning(messages.c.message_id).cte("moved"))
        res = await conn.execute(message_history.insert().from_select(
            ["message_id", "status", "detail"],
            sa.select(moved.c.message_id, sa.literal(to), sa.literal(detail))).add_cte(moved))
        return int(res.rowcount)

    async def materialize(self, conn: AsyncConnection, cid: uuid.UUID) -> None:
        """One held (or suppressed, with the reason) message per segment member, rendered once."""
        c = (await conn.execute(sa.select(campaigns).where(campaigns.c.campaign_id == cid))).mappings().one()
        seg = Segment.model_validate(c["segment"])
        now = self.clock()
        tz = sa.func.coalesce(stores.c.timezone, DEFAULT_TZ)
        counts = dict((await conn.execute(
            sa.select(messages.c.member_id, sa.func.count())
            .select_from(messages.join(contacts, contacts.c.member_id == messages.c.member_id)
                         .outerjoin(stores, stores.c.store_id == contacts.c.store_id))
            .where(messages.c.category == "marketing", messages.c.status != "suppressed",
                   messages.c.created_at >= sa.func.timezone(tz, sa.func.date_trunc(
                       "day", sa.func.timezone(tz, sa.literal(now)))))
            .group_by(messages.c.member_id))).tuples().all())
        renderers = {lang: compiled(c["template_body"], c["brand"], marketing=True, language=lang)
                     for lang in ("zh-CN", "en")}
        total, after = 0, ""
        while True:
            part = (await conn.execute(sa.select(contacts, stores.c.timezone).select_from(_from())
                                       .where(*segment_filter(seg), contacts.c.member_id > after)
                                       .order_by(contacts.c.member_id).limit(CHUNK))).mappings().all()
            if not part:
                break
            after = part[-1]["member_id"]
            rows = []
            for m in part:
                d = rules.decide("marketing", now=now, tz=m["timezone"] or DEFAULT_TZ,
                                 consent=m["marketing_consent"], opted_out=m["opted_out_at"] is not None,
                                 sent_today=counts.get(m["member_id"], 0), daily_cap=self.daily_cap)
                render = renderers.get(m["language"], renderers[DEFAULT_LANGUAGE])
                rows.append({
                    "message_id": uuid.uuid5(cid, m["member_id"]), "cause_event_id": cid, "template": TEMPLATE,
                    "recipient": m["member_id"], "member_id": m["member_id"], "store_id": m["store_id"],
                    "mobile_enc": m["mobile_enc"],
                    "sender": c["brand"], "category": "marketing", "campaign_id": cid,
                    "body": render({"display_name": m["display_name"], "tier": m["tier"] or "normal",
                                    "store_id": m["store_id"]}),
                    "status": "held" if d.status == "queued" else "suppressed",
                    "suppressed_reason": d.reason if d.status == "suppressed" else None,
                    "deferred": d.reason if d.status == "queued" else None,
                    "next_attempt_at": d.not_before or DUE_AT_ONCE, "created_at": now, "updated_at": now})
            await conn.execute(pg_insert(messages).on_conflict_do_nothing(), rows)
            total += len(rows)
        await conn.execute(message_history.insert().from_select(
            ["message_id", "status", "detail"],
            sa.select(messages.c.message_id, messages.c.status,
                      sa.func.coalesce(messages.c.suppressed_reason, messages.c.deferred, "campaign"))
            .where(messages.c.campaign_id == cid)))
        await conn.execute(campaigns.update().where(campaigns.c.campaign_id == cid)
                           .values(status="running", recipients=total))
        log.info("campaign started", campaign_id=str(cid), recipients=total)
