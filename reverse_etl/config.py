"""Sync definitions: the YAML file, its pydantic models, and errors that name the field.

    syncs:
      - name: vip_to_mailchimp
        source: marts.segment_vip_members
        primary_key: customer_id
        mode: audience
        destination: {type: mailchimp, api_key_env: MAILCHIMP_API_KEY, list_id: a1b2c3, tag: VIP}
        fields:
          email_address: {source: email, type: email}
          FNAME: first_name

Every key is documented in reverse_etl/README.md. Validation errors are
collected for all syncs and reported as `sync '<name>': <field.path>: <problem>`;
input values are never echoed (they may be secrets or personal data). Given
dbt's manifest, the columns each sync reads are also checked against the
enforced contracts of its source and privacy relations (reverse_etl/contracts.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reverse_etl.batch import Mode, SyncContext
from reverse_etl.contracts import contract_problems, read_contracts
from reverse_etl.destinations import AnyDestinationSettings
from reverse_etl.errors import ConfigError
from reverse_etl.privacy import PrivacySettings

log = logging.getLogger(__name__)

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]


class FieldType(StrEnum):
    """How a mapped value is normalised and validated before it is hashed or sent."""

    STRING = "string"  # sent as stored in the warehouse
    EMAIL = "email"  # trimmed, lower-cased, syntax-checked
    PHONE = "phone"  # spaces, dots, dashes and brackets removed; must be E.164 (+4915...)


class FieldMapping(BaseModel):
    """One destination field: which source column feeds it and how to treat it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Identifier
    type: FieldType = FieldType.STRING
    required: bool = Field(False, description="Reject the row if the value is null or empty.")


class SyncDefinition(BaseModel):
    """One sync: a warehouse relation, a destination, and how rows map onto it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)
    source: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$",
        description="Warehouse relation as schema.table.",
    )
    primary_key: Identifier
    mode: Mode
    destination: AnyDestinationSettings
    fields: dict[Identifier, FieldMapping] = Field(min_length=1)
    hashed_identifiers: list[Identifier] = Field(default_factory=list)
    consent_purpose: str | None = Field(
        None,
        description="Consent purpose a row's customer must have granted to be sent "
        "(a key of privacy.consent.purposes).",
    )
    customer_key: Identifier | None = Field(
        None,
        description="Source column with the customer id the privacy gate looks up "
        "(default: primary_key).",
    )
    privacy: PrivacySettings = Field(
        default_factory=lambda: PrivacySettings.model_validate({}),
        description="Set from the file's top-level `privacy:` block.",
    )
    schedule: str | None = Field(None, description="Scheduling hint for the orchestrator.")
    max_row_retries: int = Field(3, ge=1, le=100)
    description: str | None = None
    kind: Literal["sync", "trigger"] = Field(
        "sync", description="'trigger': compiled from the file's `triggers:` (triggers.py)."
    )

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """`FNAME: first_name` is short for `FNAME: {source: first_name}`."""
        if isinstance(value, dict):
            return {k: {"source": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SyncDefinition:
        problems: list[str] = []
        dest = self.destination
        if self.mode not in dest.supported_modes:
            supported = ", ".join(sorted(m.value for m in dest.supported_modes))
            problems.append(
                f"mode: '{self.mode.value}' is not supported by the {dest.type} destination "
                f"(supported: {supported})"
            )
        for name in self.hashed_identifiers:
            if name not in self.fields:
                problems.append(f"hashed_identifiers: '{name}' is not a key of fields")
        identity = dest.identity_field
        if identity is not None:
            mapping = self.fields.get(identity)
            if mapping is None:
                problems.append(f"fields: the {dest.type} destination needs a '{identity}' field")
            elif mapping.type is not FieldType.EMAIL:
                problems.append(f"fields.{identity}.type: must be 'email' for {dest.type}")
            if identity in self.hashed_identifiers and not dest.identity_hashed:
                problems.append(
                    f"hashed_identifiers: '{identity}' must be sent in clear to {dest.type}"
                )
        purposes = self.privacy.consent.purposes
        if self.consent_purpose is not None and self.consent_purpose not in purposes:
            problems.append(
                f"consent_purpose: '{self.consent_purpose}' is not a purpose of "
                f"privacy.consent.purposes ({', '.join(sorted(purposes))})"
            )
        problems.extend(dest.sync_problems(self.context))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def context(self) -> SyncContext:
        return SyncContext(
            sync_name=self.name,
            mode=self.mode,
            fields=tuple(self.fields),
            hashed_fields=frozenset(self.hashed_identifiers),
            field_types=tuple((name, m.type.value) for name, m in self.fields.items()),
        )

    @property
    def customer_column(self) -> str:
        return self.customer_key or self.primary_key

    @property
    def customer_field(self) -> str | None:
        """The field that carries the customer id when the key is not it (a trigger's
        `customer_id`, keyed by event id): the diff finds an erased person's keys by
        this field of what was sent, kept in sync_state's payload (docs/privacy.md)."""
        if self.customer_column == self.primary_key:
            return None
        names = sorted(n for n, m in self.fields.items() if m.source == self.customer_column)
        return names[0] if names else None

    @property
    def identity_field(self) -> str | None:
        return self.destination.identity_field

    @property
    def source_schema(self) -> str:
        return self.source.split(".", 1)[0]

    @property
    def source_table(self) -> str:
        return self.source.split(".", 1)[1]


def _format_error(sync: str, exc: ValidationError, dest_type: Any, what: str = "sync") -> list[str]:
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        parts = [str(p) for p in err["loc"]]
        # Drop the discriminator pydantic inserts (destination.mailchimp.list_id).
        if len(parts) > 1 and parts[0] == "destination" and parts[1] == str(dest_type):
            del parts[1]
        where = ".".join(parts)
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{what} '{sync}': {where + ': ' if where else ''}{message}")
    return lines


def _privacy(data: Any, origin: str) -> PrivacySettings:
    try:
        return PrivacySettings.model_validate(data or {})
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(p) for p in ("privacy", *err["loc"]))
            lines.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError(f"{origin}: invalid privacy settings:\n  " + "\n  ".join(lines)) from None


def parse_syncs(
    data: Any,
    origin: str = "<config>",
    manifest: Mapping[str, Any] | Path | None = None,
) -> list[SyncDefinition]:
    """Validate already-parsed YAML (a `syncs:` mapping, optionally with `privacy:`
    and `triggers:`, or a bare list of syncs). Triggers come back as syncs of
    `kind` "trigger" (reverse_etl/triggers.py), after the syncs.

    `manifest`: dbt's manifest (loaded, or the path of manifest.json; a path
    that does not exist yet skips the check). With it, a column a sync reads
    that its model's enforced contract lacks is an error, as is a model
    without one; a source that is no dbt model is logged as a warning."""
    privacy = PrivacySettings.model_validate({})
    triggers: list[tuple[str, dict[str, Any]]] = []
    problems: list[str] = []
    if isinstance(data, dict) and ("syncs" in data or "triggers" in data):
        unknown = set(data) - {"syncs", "privacy", "triggers"}
        if unknown:
            raise ConfigError(
                f"{origin}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))} "
                "(expected 'syncs', and optionally 'privacy' and 'triggers')"
            )
        privacy = _privacy(data.get("privacy"), origin)
        if "triggers" in data:
            from reverse_etl.triggers import trigger_syncs

            triggers, problems = trigger_syncs(data["triggers"])
        data = data.get("syncs", [])
    if not isinstance(data, list) or not (data or triggers or problems):
        raise ConfigError(f"{origin}: expected a non-empty list of syncs under 'syncs:'")
    syncs: list[SyncDefinition] = []
    seen: set[str] = set()
    for index, raw in enumerate(data):
        label = f"#{index + 1}"
        dest_type = None
        if isinstance(raw, dict):
            label = str(raw.get("name") or label)
            if isinstance(raw.get("destination"), dict):
                dest_type = raw["destination"].get("type")
        if isinstance(raw, dict):
            if "privacy" in raw:
                problems.append(f"sync '{label}': privacy: set it once at the top of the file")
                continue
            raw = {**raw, "privacy": privacy}
        try:
            sync = SyncDefinition.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_format_error(label, exc, dest_type))
            continue
        if sync.name in seen:
            problems.append(f"sync '{sync.name}': name: defined more than once")
        seen.add(sync.name)
        syncs.append(sync)
    for name, raw in triggers:
        try:
            sync = SyncDefinition.model_validate({**raw, "privacy": privacy})
        except ValidationError as exc:
            problems.extend(_format_error(name, exc, "webhook", "trigger"))
            continue
        if sync.name in seen:
            problems.append(f"trigger '{sync.name}': name: defined more than once")
        seen.add(sync.name)
        syncs.append(sync)
    contracts = read_contracts(manifest)
    if contracts is not None:
        for sync in syncs:
            errors, warnings = contract_problems(sync, contracts)
            problems.extend(f"sync '{sync.name}': {line}" for line in errors)
            for line in warnings:
                log.warning("%s: sync '%s': %s", origin, sync.name, line)
    if problems:
        raise ConfigError(f"{origin}: invalid sync definitions:\n  " + "\n  ".join(problems))
    return syncs


def load_syncs(
    path: Path, manifest: Mapping[str, Any] | Path | None = None
) -> list[SyncDefinition]:
    """Read and validate a sync YAML file, against dbt's contracts when `manifest`
    is given (see parse_syncs). Raises ConfigError with every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{where}: not valid YAML") from None
    return parse_syncs(data, str(path), manifest)
