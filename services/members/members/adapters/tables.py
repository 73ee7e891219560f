"""Members tables: organisation (O-01), member files, cards (M-17), consumption records."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = sa.MetaData()

stores = sa.Table(
    "stores", metadata,
    sa.Column("store_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("region_code", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("program", sa.Text, nullable=False),
)

staff = sa.Table(
    "staff", metadata,
    sa.Column("staff_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("position", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("mobile_index", sa.Text, index=True),  # M-05: employees cannot be members
    sa.Column("password_hash", sa.Text),  # O-03: scrypt; no login until an account is opened
    sa.Column("started_on", sa.Date),  # M-21: month 1 of the KPI ramp
    sa.Column("mobile_enc", sa.Text),  # AES-GCM; work mobile for service SMS (C-07 staff overdue reminders)
    sa.Column("line_leader_staff_id", sa.Text),  # C-06: who answers for this staff member's bad debts
    sa.Column("left_at", sa.DateTime(timezone=True)),  # O-03: a staff member who left logs in no more
)

staff_sessions = sa.Table(  # refresh tokens (O-03): stored hashed, rotated on use, deleted when access changes
    "staff_sessions", metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),  # SHA-256 of the opaque refresh token
    sa.Column("staff_id", sa.Text, sa.ForeignKey("staff.staff_id"), nullable=False, index=True),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),  # rotated: a second use is a stolen token (all revoked)
)

card_sequences = sa.Table(
    "card_sequences", metadata,
    sa.Column("region_code", sa.Text, primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
)

members = sa.Table(
    "members", metadata,
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("referrer_staff_id", sa.Text),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("name_index", sa.Text, nullable=False),
    sa.Column("mobile_enc", sa.Text, nullable=False),
    sa.Column("mobile_index", sa.Text, nullable=False),
    sa.Column("card_no", sa.Text, unique=True),  # issued on approval (M-17)
    sa.Column("card_status", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("birthday", sa.Date),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("details", JSONB),  # M-01 fields other than name/mobile; ID card only encrypted
    sa.Column("id_card_enc", sa.Text),
    sa.Column("id_card_index", sa.Text),
    sa.Column("stage", sa.Integer, nullable=False, server_default="2"),  # M-03
    sa.Column("submitted_at", sa.DateTime(timezone=True)),  # M-04: the 12-hour review clock starts here
    sa.Column("reviewed_by", sa.Text),
    sa.Column("reviewed_at", sa.DateTime(timezone=True)),
    sa.Column("review_note", sa.Text),
    sa.Column("merged_into", sa.Text),  # M-06: a duplicate merged by agreement points at the file kept
    sa.UniqueConstraint("store_id", "mobile_index", name="members_one_file_per_store"),  # M-06
)

# the console at chain scale (issue 12): a file by mobile across stores, by name prefix, a store's files, the queue
sa.Index("members_mobile_index", members.c.mobile_index)
sa.Index("members_name_prefix", members.c.full_name, postgresql_ops={"full_name": "text_pattern_ops"})
sa.Index("members_store_created", members.c.store_id, members.c.created_at)
sa.Index("members_pending_review", members.c.submitted_at, postgresql_where=members.c.status == "pending_review")
sa.Index("members_created_id", members.c.created_at, members.c.member_id)  # an HQ export's keyset (M-07)

consumptions = sa.Table(
    "consumptions", metadata,
    sa.Column("sale_id", sa.Text, primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False, index=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("cashier_staff_id", sa.Text),
    sa.Column("booked_by_staff_id", sa.Text),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
)

cards = sa.Table(  # M-17: every card ever issued, so HQ can trace issue date, store and holder
    "cards", metadata,
    sa.Column("card_no", sa.Text, primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False, index=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # active / blocked / expired
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("valid_until", sa.Date),
    sa.Column("replaced_by", sa.Text),
)

blacklist = sa.Table(  # M-16: shared by every store; one row per listing, kept when lifted (the history)
    "blacklist", metadata,
    sa.Column("entry_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("mobile_index", sa.Text, nullable=False, index=True),
    sa.Column("mobile_enc", sa.Text, nullable=False),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("listed_by", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    sa.Column("prior_states", JSONB),  # {member_id: state before the listing}: lifting restores them
    sa.Column("lifted_at", sa.DateTime(timezone=True)),
    sa.Column("lifted_by", sa.Text),
    sa.Column("lift_reason", sa.Text),
    sa.Index("blacklist_in_force", "mobile_index", unique=True, postgresql_where=sa.text("lifted_at IS NULL")),
)

access_log = sa.Table(  # M-07: who read which member files, when and why
    "access_log", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("staff_id", sa.Text, nullable=False, index=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),  # read / search / export / refused
    sa.Column("member_ids", ARRAY(sa.Text), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

periodic_runs = sa.Table(  # time-driven rules run once per period (idempotent), whoever triggers them
    "periodic_runs", metadata,
    sa.Column("rule", sa.Text, primary_key=True),
    sa.Column("period", sa.Text, primary_key=True),
    sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("summary", JSONB, nullable=False),
)

claim_carry = sa.Table(  # M-11: counts of a tied month carried into the next
    "claim_carry", metadata,
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("staff_id", sa.Text, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)

requests = sa.Table(  # requests with a 12-hour target: accounts (O-03), deletions (M-15), access grants (M-07)
    "requests", metadata,
    sa.Column("request_id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),  # account / deletion / grant
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("member_id", sa.Text),
    sa.Column("raised_by", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # pending / approved / rejected
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("decision_note", sa.Text),  # the decider's reason, shown to the requester (M-15)
    sa.Column("valid_until", sa.DateTime(timezone=True)),  # grants: time-limited
    sa.Column("reviewer", sa.Text),  # O-03: the HQ reviewer it was assigned to (a delegate takes it during leave)
    sa.Index("ix_requests_kind_status", "kind", "status"),
)

handovers = sa.Table(  # M-12: the complete hand-over record, every step with who and when
    "handovers", metadata,
    sa.Column("handover_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("from_staff_id", sa.Text, nullable=False),
    sa.Column("to_staff_id", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),  # same_position / different_position
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("member_ids", ARRAY(sa.Text), nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("history", JSONB, nullable=False),  # [{step, state, by, at, note}]
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("handovers_store_raised", "store_id", "raised_at"),  # the console's list, newest first per store
)

imports = sa.Table(  # M-19: one spreadsheet import and its progress
    "imports", metadata,
    sa.Column("import_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # running / done / failed
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("processed", sa.Integer, nullable=False),
    sa.Column("imported", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("started_by", sa.Text),  # the operator: staff id from the token (issue 12: every action audited)
)

import_rejects = sa.Table(  # M-19: every refused row with its reasons (the downloadable report)
    "import_rejects", metadata,
    sa.Column("import_id", sa.Text, primary_key=True),
    sa.Column("row_no", sa.Integer, primary_key=True),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("row", JSONB, nullable=False),  # as read, mobile masked
)

import_openings = sa.Table(  # M-19: the opening balance an imported row brought, written with the file (one tx)
    "import_openings", metadata,
    sa.Column("member_id", sa.Text, primary_key=True),  # one opening per member file, ever
    sa.Column("import_id", sa.Text, nullable=False, index=True),
    sa.Column("row_no", sa.Integer, nullable=False),
    sa.Column("points", sa.BigInteger, nullable=False),  # 0..OPENING_POINTS_MAX (vipcore.contracts.members)
    sa.Column("tier", sa.Text),  # a tier code of the store's program (L-04), or none
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("stored_value", sa.BigInteger, nullable=False, server_default="0",
              comment="opening prepaid balance, fen, 0..OPENING_STORED_VALUE_MAX (L-11; members_0013)"),
    sa.CheckConstraint("points >= 0", name="import_openings_points_not_negative"),
    sa.CheckConstraint("stored_value >= 0", name="import_openings_stored_value_not_negative"),
)

revisits = sa.Table(  # M-20: each revisit (when, who, what, next date)
    "revisits", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False, index=True),
    sa.Column("staff_id", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("next_date", sa.Date, nullable=False),
)

prospects = sa.Table(  # M-20: prospects with an intent level H/A/B/C and a next-visit date
    "prospects", metadata,
    sa.Column("prospect_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("staff_id", sa.Text, nullable=False),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("mobile_enc", sa.Text, nullable=False),
    sa.Column("mobile_index", sa.Text, nullable=False),
    sa.Column("intent", sa.Text, nullable=False),
    sa.Column("next_visit", sa.Date, nullable=False),
    sa.Column("note", sa.Text),
)

referrer_losses = sa.Table(  # M-21: members a staff member lost (dormancy, detachment), by month
    "referrer_losses", metadata,
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("period", sa.Text, primary_key=True),
    sa.Column("staff_id", sa.Text, nullable=False, index=True),
    sa.Column("reason", sa.Text, nullable=False),
)

handover_files = sa.Table(  # M-12: the receiver re-checks each file, the store manager approves each
    "handover_files", metadata,
    sa.Column("handover_id", sa.Text, primary_key=True),
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("rechecked_by", sa.Text),
    sa.Column("rechecked_at", sa.DateTime(timezone=True)),
    sa.Column("recheck_note", sa.Text),
    sa.Column("approved_by", sa.Text),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
    sa.Column("approval_note", sa.Text),
)

merges = sa.Table(  # M-06: files merged by agreement (audit): which file was kept, whose referrer stayed
    "merges", metadata,
    sa.Column("merge_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("kept_member_id", sa.Text, nullable=False),
    sa.Column("merged_member_id", sa.Text, nullable=False, unique=True),
    sa.Column("referrer_staff_id", sa.Text),
    sa.Column("dropped_referrer_staff_id", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("merged_by", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

reviewer_leave = sa.Table(  # O-03: a reviewer on leave names a delegate; their queue goes to the delegate
    "reviewer_leave", metadata,
    sa.Column("staff_id", sa.Text, primary_key=True),
    sa.Column("delegate_staff_id", sa.Text, nullable=False),
    sa.Column("until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
)

file_changes = sa.Table(  # M-13: every change to a file and every review decision on it, with who and when
    "file_changes", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("by", sa.Text, nullable=False),  # the operator, from the staff token
    sa.Column("kind", sa.Text, nullable=False),  # changed / approved / rejected
    sa.Column("from_status", sa.Text, nullable=False),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("fields", JSONB, nullable=False),  # [{field, before, after}]; mobile and ID card masked
    sa.Column("note", sa.Text),  # a review's note
)

program_cards = sa.Table(  # M-17: card validity is a program setting (1 or 2 years)
    "program_cards", metadata,
    sa.Column("program", sa.Text, primary_key=True),
    sa.Column("validity_years", sa.Integer, nullable=False),
    sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
)

# L-07, L-11: member-present proof for spending (service/proofs.py)
member_pins = sa.Table(  # a PIN set at the desk: scrypt hash only, never the PIN
    "member_pins", metadata,
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("pin_hash", sa.Text, nullable=False),
    sa.Column("set_by", sa.Text, nullable=False),
    sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
)

proof_challenges = sa.Table(  # one-time codes sent by SMS: keyed hash, expiry, the spend each proved
    "proof_challenges", metadata,
    sa.Column("challenge_id", sa.Uuid, primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False),
    sa.Column("code_hash", sa.Text, nullable=False),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
    sa.Column("used_for", sa.Text),
)
sa.Index("proof_challenges_member", proof_challenges.c.member_id, proof_challenges.c.created_at)

proof_guard = sa.Table(  # wrong answers in a row per member, and the lock they caused
    "proof_guard", metadata,
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
)

proof_audit = sa.Table(  # every attempt: code sent, ok, wrong, expired, locked, ID checked, PIN set
    "proof_audit", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("member_id", sa.Text, nullable=False),
    sa.Column("card_no", sa.Text),
    sa.Column("store_id", sa.Text),
    sa.Column("cashier_staff_id", sa.Text),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text),
    sa.Column("ref", sa.Text),
)
sa.Index("proof_audit_member", proof_audit.c.member_id, proof_audit.c.id)

pii_state = sa.Table(  # personal-data upkeep: which blind-index scheme every stored index follows (members.pii)
    "pii_state", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# M-07: bulk export of member files, run in the background with its progress (service/exports.py)
member_file_exports = sa.Table(
    "member_file_exports", metadata,
    sa.Column("export_id", sa.Text, primary_key=True),
    sa.Column("started_by", sa.Text, nullable=False),  # the operator: staff id from the token
    sa.Column("role", sa.Text, nullable=False),  # the role it ran as (what it masked)
    sa.Column("scope_store_id", sa.Text),  # the store a store manager's export is bound to; none for HQ
    sa.Column("reason", sa.Text, nullable=False),  # written to the access log with every member id exported
    sa.Column("filters", JSONB, nullable=False),  # store_id, status, registered_from/to, tz
    sa.Column("state", sa.Text, nullable=False),  # running / done / failed
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("done", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),  # stale: the process died, failed
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),  # the file is deleted after this
)
sa.Index("member_file_exports_started", member_file_exports.c.started_at, member_file_exports.c.export_id)
sa.Index("member_file_exports_running", member_file_exports.c.heartbeat_at,
         postgresql_where=member_file_exports.c.state == "running")

member_file_export_parts = sa.Table(  # the CSV a chunk at a time, encrypted (PII keyring), with its member ids
    "member_file_export_parts", metadata,
    sa.Column("export_id", sa.Text, primary_key=True),
    sa.Column("part_no", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("member_ids", ARRAY(sa.Text), nullable=False),
)
