"""The contract every destination implements: typed settings and a small client.

A destination only translates batches into API calls. Diffing, batching,
checkpoints and run history belong to the engine.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from reverse_etl.batch import Batch, BatchOutcome, Mode, SyncContext
from reverse_etl.errors import ConfigError, DestinationError
from reverse_etl.http import HttpClient, RateLimit, RetryPolicy

EnvVarName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable that holds the secret.",
    ),
]

_LITERAL_SECRET = re.compile(r"(key|token|secret|password)$", re.IGNORECASE)


class DestinationSettings(BaseModel):
    """Settings shared by every destination; subclasses add their own fields.

    Secrets are never literals: a field `<name>_env` names an environment
    variable, read by `resolve_secret` into a `SecretStr` when a client is built.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    base_url: str | None = Field(
        None, description="Override the API's base URL (contract servers, proxies)."
    )
    batch_size: int | None = Field(
        None, ge=1, description="Rows per API call; at most the destination's documented limit."
    )
    rate_limit: RateLimit | None = Field(
        None, description="Override the documented rate limit (e.g. a lower account tier)."
    )
    retry: RetryPolicy = RetryPolicy()  # frozen, so one shared default is safe

    supported_modes: ClassVar[frozenset[Mode]] = frozenset()
    identity_field: ClassVar[str | None] = None
    """Payload field that identifies a record at the destination (an email), if any."""
    identity_hashed: ClassVar[bool] = False
    """True if the identity field is sent only as a SHA-256 hash (ad destinations)."""
    phone_hash_without_plus: ClassVar[bool] = False
    """Hash E.164 phone numbers without the leading '+' (Meta's normalisation)."""
    erasure: ClassVar[str] = "not deleted: this destination has no deletion path"
    """What an erasure (Phase.ERASE) does here, as the privacy audit records it:
    "deleted: ...", "unlisted: ..." or "not deleted: <why>"."""
    max_batch_size: ClassVar[int] = 500
    default_rate_limit: ClassVar[RateLimit | None] = None

    @model_validator(mode="before")
    @classmethod
    def _no_literal_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in data:
                if isinstance(name, str) and _LITERAL_SECRET.search(name):
                    raise ValueError(
                        f"'{name}' looks like a literal secret; put the secret in an "
                        f"environment variable and give its name as '{name}_env'"
                    )
        return data

    @model_validator(mode="after")
    def _batch_size_within_limit(self) -> DestinationSettings:
        if self.batch_size is not None and self.batch_size > self.max_batch_size:
            raise ValueError(
                f"batch_size {self.batch_size} exceeds {self.type}'s limit of "
                f"{self.max_batch_size} per call"
            )
        return self

    def effective_batch_size(self) -> int:
        return self.batch_size or self.max_batch_size

    def effective_rate_limit(self) -> RateLimit | None:
        return self.rate_limit or self.default_rate_limit

    def resolve_secret(self, field: str, sync_name: str) -> SecretStr:
        """Read the secret whose variable name is in `field`; ConfigError if unset."""
        variable = getattr(self, field)
        value = os.environ.get(variable)
        if not value:
            raise ConfigError(
                f"sync '{sync_name}': {self.type} destination: {field}: environment "
                f"variable {variable} is not set"
            )
        return SecretStr(value)

    def secret_label(self, field: str) -> str:
        """How errors name a secret: the config field and its variable, never the value."""
        return f"destination.{field} (environment variable {getattr(self, field)})"

    def sync_problems(self, context: SyncContext) -> list[str]:
        """Destination-specific checks of the sync using it (field names, mode rules)."""
        return []


class Destination(ABC):
    """A client for one destination serving one sync.

    deliver(batch):   send the batch; per-row results. Raises `AmbiguousDeliveryError`
                      if a write's outcome is unknown (the engine then reconciles).
    reconcile(batch): for a batch that may have been applied (crash, timeout),
                      find out per row what the destination already holds,
                      finishing only idempotent-by-key steps (membership) for rows
                      whose main write landed; rows not applied go in `unapplied`.
    check():          prove credentials and reachability; raises on failure.
    """

    settings_class: ClassVar[type[DestinationSettings]]

    def __init__(self, settings: DestinationSettings, context: SyncContext) -> None:
        self.settings = settings
        self.context = context
        self.label = f"{settings.type} destination of sync '{context.sync_name}'"

    @property
    def http(self) -> HttpClient | None:
        """The HTTP client, for destinations that speak HTTP; None for the others."""
        return None

    def http_client(
        self,
        base_url: str,
        auth_field: str,
        headers: Mapping[str, str],
        auth: tuple[str, str] | None = None,
    ) -> HttpClient:
        """An HttpClient for this destination: the settings' retry policy and rate
        limit, errors naming the destination and `auth_field` (never the secret)."""
        limit = self.settings.effective_rate_limit()
        return HttpClient(
            destination=self.label,
            base_url=base_url,
            auth_field=auth_field,
            retry=self.settings.retry,
            limiter=limit.bucket() if limit else None,
            headers=headers,
            auth=auth,
        )

    @property
    def batch_size(self) -> int:
        return self.settings.effective_batch_size()

    @property
    def request_count(self) -> int:
        """Calls made so far (recorded per run). HTTP requests by default; a
        destination without HTTP overrides this to count its own operations."""
        return self.http.request_count if self.http is not None else 0

    @abstractmethod
    def check(self) -> None: ...

    @abstractmethod
    def deliver(self, batch: Batch) -> BatchOutcome: ...

    @abstractmethod
    def reconcile(self, batch: Batch) -> BatchOutcome: ...

    def close(self) -> None:
        if self.http is not None:
            self.http.close()

    @staticmethod
    def after_first_write(error: DestinationError) -> None:
        """A later step of a batch failed after an earlier write landed: the batch
        is partly applied, so the engine must keep it for reconciliation."""
        error.maybe_applied = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label})"
