"""Notify's edges refuse what they cannot store with 422 problem details naming the field, never a 500
(issue 10: campaign previews and the body purge answered 500 to a fuzzer), and refusals come from the
service layer with the rule (N-01, N-03, N-05)."""

from __future__ import annotations

import uuid
from json import dumps

from devstack.testing import StackConfig

from .support import notify_stack


async def test_bad_input_is_422_problem_details_naming_the_field(stack_config: StackConfig) -> None:
    async with notify_stack(stack_config) as n:
        body = "{{ display_name }}"
        cases = [
            ("POST", "/v1/campaigns/preview", {"segment": {"store_ids": ["S\u0000"]}, "template_body": body},
             "segment.store_ids.0"),
            ("POST", "/v1/campaigns/preview", {"segment": {"last_purchase_after": "0001-01-01T00:00:00+14:00"},
                                               "template_body": body}, "segment.last_purchase_after"),
            ("POST", "/v1/campaigns/preview", {"segment": {"birthday_month": 2**64}, "template_body": body},
             "segment.birthday_month"),
            ("POST", "/v1/campaigns/preview", {"segment": {}, "template_body": "\ud800"}, "template_body"),
            ("POST", "/v1/admin/purge-bodies", {"retention_days": 2**63}, "retention_days"),
            ("POST", "/v1/admin/purge-bodies", {"retention_days": -1}, "retention_days"),
            ("POST", "/v1/admin/purge-bodies", {"retention_days": "30"}, "retention_days"),
            ("PUT", "/v1/members/M1/preferences", {"language": "fr"}, "language"),
            ("PUT", "/v1/templates/tier_changed/en", {"body": "x", "brand": ""}, "brand"),
            ("POST", "/v1/webhooks/simulator/receipts", {"message_id": "", "status": "DELIVERED"}, "message_id"),
            ("GET", "/v1/messages?limit=100000", None, "limit"),
            ("GET", "/v1/messages?member_id=", None, "member_id"),
            ("GET", "/v1/messages?status=nope", None, "status"),
        ]
        for method, path, json, field in cases:
            # json.dumps escapes the lone surrogate as \\ud800, as a client written in another language would send it
            r = await n.admin.request(method, n.url + path, content=None if json is None else dumps(json),
                                      headers={"content-type": "application/json"})
            assert r.status_code == 422, (path, json, r.status_code, r.text)
            assert r.headers["content-type"] == "application/problem+json", path
            assert field in [e["field"] for e in r.json()["errors"]], (path, r.json())


async def test_refusals_name_their_rule(stack_config: StackConfig) -> None:
    async with notify_stack(stack_config) as n:
        r = await n.admin.post(f"{n.url}/v1/messages/{uuid.uuid4()}/retry")
        assert r.status_code == 404 and r.json()["errors"][0]["field"] == "message_id"
        r = await n.admin.put(f"{n.url}/v1/templates/no_such/en", json={"body": "x"})
        assert r.status_code == 422 and r.json()["errors"][0] == {
            "field": "key", "rule": "N-01", "message": r.json()["errors"][0]["message"]}
        r = await n.admin.post(f"{n.url}/v1/campaigns/{uuid.uuid4()}/pause")
        assert r.status_code == 404 and r.json()["errors"][0]["field"] == "campaign_id"
        r = await n.admin.post(f"{n.url}/v1/webhooks/simulator/receipts", json={"message_id": "x", "status": "D"})
        assert r.status_code == 404 and r.json()["errors"][0]["rule"] == "N-05"


async def test_n03_an_opt_out_reply_finds_the_member_however_the_number_is_written(
        stack_config: StackConfig) -> None:
    async with notify_stack(stack_config) as n:
        await n.member("M1", "13900000031")
        r = await n.admin.post(f"{n.url}/v1/webhooks/simulator/inbound", json={"from": "+86 139-0000-0031",
                                                                               "text": "TD"})
        assert r.status_code == 200 and r.json()["opted_out"] == ["M1"]
