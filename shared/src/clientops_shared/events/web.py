"""Events published by web, the owner of users and roles."""

from __future__ import annotations

from pydantic import Field

from clientops_shared.events.base import Event


class UserChanged(Event):
    """A user's role, password or state changed: tokens below ``token_version`` are revoked.

    Every service keeps the highest version per user (``clientops_shared.revocation``) and
    answers 401 to an older token, so a demoted user loses the old role within seconds.
    """

    TYPE = "web.user.changed"
    username: str = Field(min_length=1, max_length=100)
    role: str
    active: bool
    token_version: int = Field(ge=0)


class UserDeactivated(UserChanged):
    """An account was switched off: every token it holds stops working on every service."""

    TYPE = "web.user.deactivated"
