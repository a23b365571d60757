"""Evidence files for safeguards: checked before anything is stored, kept by content.

A file is accepted when its extension is one we serve back safely and its bytes really are
that type (a PDF starts with ``%PDF-``, a PNG with its signature, text is UTF-8 without NUL
bytes, JSON parses), and when it is within ``EVIDENCE_MAX_BYTES``. It is stored once under
``evidence/<sha256>``; the same bytes uploaded twice share the stored copy, so a stored file
left behind by a transaction that rolled back is harmless and is reused by the next upload.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from core.canonical import canonical_json


def _text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data


def _json(data: bytes) -> bool:
    try:
        json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


# extension: (content type served back, check of the bytes)
TYPES: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    ".pdf": ("application/pdf", lambda data: data.startswith(b"%PDF-")),
    ".png": ("image/png", lambda data: data.startswith(b"\x89PNG\r\n\x1a\n")),
    ".jpg": ("image/jpeg", lambda data: data.startswith(b"\xff\xd8\xff")),
    ".jpeg": ("image/jpeg", lambda data: data.startswith(b"\xff\xd8\xff")),
    ".txt": ("text/plain; charset=utf-8", _text),
    ".md": ("text/markdown; charset=utf-8", _text),
    ".csv": ("text/csv; charset=utf-8", _text),
    ".json": ("application/json", _json),
}
ACCEPT = ",".join(TYPES)


@dataclass(frozen=True)
class EvidenceFile:
    name: str
    content_type: str
    size: int
    sha256: str
    data: bytes


def check(upload: UploadedFile[bytes]) -> EvidenceFile:
    """The upload as evidence, or a ValidationError saying what is wrong with it."""
    limit = settings.EVIDENCE_MAX_BYTES
    name = PurePath(upload.name or "").name[:200]
    suffix = PurePath(name).suffix.lower()
    if suffix not in TYPES:
        raise ValidationError(
            f"{name or 'The file'} is not a type we accept as evidence: use one of "
            f"{', '.join(TYPES)}."
        )
    if upload.size is None or upload.size > limit:
        raise ValidationError(f"{name} is larger than {filesizeformat(limit)}.")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(f"{name} is larger than {filesizeformat(limit)}.")
    if not data:
        raise ValidationError(f"{name} is empty.")
    content_type, looks_right = TYPES[suffix]
    if not looks_right(data):
        raise ValidationError(f"{name} does not contain what a {suffix} file should.")
    return EvidenceFile(name, content_type, len(data), hashlib.sha256(data).hexdigest(), data)


def store(file: EvidenceFile) -> str:
    """Save the bytes under their hash (once) and return the storage name."""
    path = f"evidence/{file.sha256}"
    if not default_storage.exists(path):
        saved = default_storage.save(path, ContentFile(file.data))
        if saved != path:  # another upload of the same bytes won the race
            default_storage.delete(saved)
    return path


def evidence_sha256(text: str, link: str, file_sha256: str) -> str:
    """What an approver's manifest binds: the description, the link and the file's hash."""
    body = {"text": text, "link": link, "file_sha256": file_sha256 or None}
    return hashlib.sha256(canonical_json(body)).hexdigest()
