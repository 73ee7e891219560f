"""Personal data at rest and in events: authenticated encryption (AES-GCM) under versioned keys, and keyed-hash
blind indexes over one spelling per value.

Ciphertexts name their key: `k2:<base64(nonce + ciphertext)>`. A service holds a `Keyring` read from a setting
like `PII_KEYS="k2=<secret>,k1=<old secret>"`: the first key encrypts, every listed key decrypts, so after a new
key is put first the old rows keep decrypting while the service's rotation command re-encrypts them. A
ciphertext without a prefix (written before key ids existed) is read with the legacy key id `k0` (the old
`PII_ENCRYPTION_KEY` setting).

Blind indexes (`mobile_index`, `name_index`, `id_card_index`) are computed over the normalised value, so
`138-0013-8000`, `+86 13800138000` and full-width digits give one index (M-06, M-16, M-05 cannot be walked past
by typing a number differently)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .inputs import normalize_mobile

LEGACY_KEY_ID = "k0"  # ciphertexts without a key id were written with the old single key
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_PREFIX = re.compile(r"^([A-Za-z0-9_-]{1,16}):")  # base64 never holds ':', so a prefix is unambiguous


def _key(material: str) -> bytes:
    return hashlib.sha256(material.encode()).digest()


class Keyring:
    """Encryption keys by id; the first is current (encrypts), all decrypt."""

    def __init__(self, keys: Iterable[tuple[str, str]]) -> None:
        self._keys: dict[str, AESGCM] = {}
        self.current = ""
        for kid, secret in keys:
            if not _KEY_ID.match(kid):
                raise ValueError(f"key id {kid!r}: letters, digits, '-' or '_', at most 16")
            if not secret or len(secret) < 16:
                raise ValueError(f"key {kid}: a secret of at least 16 characters is required")
            if kid in self._keys:
                raise ValueError(f"key id {kid} listed twice")
            self._keys[kid] = AESGCM(_key(secret))
            self.current = self.current or kid
        if not self._keys:
            raise ValueError("no encryption key")

    @classmethod
    def parse(cls, spec: str, legacy: str | None = None) -> Keyring:
        """`"k2=<secret>,k1=<old>"` (first is current); a bare secret is the legacy key `k0`. `legacy` (the old
        single-key setting) is added as `k0` when the spec does not list it."""
        pairs: list[tuple[str, str]] = []
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            kid, eq, secret = part.partition("=")
            pairs.append((kid.strip(), secret.strip()) if eq and _KEY_ID.match(kid.strip())
                         else (LEGACY_KEY_ID, part))
        if legacy and LEGACY_KEY_ID not in {k for k, _ in pairs}:
            pairs.append((LEGACY_KEY_ID, legacy))
        return cls(pairs)

    @property
    def ids(self) -> list[str]:
        return list(self._keys)

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        ct = self._keys[self.current].encrypt(nonce, plaintext.encode(), None)
        return f"{self.current}:{base64.b64encode(nonce + ct).decode()}"

    def decrypt(self, token: str) -> str:
        kid, body = split_token(token)
        aead = self._keys.get(kid)
        if aead is None:
            raise KeyError(f"ciphertext under key {kid}, which this service does not hold")
        raw = base64.b64decode(body)
        return aead.decrypt(raw[:12], raw[12:], None).decode()

    def is_current(self, token: str) -> bool:
        return split_token(token)[0] == self.current

    def reencrypt(self, token: str) -> str:
        """The same plaintext under the current key (rotation); `token` itself when already current."""
        return token if self.is_current(token) else self.encrypt(self.decrypt(token))


def split_token(token: str) -> tuple[str, str]:
    """(key id, base64 body); an unprefixed ciphertext is the legacy key's."""
    m = _PREFIX.match(token)
    return (m.group(1), token[m.end():]) if m else (LEGACY_KEY_ID, token)


def keyring(key: str | Keyring) -> Keyring:
    return key if isinstance(key, Keyring) else Keyring.parse(key)


def encrypt(key: str | Keyring, plaintext: str) -> str:
    return keyring(key).encrypt(plaintext)


def decrypt(key: str | Keyring, token: str) -> str:
    return keyring(key).decrypt(token)


def blind_index(index_key: str, value: str) -> str:
    """Deterministic keyed hash to find a record without storing the value in clear (value as given, trimmed).

    Use `mobile_index`, `name_index` or `id_card_index`: they normalise first."""
    return hmac.new(_key(index_key), value.strip().encode(), hashlib.sha256).hexdigest()


def normalize_name(name: str) -> str:
    """One spelling per name: NFKC (full-width letters), whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


def normalize_id_card(id_card: str) -> str:
    return "".join(unicodedata.normalize("NFKC", id_card).split()).upper()


def mobile_index(index_key: str, mobile: str) -> str:
    """Blind index of a mobile in its one spelling: `138-0013-8000`, `+8613800138000`, full-width digits alike."""
    return blind_index(index_key, normalize_mobile(mobile))


def name_index(index_key: str, name: str) -> str:
    return blind_index(index_key, normalize_name(name))


def id_card_index(index_key: str, id_card: str) -> str:
    return blind_index(index_key, normalize_id_card(id_card))


def mask_mobile(mobile: str) -> str:
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) >= 7 else "****"


def mask_name(name: str) -> str:
    """王*明 / 李* — enough for a cashier to recognise, not enough to leak."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
