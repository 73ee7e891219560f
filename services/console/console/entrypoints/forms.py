"""HTML form bodies (application/x-www-form-urlencoded) read without python-multipart: bounded, UTF-8, no
control characters; a bad form is a 422 refusal shown on the page like any other."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from fastapi import Request

from ..adapters.upstream import Refusal
from . import csrf

MAX_BODY = 16 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


async def read_form(request: Request, fields: dict[str, int], required: tuple[str, ...] = ()) -> dict[str, str]:
    """The named fields (name → max length) of a posted form; absent optional fields are ''."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise Refusal("console", 415, "form expected", "send application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Refusal("console", 413, "form too large")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise Refusal("console", 422, "unreadable form") from None
    if not csrf.matches(request, (parsed.get(csrf.FIELD) or [""])[0]):
        raise Refusal("console", 403, "form refused", "the form's token does not match this browser's: reload the "
                      "page and send it again (cross-site request forgery protection)",
                      [{"field": csrf.FIELD, "message": "missing or wrong form token"}])
    out: dict[str, str] = {}
    errors = []
    for name, limit in fields.items():
        value = (parsed.get(name) or [""])[0]
        if len(value) > limit:
            errors.append({"field": name, "message": f"at most {limit} characters"})
        elif _CONTROL.search(value):
            errors.append({"field": name, "message": "control characters are not allowed"})
        elif name in required and not value.strip():
            errors.append({"field": name, "message": "required"})
        out[name] = value
    if errors:
        raise Refusal("console", 422, "invalid form", errors=errors)
    return out
