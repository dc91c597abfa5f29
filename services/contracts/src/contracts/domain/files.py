"""Stored documents (scans of signed contracts, court decisions) and what an upload may be."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from clientops_shared.errors import InvalidInput


def _now() -> datetime:
    return datetime.now(UTC)


class DocumentKind(StrEnum):
    SIGNED_SCAN = "signed_scan"
    COURT_DECISION = "court_decision"


# what we accept, by the bytes a file starts with, never by its name or declared type alone
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg"}


def sniff(head: bytes) -> str | None:
    """The content type the bytes are, among those we accept."""
    for content_type, magics in SIGNATURES.items():
        if any(head.startswith(magic) for magic in magics):
            return content_type
    return None


def check_upload(declared: str | None, head: bytes, size: int, limit: int,
                 field_name: str = "file") -> str:
    """The content type to store, or InvalidInput naming the field and why."""
    if size == 0:
        raise InvalidInput(field_name, "the file is empty")
    if size > limit:
        raise InvalidInput(field_name, f"the file is larger than {limit} bytes")
    actual = sniff(head)
    if actual is None:
        raise InvalidInput(field_name, "only PDF and JPEG files are accepted; the content is "
                           "neither")
    declared_type = (declared or "").split(";")[0].strip().lower()
    if declared_type in ("image/jpg", "image/pjpeg"):
        declared_type = "image/jpeg"
    if declared_type not in ("", "application/octet-stream") and declared_type != actual:
        raise InvalidInput(field_name, f"declared as {declared_type} but the content is "
                           f"{actual}")
    return actual


@dataclass(eq=False)
class StoredDocument:
    client_id: uuid.UUID
    kind: DocumentKind
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    contract_id: uuid.UUID | None = None
    claim_id: uuid.UUID | None = None
    uploaded_by: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)
