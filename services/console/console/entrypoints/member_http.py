"""The member page's sections (issue 12): each an htmx fragment loaded into the page and paged on its own, read
from the service that owns it with the staff member's token (M-07, O-02); a refusal shows in that section only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from vipcore.inputs import Ident

from ..adapters.upstream import Refusal, Upstream
from ..domain.paging import paginate
from ..service import memberpage
from ..service.desk import Session
from .http import HTML, PageNo, Pages

Section = Annotated[str, Path(pattern="^(" + "|".join(memberpage.SECTIONS) + ")$")]
Kind = Annotated[str, Query(pattern="^(|earn|reverse|redeem|expire|adjust)$")]


def router(up: Upstream, pages: Pages, page_size: int) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/members/{member_id}/sections/{name}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded(fragment=True)
    async def member_section(request: Request, s: Session, member_id: Annotated[Ident, Path()], name: Section,
                             page: PageNo = 1, kind: Kind = "",
                             before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None) -> Response:
        """One section of the member page: ledger (paged at loyalty, filter by kind), redemptions, tiers, stored
        value, messages, history (states and cards), revisits and purchases."""
        ctx: dict[str, Any] = {"section": name, "member_id": member_id, "kind": kind}
        try:
            if name == "ledger":
                ctx["ledger"] = await memberpage.ledger(up, s, member_id, page_size, before, kind or None)
            else:
                data = await memberpage.section(up, s, member_id, name)
                ctx["data"] = data
                ctx["page"] = paginate(memberpage.rows_of(name, data), page, page_size)
        except Refusal as e:
            if e.status == 401:
                raise  # the token was refused: log in again (Pages.guarded)
            return pages.fragment(request, "_member_section.html", s, refusal=e, **ctx)  # in this section only
        return pages.fragment(request, "_member_section.html", s, refusal=None, **ctx)

    return r
