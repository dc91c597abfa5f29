from __future__ import annotations

from clientops_shared.db import make_metadata, shared_tables
from clientops_shared.projections import client_directory

metadata = make_metadata()
shared = shared_tables(metadata)
clients = client_directory(metadata)


def start_mappers() -> None:
    """No aggregates mapped yet: this service keeps the client directory only."""
