"""The three brokers of `./dev up --brokers 3` are formatted in parallel with one cluster id kept beside them. Made
by whichever starter comes first, it must be the same for all: two ids meant a cluster whose voters refuse each
other (INCONSISTENT_CLUSTER_ID) and never start — the benchmark's three-broker layouts failed that way."""

from __future__ import annotations

import threading
from pathlib import Path

from devstack.kafka import _shared_cluster_id


def test_racing_starters_all_get_the_one_cluster_id(tmp_path: Path) -> None:
    for attempt in range(40):
        path = tmp_path / f"try{attempt}" / "cluster.id"
        start = threading.Barrier(6)
        got: list[str] = []

        def starter(p: Path = path, b: threading.Barrier = start, out: list[str] = got) -> None:
            b.wait()
            out.append(_shared_cluster_id(p))

        threads = [threading.Thread(target=starter) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(got) == 6 and len(set(got)) == 1, (attempt, got)
        assert path.read_text().strip() == got[0]
