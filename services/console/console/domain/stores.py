"""The store desk's pure parts (issue 12): which hand-over step this person could take now (M-12; members still
decides), where each handed-over file stands, and the spreadsheet format of an uploaded file name (M-19)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vipcore.auth import Role

# hand-over state → the step that moves it on and the role that takes it (members' role matrix, M-12)
NEXT_STEP: dict[str, tuple[str, Role]] = {"requested": ("review", Role.HQ_CS), "hq_approved": ("accept", Role.STAFF),
                                          "accepted": ("confirm", Role.HQ_CS)}
RECEIVER_STEPS = frozenset({"accept"})
STATES = ("requested", "hq_approved", "accepted", "confirmed", "rechecked", "completed", "rejected")


@dataclass(frozen=True)
class FileRow:
    """One handed-over file and its step: waiting (for HQ's confirmation), to_recheck, rechecked, approved."""

    member_id: str
    step: str
    rechecked_by: str | None = None
    approved_by: str | None = None
    note: str | None = None
    can_recheck: bool = False
    can_approve: bool = False


def next_step(h: dict[str, Any], role: Role, staff_id: str) -> str | None:
    """The hand-over step this person could take now (review / accept / confirm), or None."""
    step = NEXT_STEP.get(str(h.get("state")))
    if step is None or step[1] != role:
        return None
    if step[0] in RECEIVER_STEPS and staff_id != h.get("to_staff_id"):
        return None
    return step[0]


def file_rows(h: dict[str, Any], role: Role, staff_id: str) -> list[FileRow]:
    """Every file of the hand-over with its step; before HQ's confirmation each is waiting (M-12)."""
    progress = {f["member_id"]: f for f in h.get("files") or []}
    open_ = h.get("state") in ("confirmed", "rechecked")
    receiver = role == Role.STAFF and staff_id == h.get("to_staff_id")
    rows = []
    for m in h.get("member_ids") or []:
        f = progress.get(m)
        if f is None or not open_ and not f.get("approved_at"):
            step = "waiting" if h.get("state") != "rejected" else "rejected"
        elif f.get("approved_at"):
            step = "approved"
        elif f.get("rechecked_at"):
            step = "rechecked"
        else:
            step = "to_recheck"
        note = (f or {}).get("approval_note") or (f or {}).get("recheck_note")
        rows.append(FileRow(m, step, (f or {}).get("rechecked_by"), (f or {}).get("approved_by"), note,
                            can_recheck=open_ and receiver and step == "to_recheck",
                            can_approve=open_ and role == Role.STORE_MANAGER and step == "rechecked"))
    return rows


def sheet_format(filename: str) -> str:
    """csv or xlsx, from the uploaded file's name (members reads either; M-19)."""
    return "xlsx" if filename.lower().endswith(".xlsx") else "csv"
