"""Electronic signatures: re-authenticate, then sign a manifest with the deployment key.

Every signed act in the product (publishing a policy version, approving a release, a pause
decision, an override) goes through ``reauthenticate`` and ``sign``:

1. ``reauthenticate`` checks the signer's password through the authentication backends (so
   django-axes counts a wrong one towards the lockout) and, when the signer has a confirmed
   TOTP device, a current code. A refusal is logged and written to the audit trail.
2. ``sign`` builds the manifest — canonical JSON (``core.canonical``) of the meaning, the
   signer, the server's UTC time, the key id and the subject the caller describes — signs its
   exact bytes with Ed25519, and stores it as an append-only ``Signature`` with an audit event,
   inside the caller's transaction.

Meanings come from a fixed list: each app declares its own ``Meaning`` constants.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import audit, keys
from core.canonical import canonical_json, format_timestamp
from core.models import Signature

log = logging.getLogger(__name__)
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Meaning:
    code: str
    text: str


class ReauthenticationFailed(Exception):
    """The signer did not prove who they are; the message is safe to show them."""


@dataclass(frozen=True)
class Reauthentication:
    """Proof, for this request only, that ``user_id`` has just re-entered their credentials."""

    user_id: int
    method: str


def reauthenticate(
    *, request: HttpRequest, user: User, password: str, otp_token: str = ""
) -> Reauthentication:
    authenticated = authenticate(request, username=user.get_username(), password=password)
    if authenticated is None or authenticated.pk != user.pk:
        _refused(user, "password")
        raise ReauthenticationFailed("That password is not correct. Nothing was signed.")
    devices = list(TOTPDevice.objects.devices_for_user(user, confirmed=True))
    if not devices:
        return Reauthentication(user_id=user.pk, method="password")
    if not otp_token or not any(device.verify_token(otp_token) for device in devices):
        _refused(user, "one-time code")
        raise ReauthenticationFailed("That one-time code is not valid. Nothing was signed.")
    return Reauthentication(user_id=user.pk, method="password+totp")


def demo_reauthentication(user: User) -> Reauthentication:
    """For ``seed_demo`` only (embedded default): the demo's own signatures say so."""
    return Reauthentication(user_id=user.pk, method="demo-seed")


def _refused(user: User, what: str) -> None:
    log.warning("signature refused for %s: wrong %s", user.get_username(), what)
    audit.record(action="core.signature.refused", actor=user, obj=user, reason=f"wrong {what}")


def build_manifest(
    *, signer: User, meaning: Meaning, subject: dict[str, Any], key_id: str,
    reauth: Reauthentication, signed_at: datetime,
) -> dict[str, Any]:  # fmt: skip
    return {
        "v": MANIFEST_VERSION,
        "meaning": {"code": meaning.code, "text": meaning.text},
        "signer": {
            "id": signer.pk,
            "username": signer.get_username(),
            "name": signer.get_full_name() or signer.get_username(),
        },
        "reauthenticated_with": reauth.method,
        "signed_at": format_timestamp(signed_at),
        "key_id": key_id,
        "subject": subject,
    }


@transaction.atomic
def sign(
    *,
    signer: User,
    meaning: Meaning,
    obj: models.Model,
    subject: dict[str, Any],
    reauth: Reauthentication,
    now: datetime | None = None,
) -> Signature:
    if reauth.user_id != signer.pk:
        raise ReauthenticationFailed("The signer must re-authenticate themselves.")
    key = keys.signing_key()
    signed_at = now or timezone.now()
    manifest = canonical_json(
        build_manifest(signer=signer, meaning=meaning, subject=subject, key_id=key.key_id,
                       reauth=reauth, signed_at=signed_at)
    )  # fmt: skip
    signature = Signature.objects.create(
        signer=signer,
        printed_name=signer.get_full_name() or signer.get_username(),
        meaning=meaning.code,
        meaning_text=meaning.text,
        signed_at=signed_at,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        manifest=manifest.decode("utf-8"),
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
        signature=base64.b64encode(key.sign(manifest)).decode("ascii"),
        key_id=key.key_id,
        reauthenticated_with=reauth.method,
    )
    audit.record(
        action="core.signature.created",
        actor=signer,
        obj=signature,
        subject=obj,
        after={
            "meaning": meaning.code,
            "object_type": signature.object_type,
            "object_id": signature.object_id,
            "manifest_sha256": signature.manifest_sha256,
            "key_id": key.key_id,
        },
    )
    return signature


def is_authentic(signature: Signature) -> bool:
    """The stored signature verifies over the stored manifest with the deployment's key."""
    key = keys.signing_key()
    if signature.key_id != key.key_id:
        return False
    try:
        key.public.verify(base64.b64decode(signature.signature), signature.manifest.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return False
    return True


# --- Checking stored signatures (manage.py verify_audit) --------------------------------------

StalenessCheck = Callable[[list[Signature]], set[int]]
_staleness: dict[str, StalenessCheck] = {}


def register_staleness(object_type: str, check: StalenessCheck) -> None:
    """Let an app say which of its signatures are stale: bound, but over a subject that is no
    longer current (an approval of an assessment that has changed since).

    ``object_type`` is the signed object's ``label_lower`` (``Signature.object_type``).
    ``check`` receives a batch of authentic signatures on objects of that type and returns
    the ids of the stale ones, in a number of queries that does not grow with the batch. Call
    it from the app's ``AppConfig.ready``; staleness is the app's knowledge, not core's.
    """
    if _staleness.get(object_type, check) is not check:
        raise ValueError(f"a staleness check for {object_type} is already registered")
    _staleness[object_type] = check


def binding_problem(signature: Signature, key: keys.SigningKey) -> str:
    """Why the row is not bound to its manifest by the deployment key, or "" when it is: the
    signature verifies over the manifest's exact bytes, and the row says what they say."""
    if signature.key_id != key.key_id:
        return f"signed with key {signature.key_id}, not this deployment's key {key.key_id}"
    manifest = signature.manifest.encode("utf-8")
    try:
        key.public.verify(base64.b64decode(signature.signature), manifest)
    except (InvalidSignature, ValueError):
        return "the signature does not verify over the manifest"
    if hashlib.sha256(manifest).hexdigest() != signature.manifest_sha256:
        return "manifest_sha256 is not the manifest's hash"
    try:
        signed = json.loads(manifest)
        claims = {
            "meaning": (signed["meaning"]["code"], signature.meaning),
            "meaning_text": (signed["meaning"]["text"], signature.meaning_text),
            "signer": (signed["signer"]["id"], signature.signer_id),
            "printed_name": (signed["signer"]["name"], signature.printed_name),
            "signed_at": (signed["signed_at"], format_timestamp(signature.signed_at)),
            "key_id": (signed["key_id"], signature.key_id),
            "reauthenticated_with": (
                signed["reauthenticated_with"],
                signature.reauthenticated_with,
            ),
        }
    except (ValueError, KeyError, TypeError):
        return "the manifest is not a signature manifest"
    differing = [column for column, (said, stored) in claims.items() if said != stored]
    if differing:
        return f"the row differs from its signed manifest ({', '.join(differing)})"
    return ""


@dataclass
class SignatureReport:
    checked: int = 0
    bound: int = 0
    stale: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_signatures(*, batch_size: int = 1000) -> SignatureReport:
    """Check every stored signature against its manifest, and count the stale ones: one query
    per batch of signatures, plus what the registered staleness checks need per batch."""
    report = SignatureReport()
    for batch in _batches(batch_size):
        key = keys.signing_key()
        bound: dict[str, list[Signature]] = defaultdict(list)
        for signature in batch:
            report.checked += 1
            problem = binding_problem(signature, key)
            if problem:
                report.problems.append(
                    f"signature {signature.pk} ({signature.meaning} on {signature.object_type}:"
                    f"{signature.object_id}, by {signature.printed_name}): {problem}"
                )
            else:
                report.bound += 1
                bound[signature.object_type].append(signature)
        for object_type, signatures in bound.items():
            check = _staleness.get(object_type)
            if check is not None:
                report.stale += len(check(signatures) & {s.pk for s in signatures})
    return report


def _batches(size: int) -> Iterator[list[Signature]]:
    """Keyset pagination on pk: a late batch costs what the first does."""
    last = 0
    while True:
        batch = list(Signature.objects.filter(pk__gt=last).order_by("pk")[:size])
        if batch:
            yield batch
        if len(batch) < size:
            return
        last = batch[-1].pk
