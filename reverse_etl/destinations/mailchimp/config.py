"""Typed settings of the Mailchimp destination."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field

from reverse_etl.batch import Mode, SyncContext
from reverse_etl.destinations.base import DestinationSettings, EnvVarName
from reverse_etl.http import RateLimit

MERGE_TAG = re.compile(r"^[A-Z0-9_]{1,10}$")


class MailchimpSettings(DestinationSettings):
    """Sync into one Mailchimp audience (list).

    api_key_env:   variable holding the API key ("<key>-<dc>", e.g. ...-us6).
    list_id:       the audience id.
    tag:           audience mode: the tag (a static segment) that marks membership.
    server_prefix: data center (us6); defaults to the API key's suffix.
    member_status: status given to members the sync creates.
    """

    type: Literal["mailchimp"]
    api_key_env: EnvVarName
    list_id: str = Field(pattern=r"^[A-Za-z0-9]+$")
    tag: str | None = Field(None, min_length=1, max_length=100)
    server_prefix: str | None = Field(None, pattern=r"^[a-z]+[0-9]+$")
    member_status: Literal["subscribed", "pending", "transactional"] = "subscribed"

    supported_modes: ClassVar[frozenset[Mode]] = frozenset({Mode.AUDIENCE, Mode.UPSERT})
    identity_field: ClassVar[str | None] = "email_address"
    erasure: ClassVar[str] = (
        "deleted: the member is permanently deleted from the audience "
        "(actions/delete-permanent; Mailchimp then refuses to re-import the address)"
    )
    max_batch_size: ClassVar[int] = 500  # batch subscribe and static-segment calls: 500 each
    # Mailchimp documents 10 simultaneous connections, not a request rate; this client
    # is sequential and paces itself at 10 requests/s unless told otherwise.
    default_rate_limit: ClassVar[RateLimit | None] = RateLimit(max_requests=10, per_seconds=1)

    def sync_problems(self, context: SyncContext) -> list[str]:
        problems = []
        if context.mode is Mode.AUDIENCE and not self.tag:
            problems.append("destination.tag: required for mode 'audience'")
        for name in context.fields:
            if name != self.identity_field and not MERGE_TAG.match(name):
                problems.append(
                    f"fields.{name}: Mailchimp merge tags are 1-10 characters A-Z, 0-9, _"
                )
        return problems
