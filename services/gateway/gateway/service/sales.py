"""Accepting sales and refunds: idempotent per (store, receipt), durable with the outbox before 201."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.contracts.pos import MemberRef, Payment, RefundLine, SaleLine, SaleRecorded, SaleRefunded
from vipcore.errors import Conflict, Refused, RuleViolation
from vipcore.events import Envelope
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.telemetry import (
    context_from_traceparent,
    current_trace_id,
    current_traceparent,
    span_context_of,
    tag_span,
)
from vipcore.topics import POS_SALES

from ..adapters.tables import refunds, sales
from ..domain.refunds import check_refund
from ..entrypoints.schemas import RefundIn, SaleIn
from .directory import Directory


def body_hash(model: Any) -> str:
    return hashlib.sha256(orjson.dumps(model.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class Outcome:
    status: int  # 201 new, 200 replay, 409 conflicting body
    body: dict[str, Any]
    refusal: Refused | None = None  # set with 409: the edge answers it as problem details


class SalesDesk:
    """Records sales and refunds for the POS API."""

    def __init__(self, engine: AsyncEngine, directory: Directory, topic_prefix: str, wake: Any,
                 tracer_provider: Any = None) -> None:
        self.tracer = trace.get_tracer("gateway.sales", tracer_provider=tracer_provider)
        self.engine = engine
        self.directory = directory
        self.topic = topic_prefix + POS_SALES.name
        self.wake = wake

    async def record(self, batch: list[SaleIn],
                     traces: list[tuple[str | None, str | None]] | None = None) -> list[Outcome]:
        """Accept many sales in one transaction; each is idempotent on its own receipt number.

        `traces` gives each sale the (traceparent, trace_id) of the request that brought it, so its event
        continues that request's trace; by default the current one."""
        if traces is None:
            traces = [(current_traceparent(), current_trace_id())] * len(batch)
        # The commit is a child of the first sale's request and links every other sale's: a group commit made
        # by the coalescer (outside any request) stays in each sale's trace.
        others = {tp for tp, _ in traces[1:] if tp and tp != traces[0][0]}
        links = [Link(c) for tp in sorted(others) if (c := span_context_of(tp)) is not None]
        with self.tracer.start_as_current_span(
                "gateway commit sales", kind=SpanKind.INTERNAL, context=context_from_traceparent(traces[0][0]),
                links=links, attributes={"vip.sales": len(batch)}) as span:
            if len(batch) == 1:
                tag_span(span, batch[0])
            out = await self._record(batch, traces)
            if len(batch) == 1 and out[0].status in (200, 201):
                tag_span(span, member_id=out[0].body.get("member_id"))
            return out

    async def _record(self, batch: list[SaleIn], traces: list[tuple[str | None, str | None]]) -> list[Outcome]:
        hashes = [body_hash(s) for s in batch]
        first: dict[tuple[str, str], int] = {}
        for i, s in enumerate(batch):
            first.setdefault((s.store_id, s.receipt_no), i)
        uniq = sorted(first.values())
        async with self.engine.begin() as conn:
            resolved = await self._resolve(conn, [batch[i] for i in uniq])
            rows: list[dict[str, Any]] = []
            events: dict[tuple[str, str], OutgoingEvent] = {}
            for i, found in zip(uniq, resolved, strict=True):
                s = batch[i]
                member_id = found[0] if found else None
                sale_id = str(uuid.uuid4())
                response = {"sale_id": sale_id, "member_id": member_id, "status": "accepted",
                            "trace_id": traces[i][1]}
                ev = events[(s.store_id, s.receipt_no)] = self._sale_event(s, sale_id, found, traces[i][0])
                rows.append({"store_id": s.store_id, "receipt_no": s.receipt_no, "sale_id": sale_id,
                             "body_hash": hashes[i], "member_id": member_id, "event_key": ev.key,
                             "response": response,
                             "lines": {str(ln.line_no): {"qty": ln.qty, "paid": ln.paid,
                                                         "special_price": ln.special_price} for ln in s.lines}})
            # executemany form: compiled once and cached, whatever the batch size
            inserted = set((await conn.execute(
                pg_insert(sales).on_conflict_do_nothing().returning(sales.c.store_id, sales.c.receipt_no),
                rows)).tuples())
            await add_to_outbox(conn, [events[k] for k in events if k in inserted])
            existing: dict[tuple[str, str], Any] = {}
            others = [(s.store_id, s.receipt_no) for s in batch]
            others = [k for k in others if k not in inserted]
            if others:
                prior_rows = await conn.execute(
                    sa.select(sales.c.store_id, sales.c.receipt_no, sales.c.body_hash, sales.c.response)
                    .where(sa.tuple_(sales.c.store_id, sales.c.receipt_no).in_(others)))
                existing = {(r.store_id, r.receipt_no): r for r in prior_rows}
        if inserted:
            self.wake()
        out = []
        new_rows = {(r["store_id"], r["receipt_no"]): r for r in rows}
        for i, s in enumerate(batch):
            key = (s.store_id, s.receipt_no)
            if key in inserted and first[key] == i:
                out.append(Outcome(201, new_rows[key]["response"]))
                continue
            prior = existing.get(key)
            prior_hash = prior.body_hash if prior is not None else new_rows[key]["body_hash"]
            prior_resp = prior.response if prior is not None else new_rows[key]["response"]
            if prior_hash == hashes[i]:
                out.append(Outcome(200, prior_resp))
            else:
                out.append(Outcome(409, {}, Conflict(
                    "pos-api.idempotency", "receipt_no",
                    f"receipt {s.receipt_no} was already recorded with a different body")))
        return out

    async def _resolve(self, conn: Any, sales_: list[SaleIn]) -> list[tuple[str, str, str] | None]:
        """Each sale's member as its store's till reaches it (O-02, L-11: the stores of its program)."""
        out: list[tuple[str, str, str] | None] = [None] * len(sales_)
        by_store: dict[str, list[int]] = {}
        for i, s in enumerate(sales_):
            if s.member is not None:
                by_store.setdefault(s.store_id, []).append(i)
        for store, idx in by_store.items():
            found = await self.directory.resolve_full(
                conn, [m.model_dump() if (m := sales_[i].member) else None for i in idx], store)
            for i, f in zip(idx, found, strict=True):
                out[i] = f
        return out

    def _sale_event(self, s: SaleIn, sale_id: str, found: tuple[str, str, str] | None,
                    traceparent: str | None) -> OutgoingEvent:
        member_id, status, card_status = found if found else (None, None, None)
        ref = None
        if s.member is not None:
            ref = MemberRef(card_no=s.member.card_no, by_mobile=s.member.card_no is None)
        data = SaleRecorded(
            sale_id=sale_id, store_id=s.store_id, terminal_id=s.terminal_id, receipt_no=s.receipt_no,
            occurred_at=s.occurred_at, member_id=member_id, member_ref=ref, member_status=status,
            card_status=card_status,
            cashier_staff_id=s.cashier_staff_id, booked_by_staff_id=s.booked_by_staff_id,
            currency=s.currency, lines=[SaleLine(**ln.model_dump()) for ln in s.lines],
            payments=[Payment(**p.model_dump()) for p in s.payments])
        # One member's sales stay in order; an anonymous group-buy sale is ordered by its credit customer, so the
        # authorisation it names is captured by the customer's sales in the order they were rung up (C-04).
        credit = next((p.credit_customer_id for p in s.payments if p.credit_customer_id), None)
        key = member_id or (s.member.card_no if s.member and s.member.card_no else None) or credit
        env = Envelope.new(data, source="gateway", subject=member_id)
        return OutgoingEvent(self.topic, key, env, traceparent)

    async def refund(self, r: RefundIn) -> Outcome:
        """Accept a refund of lines of an earlier receipt of the same store (L-03)."""
        h = body_hash(r)
        async with self.engine.begin() as conn:
            # Lock the original first: concurrent refunds of one receipt are serialised here.
            orig = (await conn.execute(sa.select(sales).where(
                sales.c.store_id == r.store_id, sales.c.receipt_no == r.original_receipt_no)
                .with_for_update())).first()
            prior = (await conn.execute(sa.select(refunds.c.body_hash, refunds.c.response).where(
                refunds.c.store_id == r.store_id, refunds.c.receipt_no == r.receipt_no))).first()
            if prior is not None:
                return self._replay(prior, h, r.receipt_no)
            if orig is None:
                raise RuleViolation("L-03", "original_receipt_no",
                                    f"no sale {r.original_receipt_no} in store {r.store_id}")
            sold = {int(k): v for k, v in orig.lines.items()}
            done = {int(k): v for k, v in orig.refunded.items()}
            lines = [ln.model_dump() for ln in r.lines]
            check_refund(sold, done, lines)
            for ln in lines:
                d = done.setdefault(ln["line_no"], {"qty": 0, "paid": 0})
                d["qty"] += ln["qty"]
                d["paid"] += ln["paid"]
            refund_id = str(uuid.uuid4())
            response = {"refund_id": refund_id, "sale_id": orig.sale_id, "member_id": orig.member_id,
                        "status": "accepted", "trace_id": current_trace_id()}
            inserted = (await conn.execute(pg_insert(refunds).values(
                store_id=r.store_id, receipt_no=r.receipt_no, refund_id=refund_id,
                original_receipt_no=r.original_receipt_no, body_hash=h, response=response)
                .on_conflict_do_nothing().returning(refunds.c.refund_id))).first()
            if inserted is None:  # a concurrent identical call won the race
                prior = (await conn.execute(sa.select(refunds.c.body_hash, refunds.c.response).where(
                    refunds.c.store_id == r.store_id, refunds.c.receipt_no == r.receipt_no))).one()
                return self._replay(prior, h, r.receipt_no)
            await conn.execute(sales.update().where(sales.c.sale_id == orig.sale_id)
                               .values(refunded={str(k): v for k, v in done.items()}))
            data = SaleRefunded(
                refund_id=refund_id, sale_id=orig.sale_id, store_id=r.store_id, receipt_no=r.receipt_no,
                original_receipt_no=r.original_receipt_no, occurred_at=r.occurred_at,
                member_id=orig.member_id,
                lines=[RefundLine(**ln, special_price=sold[ln["line_no"]]["special_price"]) for ln in lines])
            # keyed like the sale (member, card, or credit customer): a consumer never sees the refund first
            await add_to_outbox(conn, [OutgoingEvent(self.topic, orig.event_key or orig.member_id,
                                                     Envelope.new(data, source="gateway",
                                                                  subject=orig.member_id))])
        self.wake()
        return Outcome(201, response)

    @staticmethod
    def _replay(prior: Any, h: str, receipt_no: str) -> Outcome:
        if prior.body_hash == h:
            return Outcome(200, prior.response)
        raise Conflict("pos-api.idempotency", "receipt_no",
                       f"refund {receipt_no} was already recorded with a different body")
