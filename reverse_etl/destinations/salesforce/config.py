"""Typed settings of the Salesforce (Bulk API 2.0) destination."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field

from reverse_etl.batch import Mode, SyncContext
from reverse_etl.destinations.base import DestinationSettings, EnvVarName
from reverse_etl.http import RateLimit

API_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
FIELD_NAME = re.compile(API_NAME)
RESERVED = frozenset({"id"})


class SalesforceSettings(DestinationSettings):
    """Sync records of one sObject, identified by an external id field that holds the
    sync's primary key.

    access_token_env:      variable holding an OAuth access token (Bearer).
    instance_url:          the org's instance, e.g. https://mycompany.my.salesforce.com.
    api_version:           REST API version (Bulk API 2.0 needs 41.0 or later).
    object:                the sObject API name (Contact, Customer__c).
    external_id_field:     an External ID field of the object; it receives the primary key.
    job_timeout_seconds:   how long to wait for an ingest job to reach a final state.
    poll_interval_seconds: pause between two reads of a job's state.
    """

    type: Literal["salesforce"]
    access_token_env: EnvVarName
    instance_url: str = Field(pattern=r"^https?://[^\s/]+$")
    api_version: str = Field("62.0", pattern=r"^(4[1-9]|[5-9][0-9])\.0$")
    object: str = Field(pattern=API_NAME, max_length=80)
    external_id_field: str = Field(pattern=API_NAME, max_length=80)
    job_timeout_seconds: float = Field(600.0, gt=0, le=7200)
    poll_interval_seconds: float = Field(5.0, ge=0, le=120)

    erasure: ClassVar[str] = (
        "deleted: the record is hard-deleted (Bulk API 2.0 hardDelete, skipping the "
        "Recycle Bin) and the finished ingest jobs on the object, which keep copies of "
        "the rows sent, are deleted"
    )
    supported_modes: ClassVar[frozenset[Mode]] = frozenset(
        {Mode.UPSERT, Mode.MIRROR, Mode.INSERT_ONLY, Mode.UPDATE_ONLY}
    )
    identity_field: ClassVar[str | None] = None  # the primary key, via external_id_field
    # One job per batch. Salesforce splits a job into internal batches of 10,000 records;
    # 10,000 rows of CSV stay far below the 150 MB (base64) per upload and make one
    # internal batch, so a failed batch never leaves a job half-processed by chunks.
    max_batch_size: ClassVar[int] = 10_000
    # Salesforce meters API calls per 24 h (edition-dependent), not per second; this
    # client paces itself at 10 requests/s. A bulk job costs 5+ calls (create, upload,
    # close, polls, results).
    default_rate_limit: ClassVar[RateLimit | None] = RateLimit(max_requests=10, per_seconds=1)

    @property
    def root(self) -> str:
        return f"/services/data/v{self.api_version}"

    def sync_problems(self, context: SyncContext) -> list[str]:
        problems = []
        for name in context.fields:
            if not FIELD_NAME.match(name):
                problems.append(f"fields.{name}: Salesforce field API names are A-Z, 0-9, _")
            elif name.lower() in RESERVED or name.lower() == self.external_id_field.lower():
                problems.append(
                    f"fields.{name}: set by the destination (the record Id or "
                    "external_id_field, which holds the primary key)"
                )
        return problems
