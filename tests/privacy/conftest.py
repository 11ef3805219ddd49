"""The suite's shared business for the privacy tests, synced to two contract servers.

The package works on a copy of the shared business (tests/business.py): its
generated files, its warehouse and its dbt target are copied into a package
scratch folder with a syncs.yml, and `cdp sync` runs as a subprocess. Two
syncs send every customer (`marts.customers`): to a Mailchimp contract server
as an audience gated on email-marketing consent, and to a webhook contract
server in mirror mode with no consent purpose, so every person is at least
at one destination. The tests in test_privacy.py run in file order on this
shared state (consent revocation, access, erasure, re-landing, an erasure
whose rebuild is left to the next `cdp build`).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.business import Business as SharedBusiness

REPO = Path(__file__).resolve().parents[2]
CDP = Path(sys.executable).parent / "cdp"
MAILCHIMP_KEY = "privacytest-us6"
WEBHOOK_SECRET = "whsec-privacy-test"
TAG = "Everyone"

SYNCS_YML = """
privacy:
  consent:
    relation: marts.customer_consent_eligibility
  suppression: {{relation: marts.customer_suppressions}}
syncs:
  - name: all_to_mailchimp
    source: marts.customers
    primary_key: customer_id
    mode: audience
    consent_purpose: email_marketing
    destination:
      type: mailchimp
      base_url: {mailchimp_url}
      api_key_env: CDP_TEST_MAILCHIMP_KEY
      list_id: {list_id}
      tag: {tag}
    fields:
      email_address: {{source: email, type: email, required: true}}
      FNAME: first_name
  - name: all_to_webhook
    source: marts.customers
    primary_key: customer_id
    mode: mirror
    destination:
      type: webhook
      url: {webhook_url}
      signing_secret_env: CDP_TEST_WEBHOOK_SECRET
    fields:
      email: {{source: email, type: email}}
      phone: phone_e164
      first_name: first_name
      last_name: last_name
"""


@dataclass
class Business:
    root: Path
    env: dict[str, str]
    mailchimp: Any
    webhook: Any
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def warehouse(self) -> Path:
        return Path(self.env["CDP_DUCKDB_PATH"])

    @property
    def landing(self) -> Path:
        return self.root / "data" / "landing"

    def cdp(self, *args: str) -> str:
        """Run `cdp <args>`; fail the test with its output when it fails; return stdout+stderr."""
        done = subprocess.run(
            [str(CDP), *args],
            env=dict(os.environ) | self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"cdp {' '.join(args)} failed:\n{output[-6000:]}"
        return output

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def ground_truth(self) -> tuple[dict[str, dict[str, str]], dict[str, list[tuple[str, str]]]]:
        """(persons by id, [(source_table, source_record_id)] by person id)."""
        truth = self.root / "data" / "ground_truth"
        with (truth / "persons.csv").open(encoding="utf-8") as f:
            persons = {row["person_id"]: row for row in csv.DictReader(f)}
        records: dict[str, list[tuple[str, str]]] = {}
        with (truth / "record_persons.csv").open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                records.setdefault(row["person_id"], []).append(
                    (row["source_table"], row["source_record_id"])
                )
        return persons, records


@pytest.fixture(scope="package")
def business(
    shared_business: SharedBusiness, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Business]:
    from cdp_demo.contract_servers import MailchimpContractServer, WebhookContractServer

    root = tmp_path_factory.mktemp("privacy")
    with (
        MailchimpContractServer(MAILCHIMP_KEY, tags=(TAG,)) as mailchimp,
        WebhookContractServer(WEBHOOK_SECRET) as webhook,
    ):
        (root / "syncs.yml").write_text(
            SYNCS_YML.format(
                mailchimp_url=mailchimp.base_url,
                list_id=mailchimp.list_id,
                tag=TAG,
                webhook_url=webhook.endpoint,
            ),
            encoding="utf-8",
        )
        env = {
            "CDP_HOME": str(REPO),
            "CDP_TARGET": "duckdb",
            "CDP_DATA_DIR": str(root / "data"),
            "CDP_DUCKDB_PATH": str(root / "warehouse" / "cdp.duckdb"),
            "DBT_TARGET_PATH": str(root / "dbt_target"),
            "DBT_LOG_PATH": str(root / "dbt_logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            # The builds here (after the revoke, the erasure's rebuild) leave out
            # dbt's unit tests, about a third of a build's dbt time: they
            # check SQL on inline rows, not this data, and run in the other builds
            # of the suite (test_cli, tests/engines).
            "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
            "CDP_SYNCS_PATH": str(root / "syncs.yml"),
            "CDP_TEST_MAILCHIMP_KEY": MAILCHIMP_KEY,
            "CDP_TEST_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        business = Business(root, env, mailchimp, webhook)
        shared_business.copy_data(root / "data")
        shared_business.copy_warehouse(business.warehouse.parent)
        shared_business.copy_dbt_target(root / "dbt_target")
        business.cdp("sync")
        yield business
