"""The notify screens (issue 12, N-*): campaigns (list with pause / resume, a builder whose recipient count follows
the segment as it is edited, each campaign's counts and live progress), templates with preview, consent and
opt-outs, the message log, the parked queue with retry, and notify's operator audit. Thin routes: notify answers
with the logged-in staff member's token, refuses roles that may not act (O-02) and audits who did."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..adapters.upstream import Refusal
from ..domain import notify as dom
from ..domain.paging import paginate
from ..service.desk import Session
from ..service.notify import NotifyDesk
from .forms import read_form
from .http import HTML, Pages

CampaignId = Annotated[uuid.UUID, Path()]
MessageId = Annotated[uuid.UUID, Path()]
Key = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[!-~]+$")]
Lang = Annotated[str, Path(pattern="^(zh-CN|en)$")]
Id = Annotated[str, Query(max_length=64, pattern=r"^[!-~]*$")]
Time = Annotated[str, Query(max_length=16, pattern=r"^[0-9T:\- ]*$")]
CampaignState = Annotated[str, Query(pattern="^(|scheduled|running|paused|done)$")]
MessageState = Annotated[str, Query(pattern="^(|held|queued|sending|sent|delivered|undelivered|parked|suppressed|"
                                            "no_contact)$")]
Done = Annotated[str, Query(pattern="^(|paused|resumed|n_created|n_retried|n_saved)$")]
STATES = ("held", "queued", "sending", "sent", "delivered", "undelivered", "parked", "suppressed", "no_contact")


def router(nd: NotifyDesk, pages: Pages, page_size: int) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    async def page(request: Request, s: Session, name: str, load: Any, **ctx: Any) -> Response:
        """A full page: notify's answer, rendered (the session and a refusal: Pages.guarded)."""
        data = await load(s)
        return pages.render(request, name, s, **ctx, **data)

    async def act(request: Request, s: Session, fields: dict[str, int], required: tuple[str, ...],
                  do: Any) -> Response:
        """A posted form: the form (CSRF-checked), the call, its redirect (the session and a refusal:
        Pages.guarded)."""
        f = await read_form(request, fields, required)
        to: str = await do(s, f)
        return RedirectResponse(to, status_code=303)

    # -- campaigns (N-01) ------------------------------------------------------------------------------
    @r.get("/campaigns", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def campaigns(request: Request, s: Session,
                        page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
                        status: CampaignState = "", done: Done = "") -> Response:
        """SMS campaigns with their state, filtered by state; pause and resume (N-01)."""
        async def load(s: Session) -> dict[str, Any]:
            rows = await nd.campaigns(s, status)
            return {"page": paginate(rows, page_no, page_size)}
        return await page(request, s, "campaigns.html", load, done=done, state=status)

    @r.get("/campaigns/new", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("campaigns.create")
    async def builder(request: Request, s: Session) -> Response:
        """The campaign builder: segment, text, rate, start; the recipient count follows the segment. It asks
        notify nothing until the count, so the console refuses a role without the builder itself (O-02, N-01)."""
        return pages.render(request, "notify_campaign_new.html", s, f={"consent_only": "on", "rate_per_s": "200"})

    @r.get("/campaigns/new/count", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def count(request: Request, s: Session) -> Response:
        """The live recipient count (htmx, on every change of the builder): notify's preview of the segment."""
        q = {k: request.query_params.get(k, "")[:n] for k, n in dom.CAMPAIGN_FIELDS.items()}
        seg = dom.segment(q)
        body = q["template_body"].strip()
        ans = await nd.preview_campaign(s, seg, body or "{{ display_name }}")
        return pages.render(request, "_notify_count.html", s, p=ans, has_text=bool(body))

    @r.post("/campaigns/new", response_class=HTMLResponse, responses=HTML)
    async def create(request: Request) -> Response:
        """Schedule the campaign through notify (audited with the operator); then its page with live progress."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        f: dict[str, str] = {}
        try:
            f = await read_form(request, dom.CAMPAIGN_FIELDS, ("name", "template_body"))
            out = await nd.create_campaign(s, dom.campaign(f))
        except Refusal as e:
            if e.status == 422 and f:  # the builder again, with what was typed and why it was refused
                return pages.render(request, "notify_campaign_new.html", s, status=422, f=f, e=e)
            return pages.refused(request, s, e)
        return RedirectResponse(f"/campaigns/{out['campaign_id']}?done=n_created", status_code=303)

    @r.get("/campaigns/{campaign_id}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def one(request: Request, s: Session, campaign_id: CampaignId, done: Done = "") -> Response:
        """One campaign: its counts and the live progress of its send (polled until done)."""
        async def load(s: Session) -> dict[str, Any]:
            c = await nd.campaign(s, str(campaign_id))
            return {"c": c, "pr": dom.progress(c)}
        return await page(request, s, "notify_campaign.html", load, done=done)

    @r.get("/campaigns/{campaign_id}/progress", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def progress(request: Request, s: Session, campaign_id: CampaignId) -> Response:
        """The progress fragment, polled every second (`hx-trigger="every 1s"`) until notify says done."""
        c = await nd.campaign(s, str(campaign_id))
        return pages.render(request, "_notify_progress.html", s, c=c, pr=dom.progress(c))

    @r.post("/campaigns/{campaign_id}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def move(request: Request, s: Session, campaign_id: CampaignId) -> Response:
        """Pause or resume a campaign through notify (N-01), back to the list or the campaign's page."""
        async def do(s: Session, f: dict[str, str]) -> str:
            pause = f["action"] == "pause"
            if not pause and f["action"] != "resume":
                raise Refusal("console", 422, "invalid form", errors=[{"field": "action",
                                                                      "message": "pause or resume"}])
            await nd.move_campaign(s, str(campaign_id), pause)
            done = "paused" if pause else "resumed"
            return f"/campaigns/{campaign_id}?done={done}" if f["back"] == "campaign" else f"/campaigns?done={done}"
        return await act(request, s, {"action": 10, "back": 10}, ("action",), do)

    # -- message log and parked queue (N-05, N-06) -----------------------------------------------------
    @r.get("/sms", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def log(request: Request, s: Session, status: MessageState = "", member_id: Id = "", store_id: Id = "",
                  template: Annotated[str, Query(max_length=80, pattern=r"^[!-~]*$")] = "", since: Time = "",
                  until: Time = "", before: Annotated[uuid.UUID | None, Query()] = None) -> Response:
        """The message log, newest first, filtered by status, member, store, template and time (store time), paged
        at notify; the counts per status are asked on the first page only (a later page keeps to its rows)."""
        q = {"status": status, "member_id": member_id.strip(), "store_id": store_id.strip(),
             "template": template.strip(), "since": since, "until": until}

        async def load(s: Session) -> dict[str, Any]:
            ans = await nd.messages(s, page_size, status=status, member_id=q["member_id"], store_id=q["store_id"],
                                    template=q["template"], before=before, counts=before is None,
                                    since=dom.local_time(since, "since"), until=dom.local_time(until, "until"))
            return {"log": ans}
        return await page(request, s, "notify_log.html", load, q=q, states=STATES, before=before)

    @r.get("/sms/parked", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def parked(request: Request, s: Session, after: Annotated[uuid.UUID | None, Query()] = None,
                     done: Done = "") -> Response:
        """Messages that failed for good, oldest first, with their reason; retry each (N-05)."""
        async def load(s: Session) -> dict[str, Any]:
            return {"parked": await nd.parked(s, page_size, str(after) if after else None)}
        return await page(request, s, "notify_parked.html", load, after=after, done=done)

    @r.post("/sms/parked/{message_id}/retry", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def retry(request: Request, s: Session, message_id: MessageId) -> Response:
        """Send a parked message again; notify names the operator of the token in its history and audit."""
        async def do(s: Session, f: dict[str, str]) -> str:
            await nd.retry(s, str(message_id))
            return "/sms/parked?done=n_retried"
        return await act(request, s, {}, (), do)

    # -- templates (N-02) ------------------------------------------------------------------------------
    @r.get("/sms/templates", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def templates(request: Request, s: Session,
                        page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
                        key: Id = "", language: Annotated[str, Query(pattern="^(|zh-CN|en)$")] = "") -> Response:
        """Every template key per language: its event, built-in text and the texts HQ saved (a short list)."""
        async def load(s: Session) -> dict[str, Any]:
            rows = [t for t in await nd.catalog(s) if (not key or key in t["key"])
                    and (not language or t["language"] == language)]
            return {"page": paginate(rows, page_no, page_size)}
        return await page(request, s, "notify_templates.html", load, q={"key": key, "language": language})

    @r.get("/sms/templates/{key}/{language}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def template(request: Request, s: Session, key: Key, language: Lang, done: Done = "") -> Response:
        """Edit one template (per brand; '*' for every brand) and preview it with sample fields."""
        async def load(s: Session) -> dict[str, Any]:
            entry = next((t for t in await nd.catalog(s) if t["key"] == key and t["language"] == language), None)
            if entry is None:  # a new campaign text: notify checks the key when it is saved
                entry = {"key": key, "language": language, "source": "", "variables": [], "default_body": None,
                         "saved": [], "category": "marketing"}
            saved = entry["saved"][0] if entry["saved"] else None
            return {"tpl": entry, "f": {"brand": saved["brand"] if saved else "*",
                                        "body": saved["body"] if saved else (entry["default_body"] or ""),
                                        "fields": ""}}
        return await page(request, s, "notify_template.html", load, done=done)

    @r.post("/sms/templates/{key}/{language}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def save(request: Request, s: Session, key: Key, language: Lang) -> Response:
        """Save through notify (N-02: refused, naming the field, when the text reads what its event lacks)."""
        async def do(s: Session, f: dict[str, str]) -> str:
            await nd.save_template(s, key, language, f["brand"].strip(), f["body"])
            return f"/sms/templates/{key}/{language}?done=n_saved"
        return await act(request, s, {"body": 1000, "brand": 60, "fields": 2000}, ("body",), do)

    @r.post("/sms/templates/{key}/{language}/preview", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def preview(request: Request, s: Session, key: Key, language: Lang) -> Response:
        """The message the text gives with the sample fields (htmx fragment); nothing is saved."""
        f = await read_form(request, {"body": 1000, "brand": 60, "fields": 2000}, ("body",))
        p = await nd.preview_template(s, key, language, f["body"], dom.sample_fields(f["fields"]))
        return pages.render(request, "_notify_preview.html", s, p=p)

    # -- consent and opt-outs (N-03) -------------------------------------------------------------------
    @r.get("/sms/consent", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def consent(request: Request, s: Session, member_id: Id = "", store_id: Id = "", after: Id = "",
                      done: Done = "") -> Response:
        """A member's consent and language (change them), and the opted-out members, paged at notify."""
        async def load(s: Session) -> dict[str, Any]:
            member = await nd.preferences(s, member_id.strip()) if member_id.strip() else None
            return {"member": member, "out": await nd.opted_out(s, page_size, after or None, store_id.strip())}
        return await page(request, s, "notify_consent.html", load, q={"member_id": member_id.strip(),
                                                                     "store_id": store_id.strip()},
                          after=after, done=done)

    @r.post("/sms/consent/{member_id}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def set_consent(request: Request, s: Session,
                          member_id: Annotated[str, Path(max_length=64, pattern=r"^[!-~]+$")]) -> Response:
        """Change a member's marketing consent (given again clears an opt-out) and language; notify audits it."""
        async def do(s: Session, f: dict[str, str]) -> str:
            if f["marketing_consent"] not in ("", "yes", "no") or f["language"] not in ("", "zh-CN", "en"):
                raise Refusal("console", 422, "invalid form", errors=[{"field": "marketing_consent",
                                                                      "message": "yes or no", "rule": "N-03"}])
            await nd.set_preferences(s, member_id, {"yes": True, "no": False}.get(f["marketing_consent"]),
                                     f["language"] or None)
            return f"/sms/consent?member_id={member_id}&done=n_saved"
        return await act(request, s, {"marketing_consent": 3, "language": 5}, (), do)

    # -- audit (O-02) ----------------------------------------------------------------------------------
    @r.get("/sms/audit", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def audit(request: Request, s: Session,
                    subject: Annotated[str, Query(max_length=200, pattern=r"^[!-~]*$")] = "",
                    action: Annotated[str, Query(max_length=32, pattern=r"^[!-~]*$")] = "",
                    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None) -> Response:
        """What operators did through notify, newest first, with who did it."""
        async def load(s: Session) -> dict[str, Any]:
            return {"audit": await nd.audit(s, page_size, before, subject.strip(), action.strip())}
        return await page(request, s, "notify_audit.html", load, q={"subject": subject, "action": action},
                          before=before)

    return r
