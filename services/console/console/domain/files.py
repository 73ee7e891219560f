"""The member-file screens' pure parts (issue 12): which file fields the edit form offers (M-01, M-13, M-14), what a
submitted form changed, and a page of a list paged at its owning service."""

from __future__ import annotations

from typing import Any, TypeVar

from .paging import Page

T = TypeVar("T")

# the file's fields a change may touch (M-13: work unit, address, phones, anniversaries, position; M-01's others)
EDIT_FIELDS = ("full_name", "gender", "mobile", "birth_date", "address", "work_unit", "position", "customer_class",
               "account_size", "id_card")
LIMITS = {"full_name": 40, "gender": 10, "mobile": 32, "birth_date": 20, "address": 200, "work_unit": 100,
          "position": 60, "customer_class": 40, "account_size": 20, "id_card": 18}
GENDERS = ("female", "male")
CUSTOMER_CLASSES = ("government", "state_owned", "enterprise_institution", "group_company", "small_business",
                    "individual")  # M-14 (members checks them)
ACCOUNT_SIZES = ("key", "general", "occasional")
DELETION_STATES = ("pending", "approved", "rejected")
BLACKLIST_STATES = ("listed", "lifted")  # M-16: listings in force, and lifted ones kept as history


def masked(value: Any) -> bool:
    """A value the role sees masked (members answers `138****8000`, `王*`): the form cannot show, nor resend, it."""
    return isinstance(value, str) and "*" in value


def form_values(file: dict[str, Any]) -> dict[str, str]:
    """The edit form's starting values: the file's, except what this role sees masked (left empty: unchanged)."""
    return {k: "" if file.get(k) is None or masked(file.get(k)) else str(file[k]) for k in EDIT_FIELDS}


def changed(form: dict[str, str], was: dict[str, str]) -> dict[str, str]:
    """M-13: only the fields the person changed go to members (a field left empty is not cleared; the file's other
    fields are not re-sent, so an unchanged field never blocks the change)."""
    out = {}
    for k in EDIT_FIELDS:
        value = form.get(k, "").strip()
        if value and value != was.get(k, "").strip():
            out[k] = value
    return out


def served_page(rows: list[T], number: int, limit: int, total: int) -> Page[T]:
    """A page of a list the owning service paged (its total over every page)."""
    return Page(rows, number, max(1, -(-total // limit)), total)
