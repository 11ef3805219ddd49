"""The suite's shared business (tests/business.py), landed and built once more
through Dagster, shared by the tests.

This package keeps a build of its own: what it tests is the Dagster run itself
(`full_run` materialising every asset, its checks and its sync), so the
warehouse has to be written by Dagster. It lands a copy of the shared
business's files; the shared business's `cdp ingest` + `cdp build` of the same
files is the reference test_pipeline.py compares Dagster's tables with.

The environment is changed for this package only (package-scoped fixtures restore it).

Everything lives in a session scratch folder: data, warehouse, dbt target and logs,
GX data docs, DAGSTER_HOME. The dbt manifest is written by
`orchestration.prepare` (what `make dev` runs) before the definitions load.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.business import Business

REPO = Path(__file__).resolve().parents[2]
CDP = Path(sys.executable).parent / "cdp"
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
    reference_started: Future[Business]  # `cdp ingest` + `cdp build` on the same files

    @property
    def warehouse(self) -> Path:
        return Path(self.env["CDP_DUCKDB_PATH"])

    @property
    def reference(self) -> Business:
        """The shared business's build of the same files, waited for here (the
        Dagster run does not need it, so it ran beside that build)."""
        built = self.reference_started.result()
        assert built.build.build_ok, "the shared business did not build:\n" + "\n".join(
            built.build.failed_nodes or [built.build.build_output]
        )
        return built


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
    tmp_path_factory: pytest.TempPathFactory,
    sync_destination: Any,
    shared_business_data: Path,
    shared_business_started: Future[Business],
) -> Iterator[dict[str, str]]:
    """Process environment pointing every path at a scratch folder holding a copy of
    the shared business's files, with the manifest parsed and one sync (a segment to
    a webhook contract server) declared. The shared business's build is started
    before, with the environment as it was."""
    root = tmp_path_factory.mktemp("orchestration")
    env = scratch_env(root)
    env["CDP_TEST_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    # The Dagster run builds every model with its data tests (asset checks here),
    # but not dbt's unit tests (a third of a DuckDB build's dbt time): they check
    # the SQL on their own inline rows, whatever runs dbt, and the shared
    # business's build (tests/business.py) runs every one of them on the same SQL.
    env["DBT_EXCLUDE_RESOURCE_TYPES"] = "unit_test"
    (root / "syncs.yml").write_text(
        SYNCS_YML.format(name=SYNC_NAME, url=sync_destination.endpoint), encoding="utf-8"
    )
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    (root / "dagster_home").mkdir()
    from orchestration.prepare import prepare_manifest

    shutil.copytree(shared_business_data, root / "data")
    prepare_manifest(retries=3, quiet=True)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="package")
def pipeline(
    orchestration_env: dict[str, str], shared_business_started: Future[Business]
) -> Pipeline:
    """The whole graph materialised in-process once (the `full_run` job), while
    the shared business builds in its background thread: the run lands its own
    copy of the files, and only the tests comparing with the shared build wait
    for it (`Pipeline.reference`)."""
    from dagster import DagsterInstance

    from orchestration.definitions import load_definitions as build_definitions

    root = Path(orchestration_env["CDP_DATA_DIR"]).parent
    defs = build_definitions()
    instance = DagsterInstance.ephemeral()
    result = defs.resolve_job_def("full_run").execute_in_process(
        instance=instance, raise_on_error=False
    )
    return Pipeline(root, orchestration_env, defs, result, shared_business_started)
