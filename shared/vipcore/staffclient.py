"""A staff login for operator tools (imports, DLQ redrive, demo): `httpx` auth that logs in through members, sends
the short-lived staff token and renews it with the refresh token before it expires (docs/architecture.md
"Identity")."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import httpx


class StaffLoginFailed(Exception):
    """members refused the login (wrong id/password, left) or could not be reached."""


class StaffAuth(httpx.Auth):
    """`httpx.Client(auth=StaffAuth(members_url, staff_id, password))`: works with sync and async clients."""

    requires_response_body = True

    def __init__(self, members_url: str, staff_id: str, password: str, renew_before_s: float = 60) -> None:
        self.members_url = members_url.rstrip("/")
        self.staff_id = staff_id
        self.password = password
        self.renew_before_s = renew_before_s
        self.token: str | None = None
        self.refresh_token: str | None = None
        self.expires_at = 0.0

    def _take(self, body: dict[str, Any]) -> None:
        self.token = str(body["token"])
        self.refresh_token = str(body["refresh_token"])
        self.expires_at = time.time() + float(body.get("expires_in", 600))

    def _renew(self) -> Generator[httpx.Request, httpx.Response, None]:
        if self.refresh_token is not None:
            r = yield httpx.Request("POST", f"{self.members_url}/v1/auth/token:refresh",
                                    json={"refresh_token": self.refresh_token})
            if r.status_code == 200:
                self._take(r.json())
                return
            self.refresh_token = None
        r = yield httpx.Request("POST", f"{self.members_url}/v1/auth/login",
                                json={"staff_id": self.staff_id, "password": self.password})
        if r.status_code != 200:
            raise StaffLoginFailed(f"members refused the login of {self.staff_id}: {r.status_code} {r.text[:300]}")
        self._take(r.json())

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is None or self.expires_at - time.time() < self.renew_before_s:
            yield from self._renew()
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:  # revoked or expired early: one more try with a fresh token
            self.token = None
            yield from self._renew()
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request
