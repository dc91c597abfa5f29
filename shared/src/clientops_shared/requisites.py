"""Russian requisites every service may check: the INN (python-stdnum's checksum)."""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.ru import inn as stdnum_inn

# [0-9], not \d: \d also matches other scripts' digits, which no registry issues
DIGITS = re.compile(r"[0-9]+")
# people paste requisites from cards and PDFs with spaces, NBSPs or dashes between groups
SEPARATORS = re.compile(r"[\s\-]+")


def compact(value: str) -> str:
    return SEPARATORS.sub("", value)


def validate_inn(value: str) -> str:
    """Return the INN without separators; 10 digits for organisations, 12 for persons."""
    number = compact(value)
    if not DIGITS.fullmatch(number) or len(number) not in (10, 12):
        raise ValueError(
            f"INN must be 10 digits (organisation) or 12 digits (sole trader), got {value!r}"
        )
    try:
        stdnum_inn.validate(number)
    except InvalidChecksum:
        raise ValueError(f"INN {number}: invalid checksum") from None
    except ValidationError:
        raise ValueError(f"INN {number}: invalid number") from None
    return number
