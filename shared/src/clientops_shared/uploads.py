"""What an uploaded file may be: judged by the bytes it starts with, never by its name or its
declared type alone; bounded in size."""

from __future__ import annotations

from collections.abc import Mapping

from clientops_shared.errors import InvalidInput

SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
PDF_AND_JPEG = ("application/pdf", "image/jpeg")


def sniff(head: bytes, accepted: tuple[str, ...] = PDF_AND_JPEG,
          signatures: Mapping[str, tuple[bytes, ...]] = SIGNATURES) -> str | None:
    """The content type the bytes are, among those accepted."""
    for content_type in accepted:
        if any(head.startswith(magic) for magic in signatures[content_type]):
            return content_type
    return None


def check_upload(declared: str | None, head: bytes, size: int, limit: int,
                 field_name: str = "file", accepted: tuple[str, ...] = PDF_AND_JPEG) -> str:
    """The content type to store, or InvalidInput naming the field and why."""
    if size == 0:
        raise InvalidInput(field_name, "the file is empty")
    if size > limit:
        raise InvalidInput(field_name, f"the file is larger than {limit} bytes")
    actual = sniff(head, accepted)
    if actual is None:
        names = [t.split("/")[1].upper() for t in accepted]
        listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
        raise InvalidInput(field_name, f"only {listed} files are accepted; the content is "
                           f"{'neither' if len(names) == 2 else 'none of them'}")
    declared_type = (declared or "").split(";")[0].strip().lower()
    if declared_type in ("image/jpg", "image/pjpeg"):
        declared_type = "image/jpeg"
    if declared_type not in ("", "application/octet-stream") and declared_type != actual:
        raise InvalidInput(field_name, f"declared as {declared_type} but the content is "
                           f"{actual}")
    return actual
