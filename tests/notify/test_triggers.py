"""N-01 triggers from other services' events (produced directly onto their topics), N-02 templates per brand
and language, N-03 consent / opt-out by reply / quiet hours / cap, N-06 masked views."""

from __future__ import annotations

from datetime import UTC, datetime

from devstack.testing import StackConfig, sql_value, wait_for
from vipcore.contracts import bookings, credit, loyalty, members

from .support import BIRTHDAY, notify_stack

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def tier(member_id: str, name: str = "VIP会员") -> loyalty.TierChanged:
    return loyalty.TierChanged(member_id=member_id, program="jewelry", brand="金缘珠宝", from_tier="normal",
                               to_tier="vip", to_tier_name=name, reason="L-04", cause_event_id="c",
                               occurred_at=NOW)


def birthday(member_id: str) -> loyalty.BirthdayToday:
    return loyalty.BirthdayToday(member_id=member_id, program="jewelry", brand="金缘珠宝", store_id="S1",
                                 on=NOW, discount_pct=10)


async def test_n01_every_trigger_sends_its_message_to_its_audience(stack_config: StackConfig) -> None:
    async with notify_stack(stack_config) as n:
        await n.emit(members.StoreRegistered(store_id="S1", name="S1", region_code="755", program="jewelry"))
        await n.member("M1", "13900000001", birthday=BIRTHDAY)
        await n.member("M2", "13900000002")
        await n.emit(
            members.MemberApproved(member_id="M1", store_id="S1", approved_by="CS-1"),
            members.CardIssued(member_id="M1", store_id="S1", card_no="7550001", mailed=True),
            loyalty.PointsEarned(member_id="M1", program="jewelry", brand="金缘珠宝", points=5000, balance_after=5000,
                                 receipt_no="R1", store_id="S1", cause_event_id="c1", occurred_at=NOW),
            loyalty.PointsEarned(member_id="M1", program="jewelry", brand="金缘珠宝", points=100, balance_after=5100,
                                 receipt_no="R2", store_id="S1", cause_event_id="c2", occurred_at=NOW),
            loyalty.PointsExpiring(member_id="M1", program="jewelry", brand="金缘珠宝", points=300,
                                   expires_on=datetime(2026, 12, 31, tzinfo=UTC)),
            loyalty.RewardReady(member_id="M1", program="jewelry", brand="金缘珠宝", reward_id="RW1",
                                reward_name="金手链", points_required=5000),
            members.HandoverCompleted(handover_id="H1", store_id="S1", from_staff_id="S-1", to_staff_id="S-2",
                                      to_staff_name_enc=n.seal("李娜"), to_staff_phone_enc=n.seal("13700001111"),
                                      member_ids=["M1", "M2"]),
            credit.InvoiceOverdue(receivable_id="RC1", customer_id="ORG-1", customer_name_enc=n.seal("华南公司"),
                                  customer_mobile_enc=n.seal("13600000003"), store_id="S1", amount_due=1234500,
                                  due_date="2026-10-31", days_overdue=23, responsible_staff_id="S-9",
                                  responsible_staff_mobile_enc=n.seal("13600000004")),
            birthday("M1"),  # marketing: M1 never consented
            bookings.BookingConfirmed(booking_id="B1", member_id="M1", store_id="S1", store_name="深圳万象城店",
                                      starts_at=datetime(2026, 11, 28, 11, 30, tzinfo=UTC), party_size=2),
        )
        await wait_for(lambda: _count(n, 10), 60, "ten SMS")

        async def birthday_decided() -> bool:  # suppressed, so not among the ten sent; another topic than some
            return any(m["template"] == "birthday" for m in await n.messages("M1"))

        await wait_for(birthday_decided, 60, "the birthday message's decision")
        m1 = {m["template"]: m for m in await n.messages("M1")}
        assert set(m1) == {"welcome", "card_mailed", "large_earn", "points_expiring", "reward_ready",
                           "handover_intro", "birthday", "booking_confirmed"}
        assert "2026-11-28 19:30" in m1["booking_confirmed"]["body"]  # store time (Asia/Shanghai)
        assert m1["birthday"]["status"] == "suppressed" and m1["birthday"]["suppressed_reason"] == "consent"
        assert "已寄出" in m1["card_mailed"]["body"] and "5000积分" in m1["large_earn"]["body"]
        assert "2026-12-31" in m1["points_expiring"]["body"] and "金手链" in m1["reward_ready"]["body"]
        # N-06: the staff member's number inside the text and the recipient's number are masked in views
        assert "137****1111" in m1["handover_intro"]["body"] and m1["welcome"]["to"] == "139****0001"
        (m2,) = await n.messages("M2")
        assert m2["template"] == "handover_intro" and m2["status"] in ("sending", "sent")
        by_to = {s["to"]: s["body"] for s in await n.sms()}
        assert "逾期23天" in by_to["13600000003"] and "12345.00元" in by_to["13600000003"]
        assert "请跟进收款" in by_to["13600000004"]
        assert all(b.startswith("【金缘珠宝】") for b in by_to.values())  # N-02: the company's name only
        assert "13700001111" in (await n.sms("13900000002"))[0]["body"]  # the handset gets the real number


async def _count(n: object, want: int) -> bool:
    return len(await n.sms()) >= want  # type: ignore[attr-defined]


async def test_n02_template_per_brand_and_language_and_refused_when_the_event_lacks_a_field(
        stack_config: StackConfig) -> None:
    async with notify_stack(stack_config) as n:
        r = await n.admin.put(f"{n.url}/v1/templates/tier_changed/en", json={
            "brand": "金缘珠宝", "body": "Dear {{ display_name }}, welcome to {{ to_tier_name }} ({{ points_total }})"})
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        err = r.json()["errors"][0]
        assert err["field"] == "points_total" and err["rule"] == "N-02"
        r = await n.admin.put(f"{n.url}/v1/templates/tier_changed/en", json={
            "brand": "金缘珠宝", "body": "Dear {{ display_name }}, you are {{ to_tier_name }} now."})
        assert r.status_code == 200, r.text
        r = await n.admin.put(f"{n.url}/v1/templates/no_such/en", json={"body": "x"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "key"
        await n.member("M1", "13900000011")
        await n.member("M2", "13900000012")
        assert (await n.admin.put(f"{n.url}/v1/members/M1/preferences", json={"language": "en"})).status_code == 200
        await n.emit(tier("M1", "VIP"), tier("M2"))
        await wait_for(lambda: _count(n, 2), 30, "two SMS")
        assert (await n.sms("13900000011"))[0]["body"] == "【金缘珠宝】Dear 王*明, you are VIP now."
        assert (await n.sms("13900000012"))[0]["body"].startswith("【金缘珠宝】尊敬的王*明，恭喜您成为VIP会员")


async def test_n03_opt_out_by_reply_is_honoured_at_once_and_service_messages_still_go(
        stack_config: StackConfig) -> None:
    async with notify_stack(stack_config, clock=lambda: NOW) as n:  # noon in Shanghai: no quiet hours
        await n.member("M1", "13900000021")
        r = await n.admin.put(f"{n.url}/v1/members/M1/preferences", json={"marketing_consent": True})
        assert r.status_code == 200
        await n.emit(birthday("M1"))
        await wait_for(lambda: _count(n, 1), 30, "the birthday SMS")
        assert (await n.sms())[0]["body"].endswith("退订回TD")
        r = await n.admin.post(f"{n.url}/v1/webhooks/simulator/inbound", json={"from": "13900000021", "text": "退订"})
        assert r.json()["opted_out"] == ["M1"]
        await n.emit(birthday("M1"), tier("M1"))
        await wait_for(lambda: n.status_of("M1", "tier_changed"), 30, "tier message")
        await wait_for(lambda: _count(n, 2), 30, "the tier SMS")
        statuses = sorted((m["template"], m["status"], m["suppressed_reason"]) for m in await n.messages("M1"))
        assert ("birthday", "suppressed", "opted_out") in statuses
        assert len(await n.sms()) == 2  # first birthday + tier change; the second birthday never went
        r = await n.admin.put(f"{n.url}/v1/members/NOPE/preferences", json={"marketing_consent": True})
        assert r.status_code == 404 and r.json()["errors"][0]["field"] == "member_id"


async def test_n03_quiet_hours_hold_marketing_to_the_morning_and_the_daily_cap_suppresses(
        stack_config: StackConfig) -> None:
    night = datetime(2030, 1, 10, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai (in the future: never due here)
    async with notify_stack(stack_config, clock=lambda: night, sms_daily_cap=1) as n:
        await n.emit(members.StoreRegistered(store_id="S1", name="S1", region_code="755", program="jewelry"))
        await n.member("M1", "13900000031")
        await n.admin.put(f"{n.url}/v1/members/M1/preferences", json={"marketing_consent": True})
        await n.emit(birthday("M1"), birthday("M1"), tier("M1"))
        await wait_for(lambda: _count(n, 1), 30, "the tier SMS")
        await wait_for(lambda: sql_value(n.cfg, "notify", "SELECT count(*) FROM messages WHERE template='birthday'"),
                       30, "birthday messages")
        held = await sql_value(n.cfg, "notify", "SELECT next_attempt_at FROM messages WHERE template='birthday' "
                               "AND status='queued' AND deferred='quiet_hours'")
        assert held == datetime(2030, 1, 11, 0, 0, tzinfo=UTC)  # 08:00 Shanghai
        assert await sql_value(n.cfg, "notify", "SELECT suppressed_reason FROM messages WHERE template='birthday' "
                               "AND status='suppressed'") == "cap"
        (only,) = await n.sms()
        assert "VIP会员" in only["body"]  # the service message went at night


async def test_n03_twilio_inbound_stop_is_verified_and_honoured(stack_config: StackConfig) -> None:
    """SMS_PROVIDER=twilio: the inbound webhook checks X-Twilio-Signature, then STOP opts the member out."""
    from notify.adapters.providers import TwilioProvider
    from pydantic import SecretStr

    public = "https://notify.example.com"
    async with notify_stack(stack_config, sms_provider="twilio", twilio_account_sid="AC1",
                            twilio_auth_token=SecretStr("tok"), twilio_from="+15557122661", public_url=public) as n:
        await n.member("M1", "13900000101")
        await n.admin.put(f"{n.url}/v1/members/M1/preferences", json={"marketing_consent": True})
        form = {"From": "+8613900000101", "To": "+15557122661", "Body": "STOP", "MessageSid": "SM1"}
        path = "/v1/webhooks/twilio/inbound"
        good = TwilioProvider("AC1", "tok", from_="+1").signature(public + path, form)
        forged = await n.admin.post(n.url + path, data=form, headers={"X-Twilio-Signature": "AAAA"})
        assert forged.status_code == 403
        assert await sql_value(n.cfg, "notify", "SELECT opted_out_at FROM contacts") is None
        r = await n.admin.post(n.url + path, data=form, headers={"X-Twilio-Signature": good})
        assert r.status_code == 200 and r.json()["opted_out"] == ["M1"]
        assert await sql_value(n.cfg, "notify", "SELECT marketing_consent FROM contacts") is False


async def test_a_batch_of_earnings_keeps_each_members_latest_purchase_and_never_moves_it_back(
        stack_config: StackConfig) -> None:
    """Segments use the last purchase (N-04): one statement per batch writes the latest of each member's earnings;
    an older event (late or redelivered) leaves the newer date on file."""
    async with notify_stack(stack_config) as n:
        await n.member("LP1", "13900000011")
        await n.member("LP2", "13900000012")

        def earned(member: str, receipt: str, at: datetime) -> loyalty.PointsEarned:
            return loyalty.PointsEarned(member_id=member, program="jewelry", brand="金缘珠宝", points=10,
                                        balance_after=10, receipt_no=receipt, store_id="S1", cause_event_id=receipt,
                                        occurred_at=at)

        late, later, latest = (datetime(2026, 11, d, 4, 0, tzinfo=UTC) for d in (20, 21, 22))
        await n.emit(earned("LP1", "R1", later), earned("LP1", "R2", latest), earned("LP1", "R3", late),
                     earned("LP2", "R4", late))

        async def written() -> bool:
            return await sql_value(stack_config, "notify", "SELECT count(*) FROM contacts WHERE member_id IN "
                                   "('LP1','LP2') AND last_purchase_at IS NOT NULL") == 2

        await wait_for(written, 30, "both members' last purchase")
        await n.emit(earned("LP1", "R5", late))  # older than the one on file
        await n.emit(earned("LP2", "R6", latest))  # behind R5 on the same partition: once it is in, R5 was handled

        async def lp2_latest() -> bool:
            return await sql_value(stack_config, "notify", "SELECT last_purchase_at FROM contacts WHERE "
                                   "member_id = 'LP2'") == latest

        await wait_for(lp2_latest, 30, "LP2's later purchase")
        assert await sql_value(stack_config, "notify", "SELECT last_purchase_at FROM contacts WHERE "
                               "member_id = 'LP1'") == latest
