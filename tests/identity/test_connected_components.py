"""The connected_components materialization converges on a long chain."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb

from tests.identity.conftest import DBT_PROJECT, run_dbt

CHAIN = 5000


def test_long_chain_converges_in_few_iterations(tmp_path: Path) -> None:
    project = tmp_path / "chain_project"
    (project / "models").mkdir(parents=True)
    shutil.copytree(DBT_PROJECT / "macros", project / "macros")
    (project / "dbt_project.yml").write_text(
        "name: cdp\nversion: '0.1.0'\nconfig-version: 2\nprofile: cdp\n"
        "model-paths: [models]\nmacro-paths: [macros]\n"
    )
    # a chain 1-2-3-...-n whose numbering is shuffled, plus a separate pair
    (project / "models" / "chain.sql").write_text(
        "{{ config(materialized='connected_components') }}\n"
        f"select (i * 7919) % {CHAIN} + 1 as node_a, ((i + 1) * 7919) % {CHAIN} + 1 as node_b\n"
        f"from range(0, {CHAIN - 1}) as t(i)\n"
        "union all select 100001 as node_a, 100002 as node_b\n"
    )
    warehouse = tmp_path / "chain.duckdb"
    completed = run_dbt(tmp_path, warehouse, ["run"], project=project)
    assert completed.returncode == 0, completed.stdout[-4000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        components = con.execute(
            "select component, count(*) from main.chain group by component order by component"
        ).fetchall()
        iterations = con.execute("select max(iterations) from main.chain").fetchone()[0]
    assert components == [(1, CHAIN), (100001, 2)]
    assert iterations <= 3 * math.ceil(math.log2(CHAIN)), iterations
