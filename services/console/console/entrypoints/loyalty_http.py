"""Loyalty screens (issue 12): the program viewer (HQ: tiers, earn rules, catalogue and every version of each
program, read from loyalty) and the redemption desk (L-09: a store's members who reached a threshold reward, the
member's SMS code, the claim with the ID checked by the logged-in staff member). Thin routes; loyalty and the gateway
decide and record, with the staff member's token."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from vipcore.inputs import Ident

from ..adapters.upstream import Refusal, Upstream
from ..domain.paging import paginate
from ..domain.screens import may
from ..service import loyaltydesk
from ..service.desk import Session
from .forms import read_form
from .http import HTML, PageNo, Pages, Search

OptIdent = Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9._:@-]*$")]
Done = Annotated[str, Query(pattern="^(|code_sent|claimed)$")]
Number = Annotated[int | None, Query(ge=0, le=2**62)]


def _not_allowed(screen: str) -> Refusal:
    return Refusal("console", 403, "Forbidden", f"the {screen} screen is not for this role",
                   [{"field": "role", "message": f"may not use {screen}", "rule": "O-02"}])


def _form_error(field: str, message: str, rule: str | None = None) -> Refusal:
    return Refusal("console", 422, "invalid form", errors=[{"field": field, "message": message,
                                                            **({"rule": rule} if rule else {})}])


def router(up: Upstream, pages: Pages, page_size: int) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def admit(s: Session, screen: str) -> None:
        """A role without `screen` is refused before loyalty is asked (O-02), with this module's own words."""
        if not may(s.who.role, screen):
            raise _not_allowed(screen)

    @r.get("/programs", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def program_list(request: Request, s: Session, q: Search = "", page: PageNo = 1) -> Response:
        """Every program with the version in force, filtered by id or brand (HQ, O-02)."""
        admit(s, "programs")
        rows = await loyaltydesk.programs(up, s)
        needle = q.strip().lower()
        rows = [p for p in rows if needle in p["id"].lower() or needle in str(p["brand"]).lower()]
        return pages.render(request, "loyalty_programs.html", s, q=q, page=paginate(rows, page, page_size))

    @r.get("/programs/{program_id}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def program_page(request: Request, s: Session, program_id: Annotated[Ident, Path()],
                           v: Annotated[int | None, Query(ge=1, le=10_000)] = None) -> Response:
        """One program: the chosen version (default: in force) with tiers, earn rules, catalogue, expiry, and the
        list of every version (L-01, L-04, L-07, L-08, L-09, L-13, L-14)."""
        admit(s, "programs")
        prog = await loyaltydesk.program(up, s, program_id)
        versions = prog["versions"]
        shown = next((x for x in versions if x["version"] == v), None) if v else \
            next((x for x in versions if x["in_force"]), versions[0])
        if shown is None:
            raise Refusal("console", 404, "Not found", errors=[
                {"field": "v", "message": f"program {program_id} has no version {v}"}])
        return pages.render(request, "loyalty_program.html", s, prog=prog, p=shown)

    @r.get("/desk", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def desk_page(request: Request, s: Session, after: OptIdent = "", reward: OptIdent = "", card_no: Search = "",
                        done: Done = "", got: OptIdent = "", spent: Number = None,
                        balance: Number = None) -> Response:
        """The redemption desk of the staff member's store (L-09): members who reached a threshold reward (paged
        at loyalty, filtered by reward), the SMS code and the claim form."""
        admit(s, "desk")
        lst = await loyaltydesk.ready(up, s, after or None, reward or None)
        return pages.render(request, "loyalty_desk.html", s, lst=lst, reward=reward, card_no=card_no.strip(),
                            claim_id=uuid.uuid4(), done=done, got=got, spent=spent, balance=balance)

    @r.post("/desk/code", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def desk_code(request: Request, s: Session) -> Response:
        """Text the card holder the one-time code for the claim (L-07); the gateway records this staff member."""
        admit(s, "desk")
        f = await read_form(request, {"card_no": 32}, ("card_no",))
        card = f["card_no"].strip()
        if not re.fullmatch(r"[A-Za-z0-9-]{1,32}", card):
            raise _form_error("card_no", "a card number")
        await loyaltydesk.send_code(up, s, card)
        return RedirectResponse("/desk?" + urlencode({"done": "code_sent", "card_no": card}), status_code=303)

    @r.post("/desk/claim", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def desk_claim(request: Request, s: Session) -> Response:
        """Hand out a threshold reward (L-09): ID checked (the box), the member's SMS code or PIN (L-07); the
        gateway and loyalty refuse without them, deduct the points once per claim and name this staff member."""
        admit(s, "desk")
        f = await read_form(request, {"claim_id": 40, "card_no": 32, "reward_id": 64, "id_checked": 8,
                                      "otp": 12, "pin": 12}, ("claim_id", "card_no", "reward_id"))
        try:
            claim_id = uuid.UUID(f["claim_id"])
        except ValueError:
            raise _form_error("claim_id", "reload the desk page") from None
        card, otp, pin = f["card_no"].strip(), f["otp"].strip(), f["pin"].strip()
        if not re.fullmatch(r"[A-Za-z0-9-]{1,32}", card):
            raise _form_error("card_no", "a card number")
        for name, value in (("otp", otp), ("pin", pin)):
            if value and not re.fullmatch(r"\d{6}", value):
                raise _form_error(name, "six digits", "L-07")
        out: dict[str, Any] = await loyaltydesk.claim(
            up, s, claim_id=claim_id, card_no=card, reward_id=f["reward_id"].strip(),
            id_checked=f["id_checked"] == "yes", otp=otp, pin=pin)
        q = {"done": "claimed", "got": out.get("reward_id") or "", "spent": out["points_spent"],
             **({"balance": out["balance_after"]} if out.get("balance_after") is not None else {})}
        return RedirectResponse("/desk?" + urlencode(q), status_code=303)

    return r
