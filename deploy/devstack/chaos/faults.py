"""The fault schedule: a random service instance SIGKILLed every few seconds (and started again a moment later),
one broker killed and restarted at a quarter of the load, the active controller (the KRaft quorum's leader) at
half, PostgreSQL restarted at seven tenths. Whatever the load did not reach by its end is done after it, so a run
always suffers every fault it promises (instance kills go on after the load only until `min_kills`)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .system import ChaosSystem


@dataclass
class FaultLog:
    kills: int = 0
    broker_restarts: int = 0
    controller_restarts: int = 0
    db_restarts: int = 0
    events: list[str] = field(default_factory=list)

    def note(self, what: str, t0: float) -> None:
        self.events.append(f"{time.monotonic() - t0:7.1f}s {what}")


async def run_faults(system: ChaosSystem, progress: Callable[[], float], load_done: asyncio.Event, *,
                     min_kills: int, kill_every: float, rng: random.Random, log: FaultLog,
                     on_event: Callable[[str], None], broker_down_s: float = 8.0) -> None:
    t0 = time.monotonic()
    plan: list[tuple[float, str]] = [(0.25, "broker"), (0.5, "controller"), (0.7, "postgres")]

    def say(what: str) -> None:
        log.note(what, t0)
        on_event(what)

    async def broker(controller: bool) -> None:
        leader = await asyncio.to_thread(system.active_controller)
        if controller:
            node = system.node(leader)
        else:  # a broker that is not the active controller (that one is the next fault)
            node = next(n for n in system.brokers if n.node_id != leader)
        say(f"SIGKILL broker {node.node_id}" + (" (the active controller)" if controller else
                                                f" (controller is {leader})"))
        system.kill_broker(node)
        await asyncio.sleep(broker_down_s)
        await asyncio.to_thread(system.start_broker, node)
        if controller:
            log.controller_restarts += 1
            after = await asyncio.to_thread(system.active_controller)
            say(f"broker {node.node_id} back; controller now {after}")
        else:
            say(f"broker {node.node_id} back")
        log.broker_restarts += 1

    async def postgres() -> None:
        say("restart PostgreSQL")
        await asyncio.to_thread(system.restart_postgres)
        log.db_restarts += 1
        say("PostgreSQL back")

    async def kill_one() -> None:
        inst = rng.choice(system.instances)
        system.kill_instance(inst)
        log.kills += 1
        say(f"SIGKILL {inst.name} (kill {log.kills})")
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        system.restart_instance(inst)

    big: asyncio.Task[None] | None = None
    next_kill = time.monotonic() + kill_every
    while True:
        if big is None or big.done():
            if big is not None:
                big.result()
                big = None
            if plan and (progress() >= plan[0][0] or load_done.is_set()):
                _, what = plan.pop(0)
                big = asyncio.create_task(postgres() if what == "postgres" else broker(what == "controller"))
        if time.monotonic() >= next_kill and (not load_done.is_set() or log.kills < min_kills):
            await kill_one()
            next_kill = time.monotonic() + kill_every * rng.uniform(0.6, 1.4)
        if load_done.is_set() and not plan and (big is None or big.done()) and log.kills >= min_kills:
            break
        await asyncio.sleep(0.2)
    if big is not None:
        await big
    for inst in system.instances:  # every instance runs again for the settling phase
        system.restart_instance(inst)
