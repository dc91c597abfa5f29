"""Billing's set-based writes come from the shared library (one implementation)."""

from clientops_shared.bulk import any_uuid, copy_insert, copy_rows, insert_rows

__all__ = ["any_uuid", "copy_insert", "copy_rows", "insert_rows"]
