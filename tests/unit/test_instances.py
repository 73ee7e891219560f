"""The pure parts behind GET /ops/status (issue 13): an instance's state from its heartbeat row, and the lag a
consumer keeps for the heartbeat (the same numbers as its `consumer_lag` gauges, only the partitions it holds)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry, Gauge
from vipcore.consumer import BatchConsumer, ConsumerMetrics
from vipcore.instances import state_of


@pytest.mark.parametrize(("ago", "stopped", "ready", "state"), [
    (1.0, False, True, "up"), (1.0, False, False, "not_ready"), (20.5, False, True, "gone"),
    (20.5, False, False, "gone"), (1.0, True, True, "stopped"), (999.0, True, False, "stopped"),
    (20.0, False, True, "up"),  # on the threshold: still up
])
def test_state_of_an_instance(ago: float, stopped: bool, ready: bool, state: str) -> None:
    assert state_of(ago, stopped, ready, gone_after_s=20.0) == state


@dataclass
class Rec:
    partition: int
    timestamp: int


class FakeKafkaConsumer:
    """What _report_lag reads of aiokafka's consumer: assignment, high-water marks, positions."""

    def __init__(self, topic: str, positions: dict[int, tuple[int, int]]) -> None:
        self.topic = topic
        self.positions = positions  # partition -> (high water, position)
        state = SimpleNamespace(state_value=lambda tp: SimpleNamespace(position=self.positions[tp.partition][1]))
        self._fetcher = SimpleNamespace(_subscriptions=SimpleNamespace(
            subscription=SimpleNamespace(assignment=state)))

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(self.topic, p) for p in self.positions}

    def highwater(self, tp: TopicPartition) -> int:
        return self.positions[tp.partition][0]


def test_consumer_keeps_the_lag_of_the_partitions_it_holds() -> None:
    r = CollectorRegistry()
    lag = Gauge("consumer_lag", "", ["topic", "partition"], registry=r)
    lag_s = Gauge("consumer_lag_seconds", "", ["topic", "partition"], registry=r)
    c = BatchConsumer(service="loyalty", topic="pos.sales", handlers={}, engine=Any,  # type: ignore[arg-type]
                      producer=None, metrics=ConsumerMetrics(lag=lag, lag_seconds=lag_s))
    kafka = FakeKafkaConsumer("pos.sales", {0: (10, 10), 1: (50, 40), 2: (7, 3)})
    newest = int((time.time() - 30) * 1000)
    c._report_lag(SimpleNamespace(consumer=kafka), [Rec(1, newest)])  # type: ignore[list-item]
    assert c.partition_lag[0] == (0, 0.0)  # caught up
    behind, age = c.partition_lag[1]
    assert behind == 10 and age is not None and 29 < age < 40
    assert c.partition_lag[2] == (4, None)  # behind, but no record of it seen yet: age unknown
    assert r.get_sample_value("consumer_lag", {"topic": "pos.sales", "partition": "1"}) == 10
    assert r.get_sample_value("consumer_lag_seconds", {"topic": "pos.sales", "partition": "2"}) is None

    # a rebalance took partitions 0 and 2 away: the heartbeat no longer reports them; a known age is kept
    kafka.positions = {1: (60, 45)}
    c._report_lag(SimpleNamespace(consumer=kafka), [])
    assert set(c.partition_lag) == {1} and c.partition_lag[1][0] == 15 and c.partition_lag[1][1] == age
