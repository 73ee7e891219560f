"""N-06 in credit: customers' mobiles are kept AES-GCM encrypted; accounts opened before that still read."""

from __future__ import annotations

from credit.service.context import Credit
from vipcore.pii import Keyring


def test_n06_customer_mobile_sealed_at_rest_and_legacy_clear_values_still_read() -> None:
    c = Credit(engine=None, enc_key=Keyring.parse("k1=" + "s" * 32))  # type: ignore[arg-type]
    sealed = c.seal("13912345678")
    assert sealed is not None and "13912345678" not in sealed and c.unseal(sealed) == "13912345678"
    assert c.unseal("13912345678") == "13912345678"  # stored before encryption
    assert c.seal(None) is None and c.unseal(None) is None
