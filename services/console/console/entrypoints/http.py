"""The console's pages: thin routes rendering server-side templates (htmx swaps fragments); every read and
write goes to the owning service with the staff member's token."""

from __future__ import annotations

import functools
import inspect
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from vipcore.http import Problem
from vipcore.inputs import Ident

from ..adapters.upstream import Refusal
from ..domain import i18n
from ..domain.paging import paginate, remote
from ..domain.screens import may, menu
from ..service.desk import Desk, Session
from ..service.memberpage import SECTIONS
from . import csrf
from .forms import read_form

COOKIE = "console_session"
REFRESH_COOKIE = "console_refresh"  # O-03: the members refresh token; the staff token in COOKIE is short-lived
LANG_COOKIE = "console_lang"
HTML: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {}}}}
PageNo = Annotated[int, Query(ge=1, le=100_000)]
Dimension = Annotated[str, Query(pattern="^(customer|staff|store|region)$")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Search = Annotated[str, Query(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")]
Route = TypeVar("Route", bound=Callable[..., Awaitable[Response]])


class Pages:
    """What every page route needs: the session of the cookie, rendering in the user's language with the menu of
    their role (O-02), the way to the login, and an owning service's refusal shown as a page or a fragment. Shared
    by the route modules (http.py, member_http.py, dashboard_http.py, reports_http.py, ops_http.py)."""

    def __init__(self, desk: Desk, templates: Jinja2Templates) -> None:
        self.desk, self.templates = desk, templates

    @staticmethod
    def lang_of(request: Request) -> str:
        return i18n.pick(request.cookies.get(LANG_COOKIE))

    def session_of(self, request: Request) -> Session | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        try:
            return self.desk.session(token)
        except (Problem, Exception):  # noqa: BLE001 - any bad cookie means: log in again
            return None

    def render(self, request: Request, name: str, s: Session | None, status: int = 200, **ctx: Any) -> HTMLResponse:
        lang = self.lang_of(request)
        return self.templates.TemplateResponse(request, name, {
            "t": i18n.translator(lang), "lang": lang, "s": s, "menu": menu(s.who.role) if s else [],
            "may": (lambda screen: may(s.who.role, screen)) if s else (lambda screen: False),
            "csrf": csrf.token_of(request), **ctx},
            status_code=status)

    def fragment(self, request: Request, name: str, s: Session | None, **ctx: Any) -> HTMLResponse:
        """A part of a page that htmx loads into it; opened as a page of its own (the <noscript> link, a bookmark)
        it comes inside the layout, with the menu."""
        if request.headers.get("HX-Request"):
            return self.render(request, name, s, **ctx)
        return self.render(request, "fragment.html", s, fragment=name, **ctx)

    @staticmethod
    def to_login(request: Request) -> RedirectResponse:
        nxt = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        resp = RedirectResponse(f"/login?next={nxt}", status_code=303)
        resp.delete_cookie(COOKIE)
        resp.delete_cookie(REFRESH_COOKIE)
        return resp

    def refused(self, request: Request, s: Session | None, e: Refusal, fragment: bool = False) -> Response:
        if e.status == 401 and s is not None:
            return self.to_login(request)  # the token was refused (revoked: role change or leave, O-03): log in again
        status = e.status if 400 <= e.status < 600 else 502
        if request.headers.get("HX-Request"):
            return self.render(request, "_refusal.html", s, status=200, e=e)  # htmx swaps 2xx only
        if fragment:
            return self.fragment(request, "_refusal.html", s, e=e)  # a fragment opened as a page: in the layout
        return self.render(request, "refused.html", s, status=status, e=e)

    def guarded(self, screen: str | None = None, fragment: bool = False) -> Callable[[Route], Route]:
        """What every page and action route starts and ends with, said once: the route is written as
        `async def page(request: Request, s: Session, ...)` and gets the logged-in person as `s` (FastAPI sees the
        signature without `s`); no session sends to the login; a role without `screen` is refused before the owning
        service is asked (O-02); an owning service's refusal (Refusal) becomes the page's refusal (`refused`) — a
        fragment's in place when `fragment`. Put it under the route decorator: `@r.get(...)` then `@pages.guarded()`.
        """
        def wrap(route: Route) -> Route:
            sig = inspect.signature(route, eval_str=True)
            outer = sig.replace(parameters=[p for name, p in sig.parameters.items() if name != "s"])

            @functools.wraps(route)
            async def guarded_route(request: Request, **kw: Any) -> Response:
                s = self.session_of(request)
                if s is None:
                    return self.to_login(request)
                try:
                    if screen is not None and not may(s.who.role, screen):
                        raise Refusal("console", 403, "not for this role", errors=[
                            {"field": "role", "rule": "O-02", "message": f"{s.who.role.value} does not use this "
                                                                        "screen"}])
                    return await route(request=request, s=s, **kw)
                except Refusal as e:
                    return self.refused(request, s, e, fragment)

            guarded_route.__signature__ = outer  # type: ignore[attr-defined]
            return guarded_route  # type: ignore[return-value]

        return wrap


def router(desk: Desk, templates: Jinja2Templates, page_size: int, cookie_secure: bool,
           programs: tuple[str, ...] = ()) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    pages = Pages(desk, templates)
    session_of, render, refused = pages.session_of, pages.render, pages.refused

    @r.get("/", response_class=RedirectResponse)
    @pages.guarded()
    async def home(request: Request, s: Session) -> Response:
        """Start at the dashboard (or the member search, or the login)."""
        start = next((p for screen, p in (("dashboard", "/dashboard"), ("search", "/members"))
                      if may(s.who.role, screen)), "/profile")
        return RedirectResponse(start, status_code=303)

    @r.get("/login", response_class=HTMLResponse, responses=HTML)
    async def login_page(request: Request, next: Annotated[str, Query(max_length=300)] = "/") -> HTMLResponse:
        """The login form."""
        return render(request, "login.html", None, next=_safe_next(next))

    @r.post("/login", response_class=HTMLResponse, responses=HTML)
    async def login(request: Request) -> Response:
        """Log in through members (O-02); the token goes into an httponly, SameSite=Lax cookie."""
        staff_id, nxt = "", "/"
        try:
            f = await read_form(request, {"staff_id": 64, "password": 200, "next": 300}, ("staff_id", "password"))
            staff_id, nxt = f["staff_id"], f["next"] or "/"
            s = await desk.login(staff_id.strip(), f["password"])
        except Refusal as e:
            if e.service == "members" and e.status in (401, 403, 422):
                return render(request, "login.html", None, status=401, error="login_failed",
                              next=_safe_next(nxt), staff_id=staff_id)
            return refused(request, None, e)
        resp = RedirectResponse(_safe_next(nxt), status_code=303)
        set_session_cookies(resp, s, cookie_secure)
        return resp

    @r.post("/logout", response_class=RedirectResponse)
    async def logout(request: Request) -> Response:
        """Log out (a form with the CSRF token, like every post): members revokes the refresh token at once, so the
        session cannot be renewed from a copied cookie (O-03); then both cookies are dropped. Members unreachable,
        the cookies are dropped all the same (the refresh token then lapses at its expiry)."""
        try:
            await read_form(request, {})
        except Refusal as e:
            return refused(request, session_of(request), e)
        refresh = request.cookies.get(REFRESH_COOKIE)
        if refresh:
            try:
                await desk.logout(refresh)
            except Refusal:
                pass
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        resp.delete_cookie(REFRESH_COOKIE, path="/")
        return resp

    @r.get("/lang/{to}", response_class=RedirectResponse)
    async def switch_language(to: Annotated[str, Path(pattern="^(zh|en)$")],
                              next: Annotated[str, Query(max_length=300)] = "/") -> Response:
        """Chinese first; English on request, remembered in a cookie."""
        resp = RedirectResponse(_safe_next(next), status_code=303)
        resp.set_cookie(LANG_COOKIE, to, max_age=365 * 86400, samesite="lax", secure=cookie_secure, path="/")
        return resp

    @r.get("/profile", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def profile(request: Request, s: Session) -> Response:
        """Who is logged in: staff id, role, store, region (from the signed token)."""
        return render(request, "profile.html", s)

    @r.get("/members", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("search")  # O-02: not an auditor's screen (members' files.search)
    async def search(request: Request, s: Session, card_no: Search = "", mobile: Search = "", name: Search = "",
                     page: PageNo = 1) -> Response:
        """Member search by card, mobile or name; members decides what this person may see (M-07)."""
        asked = bool(card_no.strip() or mobile.strip() or name.strip())
        rows: list[dict[str, Any]] = await desk.search(s, card_no, mobile, name) if asked else []
        ctx: dict[str, Any] = {"q": {"card_no": card_no, "mobile": mobile, "name": name}, "asked": asked,
               "page": paginate(rows, page, page_size)}
        if request.headers.get("HX-Request"):
            return render(request, "_results.html", s, **ctx)
        return render(request, "search.html", s, **ctx)

    @r.get("/members/{member_id}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("search")
    async def member(request: Request, s: Session, member_id: Annotated[Ident, Path()]) -> Response:
        """The member page: the file from members; its sections (ledger, tiers, stored value, redemptions, messages,
        history, revisits) load from their owning services (member_http.py)."""
        file = await desk.member(s, member_id)
        return render(request, "member.html", s, m=file, programs=programs, sections=SECTIONS)

    @r.get("/reviews", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def reviews(request: Request, s: Session, page: PageNo = 1,
                      done: Annotated[str, Query(pattern="^(|approved|sent_back)$")] = "") -> Response:
        """Files waiting for review with their age; overdue flagged (M-04)."""
        q = await desk.review_queue(s, page, page_size)
        return render(request, "reviews.html", s, page=remote(q["items"], page, page_size, int(q.get("total", 0))),
                      done=done)

    @r.post("/reviews/{member_id}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def decide(request: Request, s: Session, member_id: Annotated[Ident, Path()]) -> Response:
        """Approve or send back with a reason; members decides whether this person may (M-04)."""
        f = await read_form(request, {"decision": 10, "note": 500}, ("decision",))
        approve = f["decision"] == "approve"
        if not approve and f["decision"] != "reject":
            raise Refusal("console", 422, "invalid form", errors=[{"field": "decision",
                                                                  "message": "approve or reject"}])
        await desk.review(s, member_id, approve, f["note"])
        return RedirectResponse(f"/reviews?done={'approved' if approve else 'sent_back'}", status_code=303)

    @r.post("/members/{member_id}/adjustments", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def request_adjustment(request: Request, s: Session, member_id: Annotated[Ident, Path()]) -> Response:
        """Ask loyalty for a points adjustment on this member; a second person approves it (L-02, M-18)."""
        f = await read_form(request, {"program": 32, "points": 12, "reason": 500, "receipt_no": 64},
                            ("program", "points", "reason"))
        if not re.fullmatch(r"[+-]?\d{1,9}", f["points"].strip()):
            raise Refusal("console", 422, "invalid form", errors=[{"field": "points", "message": "a whole number",
                                                                  "rule": "L-02"}])
        await desk.request_adjustment(s, member_id, f["program"].strip(), int(f["points"]), f["reason"].strip(),
                                      f["receipt_no"].strip())
        return RedirectResponse("/adjustments?done=requested", status_code=303)

    @r.get("/adjustments", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def adjustments(request: Request, s: Session, page: PageNo = 1,
                          done: Annotated[str, Query(pattern="^(|requested|adj_approved|rejected)$")] = "") -> Response:
        """Points adjustments waiting for a second person (L-02)."""
        items = await desk.adjustments(s)
        return render(request, "adjustments.html", s, page=paginate(items, page, page_size), done=done)

    @r.post("/adjustments/{adjustment_id}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def decide_adjustment(request: Request, s: Session, adjustment_id: Annotated[uuid.UUID, Path()]) -> Response:
        """Approve or reject an adjustment; loyalty refuses the person who asked for it (L-02)."""
        f = await read_form(request, {"decision": 10}, ("decision",))
        await desk.decide_adjustment(s, str(adjustment_id), f["decision"] == "approve")
        return RedirectResponse(f"/adjustments?done={'adj_approved' if f['decision'] == 'approve' else 'rejected'}",
                                status_code=303)

    @r.get("/reports/aging", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def aging(request: Request, s: Session, by: Dimension = "customer", page: PageNo = 1) -> Response:
        """Receivables aging from credit, per customer / staff / store / region (C-07)."""
        report = await desk.aging(s, by)
        return render(request, "aging.html", s, report=report, by=by,
                      page=paginate(report.get("rows", []), page, page_size))

    @r.get("/reports/aging.{fmt}", response_class=Response,
           responses={200: {"content": {XLSX: {}, "text/csv": {}}}})
    @pages.guarded()
    async def aging_file(request: Request, s: Session, fmt: Annotated[str, Path(pattern="^(xlsx|csv)$")],
                         by: Dimension = "customer") -> Response:
        """The aging workbook or CSV as credit makes it, downloaded through the console (C-07)."""
        content, ctype, disposition = await desk.aging_file(s, fmt, by)
        return Response(content, media_type=ctype, headers={"Content-Disposition": disposition})

    return r


def set_session_cookies(resp: Response, s: Session, secure: bool) -> None:
    """The staff token and the refresh token, each in an httponly, SameSite=Lax cookie."""
    resp.set_cookie(COOKIE, s.token, httponly=True, samesite="lax", secure=secure, path="/")
    if s.refresh_token:
        resp.set_cookie(REFRESH_COOKIE, s.refresh_token, httponly=True, samesite="lax", secure=secure, path="/")


def session_renewal(desk: Desk, cookie_secure: bool, renew_before_s: float) -> Any:
    """HTTP middleware renewing the staff token transparently (O-03): when it expires within `renew_before_s` (or
    is gone) and a refresh token is there, members answers a new pair before the page runs; the page sees the new
    token and the browser gets both cookies. A refused refresh (the person left or changed role) ends the session."""
    async def renew(request: Request, call_next: Any) -> Response:
        refresh = request.cookies.get(REFRESH_COOKIE)
        token = request.cookies.get(COOKIE)
        if not refresh or request.url.path.startswith("/static") or request.url.path == "/logout" or \
                (token and not desk.expiring(token, renew_before_s)):  # logout revokes the refresh token as it is
            return await call_next(request)
        try:
            s: Session | None = await desk.refresh(refresh)
        except (Refusal, Problem):
            s = None
        jar = {k: v for k, v in request.cookies.items() if k not in (COOKIE, REFRESH_COOKIE)}
        if s is not None:
            jar[COOKIE] = s.token
        headers = [(k, v) for k, v in request.scope["headers"] if k != b"cookie"]
        if jar:
            headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in jar.items()).encode()))
        request.scope["headers"] = headers
        resp: Response = await call_next(request)
        if s is not None:
            set_session_cookies(resp, s, cookie_secure)
        else:
            resp.delete_cookie(COOKIE, path="/")
            resp.delete_cookie(REFRESH_COOKIE, path="/")
        return resp

    return renew


def _safe_next(nxt: str) -> str:
    """Only a path on this site (no open redirect)."""
    return nxt if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt else "/"

