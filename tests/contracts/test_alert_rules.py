"""deploy/prometheus/alerts.yml is a well-formed rule file whose every metric is one the services expose
(issue 13, item 3). Building each service's app registers its metrics; nothing is started."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from devstack.testing import SERVICES, StackConfig, build_app

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
PROMQL_WORDS = {"max", "min", "sum", "by", "without", "rate", "increase", "clamp_min", "and", "or", "unless",
                "on", "ignoring", "humanizeDuration", "avg", "count", "histogram_quantile", "le", "bool"}
PROMETHEUS_OWN = {"up"}


def exposed_metric_names() -> set[str]:
    cfg = StackConfig(pg_host="127.0.0.1", pg_port=1, kafka_bootstrap="127.0.0.1:1")
    names: set[str] = set()
    for s in SERVICES:
        app: Any = build_app(s, cfg.settings(s))
        app.build_middleware_stack()  # registers the request metrics
        for family in app.state.runtime.registry.collect():
            suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"],
                        "gauge": [""]}.get(family.type, [""])
            names |= {family.name + x for x in suffixes}
    return names


def metrics_in(expr: str) -> set[str]:
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"by \([^)]*\)", "", expr)  # grouping labels
    words = set(re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", expr))
    return {w for w in words if w not in PROMQL_WORDS and not re.fullmatch(r"e\d*", w)}


def test_every_rule_is_complete_and_names_real_metrics() -> None:
    doc = yaml.safe_load(RULES.read_text())
    rules = [r for g in doc["groups"] for r in g["rules"]]
    names = exposed_metric_names() | PROMETHEUS_OWN
    seen = set()
    for r in rules:
        assert set(r) >= {"alert", "expr", "for", "labels", "annotations"}, r
        assert r["alert"] not in seen, f"duplicate alert {r['alert']}"
        seen.add(r["alert"])
        assert r["labels"]["severity"] in {"page", "ticket"}, r
        assert r["annotations"]["summary"] and r["annotations"]["description"], r
        assert re.fullmatch(r"\d+[smh]", r["for"]), r
        used = metrics_in(r["expr"])
        assert used, r["expr"]
        assert used <= names, (r["alert"], sorted(used - names))
    # the conditions issue 13 names: lag too old, outbox stuck, DLQ growing, SMS failures, readiness down
    assert {"ConsumerLagTooOld", "OutboxStuck", "DeadLettersGrowing", "SmsFailing", "InstanceDown"} <= seen


def test_each_alert_fires_on_its_condition_and_not_before() -> None:
    """promtool evaluates alerts.yml over the series in alerts_test.yml: every alert fires when its condition
    has held for its `for`, with the labels and annotations ops will read, and stays quiet below it."""
    from devstack import promtool

    tests = RULES.with_name("alerts_test.yml")
    doc = yaml.safe_load(tests.read_text())
    tested = {t["alertname"] for case in doc["tests"] for t in case["alert_rule_test"] if t["exp_alerts"]}
    defined = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    assert tested == defined, f"alerts without a firing test: {sorted(defined - tested)}"
    run = promtool.test_rules(tests)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS" in run.stdout
