"""How many columns files may add to a raw table: the schema-drift limits.

A file's undeclared columns are added to its raw table as varchar (README,
"Schema drift"). Without a limit one JSON line with 1,000 keys would add 1,000
permanent columns, so two settings cap them:

| setting | default | what it caps |
| --- | --- | --- |
| `CDP_LANDING_MAX_NEW_COLUMNS_PER_FILE` | 20 | columns one file may add |
| `CDP_LANDING_MAX_NEW_COLUMNS_PER_TABLE` | 100 | undeclared columns a raw table may hold in all |

The first new columns of a file (header order; JSON keys in order of first
appearance) are added up to the limits; a record with a value in a column
beyond them is rejected with a reason naming the limit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cdp.landing.errors import LandingError

PER_FILE_ENV = "CDP_LANDING_MAX_NEW_COLUMNS_PER_FILE"
PER_TABLE_ENV = "CDP_LANDING_MAX_NEW_COLUMNS_PER_TABLE"


@dataclass(frozen=True)
class ColumnLimits:
    per_file: int = 20
    per_table: int = 100

    @classmethod
    def from_env(cls) -> ColumnLimits:
        """The limits from the environment; LandingError (one line) for a bad value."""
        default = cls()
        return cls(
            per_file=_read(PER_FILE_ENV, default.per_file),
            per_table=_read(PER_TABLE_ENV, default.per_table),
        )


def _read(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise LandingError(f"{name} must be a whole number of columns, 0 or more (got {text!r})")
    return value
