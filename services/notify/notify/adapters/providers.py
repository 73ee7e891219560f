"""SMS provider adapters behind one interface; chosen by settings (SMS_PROVIDER).

- simulator: the local SMS-gateway simulator (devstack.smssim), dedupes on the idempotency key;
- twilio: Twilio Programmable Messaging (POST /2010-04-01/Accounts/{sid}/Messages.json, HTTP basic auth,
  form fields To/From/Body/StatusCallback); webhooks signed with X-Twilio-Signature (HMAC-SHA1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Protocol

import httpx


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_message_id: str | None = None
    transient: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Receipt:
    """A delivery report (N-05): delivered or not, by the provider's message id."""

    provider_message_id: str
    delivered: bool
    error: str | None = None


@dataclass(frozen=True)
class Inbound:
    """A reply from a handset (N-03 opt-out words)."""

    from_mobile: str
    text: str


class SmsProvider(Protocol):
    name: str

    async def send(self, *, to: str, body: str, sender: str, idempotency_key: str) -> SendResult: ...

    async def close(self) -> None: ...


def _transient(status: int) -> bool:
    return status in (408, 429) or status >= 500


class SimulatorProvider:
    """The local SMS-gateway simulator; dedupes on the idempotency key like real gateways."""

    name = "simulator"

    def __init__(self, base_url: str, client: httpx.AsyncClient | None = None) -> None:
        self.client = client or httpx.AsyncClient(base_url=base_url, timeout=10.0,
                                                  limits=httpx.Limits(max_connections=128,
                                                                      max_keepalive_connections=128))

    async def send(self, *, to: str, body: str, sender: str, idempotency_key: str) -> SendResult:
        try:
            r = await self.client.post("/v1/sms", json={"to": to, "body": body, "sender": sender,
                                                         "idempotency_key": idempotency_key})
        except httpx.HTTPError as e:
            return SendResult(False, transient=True, error=f"{type(e).__name__}: {e}")
        if r.status_code == 200:
            return SendResult(True, r.json()["message_id"])
        return SendResult(False, transient=_transient(r.status_code), error=f"HTTP {r.status_code}: {r.text[:200]}")

    async def send_batch(self, items: list[tuple[str, str, str, str]]) -> list[SendResult]:
        """Many (to, body, sender, idempotency key) in one request: bulk campaigns."""
        try:
            r = await self.client.post("/v1/sms/batch", json={"messages": [
                {"to": to, "body": body, "sender": sender, "idempotency_key": key}
                for to, body, sender, key in items]})
        except httpx.HTTPError as e:
            return [SendResult(False, transient=True, error=f"{type(e).__name__}: {e}")] * len(items)
        if r.status_code == 200:
            return [SendResult(True, x["message_id"]) for x in r.json()["results"]]
        err = SendResult(False, transient=_transient(r.status_code), error=f"HTTP {r.status_code}: {r.text[:200]}")
        return [err] * len(items)

    @staticmethod
    def receipt(payload: dict[str, str]) -> Receipt:
        return Receipt(payload["message_id"], payload["status"].upper() == "DELIVERED", payload.get("error"))

    @staticmethod
    def inbound(payload: dict[str, str]) -> Inbound:
        return Inbound(payload["from"], payload["text"])

    async def close(self) -> None:
        await self.client.aclose()


# Twilio error codes that will not get better by retrying (invalid or unreachable number, opted out, ...)
TWILIO_PERMANENT = {21211, 21408, 21610, 21612, 21614, 30003, 30004, 30005, 30006, 30007}


class TwilioProvider:
    """Twilio Messages API. Twilio has no idempotency key on message creation: a send whose answer was lost
    is sent again (at-least-once towards the handset there), unlike the simulator."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, *, from_: str, status_callback: str | None = None,
                 base_url: str = "https://api.twilio.com", client: httpx.AsyncClient | None = None) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_ = from_
        self.status_callback = status_callback
        self.client = client or httpx.AsyncClient(base_url=base_url, timeout=10.0)

    def request(self, *, to: str, body: str) -> httpx.Request:
        form = {"To": to if to.startswith("+") else "+86" + to, "From": self.from_, "Body": body}
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        basic = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return self.client.build_request(
            "POST", f"/2010-04-01/Accounts/{self.account_sid}/Messages.json", data=form,
            headers={"Authorization": f"Basic {basic}"})

    async def send(self, *, to: str, body: str, sender: str, idempotency_key: str) -> SendResult:
        try:
            r = await self.client.send(self.request(to=to, body=body))
        except httpx.HTTPError as e:
            return SendResult(False, transient=True, error=f"{type(e).__name__}: {e}")
        if r.status_code in (200, 201):
            return SendResult(True, r.json()["sid"])
        try:
            err = r.json()
            code, message = int(err.get("code") or 0), err.get("message", "")
        except ValueError:
            code, message = 0, r.text[:200]
        transient = _transient(r.status_code) and code not in TWILIO_PERMANENT
        return SendResult(False, transient=transient, error=f"HTTP {r.status_code} Twilio {code}: {message}")

    def signature(self, url: str, params: dict[str, str]) -> str:
        """X-Twilio-Signature: base64(HMAC-SHA1(auth token, url + each param name+value sorted by name))."""
        s = url + "".join(k + params[k] for k in sorted(params))
        return base64.b64encode(hmac.new(self.auth_token.encode(), s.encode(), hashlib.sha1).digest()).decode()

    def verify(self, url: str, params: dict[str, str], signature: str) -> bool:
        return hmac.compare_digest(self.signature(url, params), signature)

    @staticmethod
    def receipt(params: dict[str, str]) -> Receipt | None:
        """Status callback: MessageSid + MessageStatus; only final statuses count."""
        status = params.get("MessageStatus", "")
        if status not in ("delivered", "undelivered", "failed"):
            return None
        return Receipt(params["MessageSid"], status == "delivered", params.get("ErrorCode"))

    @staticmethod
    def inbound(params: dict[str, str]) -> Inbound:
        mobile = params["From"]
        return Inbound(mobile[3:] if mobile.startswith("+86") else mobile, params.get("Body", ""))

    async def close(self) -> None:
        await self.client.aclose()


def make_provider(name: str, *, simulator_url: str, twilio_account_sid: str = "", twilio_auth_token: str = "",
                  twilio_from: str = "", status_callback: str | None = None) -> SimulatorProvider | TwilioProvider:
    if name == "simulator":
        return SimulatorProvider(simulator_url)
    if name == "twilio":
        if not (twilio_account_sid and twilio_auth_token and twilio_from):
            raise ValueError("SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM")
        return TwilioProvider(twilio_account_sid, twilio_auth_token, from_=twilio_from,
                              status_callback=status_callback)
    raise ValueError(f"SMS_PROVIDER={name!r} is not known; use 'simulator' or 'twilio'")
