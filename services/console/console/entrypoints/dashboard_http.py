"""The dashboard per role (issue 12): tiles from their owning services, each shown only to roles that may read it
(O-02)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ..adapters.upstream import Upstream
from ..service import dashboard
from ..service.desk import Session
from .http import HTML, Pages


def router(up: Upstream, pages: Pages) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/dashboard", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("dashboard")  # O-02: a role with no tile has no dashboard
    async def board(request: Request, s: Session) -> Response:
        """Today's sales and new members per store, the review queue's ages, points liability, stored value owed,
        SMS sent/failed/parked, overdue credit — the tiles of this person's role."""
        tiles = await dashboard.board(up, s)
        if any(t.refusal is not None and t.refusal.status == 401 for t in tiles):
            return pages.to_login(request)
        return pages.render(request, "dashboard.html", s, tiles=tiles)

    return r
