"""The member page's sections (issue 12): the ledger paged at loyalty by entry id with a kind filter, the other
sections' rows picked out of their owning services' answers, each asked with the staff member's token."""

from __future__ import annotations

import httpx
import pytest
from console.adapters.upstream import Upstream
from console.service import memberpage
from console.service.desk import Session
from vipcore.auth import Principal, Role

S = Session("tok", Principal("H-1", None, None, Role.HQ_CS))


async def test_ledger_pages_at_loyalty_by_entry_id_and_filters_by_kind() -> None:
    asked: list[dict[str, str]] = []

    def loyalty(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer tok"
        q = dict(request.url.params)
        asked.append(q)
        top = int(q.get("before", 13))
        ids = [i for i in range(top - 1, 0, -1)][: int(q["limit"])]
        return httpx.Response(200, json={"member_id": "M1", "entries": [{"id": i, "kind": "earn"} for i in ids]})

    up = Upstream({"loyalty": "http://loyalty"}, transport=httpx.MockTransport(loyalty))
    first = await memberpage.ledger(up, S, "M1", 5, None, "earn")
    assert [e["id"] for e in first.entries] == [12, 11, 10, 9, 8] and first.next_before == 8
    assert asked[0] == {"limit": "6", "kind": "earn"}  # one more than a page: is there another?
    last = await memberpage.ledger(up, S, "M1", 5, 3, None)
    assert [e["id"] for e in last.entries] == [2, 1] and last.next_before is None and last.before == 3
    assert asked[1] == {"limit": "6", "before": "3"}
    await up.aclose()


def test_each_section_lists_its_rows() -> None:
    hist = {"events": [{"event": "opened"}], "cards": [], "revisits": [{"summary": "x"}], "consumptions": []}
    assert memberpage.rows_of("history", hist) == [{"event": "opened"}]
    assert memberpage.rows_of("revisits", hist) == [{"summary": "x"}]
    assert memberpage.rows_of("tiers", {"accounts": [], "changes": [{"to_tier": "vip"}]}) == [{"to_tier": "vip"}]
    assert memberpage.rows_of("stored_value", {"balances": {}, "entries": [1]}) == [1]
    assert memberpage.rows_of("messages", [{"m": 1}]) == [{"m": 1}]
    with pytest.raises(KeyError):
        memberpage.rows_of("nope", {})
