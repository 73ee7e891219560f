"""Schemathesis against a live service (issue 10 item 6): every operation of its OpenAPI, each with the
credentials that get it past authentication, checked with `not_a_server_error` and
`response_schema_conformance`.

Synchronous on purpose (schemathesis and `requests`): the test runs it in a worker thread while the
services serve on the test's event loop. Generation is derandomized, so a run is reproducible.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

CHECKS = [not_a_server_error, response_schema_conformance]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@dataclass(frozen=True)
class Budget:
    """How much to try per operation: hypothesis examples per generation mode, plus schemathesis' coverage
    phase (boundary values, missing/extra fields, wrong types) capped at `coverage` cases."""

    positive: int = 25
    negative: int = 15
    coverage: int = 40


@dataclass
class Credential:
    label: str
    authorization: str  # the whole Authorization header value


@dataclass
class FailureRecord:
    operation: str
    kind: str            # e.g. "server error 500", "response violates schema (422)"
    mode: str            # positive / negative / coverage
    count: int
    example: str         # a curl command reproducing one case
    detail: str          # what the check said, and the start of the response body


@dataclass
class OperationReport:
    label: str
    credential: str
    cases: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # the harness could not fuzz it (schema or generation)
    notes: list[str] = field(default_factory=list)


@dataclass
class ServiceReport:
    service: str
    operations: list[OperationReport] = field(default_factory=list)
    failures: dict[tuple[str, str], FailureRecord] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def cases(self) -> int:
        return sum(o.cases for o in self.operations)

    @property
    def failing_operations(self) -> list[str]:
        bad = {f.operation for f in self.failures.values()} | {o.label for o in self.operations if o.errors}
        return sorted(bad)

    def record(self, operation: str, kind: str, mode: str, example: str, detail: str) -> None:
        key = (operation, kind)
        if key in self.failures:
            self.failures[key].count += 1
        else:
            self.failures[key] = FailureRecord(operation, kind, mode, 1, example, detail)

    def summary(self, verbose: bool = True) -> str:
        lines = [f"{self.service}: {len(self.operations)} operations, {self.cases} cases, "
                 f"{len(self.failing_operations)} failing operations, {len(self.failures)} distinct failures, "
                 f"{self.seconds:.0f}s"]
        for label, why in sorted(self.excluded.items()):
            lines.append(f"  excluded {label}: {why}")
        for op in self.operations:
            if op.errors:
                for e in op.errors:
                    lines.append(f"  ERROR {op.label}: {e}")
        for f in sorted(self.failures.values(), key=lambda f: (f.operation, f.kind)):
            lines.append(f"  FAIL {f.operation}: {f.kind} [{f.mode}, {f.count}x]")
            if verbose:
                lines.append(f"      {f.example}")
                lines.extend(f"      | {ln}" for ln in f.detail.splitlines()[:12])
        return "\n".join(lines)


def load_schema(base_url: str) -> Any:
    """The live OpenAPI document of a service, as schemathesis sees it (no config file is read)."""
    config = schemathesis.Config()
    config.projects.get_default().generation.update(deterministic=True)
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config, timeout=30)


def _probe_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "fuzz-probe", path)


def choose_credential(session: requests.Session, base_url: str, method: str, path: str,
                      candidates: list[Credential]) -> Credential:
    """The first credential the operation does not refuse with 401/403 (authentication and role checks run
    before the request is validated, so an empty request tells which one it takes)."""
    for c in candidates:
        r = session.request(method.upper(), base_url + _probe_path(path), timeout=30,
                            headers={"Authorization": c.authorization})
        if r.status_code not in (401, 403):
            return c
    return candidates[0]


def _kind(f: Failure, status: int) -> str:
    name = type(f).__name__
    if name == "ServerError":
        return f"server error {status}"
    if name == "JsonSchemaError":
        return f"response body does not match the documented schema ({status})"
    return f"{f.title} ({status})"


def _detail(f: Failure, response: requests.Response | None) -> str:
    msg = (getattr(f, "message", "") or "").strip()
    body = ""
    if response is not None:
        body = response.text[:600]
    return (msg[:1200] + ("\n" if msg else "") + f"body: {body}").strip()


def _curl(case: Case, base_url: str, headers: dict[str, str]) -> str:
    try:
        text = case.as_curl_command(headers=headers, base_url=base_url)
    except Exception as e:  # noqa: BLE001 - only a repro hint
        text = f"<curl unavailable: {e}>"
    text = re.sub(r"Authorization: Bearer [^'\"]+", "Authorization: Bearer ***", text)
    return text if len(text) < 1500 else text[:1500] + "…"


def run_case(report: ServiceReport, op: OperationReport, case: Case, session: requests.Session, base_url: str,
             cred: Credential, mode: str) -> None:
    headers = {"Authorization": cred.authorization}
    op.cases += 1
    try:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=60)
    except requests.RequestException as e:
        report.record(op.label, f"no answer ({type(e).__name__})", mode, _curl(case, base_url, headers), str(e))
        return
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        for f in group.exceptions:
            report.record(op.label, _kind(f, response.status_code), mode, _curl(case, base_url, headers),
                          _detail(f, getattr(response, "_response", None) or _as_requests(response)))


def _as_requests(response: Any) -> Any:
    class _R:
        text = (response.content or b"").decode("utf-8", "replace")
    return _R()


def _coverage_cases(schema: Any, operation: Any, limit: int) -> Iterator[Case]:
    if limit <= 0:
        return
    gen = schema.config.generation_for(operation=operation)
    cases = schema.iter_coverage_cases(operation, generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                       generation_config=gen)
    for i, case in enumerate(cases):
        if i >= limit:
            return
        yield case


def _fuzz_mode(report: ServiceReport, op: OperationReport, operation: Any, mode: GenerationMode, n: int,
               session: requests.Session, base_url: str, cred: Credential) -> None:
    if n <= 0:
        return
    strategy = operation.as_strategy(generation_mode=mode)

    @hypothesis.settings(max_examples=n, derandomize=True, database=None, deadline=None,
                         phases=[Phase.generate], suppress_health_check=list(HealthCheck),
                         verbosity=Verbosity.quiet, report_multiple_bugs=False)
    @hypothesis.given(case=strategy)
    def fuzz(case: Case) -> None:
        run_case(report, op, case, session, base_url, cred, mode.value)

    fuzz()


def fuzz_service(service: str, base_url: str, candidates: list[Credential], budget: Budget,
                 excluded: dict[str, str] | None = None,
                 only: Iterable[str] | None = None) -> ServiceReport:
    """Fuzz every operation of `service` (except `excluded`, each with its reason) and report what failed."""
    t0 = time.monotonic()
    report = ServiceReport(service, excluded=dict(excluded or {}))
    schema = load_schema(base_url)
    wanted = set(only) if only else None
    session = requests.Session()
    try:
        for result in schema.get_all_operations():
            try:
                operation = result.ok()
            except Exception as e:  # noqa: BLE001 - an operation schemathesis cannot read is a schema failure
                report.operations.append(OperationReport(str(e)[:80], "-", errors=[f"invalid schema: {e}"]))
                continue
            label = f"{operation.method.upper()} {operation.path}"
            if label in report.excluded or (wanted is not None and label not in wanted):
                continue
            cred = choose_credential(session, base_url, operation.method, operation.path, candidates)
            op = OperationReport(label, cred.label)
            report.operations.append(op)
            t = time.monotonic()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    for case in _coverage_cases(schema, operation, budget.coverage):
                        run_case(report, op, case, session, base_url, cred, "coverage")
                except Exception as e:  # noqa: BLE001
                    op.errors.append(f"coverage phase: {type(e).__name__}: {str(e)[:300]}")
                for mode, n in ((GenerationMode.POSITIVE, budget.positive), (GenerationMode.NEGATIVE, budget.negative)):
                    try:
                        _fuzz_mode(report, op, operation, mode, n, session, base_url, cred)
                    except Unsatisfiable as e:
                        if mode == GenerationMode.NEGATIVE:  # e.g. only unconstrained strings: nothing is invalid
                            op.notes.append("no invalid inputs exist for this operation's schema")
                        else:
                            op.errors.append(f"{mode.value} generation: unsatisfiable: {str(e)[:200]}")
                    except Exception as e:  # noqa: BLE001
                        op.errors.append(f"{mode.value} generation: {type(e).__name__}: {str(e)[:300]}")
            op.seconds = time.monotonic() - t
    finally:
        session.close()
    report.seconds = time.monotonic() - t0
    return report


def markdown(reports: list[ServiceReport]) -> str:
    """The failing operations per service with the kind of failure (for FUZZ_FAILURES.md)."""
    out = ["# Fuzz failures (schemathesis: not_a_server_error, response_schema_conformance)", ""]
    for r in reports:
        out.append(f"## {r.service}: {len(r.failing_operations)} of {len(r.operations)} operations fail "
                   f"({r.cases} cases, {r.seconds:.0f}s)")
        out.append("")
        by_op: dict[str, list[FailureRecord]] = {}
        for f in r.failures.values():
            by_op.setdefault(f.operation, []).append(f)
        for op in r.operations:
            for e in op.errors:
                by_op.setdefault(op.label, [])
                out.append(f"- `{op.label}`: harness error: {e}")
        for label in sorted(by_op):
            for f in sorted(by_op[label], key=lambda f: f.kind):
                out.append(f"- `{label}`: {f.kind} — {f.count} case(s), {f.mode}")
                out.append("")
                out.append("  ```")
                out.append("  " + f.example.replace("\n", " "))
                out.extend("  " + ln for ln in f.detail.splitlines()[:8])
                out.append("  ```")
        for label, why in sorted(r.excluded.items()):
            out.append(f"- excluded `{label}`: {why}")
        out.append("")
    return "\n".join(out)
