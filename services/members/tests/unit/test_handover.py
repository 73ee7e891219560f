"""M-12: the hand-over workflow's states and who may take each step."""

import pytest
from members.domain.access import MATRIX
from members.domain.handover import STEPS, WrongState, advance
from vipcore.auth import Role


def test_m12_full_path_request_to_completed() -> None:
    state = "requested"
    for step in ("review", "accept", "confirm", "recheck", "close"):
        state = advance(state, step)
    assert state == "completed"


def test_m12_steps_cannot_be_skipped_or_repeated() -> None:
    with pytest.raises(WrongState):
        advance("requested", "confirm")
    with pytest.raises(WrongState):
        advance("accepted", "accept")


def test_m12_only_hq_review_rejects() -> None:
    assert advance("requested", "review", approve=False) == "rejected"
    with pytest.raises(WrongState):
        advance("hq_approved", "accept", approve=False)


def test_m12_actors() -> None:
    assert MATRIX[STEPS["review"].action] == {Role.HQ_CS} == MATRIX[STEPS["confirm"].action]
    assert MATRIX[STEPS["accept"].action] == {Role.STAFF} == MATRIX[STEPS["recheck"].action]
    assert MATRIX[STEPS["close"].action] == {Role.STORE_MANAGER}
