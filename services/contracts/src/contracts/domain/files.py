"""Stored documents (scans of signed contracts, court decisions) and what an upload may be."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from clientops_shared.uploads import check_upload as check_upload  # re-exported
from clientops_shared.uploads import sniff as sniff  # re-exported


def _now() -> datetime:
    return datetime.now(UTC)


class DocumentKind(StrEnum):
    SIGNED_SCAN = "signed_scan"
    COURT_DECISION = "court_decision"


# what we accept (PDF and JPEG), by the bytes a file starts with: clientops_shared.uploads
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg"}


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
