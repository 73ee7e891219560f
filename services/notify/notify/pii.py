"""Personal data upkeep of the notify service: key rotation of the mobiles it keeps (contacts, messages).

    python -m notify.pii status     # values not yet under the current key (first in PII_KEYS)
    python -m notify.pii rotate     # re-encrypt them, in batches, with progress; resumable

The same pass runs in the background when the service starts (vipcore.pii_upkeep.Rotator)."""

from __future__ import annotations

from vipcore.pii import Keyring
from vipcore.pii_upkeep import Sealed, run_command

from .adapters.tables import contacts, messages

SEALED = (Sealed(contacts, ("mobile_enc",)), Sealed(messages, ("mobile_enc",)))


def main(argv: list[str] | None = None) -> int:
    from .config import NotifySettings

    settings = NotifySettings()  # type: ignore[call-arg]

    def make() -> tuple[str, Keyring, tuple[Sealed, ...]]:
        return settings.database_url, settings.pii_keyring(), SEALED

    return run_command("notify", make, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
