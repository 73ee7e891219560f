"""The owning services' HTTP APIs, called with the logged-in staff member's token (never their databases)."""

from __future__ import annotations

from typing import Any

import httpx


class Refusal(Exception):
    """An owning service said no (4xx/5xx problem+json) or could not be reached; shown to the user as is."""

    def __init__(self, service: str, status: int, title: str, detail: str = "",
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{service} {status} {title}: {detail}")
        self.service, self.status, self.title, self.detail = service, status, title, detail
        self.errors = errors or []

    @property
    def rules(self) -> list[str]:
        return sorted({str(e["rule"]) for e in self.errors if e.get("rule")})


# a pooled keep-alive connection the service closed just as it was reused (uvicorn closes idle ones after 5 s): the
# request never reached a route, so a GET is sent once more on a fresh connection instead of showing a 503
STALE = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


class Upstream:
    """One pooled HTTP client for the four owning services."""

    def __init__(self, urls: dict[str, str], timeout_s: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls = {k: v.rstrip("/") for k, v in urls.items()}
        self.client = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """The request; a GET whose pooled connection turned out closed (STALE) is sent once more."""
        try:
            return await self.client.request(method, url, **kw)
        except STALE:
            if method != "GET":
                raise  # not idempotent: the service may have acted; shown as unavailable, never repeated
            return await self.client.request(method, url, **kw)

    async def download(self, service: str, path: str, token: str, params: dict[str, Any]) -> httpx.Response:
        """A file answer (XLSX, CSV) passed through as the owning service made it, or Refusal."""
        try:
            r = await self._request("GET", self.urls[service] + path, params=params,
                                    headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as e:
            raise Refusal(service, 503, "unavailable", type(e).__name__) from None
        if r.status_code >= 400:
            raise _refusal(service, r)
        return r

    async def stream(self, service: str, path: str, token: str) -> httpx.Response:
        """A long file answer (a member-file export) opened for streaming: the caller reads `aiter_bytes()` and
        closes it; a refusal is read whole and raised as Refusal."""
        try:
            r = await self.client.send(self.client.build_request(
                "GET", self.urls[service] + path, headers={"Authorization": f"Bearer {token}"}), stream=True)
        except httpx.HTTPError as e:
            raise Refusal(service, 503, "unavailable", type(e).__name__) from None
        if r.status_code >= 400:
            await r.aread()
            await r.aclose()
            raise _refusal(service, r)
        return r

    async def post_bytes(self, service: str, path: str, token: str, content: bytes, params: dict[str, Any],
                         content_type: str = "application/octet-stream") -> Any:
        """POST a file's bytes as the body (a spreadsheet to import); the JSON answer, or Refusal."""
        try:
            r = await self.client.post(self.urls[service] + path, content=content, params=params,
                                       headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
        except httpx.HTTPError as e:
            raise Refusal(service, 503, "unavailable", type(e).__name__) from None
        if r.status_code >= 400:
            raise _refusal(service, r)
        return r.json() if r.content else None

    async def call(self, service: str, method: str, path: str, token: str | None = None,
                   json: Any = None, params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Any:
        """The JSON answer, or Refusal carrying the service's problem details."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        try:
            r = await self._request(method, self.urls[service] + path, json=json, headers=h,
                                    params={k: v for k, v in (params or {}).items() if v not in (None, "")})
        except httpx.HTTPError as e:
            raise Refusal(service, 503, "unavailable", type(e).__name__) from None
        if r.status_code >= 400:
            raise _refusal(service, r)
        return r.json() if r.content else None


def _refusal(service: str, r: httpx.Response) -> Refusal:
    """The service's problem+json (RFC 9457) as a Refusal; any other error body gives its status alone."""
    try:
        body = r.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    found = body.get("errors")
    errors: list[Any] = found if isinstance(found, list) else []
    return Refusal(service, r.status_code, str(body.get("title") or r.reason_phrase),
                   str(body.get("detail") or ""), [e for e in errors if isinstance(e, dict)])
