"""A/B timing of models' SQL on a built warehouse: two dbt projects (before and
after a change), a copy of the same warehouse for each, runs alternated so that
the machine's load falls on both alike.

    .venv/bin/python benchmarks/scale/bench_model_ab.py \\
        --warehouse /tmp/scale-bench/100000/warehouse/cdp.duckdb \\
        --before /tmp/before --after . \\
        --before-models int_identity_identifiers_screened \\
        --after-models int_identity_identifiers_screened --runs 3

Each project is compiled with `dbt compile --select <its models>` against its
copy of the warehouse (so `run_query` in a model sees the seeds). Then, `--runs`
times per side, alternating, its models' compiled SELECTs run in the order
given as `CREATE OR REPLACE TABLE <relation> AS ...` with the duckdb Python API
(the raw engine, no dbt), and the side's time is their sum. Every model both
sides build must hold the same rows (count and an order-independent checksum of
the rows), so a faster version that computes something else fails. Prints
seconds per model and run, the median per side, and `uptime` before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def compiled(
    project: Path, warehouse: Path, models: list[str], work: Path
) -> list[tuple[str, str, str]]:
    """(model, relation, compiled SELECT) per model, in the order given."""
    env = {
        **os.environ,
        "CDP_DUCKDB_PATH": str(warehouse),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    subprocess.run(
        [
            str(BIN / "dbt"),
            "compile",
            "--select",
            *models,
            "--project-dir",
            str(project / "dbt_project"),
            "--profiles-dir",
            str(project),
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    nodes = json.loads((work / "target" / "manifest.json").read_text())["nodes"]
    by_name = {n["name"]: n for n in nodes.values() if n["resource_type"] == "model"}
    return [(m, by_name[m]["relation_name"], by_name[m]["compiled_code"]) for m in models]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--before", type=Path, required=True, help="checkout before the change")
    parser.add_argument("--after", type=Path, required=True, help="checkout after the change")
    parser.add_argument("--before-models", required=True, help="comma list, in build order")
    parser.add_argument("--after-models", required=True, help="comma list, in build order")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import duckdb

    sides = {"before": args.before, "after": args.after}
    models = {"before": args.before_models.split(","), "after": args.after_models.split(",")}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        warehouses = {}
        plans = {}
        for side, project in sides.items():
            (work / side).mkdir()
            warehouses[side] = Path(shutil.copy(args.warehouse, work / side / args.warehouse.name))
            plans[side] = compiled(project, warehouses[side], models[side], work / side)
        print("uptime before:", uptime())
        times: dict[str, list[float]] = {"before": [], "after": []}
        checksums: dict[str, dict[str, tuple[object, ...]]] = {"before": {}, "after": {}}
        for run in range(args.runs):
            for side in ("before", "after") if run % 2 == 0 else ("after", "before"):
                total = 0.0
                with duckdb.connect(str(warehouses[side])) as con:
                    for model, relation, sql in plans[side]:
                        started = time.perf_counter()
                        con.execute(f"create or replace table {relation} as {sql}")
                        elapsed = time.perf_counter() - started
                        total += elapsed
                        print(f"run {run + 1} {side} {model}: {elapsed:.2f} s")
                        row = con.execute(
                            f"select count(*), bit_xor(hash(t)) from {relation} as t"
                        ).fetchone()
                        assert row is not None
                        checksums[side][model] = tuple(row)
                times[side].append(total)
                print(f"run {run + 1} {side}: {total:.2f} s")
        print("uptime after:", uptime())
        for side in ("before", "after"):
            print(f"{side}: median {statistics.median(times[side]):.2f} s over {args.runs} runs")
        common = sorted(set(checksums["before"]) & set(checksums["after"]))
        differing = [m for m in common if checksums["before"][m] != checksums["after"][m]]
        for model in common:
            print(
                f"{model}: before {checksums['before'][model]}, after {checksums['after'][model]}"
            )
        if differing:
            sys.exit(f"the two versions give different rows: {differing}")


if __name__ == "__main__":
    main()
