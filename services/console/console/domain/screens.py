"""Which screens a role sees (O-02). The owning service still decides every action; this only hides what a
role could never use, so staff are not shown buttons that would be refused."""

from __future__ import annotations

from vipcore.auth import Role

HQ = frozenset({Role.HQ_ADMIN, Role.HQ_CS})
STORE_LEADS = frozenset({Role.STORE_MANAGER, Role.STORE_CS_MANAGER})

# screen → roles (mirrors the members role matrix: files.search, files.review_queue, files.review; credit's readers)
SCREENS: dict[str, frozenset[Role]] = {
    "search": frozenset({Role.STAFF, *STORE_LEADS, *HQ}),
    "reviews": frozenset({Role.STORE_CS_MANAGER, *HQ}),
    "review.decide": frozenset({Role.STORE_CS_MANAGER}),  # M-04
    "adjust.request": frozenset({Role.STORE_CS_MANAGER, *HQ}),  # loyalty's requesters (L-02, M-18)
    "adjust.decide": HQ,  # loyalty's approvers; never the requester (L-02)
    "adjustments": frozenset({Role.STORE_CS_MANAGER, *HQ}),
    "campaigns": frozenset({Role.HQ_ADMIN}),  # notify's campaign roles (N-01)
    "aging": frozenset({*HQ, *STORE_LEADS, Role.AUDITOR}),  # credit READERS (C-07)
    "ops": frozenset({Role.HQ_ADMIN}),  # every service's /ops routes take an hq_admin staff token (issue 13)
    "profile": frozenset(Role) - {Role.POS},
    "dashboard": frozenset({*HQ, *STORE_LEADS, Role.AUDITOR}),  # a role with at least one tile
    "reports": frozenset({*HQ, *STORE_LEADS, Role.AUDITOR}),  # each report is its owning service's to refuse
    # -- store desk (members: handovers.read / handovers.request, the admin guard of imports, revisits.plan) --
    "handovers": frozenset({Role.STAFF, *STORE_LEADS, *HQ}),  # M-12: each step's actor is members' matrix
    "handover.request": STORE_LEADS,
    "imports": frozenset({Role.HQ_ADMIN}),  # M-19
    "revisits": frozenset({Role.STAFF, *STORE_LEADS}),  # M-20; KPIs (M-21) are the reports' kpi
    # -- member files (issue 12): members' matrix — files.update/read/merge/duplicates, blacklist.*, deletions.* --
    "file.edit": frozenset({Role.STAFF, *STORE_LEADS}),  # M-13: the change goes back through review
    "file.changes": frozenset({Role.STAFF, *STORE_LEADS, *HQ}),  # M-13: who changed what, each decision
    "file.merge": frozenset({Role.STORE_CS_MANAGER}),  # M-06: merged by agreement
    "blacklist": frozenset({*STORE_LEADS, *HQ}),  # M-16: shared by every store
    "blacklist.add": frozenset({Role.STORE_CS_MANAGER}),
    "blacklist.lift": frozenset({Role.STORE_CS_MANAGER, Role.HQ_CS}),  # members: the listing store's CS, HQ CS
    "deletions": frozenset({Role.STORE_CS_MANAGER, *HQ}),  # M-15
    "deletion.request": frozenset({Role.STORE_CS_MANAGER}),
    "deletion.decide": frozenset({Role.HQ_CS}),
    # -- notify (issue 12): notify's staff routes take an hq_admin token (marketing works under that role, O-02)
    "sms": frozenset({Role.HQ_ADMIN}),  # message log, parked queue with retry, templates, consent, audit
    "campaigns.create": frozenset({Role.HQ_ADMIN}),  # the builder (N-01)
    # -- credit (issue 12, C-01..C-09): mirrors credit's role matrix (entrypoints/http.py READERS, OFFICE, STAFF,
    # APPROVERS; coupons_http.py Finance; desk_http.py Reader = READERS + staff, Office = READERS)
    "credit": frozenset({*HQ, *STORE_LEADS, Role.AUDITOR, Role.STAFF}),  # accounts, holds, invoices, payments,
    # rebates, coupon sales, own liabilities (staff: their store's)
    "credit.lists": frozenset({*HQ, *STORE_LEADS, Role.AUDITOR}),  # READERS: extensions, write-offs, batches,
    # tally, reconciliation, rebate tiers, coupon conflicts, refused credit sales
    "credit.act": frozenset({*HQ, *STORE_LEADS, Role.STAFF}),  # STAFF: raise applications, payments,
    # extension and write-off applications, coupon sales, rebate collections (C-06: whoever operated the bill)
    "credit.request": frozenset({*HQ, *STORE_LEADS}),  # OFFICE: computing rebates
    "credit.decide": frozenset({Role.HQ_ADMIN, Role.STORE_MANAGER}),  # APPROVERS: decisions, cheques, suspension
    "credit.finance": frozenset({Role.HQ_ADMIN}),  # finance: coupon batches, closing a month
    # -- loyalty --
    "programs": HQ,  # loyalty's program viewer (GET /v1/programs: hq_admin, hq_cs)
    "desk": frozenset({Role.STAFF, *STORE_LEADS}),  # L-09 desk claims at their own store (the gateway's desk roles)
    # -- member-file export (M-07): members' files.export --
    "exports": frozenset({Role.STORE_MANAGER, Role.HQ_ADMIN}),
    # -- reports (each its owner's readers: loyalty's reports take an hq_admin token; members' kpi.read, M-21) --
    "report.liability": frozenset({Role.HQ_ADMIN}),
    "report.stored_value": frozenset({Role.HQ_ADMIN}),
    "report.movements": frozenset({Role.HQ_ADMIN}),
    "report.kpi": frozenset({*STORE_LEADS, *HQ}),
}

# dashboard tile → roles the owning service answers it for (O-02): members stats.today and files.review_queue,
# loyalty's reports (hq_admin), notify's message log (hq_admin), credit's READERS
TILES: dict[str, frozenset[Role]] = {
    "today": frozenset({*HQ, *STORE_LEADS, Role.AUDITOR}),
    "reviews": frozenset({Role.STORE_CS_MANAGER, *HQ}),
    "liability": frozenset({Role.HQ_ADMIN}),
    "stored_value": frozenset({Role.HQ_ADMIN}),
    "sms": frozenset({Role.HQ_ADMIN}),
    "credit": frozenset({*HQ, *STORE_LEADS, Role.AUDITOR}),
}


def tiles(role: Role) -> list[str]:
    """The dashboard tiles a role gets, in display order (O-02: none it could not read)."""
    return [t for t in TILES if role in TILES[t]]


def may(role: Role, screen: str) -> bool:
    return role in SCREENS.get(screen, frozenset())


# the navigation, in display order; each area's entries on their own line (profile last)
MENU: tuple[str, ...] = (
    "dashboard", "search", "reviews", "adjustments", "campaigns", "aging", "reports", "ops",
    "blacklist", "deletions",  # member files (M-16, M-15)
    "handovers", "imports", "revisits",  # store desk (M-12, M-19, M-20)
    "sms",  # notify: message log, parked, templates, consent, audit (N-*)
    "credit",  # credit and group-buy coupons (C-01..C-09)
    "desk", "programs",  # loyalty: redemption desk (L-09), program viewer
    "exports",  # member-file export (M-07)
    "profile",
)


def menu(role: Role) -> list[str]:
    """The navigation entries a role gets, in display order."""
    return [s for s in MENU if may(role, s)]
