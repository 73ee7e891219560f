"""N-02 sender in the company's name; N-05 back-off grows and is capped."""

from notify.domain.templates import backoff_seconds, tier_changed


def test_n02_message_in_the_company_name() -> None:
    assert tier_changed("金缘珠宝", "王*明", "VIP会员").startswith("【金缘珠宝】尊敬的王*明")


def test_n05_backoff_grows_exponentially_with_jitter_and_caps() -> None:
    assert backoff_seconds(1, 0.5) == 1.0
    assert backoff_seconds(4, 0.5) == 8.0
    assert backoff_seconds(30, 0.5) == 300.0
    assert 0.5 <= backoff_seconds(1, 0.0) <= backoff_seconds(1, 1.0) <= 1.5
