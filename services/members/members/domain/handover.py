"""Hand-over of a referrer's members (M-12): states, the step that leads to each, and who takes it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    name: str
    from_state: str
    to_state: str
    action: str  # role-matrix action (O-02)
    receiver_only: bool = False  # taken by the receiving staff member themself


# request → HQ review → receiver accepts (provisional link) → HQ confirms (formal link, SMS to every member)
# → receiver re-checks each file → store manager approves: the hand-over record is complete.
STEPS = {s.name: s for s in (
    Step("review", "requested", "hq_approved", "handovers.review"),
    Step("accept", "hq_approved", "accepted", "handovers.accept", receiver_only=True),
    Step("confirm", "accepted", "confirmed", "handovers.confirm"),
    Step("recheck", "confirmed", "rechecked", "handovers.recheck", receiver_only=True),
    Step("close", "rechecked", "completed", "handovers.close"),
)}
TYPES = ("same_position", "different_position")


class WrongState(ValueError):
    pass


def advance(state: str, step: str, approve: bool = True) -> str:
    """The state after `step`; only HQ review may reject. Raises WrongState when the step does not apply."""
    s = STEPS[step]
    if state != s.from_state:
        raise WrongState(f"'{step}' applies to a hand-over in '{s.from_state}', this one is '{state}'")
    if not approve:
        if step != "review":
            raise WrongState("only the HQ review rejects a hand-over")
        return "rejected"
    return s.to_state
