"""Issue 10 item 6: schemathesis against every service's live OpenAPI (checks `not_a_server_error` and
`response_schema_conformance`). Every operation is fuzzed with the credentials that get it past
authentication (the store's POS API key at the gateway, the HQ admin token for admin routes, a staff token
of the first role the route lets in), so the code behind auth is reached.

Bounded and reproducible: per operation at most BUDGET cases (schemathesis' coverage phase — boundary values,
missing and extra fields, wrong types — then derandomized hypothesis examples, valid and invalid), on loopback
only. The cases are generated and sent from a separate process so generation does not compete with the
in-process services for the interpreter. FUZZ_SCALE multiplies the budget (e.g. FUZZ_SCALE=4 for a longer
local run); FUZZ_REPORT=<file> also writes the failures as markdown.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from .conftest import ROLES, Seeded
from .harness import Budget, Credential, ServiceReport, fuzz_service, markdown

SERVICES = ("gateway", "members", "loyalty", "credit", "notify")
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
BUDGET = Budget(positive=int(12 * SCALE), negative=int(6 * SCALE), coverage=int(12 * SCALE))

# Operations not fuzzed, each with the reason (nothing is left out silently).
EXCLUDED: dict[str, dict[str, str]] = {
    "gateway": {},
    "members": {},
    "loyalty": {},
    "credit": {},
    "notify": {},
}

REPORTS: dict[str, ServiceReport] = {}


@pytest.fixture(scope="module")
def fuzzer() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool
    target = os.environ.get("FUZZ_REPORT")
    if target and REPORTS:
        Path(target).write_text(markdown([REPORTS[s] for s in SERVICES if s in REPORTS]) + "\n", encoding="utf-8")


def credentials(seeded: Seeded, service: str) -> list[Credential]:
    """What an operation may need, in the order tried: the POS key (gateway), an HQ admin staff token, the gateway's
    service token (internal routes), staff roles."""
    cfg = seeded.stack.cfg
    admin = Credential("hq_admin staff token", f"Bearer {cfg.admin_token}")
    staff = [Credential(f"staff token ({role})", f"Bearer {seeded.staff_tokens[role]}") for role in ROLES]
    if service == "gateway":
        return [Credential(f"POS API key ({seeded.store_id})", f"Bearer {seeded.api_key}"), admin]
    gateway = Credential("gateway service token", f"Bearer {cfg.service_token('gateway', service, ttl_s=900)}")
    return [admin, gateway, *staff]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("service", SERVICES)
async def test_openapi_fuzz(service: str, seeded: Seeded, fuzzer: ProcessPoolExecutor) -> None:
    """No operation answers 5xx, and every answer matches what the OpenAPI documents for its status."""
    report: ServiceReport = await asyncio.get_running_loop().run_in_executor(
        fuzzer, fuzz_service, service, seeded.stack.url(service), credentials(seeded, service), BUDGET,
        EXCLUDED[service])
    REPORTS[service] = report
    print("\n" + report.summary(verbose=False))
    for op in report.operations:
        print(f"  {op.label}: {op.cases} cases as {op.credential}, {op.seconds:.1f}s")
    assert not report.failures and not report.failing_operations, "\n" + report.summary()
