"""SMS provider adapters behind one interface; chosen by settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_message_id: str | None = None
    transient: bool = False
    error: str | None = None


class SmsProvider(Protocol):
    async def send(self, *, to: str, body: str, sender: str, idempotency_key: str) -> SendResult: ...

    async def close(self) -> None: ...


class SimulatorProvider:
    """The local SMS-gateway simulator (devstack.smssim); dedupes on the idempotency key like real gateways."""

    def __init__(self, base_url: str, client: httpx.AsyncClient | None = None) -> None:
        self.client = client or httpx.AsyncClient(base_url=base_url, timeout=5.0,
                                                  limits=httpx.Limits(max_connections=128))

    async def send(self, *, to: str, body: str, sender: str, idempotency_key: str) -> SendResult:
        try:
            r = await self.client.post("/v1/sms", json={"to": to, "body": body, "sender": sender,
                                                         "idempotency_key": idempotency_key})
        except httpx.HTTPError as e:
            return SendResult(False, transient=True, error=f"{type(e).__name__}: {e}")
        if r.status_code == 200:
            return SendResult(True, r.json()["message_id"])
        transient = r.status_code in (408, 429) or r.status_code >= 500
        return SendResult(False, transient=transient, error=f"HTTP {r.status_code}: {r.text[:200]}")

    async def close(self) -> None:
        await self.client.aclose()


def make_provider(name: str, *, simulator_url: str) -> SmsProvider:
    if name == "simulator":
        return SimulatorProvider(simulator_url)
    raise ValueError(f"SMS_PROVIDER={name!r} is not known; use 'simulator'")
