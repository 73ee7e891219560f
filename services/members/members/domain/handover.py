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
# → receiver re-checks each file → store manager approves each file: the hand-over record is complete.
STEPS = {s.name: s for s in (
    Step("review", "requested", "hq_approved", "handovers.review"),
    Step("accept", "hq_approved", "accepted", "handovers.accept", receiver_only=True),
    Step("confirm", "accepted", "confirmed", "handovers.confirm"),
)}
# Per-file steps after the confirmation (M-12): the receiver re-checks a file, then the store manager approves it
# (or sends it back to be re-checked again).
FILE_STEPS = {s.name: s for s in (
    Step("recheck", "confirmed", "rechecked", "handovers.recheck", receiver_only=True),
    Step("approve", "rechecked", "approved", "handovers.approve"),
)}


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


@dataclass(frozen=True)
class FileProgress:
    member_id: str
    rechecked: bool = False
    approved: bool = False


def file_step(handover_state: str, f: FileProgress, step: str, approve: bool = True) -> FileProgress:
    """M-12: the file's progress after a per-file step. Raises WrongState when the step does not apply."""
    if handover_state not in ("confirmed", "rechecked"):
        raise WrongState(f"files are re-checked once HQ confirmed the hand-over; this one is '{handover_state}'")
    if f.approved:
        raise WrongState(f"file {f.member_id} is approved already")
    if step == "recheck":
        if f.rechecked:
            raise WrongState(f"file {f.member_id} is re-checked already, waiting for the store manager")
        return FileProgress(f.member_id, rechecked=True)
    if not f.rechecked:
        raise WrongState(f"file {f.member_id} must be re-checked by the receiver before the store manager approves")
    return FileProgress(f.member_id, rechecked=approve, approved=approve)  # rejected: back to the receiver


def state_of(files: list[FileProgress]) -> str:
    """The hand-over after its confirmation: every file approved completes it (M-12)."""
    if files and all(f.approved for f in files):
        return "completed"
    return "rechecked" if files and all(f.rechecked for f in files) else "confirmed"
