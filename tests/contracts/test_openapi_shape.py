"""Issue 10: every operation of every service says what it answers (a 2xx body schema), has a one-line
description, documents its problem answers, and its POS API operations carry examples."""

from __future__ import annotations

from typing import Any

import pytest
from devstack.testing import SERVICES, StackConfig, build_app


def openapi(service: str) -> dict[str, Any]:
    cfg = StackConfig(pg_host="127.0.0.1", pg_port=9, kafka_bootstrap="127.0.0.1:9")  # nothing connects
    return dict(build_app(service, cfg.settings(service)).openapi())


def operations(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{m.upper()} {p}", op) for p, ops in doc["paths"].items() for m, op in ops.items()]


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_declares_its_answer_and_problems(service: str) -> None:
    untyped, undocumented, no_problems = [], [], []
    for label, op in operations(openapi(service)):
        answers = op["responses"]
        if not any(code.startswith("2") and any(c.get("schema") for c in (r.get("content") or {}).values())
                   for code, r in answers.items()):
            untyped.append(label)
        if not (op.get("description") or op.get("summary")):
            undocumented.append(label)
        public = not any(label.endswith(p) for p in ("/healthz", "/readyz", "/metrics", "/asyncapi.json"))
        if public and "422" not in answers:
            no_problems.append(label)
    assert untyped == [], f"{service}: operations without a declared 2xx body: {untyped}"
    assert undocumented == [], f"{service}: operations without a docstring: {undocumented}"
    assert no_problems == [], f"{service}: operations that do not document their problem answers: {no_problems}"


def test_pos_api_operations_carry_examples() -> None:
    doc = openapi("gateway")
    schemas = doc["components"]["schemas"]
    for label, op in operations(doc):
        if not label.split()[1].startswith("/v1/") or "requestBody" not in op:
            continue
        ref = next(iter(op["requestBody"]["content"].values()))["schema"].get("$ref", "")
        body = schemas.get(ref.rsplit("/", 1)[-1], {})
        has = "examples" in body or "example" in body or any(
            "examples" in f or "example" in f for f in body.get("properties", {}).values())
        assert has, f"{label}: the request body has no example"
