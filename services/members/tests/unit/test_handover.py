"""M-12: the hand-over workflow's states, the per-file re-check and approval, and who may take each step."""

import pytest
from members.domain.access import MATRIX
from members.domain.handover import FILE_STEPS, STEPS, FileProgress, WrongState, advance, file_step, state_of
from vipcore.auth import Role


def test_m12_full_path_request_to_confirmed() -> None:
    state = "requested"
    for step in ("review", "accept", "confirm"):
        state = advance(state, step)
    assert state == "confirmed"


def test_m12_steps_cannot_be_skipped_or_repeated() -> None:
    with pytest.raises(WrongState):
        advance("requested", "confirm")
    with pytest.raises(WrongState):
        advance("accepted", "accept")


def test_m12_only_hq_review_rejects() -> None:
    assert advance("requested", "review", approve=False) == "rejected"
    with pytest.raises(WrongState):
        advance("hq_approved", "accept", approve=False)


def test_m12_receiver_rechecks_each_file_then_store_manager_approves_each() -> None:
    a, b = FileProgress("M1"), FileProgress("M2")
    with pytest.raises(WrongState):
        file_step("accepted", a, "recheck")  # not before HQ confirmed
    with pytest.raises(WrongState):
        file_step("confirmed", a, "approve")  # not before the receiver re-checked it
    a = file_step("confirmed", a, "recheck")
    assert state_of([a, b]) == "confirmed"
    with pytest.raises(WrongState):
        file_step("confirmed", a, "recheck")
    b = file_step("confirmed", b, "recheck")
    assert state_of([a, b]) == "rechecked"
    a = file_step("rechecked", a, "approve")
    b = file_step("rechecked", b, "approve", approve=False)  # sent back: the receiver re-checks it again
    assert (b.rechecked, b.approved, state_of([a, b])) == (False, False, "confirmed")
    with pytest.raises(WrongState):
        file_step("confirmed", a, "recheck")  # approved files are done
    b = file_step("confirmed", file_step("confirmed", b, "recheck"), "approve")
    assert state_of([a, b]) == "completed"


def test_m12_actors() -> None:
    assert MATRIX[STEPS["review"].action] == {Role.HQ_CS} == MATRIX[STEPS["confirm"].action]
    assert MATRIX[STEPS["accept"].action] == {Role.STAFF} == MATRIX[FILE_STEPS["recheck"].action]
    assert MATRIX[FILE_STEPS["approve"].action] == {Role.STORE_MANAGER}
