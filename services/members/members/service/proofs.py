"""Member-present proof for spending (L-07, L-11): members owns the member file and the registered mobile, so it
sends the one-time codes (through notify, as a transactional SMS), keeps the PINs set at the desk, judges every
answer, audits every attempt with store and cashier, and signs a short-lived proof token for the spend it proved
(vipcore.proof) — loyalty moves points and balances only with such a token.

The program the spending store runs says which proof applies (`spend_proof` in programs/*.yaml, domain/proofs.py).
Refusals are written (audit, failure counter, lock) in their own committed transaction, then raised."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.auth import Principal, Role
from vipcore.errors import Forbidden, NotFound, Refused, RuleViolation, Unavailable
from vipcore.httpclient import InternalClient, Unreachable
from vipcore.logs import get_logger
from vipcore.pii import Keyring, decrypt, mask_mobile
from vipcore.proof import RULE, ProofIssuer, SpendProof

from ..adapters.tables import member_pins, members, proof_audit, proof_challenges, proof_guard, stores
from ..domain import proofs as rules
from ..domain.passwords import hash_password, verify_password
from .validity import program_documents

log = get_logger(__name__)
CODE_RULE = "L-07"  # the code route serves redemptions (L-07) and stored-value payments (L-11) alike
_DUMMY = hash_password("000000-not-a-pin")  # same work when the member has no PIN


Methods = tuple[rules.Method, ...]


def read_program_proofs(directory: Path | None) -> tuple[dict[str, Methods], dict[str, str]]:
    """Program id → proofs accepted (`spend_proof`, default sms_code) and → brand, from programs/*.yaml."""
    methods: dict[str, Methods] = {}
    brands: dict[str, str] = {}
    for doc in program_documents(directory):
        methods[doc["id"]] = rules.document_methods(doc) or rules.DEFAULT_METHODS
        if isinstance(doc.get("brand"), str):
            brands[doc["id"]] = doc["brand"]
    return methods, brands


class Proofs:
    def __init__(self, engine: AsyncEngine, code_key: str, enc_key: Keyring, methods: dict[str, Methods],
                 brands: dict[str, str], issuer: ProofIssuer | None, notify: InternalClient | None,
                 clock: Callable[[], datetime]) -> None:
        self.engine, self.code_key, self.enc_key = engine, code_key, enc_key
        self.methods, self.brands, self.issuer, self.notify, self.clock = methods, brands, issuer, notify, clock

    async def _store_program(self, conn: AsyncConnection, store_id: str) -> str:
        program = await conn.scalar(sa.select(stores.c.program).where(stores.c.store_id == store_id))
        if program is None:
            raise NotFound("store_id", f"no store {store_id}", "O-01")
        return str(program)

    async def _member(self, conn: AsyncConnection, member_id: str) -> Any:
        m = (await conn.execute(sa.select(members.c.member_id, members.c.mobile_enc, members.c.card_no,
                                          members.c.status).where(members.c.member_id == member_id))).first()
        if m is None:
            raise NotFound("member_id", "no such member", "exists")
        return m

    async def _guard(self, conn: AsyncConnection, member_id: str) -> rules.Guard:
        await conn.execute(pg_insert(proof_guard).values(member_id=member_id, failures=0, locked_until=None)
                           .on_conflict_do_nothing())
        g = (await conn.execute(sa.select(proof_guard).where(proof_guard.c.member_id == member_id)
                                .with_for_update())).one()
        return rules.Guard(g.failures, g.locked_until)

    @staticmethod
    async def _save_guard(conn: AsyncConnection, member_id: str, g: rules.Guard) -> None:
        await conn.execute(proof_guard.update().where(proof_guard.c.member_id == member_id)
                           .values(failures=g.failures, locked_until=g.locked_until))

    async def _audit(self, conn: AsyncConnection, **row: Any) -> None:
        await conn.execute(proof_audit.insert().values(at=self.clock(), **row))

    # -- codes ----------------------------------------------------------------------------------------

    async def send_code(self, member_id: str, store_id: str, cashier: str | None) -> dict[str, Any]:
        """Send a one-time code to the member's registered mobile (transactional SMS through notify)."""
        now = self.clock()
        refusal: Refused | None = None
        challenge_id = uuid.uuid4()
        code = rules.new_code()
        async with self.engine.begin() as conn:
            program = await self._store_program(conn, store_id)
            m = await self._member(conn, member_id)
            audit = {"member_id": member_id, "card_no": m.card_no, "store_id": store_id,
                     "cashier_staff_id": cashier, "method": "sms_code"}
            if "sms_code" not in self.methods.get(program, rules.DEFAULT_METHODS):
                raise rules.refuse(CODE_RULE, "method")
            guard = await self._guard(conn, member_id)
            sent = int(await conn.scalar(sa.select(sa.func.count()).select_from(proof_challenges).where(
                proof_challenges.c.member_id == member_id,
                proof_challenges.c.created_at > now - rules.CODE_WINDOW)) or 0)
            try:
                rules.check_can_send(guard, sent, now, CODE_RULE)
            except Refused as e:
                refusal = e
                await self._audit(conn, **audit, outcome="locked" if guard.locked(now) else "throttled")
            else:
                await conn.execute(proof_challenges.insert().values(
                    challenge_id=challenge_id, member_id=member_id, store_id=store_id,
                    code_hash=rules.code_hash(self.code_key, str(challenge_id), code), created_at=now,
                    expires_at=now + rules.CODE_TTL))
            mobile = decrypt(self.enc_key, m.mobile_enc)
        if refusal is not None:
            raise refusal
        minutes = int(rules.CODE_TTL.total_seconds() // 60)
        outcome = await self._deliver(challenge_id, member_id, mobile, code, minutes, self.brands.get(program))
        async with self.engine.begin() as conn:
            await self._audit(conn, **audit, outcome=outcome)
        if outcome != "sent":
            raise Unavailable("proof", "the code could not be sent now; try again shortly", CODE_RULE)
        return {"method": "sms_code", "sent_to": mask_mobile(mobile),
                "expires_at": (now + rules.CODE_TTL).isoformat()}

    async def _deliver(self, challenge_id: uuid.UUID, member_id: str, mobile: str, code: str, minutes: int,
                       brand: str | None) -> str:
        """Hand the code to notify over HTTP (never through a topic, so it is in no log of events)."""
        if self.notify is None:
            return "send_failed"
        try:
            r = await self.notify.post("/internal/messages/transactional", {
                "message_id": str(challenge_id), "member_id": member_id, "mobile": mobile, "template": "proof_code",
                "brand": brand, "variables": {"code": code, "minutes": minutes}})
        except Unreachable:
            return "send_failed"
        return "sent" if r.status in (200, 201) else "send_failed"

    # -- proofs ---------------------------------------------------------------------------------------

    async def verify(self, *, member_id: str, store_id: str, cashier: str | None, purpose: str, ref: str,
                     amount: str, otp: str | None, pin: str | None, id_verified: bool) -> dict[str, Any]:
        """Judge the member's answer for one spend; answer a proof token, or refuse (audited, counted)."""
        rule = RULE[purpose]
        if self.issuer is None:
            raise Unavailable("proof", "proofs cannot be signed: STAFF_TOKEN_PRIVATE_KEY is not configured", rule)
        if id_verified and not cashier:
            raise RuleViolation(rule, "cashier_staff_id", "an ID check at the desk is recorded with the cashier "
                                                          "who made it")
        spend = f"{purpose}:{ref}:{amount}"
        pin_outcome = None
        if pin is not None and otp is None:  # the slow hash is computed before the member's row is locked
            async with self.engine.connect() as conn:
                pin_outcome = await self._judge_pin(conn, member_id, pin)
        now = self.clock()
        refusal: Refused | None = None
        async with self.engine.begin() as conn:
            program = await self._store_program(conn, store_id)
            m = await self._member(conn, member_id)
            method, answer = rules.method_of(otp, pin, self.methods.get(program, rules.DEFAULT_METHODS), rule)
            audit = {"member_id": member_id, "card_no": m.card_no, "store_id": store_id, "cashier_staff_id": cashier,
                     "method": method, "purpose": purpose, "ref": ref}
            guard = await self._guard(conn, member_id)
            if guard.locked(now):
                await self._audit(conn, **audit, outcome="locked")
                try:
                    rules.check_not_locked(guard, now, rule)
                except Refused as e:
                    refusal = e
            else:
                outcome = (await self._judge_code(conn, member_id, answer, now, spend) if method == "sms_code"
                           else pin_outcome or "no_pin")
                await self._audit(conn, **audit, outcome=outcome)
                if outcome in ("ok", "replay"):
                    await self._save_guard(conn, member_id, guard.after_success())
                    if id_verified:
                        await self._audit(conn, **{**audit, "method": "id"}, outcome="id_checked")
                else:
                    if outcome in ("wrong", "wrong_pin"):
                        guard = guard.after_failure(now)
                        await self._save_guard(conn, member_id, guard)
                        if guard.locked(now):
                            await self._audit(conn, **audit, outcome="locked")
                    refusal = rules.refuse(rule, outcome)
        if refusal is not None:
            raise refusal
        token = self.issuer.issue(SpendProof(member_id, purpose, store_id, ref, amount, method,
                                             cashier if id_verified else None))
        return {"proof_token": token, "method": method}

    async def _judge_code(self, conn: AsyncConnection, member_id: str, code: str, now: datetime,
                          spend: str) -> str:
        c = (await conn.execute(sa.select(proof_challenges).where(proof_challenges.c.member_id == member_id)
                                .order_by(proof_challenges.c.created_at.desc()).limit(1).with_for_update())).first()
        ch = None if c is None else rules.Challenge(str(c.challenge_id), c.code_hash, c.expires_at, c.used_for)
        outcome = rules.judge_code(ch, code, self.code_key, now, spend)
        if outcome == "ok" and c is not None:
            await conn.execute(proof_challenges.update().where(proof_challenges.c.challenge_id == c.challenge_id)
                               .values(used_at=now, used_for=spend))
        return outcome

    async def _judge_pin(self, conn: AsyncConnection, member_id: str, pin: str) -> str:
        stored = await conn.scalar(sa.select(member_pins.c.pin_hash).where(member_pins.c.member_id == member_id))
        ok = await asyncio.to_thread(verify_password, pin, stored or _DUMMY)
        if stored is None:
            return "no_pin"
        return "ok" if ok else "wrong_pin"

    # -- PINs -----------------------------------------------------------------------------------------

    async def set_pin(self, who: Principal, member_id: str, pin: str) -> dict[str, Any]:
        """Set (or change) a member's PIN at the desk; stored as a salted scrypt hash, audited (L-07, L-11)."""
        problem = rules.pin_problem(pin)
        if problem:
            raise RuleViolation("L-07", "pin", problem)
        pin_hash = await asyncio.to_thread(hash_password, pin)
        now = self.clock()
        async with self.engine.begin() as conn:
            m = (await conn.execute(sa.select(members.c.store_id, members.c.card_no)
                                    .where(members.c.member_id == member_id))).first()
            if m is None:
                raise NotFound("member_id", "no such member", "exists")
            if who.role not in (Role.HQ_ADMIN, Role.HQ_CS) and who.store_id != m.store_id:
                raise Forbidden("O-02", "member_id", "a member's PIN is set at the desk of the member's store")
            values = {"pin_hash": pin_hash, "set_by": who.staff_id, "set_at": now}
            await conn.execute(pg_insert(member_pins).values(member_id=member_id, **values)
                               .on_conflict_do_update(index_elements=["member_id"], set_=values))
            await self._save_guard_reset(conn, member_id)
            await self._audit(conn, member_id=member_id, card_no=m.card_no, store_id=who.store_id,
                              cashier_staff_id=who.staff_id, method="pin", outcome="pin_set")
        return {"member_id": member_id, "pin_set": True, "set_at": now.isoformat()}

    async def _save_guard_reset(self, conn: AsyncConnection, member_id: str) -> None:
        await self._guard(conn, member_id)
        await self._save_guard(conn, member_id, rules.Guard())

    async def audit(self, member_id: str, limit: int = 200) -> list[dict[str, Any]]:
        """The member's proof attempts, newest first."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(proof_audit).where(proof_audit.c.member_id == member_id)
                                       .order_by(proof_audit.c.id.desc()).limit(limit))).mappings().all()
        return [{**{k: r[k] for k in ("member_id", "card_no", "store_id", "cashier_staff_id", "method", "outcome",
                                      "purpose", "ref")}, "at": r["at"].isoformat()} for r in rows]
