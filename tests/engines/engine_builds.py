"""Land and build the same generated data on one engine, through the `cdp` CLI.

Shared by the cross-engine tests: each engine gets its own dbt target folder
and warehouse settings, the same landing files, and `cdp ingest` then
`cdp build` (dbt build: seeds, models, tests) with CDP_TARGET set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CDP = Path(sys.executable).parent / "cdp"

COMPARED_SCHEMAS = ("staging", "marts")
# A DuckDB build keeps a copy of its warehouse as `cdp ingest` left it.
LANDED_FILE = "landed.duckdb"
RAW_BOOKKEEPING = ("raw._landed_files", "raw._rejects")

# Columns left out of the comparison, by table ("*": every table), and why.
EXCLUDED_COLUMNS: dict[str, set[str]] = {
    # stamped with the start of the ingest run (each engine landed at its own time)
    # stamped by the build that wrote an incremental model's row (docs/incremental.md)
    "*": {"_loaded_at", "loaded_at", "rejected_at", "_processed_at"},
    # raw._landed_files.error is the engine's own error text for failed files
    "_landed_files": {"error"},
    # stamped with the dbt invocation (run_started_at, invocation_id)
    "customer_id_history": {"customer_id_event_id", "run_id", "occurred_at"},
    "customers": {"customer_id_created_at"},
    # the build that recorded a change (docs/incremental.md#the-change-set)
    "customer_change_set": {"build_id", "built_at"},
    # the dbt invocation id of the build that saw the change or opened the period
    "segment_membership_changes": {"run_id"},
    "segment_membership_history": {"run_id"},
    # the build that appended the event, and when (the triggers' event log)
    "segment_membership_events": {"build_id", "occurred_at"},
    "segment_trigger_events": {"build_id", "occurred_at"},
}


# The dbt vars of every shared build (the engines' and the shared business's), the same
# on each engine so their tables compare: u sampling from 300 records per comparison
# (44,850 pairs) instead of the default 1,000 (499,500), whose Jaro-Winkler comparisons
# in Spark SQL ran over 14 minutes of the Spark build, unfinished (docs/identity.md).
BUILD_VARS = {"cdp__identity_u_sample_records": 300}


# dbt's built-in generic data tests, left out of the Spark build (tests/conftest.py,
# docs/testing.md#spark): DuckDB runs them on the same SQL.
BUILTIN_GENERIC_TESTS = ("not_null", "unique", "accepted_values", "relationships")


# Nodes known not to build on an engine yet, with why. A build whose failures are
# all listed here makes the comparison of what they feed an expected failure
# (xfail, reported by pytest -ra) instead of an error; any other failure fails
# the test. Remove an entry as soon as the node builds (the test says so).
KNOWN_UNPORTABLE: dict[str, dict[str, str]] = {
    "postgres": {},
    "spark": {
        # (segment_membership_changes, built from it, is skipped)
        "model.cdp.segment_membership_history": (
            "models/marts/audiences/segment_membership_history.sql uses incremental_strategy "
            "delete+insert; dbt-spark offers append, insert_overwrite and merge (merge only "
            "on Delta, Iceberg or Hudi tables)"
        ),
    },
}


@dataclass
class EngineBuild:
    engine: str
    env: dict[str, str]
    work: Path
    ingest_seconds: float = 0.0
    build_seconds: float = 0.0
    build_ok: bool = False
    build_output: str = ""  # the end of `cdp build`'s output, for failure messages
    build_log: str = ""  # all of it (stdout then stderr)
    built: set[str] = field(default_factory=set)  # "schema.name" of models built
    failed_nodes: list[str] = field(default_factory=list)  # errors and test failures
    failed_ids: set[str] = field(default_factory=set)

    def unexpected_failures(self) -> list[str]:
        known = KNOWN_UNPORTABLE.get(self.engine, {})
        return [line for line in self.failed_nodes if line.split(":")[0] not in known]

    def known_failures(self) -> list[str]:
        known = KNOWN_UNPORTABLE.get(self.engine, {})
        return [f"{node}: {known[node]}" for node in sorted(self.failed_ids) if node in known]

    def to_json(self) -> dict[str, object]:
        """The build as JSON, for the xdist workers that did not run it (tests/once.py)."""
        return {
            **{name: getattr(self, name) for name in JSON_FIELDS},
            "work": str(self.work),
            "built": sorted(self.built),
            "failed_ids": sorted(self.failed_ids),
        }

    @classmethod
    def from_json(cls, saved: dict[str, Any]) -> EngineBuild:
        return cls(
            **{name: saved[name] for name in JSON_FIELDS},
            work=Path(saved["work"]),
            built=set(saved["built"]),
            failed_ids=set(saved["failed_ids"]),
        )


JSON_FIELDS = (
    "engine",
    "env",
    "ingest_seconds",
    "build_seconds",
    "build_ok",
    "build_output",
    "build_log",
    "failed_nodes",
)


def base_env(
    work: Path, data_dir: Path, engine: str, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`environ` (os.environ by default) with the paths and settings of a `cdp`
    run on `engine` in `work`."""
    env = dict(os.environ if environ is None else environ)
    env.update(
        {
            "CDP_HOME": str(REPO),
            "CDP_TARGET": engine,
            "CDP_DATA_DIR": str(data_dir),
            "CDP_DUCKDB_PATH": str(work / "cdp.duckdb"),
            "CDP_SPARK_DIR": str(work / "spark"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_TARGET_PATH": str(work / "dbt_target"),
            "DBT_LOG_PATH": str(work / "dbt_logs"),
            "TZ": "UTC",
        }
    )
    return env


def run_cdp(
    args: list[str], env: dict[str, str], timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CDP), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def generate(data_dir: Path, people: int, seed: int, end_date: str) -> None:
    """`cdp generate` into data_dir, with the CLI's default share of broken rows."""
    env = base_env(data_dir.parent, data_dir, "duckdb")
    done = run_cdp(
        ["generate", "--customers", str(people), "--seed", str(seed), "--end-date", end_date], env
    )
    assert done.returncode == 0, done.stdout + done.stderr


def land_and_build(
    engine: str, env: dict[str, str], work: Path, build_args: Sequence[str] = ()
) -> EngineBuild:
    """`cdp ingest`, then `cdp build [build_args]` (dbt, the scoring step, dbt) on one
    engine."""
    result = EngineBuild(engine, env, work)
    started = time.monotonic()
    landed = run_cdp(["ingest"], env)
    result.ingest_seconds = time.monotonic() - started
    assert landed.returncode == 0, f"cdp ingest on {engine} failed:\n{landed.stdout}{landed.stderr}"
    if engine == "duckdb":  # the raw tables alone, for tests that build them (test_build.py)
        shutil.copy(work / "cdp.duckdb", work / LANDED_FILE)
    started = time.monotonic()
    built = run_cdp(["build", *build_args, "--vars", json.dumps(BUILD_VARS)], env, timeout=1800)
    result.build_seconds = time.monotonic() - started
    result.build_ok = built.returncode == 0
    result.build_output = built.stdout[-6000:] + built.stderr[-3000:]
    result.build_log = built.stdout + built.stderr
    results_file = work / "dbt_target" / "run_results.json"
    assert results_file.exists(), f"dbt wrote no run_results on {engine}:\n{result.build_output}"
    # Shown with pytest -s or -rP: how long each engine took.
    print(
        f"{engine}: cdp ingest {result.ingest_seconds:.0f}s, dbt build {result.build_seconds:.0f}s"
    )
    for node in json.loads(results_file.read_text())["results"]:
        unique_id = str(node["unique_id"])
        status = str(node["status"])
        if status in ("error", "fail", "runtime error"):
            result.failed_nodes.append(f"{unique_id}: {status}: {node.get('message')}")
            result.failed_ids.add(unique_id)
        if unique_id.startswith("model.") and status == "success" and node.get("relation_name"):
            schema, name = relation_parts(str(node["relation_name"]))
            if schema in COMPARED_SCHEMAS:
                result.built.add(f"{schema}.{name}")
    return result


def relation_parts(relation_name: str) -> tuple[str, str]:
    """(schema, name) of `"db"."schema"."name"` or `` `schema`.`name` ``."""
    parts = [part.strip('"`') for part in relation_name.split(".")]
    return parts[-2], parts[-1]


def raw_relations(registry_tables: list[str]) -> list[str]:
    return [f"raw.{t}" for t in registry_tables] + list(RAW_BOOKKEEPING)


def check_models(reference: EngineBuild, other: EngineBuild) -> list[str]:
    """The models `reference` built to compare with `other`; fails or xfails for the rest.

    Fails when `other` misses a model for a reason not in KNOWN_UNPORTABLE, or
    when a KNOWN_UNPORTABLE node of `other` built after all (remove it then).
    """

    unexpected = other.unexpected_failures()
    assert unexpected == [], f"dbt failed on {other.engine}:\n" + "\n".join(unexpected)
    stale = sorted(set(KNOWN_UNPORTABLE.get(other.engine, {})) - other.failed_ids)
    assert stale == [], f"{stale} built on {other.engine}: remove them from KNOWN_UNPORTABLE"
    return sorted(reference.built & other.built)


def xfail_if_incomplete(reference: EngineBuild, other: EngineBuild) -> None:
    """After the comparison passed: xfail when `other` could not build every model."""
    import pytest

    missing = sorted(reference.built - other.built)
    if missing:
        pytest.xfail(
            f"not built on {other.engine}: {missing}, because of "
            + "; ".join(other.known_failures())
        )
