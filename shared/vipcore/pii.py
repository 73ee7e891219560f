"""Personal data at rest: authenticated encryption (AES-GCM) and keyed-hash blind indexes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def _key(material: str) -> bytes:
    return hashlib.sha256(material.encode()).digest()


def blind_index(index_key: str, value: str) -> str:
    """Deterministic keyed hash to find a record by mobile or name without storing it in clear."""
    return hmac.new(_key(index_key), value.strip().encode(), hashlib.sha256).hexdigest()


def encrypt(enc_key: str, plaintext: str) -> str:
    nonce = os.urandom(12)
    ct = AESGCM(_key(enc_key)).encrypt(nonce, plaintext.encode(), None)
    return base64.b64encode(nonce + ct).decode()


def decrypt(enc_key: str, token: str) -> str:
    raw = base64.b64decode(token)
    return AESGCM(_key(enc_key)).decrypt(raw[:12], raw[12:], None).decode()


def mask_mobile(mobile: str) -> str:
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) >= 7 else "****"


def mask_name(name: str) -> str:
    """王*明 / 李* — enough for a cashier to recognise, not enough to leak."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
