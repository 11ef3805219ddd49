"""Rules shared by the ad destinations, which may receive only hashed identifiers."""

from __future__ import annotations

from reverse_etl.batch import SyncContext


def hashed_field_problems(context: SyncContext, keys: dict[str, str], label: str) -> list[str]:
    """Every field must be a known match key of the right type, sent hashed."""
    problems = []
    types = dict(context.field_types)
    for name in context.fields:
        if name not in keys:
            allowed = ", ".join(sorted(keys))
            problems.append(f"fields.{name}: {label} takes only the match keys {allowed}")
            continue
        if name not in context.hashed_fields:
            problems.append(
                f"fields.{name}: would be sent unhashed; {label} only receives SHA-256 "
                f"hashes, so list '{name}' in hashed_identifiers"
            )
        # the identity (email) type is already checked for every destination
        if keys[name] != "email" and types.get(name, keys[name]) != keys[name]:
            problems.append(f"fields.{name}.type: must be '{keys[name]}' for {label}")
    return problems
