"""Provider adapters against recorded request/response examples (N-05 transient vs permanent; settings pick)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
from notify.adapters.providers import SimulatorProvider, TwilioProvider, make_provider

FX = json.loads((Path(__file__).parent / "fixtures" / "twilio.json").read_text())


def twilio(handler: object) -> TwilioProvider:
    client = httpx.AsyncClient(base_url="https://api.twilio.com", transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    return TwilioProvider(FX["account_sid"], FX["auth_token"], from_="+15557122661", client=client)


async def test_n05_twilio_send_matches_the_documented_request_and_reads_the_sid() -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(201, json=FX["send_response_201"])

    r = await twilio(handler).send(to="13812345678", body="Hi there", sender="金缘珠宝", idempotency_key="k" * 8)
    assert r.ok and r.provider_message_id == FX["send_response_201"]["sid"]
    (req,) = seen
    want = FX["send_request"]
    assert req.method == want["method"] and str(req.url) == want["url"]
    assert req.headers["content-type"] == want["content_type"]
    assert dict(parse_qsl(req.content.decode())) == want["form"]
    user, token = base64.b64decode(req.headers["authorization"].split()[1]).decode().split(":")
    assert (user, token) == (FX["account_sid"], FX["auth_token"])


@pytest.mark.parametrize(("status", "fixture", "transient"), [(400, "send_response_400", False),
                                                              (429, "send_response_429", True)])
async def test_n05_twilio_errors_are_told_apart_transient_or_permanent(status: int, fixture: str,
                                                                      transient: bool) -> None:
    p = twilio(lambda req: httpx.Response(status, json=FX[fixture]))
    r = await p.send(to="13812345678", body="x", sender="s", idempotency_key="k" * 8)
    assert not r.ok and r.transient is transient and str(FX[fixture]["code"]) in (r.error or "")


async def test_n05_network_error_is_transient() -> None:
    def boom(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    r = await twilio(boom).send(to="13812345678", body="x", sender="s", idempotency_key="k" * 8)
    assert not r.ok and r.transient


@pytest.mark.parametrize("example", ["signature_example", "signature_example_sdk"])
def test_n05_twilio_webhook_signature_matches_the_documented_example(example: str) -> None:
    ex = FX[example]
    p = TwilioProvider("AC1", ex["auth_token"], from_="+1")
    assert p.signature(ex["url"], ex["params"]) == ex["signature"]
    assert p.verify(ex["url"], ex["params"], ex["signature"])
    assert not p.verify(ex["url"], {**ex["params"], "Digits": "9999"}, ex["signature"])


def test_n05_twilio_status_callback_and_n03_inbound_reply_are_parsed() -> None:
    rec = TwilioProvider.receipt(FX["status_callback"])
    assert rec is not None and rec.delivered and rec.provider_message_id == FX["status_callback"]["MessageSid"]
    assert TwilioProvider.receipt({**FX["status_callback"], "MessageStatus": "sent"}) is None  # not final
    msg = TwilioProvider.inbound(FX["inbound"])
    assert (msg.from_mobile, msg.text) == ("13812345678", "STOP")


def test_provider_is_chosen_by_settings() -> None:
    assert isinstance(make_provider("simulator", simulator_url="http://x"), SimulatorProvider)
    assert isinstance(make_provider("twilio", simulator_url="", twilio_account_sid="AC1", twilio_auth_token="t",
                                    twilio_from="+1"), TwilioProvider)
    with pytest.raises(ValueError, match="TWILIO_ACCOUNT_SID"):
        make_provider("twilio", simulator_url="")
    with pytest.raises(ValueError, match="not known"):
        make_provider("carrier-pigeon", simulator_url="")
