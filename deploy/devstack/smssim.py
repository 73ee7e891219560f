"""Local SMS-gateway simulator: records every message, dedupes on idempotency key, can be told to fail.

Run: python -m devstack.smssim --port 8009. It stands in for a real SMS provider in the demo and tests.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field


class SmsIn(BaseModel):
    to: str = Field(pattern=r"^1[3-9]\d{9}$")
    body: str = Field(min_length=1, max_length=1000)
    sender: str
    idempotency_key: str = Field(min_length=8, max_length=128)


class BatchIn(BaseModel):
    messages: list[SmsIn] = Field(min_length=1, max_length=1000)


class ReceiptsIn(BaseModel):
    url: str | None = Field(None, description="where delivery receipts are POSTed; null stops them")
    headers: dict[str, str] = Field(default_factory=dict)
    status: str = Field("DELIVERED", pattern="^(DELIVERED|UNDELIVERED)$")


class FailIn(BaseModel):
    count: int = Field(1, ge=0, description="how many next requests fail")
    status: int = Field(503, ge=400, le=599)
    latency_ms: int = Field(0, ge=0, le=10000, description="added to every request")


def build_app() -> FastAPI:
    app = FastAPI(title="SMS gateway simulator")
    by_key: dict[str, dict[str, Any]] = {}
    log: list[dict[str, Any]] = []
    state = {"fail_count": 0, "fail_status": 503, "latency_ms": 0, "failed": 0, "duplicates": 0}
    receipts: dict[str, Any] = {"url": None, "headers": {}, "status": "DELIVERED"}
    pending: set[asyncio.Task[Any]] = set()

    async def send_receipt(message_id: str) -> None:
        import httpx

        async with httpx.AsyncClient(timeout=5) as c:
            for _ in range(40):  # like real gateways: receipts retried until the callback answers 2xx
                try:
                    r = await c.post(receipts["url"], headers=receipts["headers"],
                                     json={"message_id": message_id, "status": receipts["status"]})
                    if r.status_code < 300:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)

    def accept(sms: SmsIn) -> dict[str, Any]:
        prior = by_key.get(sms.idempotency_key)
        if prior is not None:
            state["duplicates"] += 1
            return {"message_id": prior["message_id"], "duplicate": True}
        rec = {"message_id": uuid.uuid4().hex, "to": sms.to, "body": sms.body, "sender": sms.sender,
               "idempotency_key": sms.idempotency_key, "received_at": time.time()}
        by_key[sms.idempotency_key] = rec
        log.append(rec)
        if receipts["url"]:
            t = asyncio.create_task(send_receipt(str(rec["message_id"])))
            pending.add(t)
            t.add_done_callback(pending.discard)
        return {"message_id": rec["message_id"], "duplicate": False}

    @app.post("/v1/sms")
    async def send(sms: SmsIn) -> JSONResponse:
        """Accept one SMS; the same idempotency key is accepted once and answered again after."""
        if state["latency_ms"]:
            await asyncio.sleep(state["latency_ms"] / 1000)
        if state["fail_count"] > 0:
            state["fail_count"] -= 1
            state["failed"] += 1
            return JSONResponse({"error": "injected failure"}, status_code=state["fail_status"])
        return JSONResponse(accept(sms))

    @app.post("/v1/sms/batch")
    async def send_batch(batch: BatchIn) -> JSONResponse:
        """Accept up to 1000 SMS in one request (bulk campaigns); each deduped on its idempotency key."""
        if state["latency_ms"]:
            await asyncio.sleep(state["latency_ms"] / 1000)
        if state["fail_count"] > 0:
            state["fail_count"] -= 1
            state["failed"] += 1
            return JSONResponse({"error": "injected failure"}, status_code=state["fail_status"])
        return JSONResponse({"results": [accept(m) for m in batch.messages]})

    @app.post("/admin/receipts")
    async def set_receipts(r: ReceiptsIn) -> dict[str, Any]:
        """Call `url` back with a delivery receipt for every message accepted from now on."""
        receipts.update(url=r.url, headers=r.headers, status=r.status)
        return {"url": r.url, "status": r.status}

    @app.get("/v1/messages")
    async def messages(to: str | None = None, limit: int = 1000) -> dict[str, Any]:
        """Messages received, oldest first."""
        items = [m for m in log if to is None or m["to"] == to]
        return {"count": len(items), "messages": items[-limit:]}

    @app.get("/v1/stats")
    async def stats() -> dict[str, int]:
        return {"accepted": len(log), "duplicates": state["duplicates"], "failed": state["failed"]}

    @app.post("/admin/fail")
    async def fail(f: FailIn) -> dict[str, int]:
        """Make the next `count` requests fail with `status` (and add latency)."""
        state.update(fail_count=f.count, fail_status=f.status, latency_ms=f.latency_ms)
        return {"fail_count": f.count}

    @app.post("/admin/reset")
    async def reset() -> dict[str, str]:
        by_key.clear()
        log.clear()
        state.update(fail_count=0, latency_ms=0, failed=0, duplicates=0)
        receipts.update(url=None, headers={}, status="DELIVERED")
        return {"status": "reset"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    import uvicorn

    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8009)
    a = ap.parse_args()
    uvicorn.run(build_app(), host=a.host, port=a.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
