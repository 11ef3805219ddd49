"""One small generated business, landed and built once through Dagster, shared by the tests.

The environment is changed for this package only (package-scoped fixtures restore it).

Everything lives in a session scratch folder: data, warehouse, dbt target and logs,
GX data docs, DAGSTER_HOME. The dbt manifest is written by
`orchestration.prepare` (what `make dev` runs) before the definitions load.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CDP = Path(sys.executable).parent / "cdp"
PEOPLE = 300
SEED = 11
WEBHOOK_SECRET = "whsec-orchestration-test"
SYNC_NAME = "vip_events_hook"
SYNCS_YML = """
privacy:
  suppression: {{relation: marts.customer_suppressions}}
syncs:
  - name: {name}
    source: marts.segment_vip_loyalty_members
    primary_key: customer_id
    mode: mirror
    consent_purpose: email_marketing
    destination:
      type: webhook
      url: {url}
      signing_secret_env: CDP_TEST_WEBHOOK_SECRET
    fields:
      email: {{source: email, type: email}}
      first_name: first_name
"""


@dataclass
class Pipeline:
    root: Path
    env: dict[str, str]
    defs: Any
    result: Any  # ExecuteInProcessResult of the full run
    reference: subprocess.Popen[str]  # `cdp ingest` + `cdp build` on the same files

    @property
    def warehouse(self) -> Path:
        return Path(self.env["CDP_DUCKDB_PATH"])

    @property
    def reference_warehouse(self) -> Path:
        return self.root / "reference" / "cdp.duckdb"


def scratch_env(root: Path) -> dict[str, str]:
    return {
        "CDP_HOME": str(REPO),
        "CDP_TARGET": "duckdb",
        "CDP_DATA_DIR": str(root / "data"),
        "CDP_DUCKDB_PATH": str(root / "warehouse" / "cdp.duckdb"),
        "DBT_TARGET_PATH": str(root / "dbt_target"),
        "DBT_LOG_PATH": str(root / "dbt_logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "CDP_GX_DOCS_DIR": str(root / "gx"),
        "CDP_SYNCS_PATH": str(root / "syncs.yml"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }


@pytest.fixture(scope="package")
def sync_destination() -> Iterator[Any]:
    """The webhook contract server the package's one declared sync sends to."""
    from cdp_demo.contract_servers import WebhookContractServer

    with WebhookContractServer(WEBHOOK_SECRET) as server:
        yield server


@pytest.fixture(scope="package")
def orchestration_env(
    tmp_path_factory: pytest.TempPathFactory, sync_destination: Any
) -> Iterator[dict[str, str]]:
    """Process environment pointing every path at a scratch folder, with the manifest
    parsed and one sync (a segment to a webhook contract server) declared."""
    root = tmp_path_factory.mktemp("orchestration")
    env = scratch_env(root)
    env["CDP_TEST_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    (root / "syncs.yml").write_text(
        SYNCS_YML.format(name=SYNC_NAME, url=sync_destination.endpoint), encoding="utf-8"
    )
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    (root / "dagster_home").mkdir()
    from cdp_demo.sample_data import generate

    from orchestration.prepare import prepare_manifest

    generate(
        out_dir=root / "data",
        customers=PEOPLE,
        seed=SEED,
        end_date=date(2026, 6, 30),
        malformed_rate=0.001,
        progress=None,
    )
    prepare_manifest(retries=3, quiet=True)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def start_reference_run(root: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """`cdp ingest` then `cdp build` into a second warehouse, in the background."""
    ref_env = dict(os.environ) | env
    ref_env["CDP_DUCKDB_PATH"] = str(root / "reference" / "cdp.duckdb")
    ref_env["DBT_TARGET_PATH"] = str(root / "reference" / "dbt_target")
    ref_env["DBT_LOG_PATH"] = str(root / "reference" / "dbt_logs")
    log = (root / "reference.log").open("w")
    return subprocess.Popen(
        ["/bin/sh", "-c", f'"{CDP}" ingest && "{CDP}" build'],
        env=ref_env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="package")
def pipeline(orchestration_env: dict[str, str]) -> Iterator[Pipeline]:
    """The whole graph materialised in-process once (the `full_run` job)."""
    from dagster import DagsterInstance

    from orchestration.definitions import load_definitions as build_definitions

    root = Path(orchestration_env["CDP_DATA_DIR"]).parent
    reference = start_reference_run(root, orchestration_env)
    defs = build_definitions()
    instance = DagsterInstance.ephemeral()
    result = defs.resolve_job_def("full_run").execute_in_process(
        instance=instance, raise_on_error=False
    )
    yield Pipeline(root, orchestration_env, defs, result, reference)
    if reference.poll() is None:
        reference.terminate()
        reference.wait(timeout=30)
