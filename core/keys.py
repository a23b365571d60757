"""The deployment's Ed25519 signing key.

Production reads the private key from ``SIGNING_KEY_FILE`` (PEM, PKCS#8, unencrypted; make it
with ``openssl genpkey -algorithm ed25519 -out signing-key.pem``). The embedded default
generates ``var/signing-key.pem`` (mode 0600) on first use. The key id is the first 16 hex
digits of the SHA-256 of the raw 32-byte public key; every signature stores it, so a rotated
key still verifies old signatures against the public key that made them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    key_id: str

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _generate(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.touch(mode=0o600)
    path.write_bytes(pem)


@lru_cache(maxsize=4)
def _load(path: str) -> SigningKey:
    try:
        private = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except FileNotFoundError:
        raise ImproperlyConfigured(f"SIGNING_KEY_FILE {path} does not exist") from None
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"SIGNING_KEY_FILE {path} is not a PEM private key: {exc}"
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"SIGNING_KEY_FILE {path} must hold an Ed25519 key")
    return SigningKey(private=private, key_id=key_id_of(private.public_key()))


def signing_key() -> SigningKey:
    if settings.SIGNING_KEY_FILE:
        return _load(str(settings.SIGNING_KEY_FILE))
    if not settings.EMBEDDED:
        raise ImproperlyConfigured("SIGNING_KEY_FILE must be set when DATABASE_URL is set")
    path = Path(settings.VAR_DIR) / "signing-key.pem"
    if not path.exists():
        _generate(path)
    return _load(str(path))
