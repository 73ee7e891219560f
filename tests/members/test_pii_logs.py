"""PII (M-07, N-06): the members service, run as a real process logging at DEBUG, never writes a mobile number
in clear to its log, and keeps no plaintext mobile or ID-card number in any text column of its database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from devstack.testing import ServiceProcess, StackConfig

from tests.members.test_member_files import no_plaintext


@dataclass
class VerboseConfig(StackConfig):
    def env(self, service: str) -> dict[str, str]:
        return {**super().env(service), "LOG_LEVEL": "DEBUG"}


async def test_m07_no_plaintext_mobile_in_service_log_or_database(stack_config: StackConfig, tmp_path: Path) -> None:
    cfg = VerboseConfig(pg_host=stack_config.pg_host, pg_port=stack_config.pg_port,
                        kafka_bootstrap=stack_config.kafka_bootstrap, pg_password=stack_config.pg_password)
    await cfg.prepare()
    proc = ServiceProcess(cfg, "members", tmp_path)
    phones = [f"135{uuid.uuid4().int % 10**8:08d}" for _ in range(4)]
    id_card = "61010319900308123X"
    proc.start()
    try:
        await proc.wait_ready()
        async with httpx.AsyncClient(base_url=cfg.url("members"), timeout=30,
                                     headers={"Authorization": f"Bearer {cfg.admin_token}"}) as c:
            assert (await c.post("/v1/stores", json={"store_id": "P-1", "name": "P", "region_code": "029",
                                                     "program": "generic"})).status_code == 201
            assert (await c.post("/v1/staff", json=[{"staff_id": "P1", "store_id": "P-1", "name": "员工",
                                                     "position": "sales_assistant", "password": "pw-P1-long-x",
                                                     "mobile": phones[3]}])).status_code == 201
            assert (await c.post("/v1/members", json=[{"store_id": "P-1", "full_name": "王建国",
                                                       "mobile": phones[0]}])).status_code == 201
            tok = (await c.post("/v1/auth/login", json={"staff_id": "P1", "password": "pw-P1-long-x"})).json()["token"]
            c.headers["Authorization"] = f"Bearer {tok}"
            r = await c.post("/v1/member-files", json={"full_name": "李秀英", "mobile": phones[1], "id_card": id_card})
            assert r.status_code == 201
            assert (await c.post("/v1/member-files", json={"full_name": "李先生", "mobile": phones[2]})).status_code \
                == 422
            assert (await c.get("/v1/member-files", params={"mobile": phones[1]})).json()["members"]
    finally:
        proc.stop()
    log = proc.logfile.read_text(encoding="utf-8", errors="replace")
    assert "service started" in log  # the log was written at DEBUG
    for p in [*phones, id_card]:
        assert p not in log
    await no_plaintext(cfg, [*phones, id_card])

