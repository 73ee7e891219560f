"""O-02: the role matrix is data; every role × every staff endpoint is allowed, or 403. O-03: scrypt passwords."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from members.domain.access import MATRIX, REQUEST_KINDS, routed_to, sees
from members.domain.handover import FILE_STEPS, STEPS
from members.domain.passwords import hash_password, verify_password
from members.entrypoints import desk_http, proofs_http, staff_http
from vipcore.auth import Principal, Role, TokenIssuer, TokenVerifier, new_keypair
from vipcore.http import Problem, install_problem_handlers

PRIV, PUB = new_keypair()
# (method, path, action, body): one row per staff endpoint
ENDPOINTS = [
    ("POST", "/v1/member-files", "files.create", {"full_name": "王建国", "mobile": "13800138000"}),
    ("PATCH", "/v1/member-files/M1", "files.update", {}),
    ("GET", "/v1/member-files/M1", "files.read", None),
    ("GET", "/v1/member-files", "files.search", None),
    ("GET", "/v1/member-files:export", "files.export", None),
    ("POST", "/v1/member-files/M1/review", "files.review", {"decision": "approve"}),
    ("POST", "/v1/member-files/M1/merge", "files.merge", {"duplicate_member_id": "M2", "referrer_staff_id": "S1",
                                                          "reason": "same customer"}),
    ("GET", "/v1/review-queue", "files.review_queue", None),
    ("POST", "/v1/member-files/M1/card:report-lost", "cards.report_lost", None),
    ("POST", "/v1/blacklist", "blacklist.add", {"mobile": "13800138000", "full_name": "王建国", "reason": "闹事"}),
    ("GET", "/v1/access-log", "access_log.read", None),
    ("GET", "/v1/spot-check", "files.spot_check", None),
]
RAISE = {"accounts": {"reason": "new hire"}, "deletions": {"reason": "asked"},
         "grants": {"reason": "covering", "member_id": "M1"}}
ENDPOINTS += [(m, f"/v1/{k.collection}{suffix}", f"{k.prefix}.{action}", body)
              for k in REQUEST_KINDS
              for m, suffix, action, body in (("POST", "", "request", RAISE[k.prefix]), ("GET", "", "queue", None),
                                              ("POST", "/R1/decision", "decide", {"decision": "approve"}))]
ENDPOINTS += [("POST", "/v1/handovers", "handovers.request", {"from_staff_id": "S1", "to_staff_id": "S2",
                                                              "type": "same_position", "reason": "resigned"}),
              ("GET", "/v1/handovers/H1", "handovers.read", None)]
ENDPOINTS += [("POST", f"/v1/handovers/H1/{s.name}", s.action, {}) for s in STEPS.values()]
ENDPOINTS += [("POST", f"/v1/handovers/H1/files/M1/{s.name}", s.action, {}) for s in FILE_STEPS.values()]
ENDPOINTS += [("POST", "/v1/member-files/M1/revisits", "revisits.log", {"summary": "called"}),
              ("GET", "/v1/revisits/plan", "revisits.plan", None),
              ("POST", "/v1/prospects", "prospects.create", {"full_name": "王建国", "mobile": "13800138000",
                                                             "intent": "H"}),
              ("GET", "/v1/kpi?period=2026-11", "kpi.read", None),
              ("GET", "/v1/stats/today", "stats.today", None),
              ("PUT", "/v1/reviewer-leave", "reviewers.leave", {"delegate_staff_id": "H2",
                                                                "until": "2026-12-01T00:00:00Z"}),
              ("DELETE", "/v1/reviewer-leave", "reviewers.leave", None),
              ("PUT", "/v1/member-files/M1/pin", "pins.set", {"pin": "482913"})]  # L-07, L-11
ENDPOINTS += [("GET", "/v1/blacklist", "blacklist.read", None),  # the console's member-file desk (desk_http)
              ("POST", "/v1/blacklist/7/lift", "blacklist.lift", {"reason": "listed by mistake"}),
              ("GET", "/v1/member-files/M1/changes", "files.read", None),
              ("GET", "/v1/member-files/M1/duplicates", "files.duplicates", None)]


class Reached:
    """Stands in for the service: any call proves the role check let the request through."""

    def __getattr__(self, name: str) -> Any:
        async def called(*a: Any, **k: Any) -> Any:
            raise Problem(418, "Reached the service")
        return called


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(staff_http.router(Reached(), Reached(), TokenVerifier(PUB), Reached(),  # type: ignore[arg-type]
                                      Reached(), Reached(), Reached(), Reached()))  # type: ignore[arg-type]
    app.include_router(proofs_http.staff_router(Reached(), TokenVerifier(PUB)))  # type: ignore[arg-type]
    app.include_router(desk_http.router(Reached(), TokenVerifier(PUB)))  # type: ignore[arg-type]
    return TestClient(app)


def test_o02_every_endpoint_is_in_the_matrix() -> None:
    assert {a for _, _, a, _ in ENDPOINTS} == set(MATRIX)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("method", "path", "action", "body"), ENDPOINTS)
def test_o02_role_matrix_allows_or_403(client: TestClient, role: Role, method: str, path: str, action: str,
                                       body: Any) -> None:
    token = TokenIssuer(PRIV).issue(Principal("S1", "XA-001", "755", role))
    r = client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
    if role in MATRIX[action]:
        assert r.status_code == 418, r.text  # the role check let it through to the service
    else:
        assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "O-02"


def test_o02_no_token_is_401(client: TestClient) -> None:
    assert client.get("/v1/review-queue").status_code == 401


def test_m07_staff_see_own_members_managers_their_store_hq_all() -> None:
    own = Principal("S1", "XA-001", "755", Role.STAFF)
    assert sees(own, "XA-001", "S1") and not sees(own, "XA-001", "S2") and not sees(own, "XA-002", "S1")
    mgr = Principal("S9", "XA-001", "755", Role.STORE_MANAGER)
    assert sees(mgr, "XA-001", "S2") and not sees(mgr, "XA-002", "S2")
    assert sees(Principal("H1", None, None, Role.HQ_CS), "XA-002", "S2")
    assert not sees(Principal("A1", None, None, Role.AUDITOR), "XA-001", "S1")


def test_o03_passwords_are_scrypt_hashed_and_salted() -> None:
    h1, h2 = hash_password("correct horse"), hash_password("correct horse")
    assert h1.startswith("scrypt$") and h1 != h2 and "correct" not in h1
    assert verify_password("correct horse", h1) and not verify_password("wrong horse", h1)


def test_o03_items_of_a_reviewer_on_leave_route_to_the_delegate() -> None:
    assert routed_to("H1", {}) == "H1" and routed_to(None, {"H1": "H2"}) is None
    assert routed_to("H1", {"H1": "H2"}) == "H2"
    assert routed_to("H1", {"H1": "H2", "H2": "H3"}) == "H3"  # the delegate is away too
    assert routed_to("H1", {"H1": "H2", "H2": "H1"}) == "H1"  # a loop: back to the assigned reviewer
