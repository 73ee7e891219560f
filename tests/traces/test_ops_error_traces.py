"""The ops page's recent error traces (issue 13, item 4) against the real trace viewer: a span ending with status
ERROR, exported by the services' own tracer wiring (the Zipkin exporter), is found by the console's query
(`annotationQuery=error`) and linked to the viewer's trace page; a trace without an error is not listed."""

from __future__ import annotations

import httpx
from console.adapters.upstream import Upstream
from console.domain.ops import Viewer
from console.service.ops import TRACES, OpsDesk
from devstack.testing import wait_for
from opentelemetry.trace import Status, StatusCode
from vipcore.telemetry import make_tracer_provider


async def test_error_traces_come_from_the_viewer_with_links(zipkin_url: str) -> None:
    tp = make_tracer_provider("loyalty", zipkin_endpoint=f"{zipkin_url}/api/v2/spans")
    tracer = tp.get_tracer("test")
    with tracer.start_as_current_span("pos.sales process") as failed:
        with tracer.start_as_current_span("ledger write") as child:
            child.set_status(Status(StatusCode.ERROR, "L-02: store XA-900 is not registered yet"))
    with tracer.start_as_current_span("pos.sales process") as fine:
        pass
    tp.force_flush()
    bad = format(failed.get_span_context().trace_id, "032x")
    good = format(fine.get_span_context().trace_id, "032x")

    viewer = Viewer.of(zipkin_url + "/zipkin/")  # as ./dev up hands it to the console
    assert viewer is not None
    up = Upstream({TRACES: viewer.api})
    ops = OpsDesk(up, viewer)
    try:
        async def listed() -> list[object] | None:
            sec = await ops.recent_errors()
            assert sec is not None and sec.refusal is None, sec
            return list(sec.data) if any(t.trace_id == bad for t in sec.data) else None

        rows = await wait_for(listed, 30, "the error trace listed")
        row = next(t for t in rows if t.trace_id == bad)  # type: ignore[attr-defined]
        assert row.error_service == "loyalty" and row.error_span == "ledger write"  # type: ignore[attr-defined]
        assert "not registered yet" in row.error and row.spans == 2  # type: ignore[attr-defined]
        assert row.root == "loyalty: pos.sales process"  # type: ignore[attr-defined]
        assert row.link == f"{zipkin_url}/zipkin/traces/{bad}"  # type: ignore[attr-defined]
        assert good not in {t.trace_id for t in rows}  # type: ignore[attr-defined]
        async with httpx.AsyncClient(timeout=10) as c:  # the link opens the viewer's page of that trace
            assert (await c.get(row.link)).status_code == 200  # type: ignore[attr-defined]
    finally:
        await up.aclose()
        tp.shutdown()
