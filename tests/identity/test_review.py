"""`cdp identity review`: the queue lists pairs near the threshold; accept and reject
write the override seeds, and the next (subset) build links or separates the records.

Runs on a copy of the identity tests' warehouse (the shared business, tests/business.py,
with its identity layer rebuilt once, tests/identity/conftest.py) and a copy of the dbt
project as CDP_HOME, so that the override seeds the command writes are the copy's.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from cdp.cli import main
from tests.engines.engine_builds import run_cdp
from tests.identity.conftest import DBT_PROJECT, REPO, Warehouse

pytestmark = pytest.mark.slow

SEEDS = Path("dbt_project/seeds/identity")
ALWAYS = SEEDS / "identity_always_match.csv"
NEVER = SEEDS / "identity_never_match.csv"
# The smallest rebuild that applies the overrides to the customers and the queue.
REBUILD = [
    "identity_always_match",
    "identity_never_match",
    "int_identity_edges_matched",
    "int_identity_clusters",
    "int_identity_customer_ids",
    "customer_source_records",
    "identity_review_pairs",
]


@dataclass(frozen=True)
class Home:
    path: Path
    warehouse: Path
    env: dict[str, str]

    def read(self, relative: Path) -> str:
        return (self.path / relative).read_text(encoding="utf-8")


@pytest.fixture
def home(
    identity_warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Home]:
    """CDP_HOME: a copy of the dbt project and profile, and of the built warehouse."""
    root = tmp_path / "home"
    shutil.copytree(
        DBT_PROJECT,
        root / "dbt_project",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    shutil.copy(REPO / "profiles.yml", root / "profiles.yml")
    warehouse = tmp_path / "work" / "cdp.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(identity_warehouse.path, warehouse)
    shutil.copytree(identity_warehouse.work / "target", tmp_path / "dbt_target")
    env = {
        "CDP_HOME": str(root),
        "CDP_TARGET": "duckdb",
        "CDP_DUCKDB_PATH": str(warehouse),
        "CDP_SPARK_DIR": str(tmp_path / "spark"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_TARGET_PATH": str(tmp_path / "dbt_target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt_logs"),
        "CDP_REVIEWER": "test-analyst",
        "TZ": "UTC",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield Home(root, warehouse, {**os.environ, **env})


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["identity", "review", *args])
    return result.exit_code, result.stdout, result.stderr


def queue(home: Home) -> list[dict[str, Any]]:
    code, out, err = cli("--json", "--limit", "1000")
    assert code == 0, err
    return list(json.loads(out))


def customers_of(warehouse: Path, *record_keys: str) -> list[str | None]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = dict(
            con.execute(
                "select record_key, customer_id from marts.customer_source_records "
                "where record_key in (select unnest(?))",
                [list(record_keys)],
            ).fetchall()
        )
    return [found.get(key) for key in record_keys]


def test_accept_links_and_reject_separates_after_a_subset_build(home: Home) -> None:
    pairs = queue(home)
    kinds = {pair["review_kind"] for pair in pairs}
    assert kinds == {"probabilistic", "fuzzy_rule"}, kinds
    keys = [pair[side]["record_key"] for pair in pairs for side in ("left", "right")]
    customer = dict(zip(keys, customers_of(home.warehouse, *keys), strict=True))
    for pair in pairs:  # the queue's own claim about the pair, checked
        left, right = pair["left"]["record_key"], pair["right"]["record_key"]
        assert pair["is_same_customer"] == (customer[left] == customer[right])
        assert abs(float(str(pair["distance_from_threshold"]))) <= (
            4.0 if pair["review_kind"] == "probabilistic" else 0.05
        )

    to_accept = next(p for p in pairs if not p["is_same_customer"])
    accepted_keys = [to_accept["left"]["record_key"], to_accept["right"]["record_key"]]
    to_reject = next(
        p
        for p in pairs
        if p["is_same_customer"]
        and not {p["left"]["record_key"], p["right"]["record_key"]} & set(accepted_keys)
    )
    rejected_keys = [to_reject["left"]["record_key"], to_reject["right"]["record_key"]]

    code, out, err = cli("accept", str(to_accept["pair_id"]), "--reason", "same person, checked")
    assert code == 0, err
    assert "accepted" in out
    code, out, err = cli("reject", str(to_reject["pair_id"]), "--by", "second-analyst")
    assert code == 0, err
    assert "detaches" in out

    [always] = list(csv.DictReader(io.StringIO(home.read(ALWAYS))))
    [never] = list(csv.DictReader(io.StringIO(home.read(NEVER))))
    assert {
        f"{always['left_source_name']}:{always['left_source_record_id']}",
        f"{always['right_source_name']}:{always['right_source_record_id']}",
    } == set(accepted_keys)
    assert (always["reason"], always["decided_by"]) == ("same person, checked", "test-analyst")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", always["decided_at"])
    assert never["decided_by"] == "second-analyst"
    assert never["reason"].startswith("review rejected: fuzzy_rule") or never["reason"].startswith(
        "review rejected: probabilistic"
    )
    # the record cut from its links is the one with fewer of them
    second = f"{never['right_source_name']}:{never['right_source_record_id']}"
    counts = {to_reject[s]["record_key"]: to_reject[s]["link_count"] for s in ("left", "right")}
    assert counts[second] == min(counts.values())

    built = run_cdp(["build", "--select", " ".join(REBUILD)], home.env, timeout=900)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-2000:]

    left, right = customers_of(home.warehouse, *accepted_keys)
    assert left is not None and left == right
    left, right = customers_of(home.warehouse, *rejected_keys)
    assert left is not None and right is not None and left != right
    remaining = {pair["pair_id"] for pair in queue(home)}
    assert to_accept["pair_id"] not in remaining
    assert to_reject["pair_id"] not in remaining


def test_queue_lists_both_records_side_by_side(home: Home) -> None:
    pairs = queue(home)
    code, out, err = cli("--limit", "2")
    assert code == 0, err
    assert f"2 of {len(pairs)} pair(s) to review" in out
    first = pairs[0]
    assert str(first["pair_id"]) in out
    for side in ("left", "right"):
        record = first[side]
        assert isinstance(record, dict)
        assert f"{record['source_name']}:{record['source_record_id']}" in out
    assert pairs[1]["pair_id"] in out and pairs[2]["pair_id"] not in out
    distances = [abs(float(str(pair["distance_from_threshold"]))) for pair in pairs]
    assert distances == sorted(distances)


def test_bad_input_fails_in_one_line_and_writes_nothing(home: Home) -> None:
    pair_id = str(queue(home)[0]["pair_id"])
    before = (home.read(ALWAYS), home.read(NEVER))

    code, _, err = cli("accept", "rp_000000000000")
    assert code == 2
    assert err.count("\n") == 1 and "no pair 'rp_000000000000' in the review queue" in err
    assert (home.read(ALWAYS), home.read(NEVER)) == before

    code, _, err = cli("accept", pair_id)
    assert code == 0, err
    decided = (home.read(ALWAYS), home.read(NEVER))
    listed = {str(pair["pair_id"]): pair["pending_decision"] for pair in queue(home)}
    assert listed[pair_id] == "accepted"
    assert [p for p, pending in listed.items() if pending] == [pair_id]
    code, out, _ = cli("--limit", "1")
    assert f"{pair_id}  " in out and "[accepted, applied by the next build]" in out
    for command in ("accept", "reject"):  # decided, not yet rebuilt: still listed
        code, _, err = cli(command, pair_id)
        assert code == 2
        assert err.count("\n") == 1 and "already decided" in err and "line 2" in err
        assert (home.read(ALWAYS), home.read(NEVER)) == decided

    never = home.path / NEVER
    for broken in (
        "left,right\n",  # another header
        never.read_text(encoding="utf-8") + "shop_customers,1,crm_contacts\n",  # short row
        never.read_text(encoding="utf-8") + ",,crm_contacts,2,,,\n",  # empty record key
    ):
        never.write_text(broken, encoding="utf-8")
        code, _, err = cli("reject", str(queue(home)[1]["pair_id"]))
        assert code == 2
        assert err.count("\n") == 1 and "identity_never_match.csv" in err, err
        assert (home.read(ALWAYS), home.read(NEVER)) == (decided[0], broken)


def test_a_warehouse_without_the_queue_says_so(home: Home) -> None:
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("drop table marts.identity_review_pairs")
    code, _, err = cli()
    assert code == 2
    assert "has no marts.identity_review_pairs; run `cdp build` first" in err


def test_interactive_review_writes_each_answer(home: Home) -> None:
    pairs = queue(home)
    result = CliRunner().invoke(
        main, ["identity", "review", "--interactive", "--limit", "3"], input="s\na\nq\n"
    )
    assert result.exit_code == 0, result.stderr
    assert "1 decision(s) written" in result.stdout
    assert result.stdout.count("[a]ccept, [r]eject, [s]kip, [q]uit") == 3  # quit at the third
    [always] = list(csv.DictReader(io.StringIO(home.read(ALWAYS))))
    second = pairs[1]
    assert {always["left_source_record_id"], always["right_source_record_id"]} == {
        second["left"]["source_record_id"],
        second["right"]["source_record_id"],
    }
    assert list(csv.DictReader(io.StringIO(home.read(NEVER)))) == []
