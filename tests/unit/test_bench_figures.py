"""The benchmark's own arithmetic: profiles' top frames, a capacity step's verdict, CPU per sale, targets met."""

from __future__ import annotations

from bench.benchkit import procs, report
from bench.benchkit.load import E2EResult, IngestResult, PacedResult, capacity_held
from bench.benchkit.profile import parse_collapsed, top_frames
from bench.benchkit.raw import RawResult


def _paced(p99_sched: float, *, behind: float = 10.0, missing: int = 0, accepted: int = 100) -> PacedResult:
    return PacedResult(rate_target=100, sent=100, accepted=accepted, send_seconds=1.0, statuses={"201": accepted},
                       max_behind_ms=behind, http_ms={}, points_ms={"p99": p99_sched - 5},
                       points_created_ms={}, points_from_schedule_ms={"p99": p99_sched}, sms_ms={},
                       points_missing=missing, sms_expected=0, sms_missing=0)


def test_a_step_holds_only_when_every_sale_is_booked_in_time_and_sending_kept_up() -> None:
    assert capacity_held(_paced(200))
    assert not capacity_held(_paced(251))  # p99 from the schedule over 250 ms: a backlog grew
    assert not capacity_held(_paced(100, behind=400))  # the client could not keep to the schedule
    assert not capacity_held(_paced(100, missing=1))
    assert not capacity_held(_paced(100, accepted=99))


def test_cpu_ms_per_sale_from_cores_used() -> None:
    # 0.5 cores for 4 s over 1000 sales = 2 ms CPU per sale
    assert procs.cpu_ms_per_item({"gateway": 0.5, "loyalty": 0.25}, 4.0, 1000) == {"gateway": 2.0, "loyalty": 1.0}
    assert procs.cpu_ms_per_item({"gateway": 0.5}, 4.0, 0) == {}


def test_collapsed_stacks_give_self_and_inclusive_shares(tmp_path) -> None:  # noqa: ANN001
    text = ("process 1:python;thread (0x1);main (app/run.py:10);handle (app/http.py:5);parse (json/decoder.py:3) 30\n"
            "process 1:python;thread (0x1);main (app/run.py:10);handle (app/http.py:7) 10\n"
            "process 1:python;thread (0x1);main (app/run.py:11) 60\n")
    own, incl, total = parse_collapsed(text)
    assert total == 100
    assert own["parse (json/decoder.py)"] == 30 and own["main (app/run.py)"] == 60
    assert incl["handle (app/http.py)"] == 40 and incl["main (app/run.py)"] == 100
    f = tmp_path / "gateway.txt"
    f.write_text(text)
    summary = top_frames({"gateway": f})
    assert "gateway: 100 samples" in summary and " 60.0   main (app/run.py)" in summary


def test_targets_are_judged_in_the_right_direction() -> None:
    single = IngestResult(sent=10, accepted=10, seconds=1.0, statuses={"201": 10})
    e2e = E2EResult(upload=single, expected=10, counted=10, seconds=0.01,
                    drained_s={"loyalty.pos.sales": 1.0, "notify.loyalty.points": 7.5})
    raw = RawResult(messages=1000, consumed=1000, seconds=1.0, produce_seconds=0.5)
    r = report.build(n=10, cpu_count=2, run_id="t", started=False, single=single, e2e=e2e, paced=_paced(100),
                     raw=raw, rss={"gateway": 120.0, "notify": 160.0}, pss={}, peak={}, cores={}, cpu_ms={},
                     capacity=[{"rate": 100, "held": True}, {"rate": 200, "held": False}],
                     layout={"brokers": 1, "instances": 1}, services=("gateway", "notify"))
    assert r["paced_capacity_sales_per_s"] == 100 and not r["met"]["paced_capacity_sales_per_s"]
    assert r["groups_behind_loyalty_s"] == 6.5 and not r["met"]["groups_behind_loyalty_s"]
    assert r["rss_mb_max"] == 160.0 and not r["met"]["rss_mb_max"]
    assert r["ratio_e2e_to_raw"] == 1.0 and r["met"]["ratio_e2e_to_raw"]
