"""Personal data upkeep of the credit service: key rotation (and sealing phones stored in clear by older versions).

    python -m credit.pii status     # values not yet under the current key (first in PII_KEYS)
    python -m credit.pii rotate     # re-encrypt them, in batches, with progress; resumable

The same pass runs in the background when the service starts (vipcore.pii_upkeep.Rotator)."""

from __future__ import annotations

from vipcore.pii import Keyring, mobile_index
from vipcore.pii_upkeep import Sealed, run_command

from .adapters.tables import accounts, coupon_sales, staff_directory
from .service.context import CLEAR_MOBILE


def sealed(index_key: str) -> tuple[Sealed, ...]:
    return (
        Sealed(accounts, ("contact_mobile",), clear=CLEAR_MOBILE),
        Sealed(staff_directory, ("mobile_enc",)),
        Sealed(coupon_sales, ("phone_enc",), clear=CLEAR_MOBILE,
               index=("phone_index", lambda phone: mobile_index(index_key, phone))),
    )


def main(argv: list[str] | None = None) -> int:
    from .config import CreditSettings

    settings = CreditSettings()  # type: ignore[call-arg]

    def make() -> tuple[str, Keyring, tuple[Sealed, ...]]:
        return settings.database_url, settings.pii_keyring(), sealed(settings.pii_index_key.get_secret_value())

    return run_command("credit", make, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
