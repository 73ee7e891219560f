"""Console pure parts: paging, labels in both languages, screens per role (O-02), safe redirects, form reading,
and owning services' refusals carried to the page (M-07)."""

from __future__ import annotations

import httpx
import pytest
from console.adapters.upstream import Refusal, Upstream
from console.domain import i18n
from console.domain.paging import paginate
from console.domain.screens import SCREENS, may, menu
from console.entrypoints.http import _safe_next
from vipcore.auth import Role


def test_paginate_clamps_and_counts() -> None:
    rows = list(range(45))
    p = paginate(rows, 1, 20)
    assert (p.rows, p.pages, p.total, p.has_prev, p.has_next) == (list(range(20)), 3, 45, False, True)
    assert paginate(rows, 3, 20).rows == list(range(40, 45))
    assert paginate(rows, 99, 20).number == 3 and paginate(rows, 0, 20).number == 1
    empty = paginate(list[int](), 5, 20)
    assert (empty.pages, empty.number, empty.rows) == (1, 1, [])


def test_every_label_has_both_languages_and_chinese_is_first() -> None:
    assert i18n.pick(None) == "zh" and i18n.pick("fr") == "zh" and i18n.pick("en") == "en"
    assert all(len(pair) == 2 and all(pair) for pair in i18n.TEXT.values())
    assert i18n.translator("zh")("search") == "会员查询"
    assert i18n.translator("en")("page", n=2, of=3, total=41) == "Page 2 of 3, 41 rows"
    assert i18n.translator("en")("no.such.key") == "no.such.key"
    for role in Role:
        assert f"role.{role.value}" in i18n.TEXT


def core(role: Role) -> list[str]:
    """The menu without the loyalty screens (desk, programs: tested in test_loyalty_console.py) and the member-file
    export (exports: tested in test_export.py)."""
    return [m for m in menu(role) if m not in ("desk", "programs", "exports")]


def test_o02_screens_follow_the_members_role_matrix() -> None:
    from members.domain.access import MATRIX

    assert SCREENS["search"] == MATRIX["files.search"]
    assert SCREENS["reviews"] == MATRIX["files.review_queue"]
    assert SCREENS["review.decide"] == MATRIX["files.review"]
    assert core(Role.STORE_MANAGER) == ["dashboard", "search", "aging", "reports", "blacklist", "handovers",
                                        "revisits", "credit", "profile"]
    assert core(Role.STORE_CS_MANAGER) == ["dashboard", "search", "reviews", "adjustments", "aging", "reports",
                                           "blacklist", "deletions", "handovers", "revisits", "credit", "profile"]
    assert core(Role.HQ_CS) == ["dashboard", "search", "reviews", "adjustments", "aging", "reports", "blacklist",
                                "deletions", "handovers", "credit", "profile"]
    assert core(Role.STAFF) == ["search", "handovers", "revisits", "credit", "profile"]
    assert core(Role.AUDITOR) == ["dashboard", "aging", "reports", "credit", "profile"]
    assert not may(Role.POS, "profile")


@pytest.mark.parametrize("nxt,safe", [("/members?x=1", "/members?x=1"), ("//evil.example", "/"),
                                      ("https://evil.example", "/"), ("/\\evil", "/"), ("", "/")])
def test_login_redirects_only_inside_the_console(nxt: str, safe: str) -> None:
    assert _safe_next(nxt) == safe


async def test_m07_refusals_carry_the_owning_services_problem() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/v1/member-files/M1"):
            assert request.headers["authorization"] == "Bearer tok"
            return httpx.Response(403, json={"title": "Not your member", "errors": [
                {"field": "member_id", "message": "another store", "rule": "M-07"}]})
        if request.url.path.endswith("/broken"):
            return httpx.Response(500, text="<html>oops</html>")
        return httpx.Response(200, json={"ok": True})

    up = Upstream({"members": "http://members"}, transport=httpx.MockTransport(answer))
    with pytest.raises(Refusal) as e:
        await up.call("members", "GET", "/v1/member-files/M1", "tok")
    assert (e.value.service, e.value.status, e.value.rules) == ("members", 403, ["M-07"])
    with pytest.raises(Refusal) as e:
        await up.call("members", "GET", "/broken")
    assert e.value.status == 500 and e.value.errors == []
    assert await up.call("members", "GET", "/fine", params={"empty": "", "none": None}) == {"ok": True}
    await up.aclose()


async def test_unreachable_service_is_a_503_refusal() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    up = Upstream({"loyalty": "http://loyalty"}, transport=httpx.MockTransport(down))
    with pytest.raises(Refusal) as e:
        await up.call("loyalty", "GET", "/v1/x")
    assert e.value.status == 503
    await up.aclose()
