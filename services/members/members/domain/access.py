"""Who may do what (O-02) and who sees which member file (M-07), as data and pure predicates."""

from __future__ import annotations

from dataclasses import dataclass

from vipcore.auth import Principal, Role

HQ = {Role.HQ_ADMIN, Role.HQ_CS}
STORE_LEADS = {Role.STORE_MANAGER, Role.STORE_CS_MANAGER}

# The role matrix: action → roles allowed (O-02). Routes name their action; tests walk every cell.
MATRIX: dict[str, frozenset[Role]] = {
    "files.create": frozenset({Role.STAFF, *STORE_LEADS}),
    "files.update": frozenset({Role.STAFF, *STORE_LEADS}),
    "files.read": frozenset({Role.STAFF, *STORE_LEADS, *HQ}),
    "files.search": frozenset({Role.STAFF, *STORE_LEADS, *HQ}),
    "files.export": frozenset({Role.STORE_MANAGER, Role.HQ_ADMIN}),  # M-07: bulk export is its own permission
    "files.review": frozenset({Role.STORE_CS_MANAGER}),  # M-04
    "files.merge": frozenset({Role.STORE_CS_MANAGER}),  # M-06: duplicates merged by agreement
    "files.review_queue": frozenset({Role.STORE_CS_MANAGER, *HQ}),
    "cards.report_lost": frozenset({Role.STAFF, *STORE_LEADS}),  # M-17
    "pins.set": frozenset({Role.STAFF, *STORE_LEADS, *HQ}),  # L-07, L-11: spending PIN set at the desk
    "blacklist.add": frozenset({Role.STORE_CS_MANAGER}),  # M-16
    "access_log.read": frozenset({Role.AUDITOR, Role.HQ_ADMIN}),  # M-07
    "files.spot_check": frozenset({Role.HQ_CS}),  # M-04: HQ customer service samples approved files
    "accounts.request": frozenset({Role.STORE_CS_MANAGER}),  # O-03
    "accounts.decide": frozenset({Role.HQ_CS}),
    "accounts.queue": frozenset({Role.STORE_CS_MANAGER, *HQ}),
    "deletions.request": frozenset({Role.STORE_CS_MANAGER}),  # M-15
    "deletions.decide": frozenset({Role.HQ_CS}),
    "deletions.queue": frozenset({Role.STORE_CS_MANAGER, *HQ}),
    "grants.request": frozenset({Role.STAFF}),  # M-07: seeing another's file needs a manager's grant
    "grants.decide": frozenset(STORE_LEADS),
    "grants.queue": frozenset({Role.STAFF, *STORE_LEADS}),
    "handovers.request": frozenset(STORE_LEADS),  # M-12
    "handovers.review": frozenset({Role.HQ_CS}),
    "handovers.accept": frozenset({Role.STAFF}),
    "handovers.confirm": frozenset({Role.HQ_CS}),
    "handovers.recheck": frozenset({Role.STAFF}),
    "handovers.approve": frozenset({Role.STORE_MANAGER}),  # per file, after the receiver's re-check
    "handovers.read": frozenset({Role.STAFF, *STORE_LEADS, *HQ}),
    "revisits.log": frozenset({Role.STAFF, *STORE_LEADS}),  # M-20
    "revisits.plan": frozenset({Role.STAFF, *STORE_LEADS}),
    "prospects.create": frozenset({Role.STAFF, *STORE_LEADS}),
    "kpi.read": frozenset({*STORE_LEADS, *HQ}),  # M-21
    "stats.today": frozenset({*STORE_LEADS, *HQ, Role.AUDITOR}),  # the console's dashboard: a store's day
    "reviewers.leave": frozenset({Role.HQ_CS}),  # O-03: a reviewer on leave names a delegate
    # the console's member-file desk (issue 12)
    "blacklist.read": frozenset({*STORE_LEADS, *HQ}),  # M-16: shared by every store, flagged with the listing store
    "blacklist.lift": frozenset({Role.STORE_CS_MANAGER, Role.HQ_CS}),  # M-16: the listing store's (checked) or HQ CS
    "files.duplicates": frozenset({Role.STORE_CS_MANAGER}),  # M-06: candidates of a merge by agreement
}


@dataclass(frozen=True)
class RequestKind:
    """A request with a 12-hour service target: who raises it and who decides it are matrix actions."""

    kind: str
    collection: str  # URL: /v1/<collection>
    prefix: str  # matrix actions <prefix>.request / .decide / .queue
    rule: str
    target_hours: int = 12
    assigned: bool = False  # decided by one HQ reviewer, assigned when raised (O-03); their delegate during leave


REQUEST_KINDS = (RequestKind("account", "account-requests", "accounts", "O-03", assigned=True),
                 RequestKind("deletion", "deletion-requests", "deletions", "M-15", assigned=True),
                 RequestKind("grant", "access-grants", "grants", "M-07"))


def sees(p: Principal, store_id: str, referrer_staff_id: str | None) -> bool:
    """M-07: staff see their own members, store leads their store, HQ every file."""
    if p.role in HQ:
        return True
    if p.role in STORE_LEADS:
        return p.store_id == store_id
    if p.role == Role.STAFF:
        return p.store_id == store_id and referrer_staff_id == p.staff_id
    return False


def routed_to(reviewer: str | None, on_leave: dict[str, str]) -> str | None:
    """O-03: who decides an item assigned to `reviewer` now — their delegate while they are on leave (and the
    delegate's delegate, should the delegate be away too; a loop falls back to the assigned reviewer)."""
    seen: set[str] = set()
    who = reviewer
    while who is not None and who in on_leave and who not in seen:
        seen.add(who)
        who = on_leave[who]
    return reviewer if who in seen else who
