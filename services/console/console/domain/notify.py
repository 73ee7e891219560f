"""The notify screens' pure parts: a campaign segment from the builder's form (the fields notify's campaign API
accepts, N-01), times typed at store time (UTC+8), sample fields for a template preview (N-02), a campaign's
progress from notify's counts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from ..adapters.upstream import Refusal

CHAIN_TZ = timezone(timedelta(hours=8))  # the chain's stores keep China time: the builder's times are typed in it
SEGMENT_FIELDS = {"store_ids": 2000, "region_codes": 500, "tiers": 300, "customer_classes": 300,
                  "birthday_month": 2, "last_purchase_after": 10, "last_purchase_before": 10, "consent_only": 3}
CAMPAIGN_FIELDS = {**SEGMENT_FIELDS, "name": 200, "template_body": 1000, "rate_per_s": 6, "scheduled_at": 16}
_ID = re.compile(r"^[!-~]{1,64}$")


def _bad(field: str, message: str, rule: str = "N-01") -> Refusal:
    return Refusal("console", 422, "invalid form", errors=[{"field": field, "message": f"{field}: {message}",
                                                            "rule": rule}])


def _ids(text: str, field: str) -> list[str] | None:
    items = [x for x in re.split(r"[\s,，、]+", text.strip()) if x]
    for x in items:
        if not _ID.match(x):
            raise _bad(field, f"'{x[:20]}' is not an id")
    return items or None


def local_time(text: str, field: str) -> str | None:
    """'2026-12-24T10:30' or '2026-12-24' typed at store time → an ISO time with its offset (+08:00)."""
    text = text.strip()
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(field, "a date (and time) like 2026-12-24 10:30") from None
    return (t if t.tzinfo else t.replace(tzinfo=CHAIN_TZ)).isoformat()


def segment(form: dict[str, str]) -> dict[str, Any]:
    """N-01: the builder's fields as notify's `Segment` (lists 'any of'; every given criterion must hold)."""
    seg: dict[str, Any] = {}
    for f in ("store_ids", "region_codes", "tiers", "customer_classes"):
        if (v := _ids(form.get(f, ""), f)) is not None:
            seg[f] = v
    month = form.get("birthday_month", "").strip()
    if month:
        if not month.isdigit() or not 1 <= int(month) <= 12:
            raise _bad("birthday_month", "a month 1-12")
        seg["birthday_month"] = int(month)
    for f in ("last_purchase_after", "last_purchase_before"):
        if (at := local_time(form.get(f, ""), f)) is not None:
            seg[f] = at
    seg["consent_only"] = form.get("consent_only", "") in ("on", "1", "yes")
    return seg


def campaign(form: dict[str, str]) -> dict[str, Any]:
    """A campaign for notify's POST /v1/campaigns: name, segment, text, release rate, start (now when empty)."""
    rate = form.get("rate_per_s", "").strip() or "200"
    if not rate.isdigit() or not 1 <= int(rate) <= 100_000:
        raise _bad("rate_per_s", "messages a second, 1-100000")
    body: dict[str, Any] = {"name": form["name"].strip(), "segment": segment(form),
                            "template_body": form["template_body"], "rate_per_s": int(rate)}
    if (at := local_time(form.get("scheduled_at", ""), "scheduled_at")) is not None:
        body["scheduled_at"] = at
    return body


def sample_fields(text: str) -> dict[str, str]:
    """N-02: 'name=value' lines (or 'name: value') → the preview's sample fields."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=") if "=" in line else line.partition(":")
        if not sep or not _ID.match(name.strip()):
            raise _bad("fields", f"'{line[:30]}': name=value", "N-02")
        out[name.strip()] = value.strip()
    return out


def progress(c: dict[str, Any]) -> dict[str, Any]:
    """A campaign's progress from notify's status: messages finished (sent, failed, suppressed) of the recipients,
    as a percentage; `done` once notify says so (the poll stops)."""
    k = c.get("counts", {})
    suppressed = sum(int(v) for v in (k.get("suppressed") or {}).values())
    finished = int(k.get("sent", 0)) + int(k.get("failed", 0)) + suppressed
    total = c.get("recipients")
    pct = 100 if c.get("status") == "done" else (min(100, round(100 * finished / total)) if total else 0)
    return {"finished": finished, "suppressed": suppressed, "total": total, "percent": pct,
            "done": c.get("status") == "done"}
