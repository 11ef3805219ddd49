"""The suite's shared business for the privacy tests, synced to all nine destinations.

The package works on a copy of the shared business (tests/business.py): its
generated files, its warehouse and its dbt target are copied into a package
scratch folder with a syncs.yml, and `cdp sync` runs as a subprocess. Every
sync sends every customer (`marts.customers`): to a Mailchimp contract server
as an audience gated on email-marketing consent, to a webhook contract server
in mirror mode, and, with no consent purpose so everyone is there, to HubSpot
(audience), Klaviyo (upsert), Salesforce (upsert), Meta and Google Ads
(audience, hashed email and phone), a CSV file drop (audience, with change
files) and a real PostgreSQL table (upsert): the modes that used to unlist or
forget an erased person rather than delete them. The tests in test_privacy.py
run in file order on this shared state (consent revocation, access, erasure, re-landing, an erasure
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
SECRETS = {
    "CDP_TEST_MAILCHIMP_KEY": MAILCHIMP_KEY,
    "CDP_TEST_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "CDP_TEST_HUBSPOT_TOKEN": "pat-privacy-test",
    "CDP_TEST_KLAVIYO_KEY": "pk_privacy_test",
    "CDP_TEST_SALESFORCE_TOKEN": "00Dprivacy!test",
    "CDP_TEST_META_TOKEN": "EAAB-privacy-test",
    "CDP_TEST_GOOGLE_TOKEN": "ya29.privacy-test",
    "CDP_TEST_GOOGLE_DEVELOPER_TOKEN": "dev-privacy-test",
}
QUICK = """
      retry: {max_attempts: 4, initial_backoff_seconds: 0.05, max_backoff_seconds: 0.2}"""

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
  - name: all_to_hubspot
    source: marts.customers
    primary_key: customer_id
    mode: audience
    destination:
      type: hubspot
      base_url: {hubspot_url}
      access_token_env: CDP_TEST_HUBSPOT_TOKEN
      list_id: "42"{quick}
    fields:
      email: {{source: email, type: email, required: true}}
      firstname: first_name
      lastname: last_name
      phone: {{source: phone_e164, type: phone}}
  - name: all_to_klaviyo
    source: marts.customers
    primary_key: customer_id
    mode: upsert
    destination:
      type: klaviyo
      base_url: {klaviyo_url}
      api_key_env: CDP_TEST_KLAVIYO_KEY
      poll_interval_seconds: 0.02
      job_timeout_seconds: 10{quick}
    fields:
      email: {{source: email, type: email, required: true}}
      first_name: first_name
      last_name: last_name
      phone_number: {{source: phone_e164, type: phone}}
  - name: all_to_salesforce
    source: marts.customers
    primary_key: customer_id
    mode: upsert
    destination:
      type: salesforce
      instance_url: {salesforce_url}
      access_token_env: CDP_TEST_SALESFORCE_TOKEN
      object: Customer__c
      external_id_field: Customer_Id__c
      poll_interval_seconds: 0.02
      job_timeout_seconds: 10{quick}
    fields:
      Email__c: {{source: email, type: email}}
      First_Name__c: first_name
      Last_Name__c: last_name
      Phone__c: phone_e164
  - name: all_to_meta
    source: marts.customers
    primary_key: customer_id
    mode: audience
    hashed_identifiers: [EMAIL, PHONE]
    destination:
      type: meta_custom_audiences
      base_url: {meta_url}
      access_token_env: CDP_TEST_META_TOKEN
      audience_id: "{meta_audience}"{quick}
    fields:
      EMAIL: {{source: email, type: email, required: true}}
      PHONE: {{source: phone_e164, type: phone}}
  - name: all_to_google_ads
    source: marts.customers
    primary_key: customer_id
    mode: audience
    hashed_identifiers: [hashedEmail, hashedPhoneNumber]
    destination:
      type: google_ads_customer_match
      base_url: {google_url}
      access_token_env: CDP_TEST_GOOGLE_TOKEN
      developer_token_env: CDP_TEST_GOOGLE_DEVELOPER_TOKEN
      customer_id: "{google_customer}"
      user_list_id: "{google_list}"
      poll_interval_seconds: 0.02
      poll_timeout_seconds: 10{quick}
    fields:
      hashedEmail: {{source: email, type: email, required: true}}
      hashedPhoneNumber: {{source: phone_e164, type: phone}}
  - name: all_to_files
    source: marts.customers
    primary_key: customer_id
    mode: audience
    destination:
      type: file
      directory: {files_dir}
      format: csv
    fields:
      email: {{source: email, type: email}}
      phone: phone_e164
      first_name: first_name
      last_name: last_name
  - name: all_to_postgres
    source: marts.customers
    primary_key: customer_id
    mode: upsert
    destination:
      type: postgres
      dsn_env: CDP_TEST_PG_DSN
      table: customers{quick}
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
    servers: dict[str, Any] = field(default_factory=dict)
    """Every contract server by sync name (mailchimp and webhook included)."""
    files_dir: Path | None = None
    pg_dsn: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    def destination_dumps(self) -> dict[str, str]:
        """sync name -> everything its destination holds, as text: each contract
        server's held data, every file of the drop, every row of the PostgreSQL
        schema (table and ledger)."""
        dumps = {name: server.held_data() for name, server in self.servers.items()}
        if self.files_dir is not None:
            dumps["all_to_files"] = "\n".join(
                f"{p.name}\n{p.read_text(encoding='utf-8')}"
                for p in sorted(self.files_dir.rglob("*"))
                if p.is_file()
            )
        if self.pg_dsn:
            import psycopg2

            con = psycopg2.connect(self.pg_dsn)
            try:
                with con.cursor() as cur:
                    cur.execute("select * from public.customers")
                    rows = cur.fetchall()
                    cur.execute("select * from public._cdp_sync_batches")
                    rows += cur.fetchall()
            finally:
                con.close()
            dumps["all_to_postgres"] = repr(rows)
        return dumps

    @property
    def warehouse(self) -> Path:
        return Path(self.env["CDP_DUCKDB_PATH"])

    @property
    def landing(self) -> Path:
        return self.root / "data" / "landing"

    def cdp(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run `cdp <args>` (with `env` on top of the package's environment); fail
        the test with its output when it fails; return stdout+stderr."""
        done = subprocess.run(
            [str(CDP), *args],
            env=dict(os.environ) | self.env | (env or {}),
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
    from cdp_demo.contract_servers import (
        GoogleAdsContractServer,
        HubSpotContractServer,
        KlaviyoContractServer,
        MailchimpContractServer,
        MetaContractServer,
        SalesforceContractServer,
        WebhookContractServer,
    )

    from tests.pg_server import running_postgres

    root = tmp_path_factory.mktemp("privacy")
    files_dir = root / "drop"
    files_dir.mkdir()
    salesforce_fields = {
        "Email__c": "email",
        "First_Name__c": "string",
        "Last_Name__c": "string",
        "Phone__c": "string",
    }
    with (
        MailchimpContractServer(MAILCHIMP_KEY, tags=(TAG,)) as mailchimp,
        WebhookContractServer(WEBHOOK_SECRET) as webhook,
        HubSpotContractServer(SECRETS["CDP_TEST_HUBSPOT_TOKEN"], rate_limit=None) as hubspot,
        KlaviyoContractServer(
            SECRETS["CDP_TEST_KLAVIYO_KEY"], rate_limit=None, steady_limit=None
        ) as klaviyo,
        SalesforceContractServer(
            SECRETS["CDP_TEST_SALESFORCE_TOKEN"], fields=salesforce_fields
        ) as salesforce,
        MetaContractServer(SECRETS["CDP_TEST_META_TOKEN"]) as meta,
        GoogleAdsContractServer(
            SECRETS["CDP_TEST_GOOGLE_TOKEN"], SECRETS["CDP_TEST_GOOGLE_DEVELOPER_TOKEN"]
        ) as google,
        running_postgres() as pg,
    ):
        (root / "syncs.yml").write_text(
            SYNCS_YML.format(
                mailchimp_url=mailchimp.base_url,
                list_id=mailchimp.list_id,
                tag=TAG,
                webhook_url=webhook.endpoint,
                hubspot_url=hubspot.url,
                klaviyo_url=klaviyo.url,
                salesforce_url=salesforce.url,
                meta_url=meta.url,
                meta_audience=meta.audience_id,
                google_url=google.url,
                google_customer=google.customer_id,
                google_list=google.user_list_id,
                files_dir=files_dir,
                quick=QUICK,
            ),
            encoding="utf-8",
        )
        pg_dsn = f"host={pg.host} port={pg.port} user={pg.user} dbname={pg.database}"
        env = {
            "CDP_HOME": str(REPO),
            "CDP_TARGET": "duckdb",
            "CDP_DATA_DIR": str(root / "data"),
            "CDP_DUCKDB_PATH": str(root / "warehouse" / "cdp.duckdb"),
            "DBT_TARGET_PATH": str(root / "dbt_target"),
            "DBT_LOG_PATH": str(root / "dbt_logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            # The builds here (after the revoke, the erasure's rebuild, the build
            # that completes an erasure) leave out dbt's unit tests, about a third
            # of a build's dbt time: they check SQL on inline rows, not this data,
            # and run in the shared business's build (tests/business.py). Only the
            # erasure's rebuild runs the data tests (test_privacy.py: MODELS_ONLY).
            "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
            "CDP_SYNCS_PATH": str(root / "syncs.yml"),
            **SECRETS,
            "CDP_TEST_PG_DSN": pg_dsn,
        }
        servers = {
            "all_to_mailchimp": mailchimp,
            "all_to_webhook": webhook,
            "all_to_hubspot": hubspot,
            "all_to_klaviyo": klaviyo,
            "all_to_salesforce": salesforce,
            "all_to_meta": meta,
            "all_to_google_ads": google,
        }
        business = Business(root, env, mailchimp, webhook, servers, files_dir, pg_dsn)
        shared_business.copy_data(root / "data")
        shared_business.copy_warehouse(business.warehouse.parent)
        shared_business.copy_dbt_target(root / "dbt_target")
        business.cdp("sync")
        yield business
