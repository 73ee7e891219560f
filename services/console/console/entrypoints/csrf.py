"""Cross-site request forgery protection for every console form (double-submit token, plus an origin check).

A random token lives in its own httponly, SameSite=Strict cookie, set on the first page a browser gets; every form
the console renders carries the same token in a hidden `csrf` field, and every form read (forms.read_form) refuses a
post whose field does not match the cookie. Before any route runs, a POST (or other unsafe method) whose Origin (or,
without one, Referer) is another site is refused outright — so a route that reads no form is covered too. A page on
another site can neither read the cookie nor learn the token, so it cannot post a form in the staff member's name."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

CSRF_COOKIE = "console_csrf"
FIELD = "csrf"
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def token_of(request: Request) -> str:
    """The token of this browser (set by the middleware when it had none)."""
    return str(getattr(request.state, "csrf", "") or request.cookies.get(CSRF_COOKIE, ""))


def matches(request: Request, sent: str) -> bool:
    """The form's token equals the cookie's (constant-time); an absent cookie or field never matches."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and bool(sent) and hmac.compare_digest(cookie.encode(), sent.encode())


def same_origin(request: Request) -> bool:
    """The post comes from a page of this site: its Origin (else Referer) names this host; neither header (an old
    client, a script) is left to the token check."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True
    if source == "null":
        return False  # an opaque origin: a sandboxed frame, a data: or file: page
    return urlsplit(source).netloc.lower() == request.headers.get("host", "").lower()


def refusal_page() -> Response:
    return HTMLResponse("<!doctype html><meta charset=utf-8><title>403</title><p data-refusal=\"403\">"
                        "跨站请求已被拒绝 · Cross-site request refused</p>", status_code=403)


def middleware(cookie_secure: bool) -> Any:
    async def csrf(request: Request, call_next: Any) -> Response:
        if request.method not in SAFE and not same_origin(request):
            return refusal_page()
        fresh = None
        if not request.cookies.get(CSRF_COOKIE) and not request.url.path.startswith("/static"):
            fresh = secrets.token_urlsafe(32)
            request.state.csrf = fresh
        resp: Response = await call_next(request)
        if fresh is not None:
            resp.set_cookie(CSRF_COOKIE, fresh, httponly=True, samesite="strict", secure=cookie_secure, path="/")
        return resp

    return csrf
