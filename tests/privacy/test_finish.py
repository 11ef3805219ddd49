"""`finish_erasures` on a small warehouse of its own: the audit says, per sync, where a
pending erasure stands (waiting, or refused and why), then what each destination did."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from cdp.privacy.destinations import finish_erasures
from cdp.privacy.erase import ensure_privacy_tables
from reverse_etl.engine.schema import ensure_schema

SYNCS = """
syncs:
  - name: to_mailchimp
    source: marts.customers
    primary_key: customer_id
    mode: audience
    destination: {type: mailchimp, api_key_env: X_KEY, list_id: abc, tag: T,
                  base_url: "http://127.0.0.1:9/3.0"}
    fields:
      email_address: {source: email, type: email}
  - name: to_files
    source: marts.customers
    primary_key: customer_id
    mode: upsert
    destination: {type: file, directory: /tmp}
    fields:
      email: {source: email, type: email}
"""


def test_audit_records_refusals_then_what_each_destination_did(tmp_path: Path):
    syncs = tmp_path / "syncs.yml"
    syncs.write_text(SYNCS, encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_privacy_tables(con)
    ensure_schema(con)
    customer = "C-1"
    con.execute(
        "insert into privacy.erasure_log (erasure_id, customer_hashes, syncs_holding, status) "
        "values ('er-1', ?, ?, 'awaiting_removal')",
        [
            json.dumps([hashlib.sha256(customer.encode()).hexdigest()]),
            json.dumps({"to_mailchimp": 1, "to_files": 1}),
        ],
    )
    con.execute(
        "insert into reverse_etl.sync_state values ('to_mailchimp', ?, 'h', '{}', null, now())",
        [customer],
    )
    con.execute(
        "insert into reverse_etl.sync_rejections values "
        "(1, 'to_mailchimp', ?, 'h', 'Mailchimp permanent delete refused: HTTP 403', 5, true, "
        "now())",
        [customer],
    )

    (line,) = finish_erasures(con, syncs)
    assert "waiting for the deletion at to_mailchimp (1; refused: Mailchimp permanent" in line
    status, destinations = con.execute(
        "select status, destinations::varchar from privacy.erasure_log"
    ).fetchone()
    assert status == "awaiting_removal"
    so_far = json.loads(destinations)
    assert sorted(so_far) == ["to_files", "to_mailchimp"]
    assert so_far["to_mailchimp"] == (
        "not deleted yet: the destination refused it: Mailchimp permanent delete refused: HTTP 403"
    )
    assert so_far["to_files"].startswith("deleted: the rows are removed")

    con.execute("delete from reverse_etl.sync_state")  # the deletion acknowledged later
    (line,) = finish_erasures(con, syncs)
    assert "completed" in line and "1 rejection row(s) scrubbed" in line
    status, destinations = con.execute(
        "select status, destinations::varchar from privacy.erasure_log"
    ).fetchone()
    assert status == "completed"
    outcome = json.loads(destinations)
    assert outcome["to_mailchimp"].startswith("deleted: the member is permanently deleted")
    assert outcome["to_mailchimp"].endswith("[mailchimp]")
    assert con.execute("select count(*) from reverse_etl.sync_rejections").fetchone() == (0,)
    con.close()
