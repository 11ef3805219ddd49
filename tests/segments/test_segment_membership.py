"""Segment membership history across two build dates, and the segment contract.

The package warehouse is built as of 2026-06-30 (D). A copy gets two raw
changes dated D+1: a store purchase for a lapsed loyalty customer (who must
leave the recency segments) and a new loyalty-member version upgrading a
bronze member to gold (who must enter segment_vip_loyalty_members). Building
as of D+1 must close and open history rows and list both in the changes table.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from tests.segments.conftest import AS_OF_DATE, DBT_PROJECT, Warehouse

pytestmark = pytest.mark.slow

DAY_0 = date.fromisoformat(AS_OF_DATE)
DAY_1 = DAY_0 + timedelta(days=1)
RECENCY_SEGMENTS = ("segment_lapsed_buyers", "segment_win_back", "segment_high_value_churn_risk")
VIP = "segment_vip_loyalty_members"


def members(warehouse: Warehouse) -> set[tuple[str, str]]:
    frame = warehouse.query("select segment_name, customer_id from marts.segment_memberships")
    return set(frame.itertuples(index=False, name=None))


def as_date(value: object) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def pick_leaver(warehouse: Warehouse) -> tuple[str, str]:
    """(customer_id, loyalty_number) of a recency-segment member with a loyalty card."""
    segments = ", ".join(f"'{name}'" for name in RECENCY_SEGMENTS)
    frame = warehouse.query(
        f"""
        select memberships.customer_id, min(records.source_record_id) as loyalty_number
        from marts.segment_memberships as memberships
        inner join marts.customer_source_records as records
            on records.customer_id = memberships.customer_id
            and records.source_name = 'loyalty_members'
        where memberships.segment_name in ({segments})
        group by memberships.customer_id
        order by memberships.customer_id
        limit 1
        """
    )
    assert len(frame) == 1, "the sample needs a lapsed loyalty customer"
    return frame["customer_id"][0], frame["loyalty_number"][0]


def pick_enterer(warehouse: Warehouse, leaver: str) -> tuple[str, str]:
    """(customer_id, loyalty_number) of a bronze loyalty member outside the VIP segment."""
    frame = warehouse.query(
        f"""
        select measures.customer_id, min(records.source_record_id) as loyalty_number
        from marts.customer_measures as measures
        inner join marts.customer_source_records as records
            on records.customer_id = measures.customer_id
            and records.source_name = 'loyalty_members'
        where measures.loyalty_tier = 'bronze'
            and measures.customer_id != '{leaver}'
            and measures.customer_id not in (
                select customer_id from marts.segment_memberships where segment_name = '{VIP}'
            )
        group by measures.customer_id
        having count(*) = 1
        order by measures.customer_id
        limit 1
        """
    )
    assert len(frame) == 1, "the sample needs a bronze loyalty member"
    return frame["customer_id"][0], frame["loyalty_number"][0]


def add_next_day_changes(warehouse: Warehouse, leaver_card: str, enterer_card: str) -> None:
    warehouse.execute(
        f"""
        insert into raw.store_transactions
            (transaction_id, store_id, loyalty_number, transacted_at, currency,
             total_amount, is_return, _loaded_at, _source_file, _source_line)
        values
            ('TEST-NEXT-DAY-1', 'S001', '{leaver_card}', '{DAY_1} 12:00:00', 'EUR',
             25.00, false, cast(current_timestamp at time zone 'UTC' as timestamp), 'test', 1)
        """
    )
    warehouse.execute(
        f"""
        insert into raw.loyalty_members
        select * replace (
            'gold' as tier,
            timestamp '{DAY_1} 12:00:00' as updated_at,
            timestamp '{DAY_1} 23:00:00' as _loaded_at
        )
        from raw.loyalty_members
        where upper(trim(loyalty_number)) = '{enterer_card}'
        order by updated_at desc nulls last, _loaded_at desc nulls last
        limit 1
        """
    )


def test_next_day_build_updates_history(warehouse_copy: Warehouse) -> None:
    wh = warehouse_copy
    before = members(wh)
    leaver, leaver_card = pick_leaver(wh)
    enterer, enterer_card = pick_enterer(wh, leaver)
    add_next_day_changes(wh, leaver_card, enterer_card)

    next_day = f"{{cdp__as_of_date: '{DAY_1}'}}"
    # landed now, after the first build: the incremental staging and activity
    # models pick the receipt up (docs/incremental.md)
    wh.dbt("build", "--select", "stg_pos__store_transactions+", "--vars", next_day)
    after = members(wh)

    assert (VIP, enterer) in after and (VIP, enterer) not in before
    left = {(segment, leaver) for segment in RECENCY_SEGMENTS if (segment, leaver) in before}
    assert left, "the leaver was in a recency segment"
    assert not left & after, "a purchase on D+1 takes the leaver out of the recency segments"

    entered, exited = after - before, before - after
    history = wh.query("select * from marts.segment_membership_history")
    rows = {
        (row.segment_name, row.customer_id, as_date(row.valid_from)): as_date(row.valid_to)
        for row in history.itertuples()
    }
    assert len(rows) == len(history), "history keys are unique"
    assert len(history) == len(before) + len(entered)
    for key in before & after:
        assert rows[(*key, DAY_0)] is None
    for key in exited:
        assert rows[(*key, DAY_0)] == DAY_1, key
    for key in entered:
        assert rows[(*key, DAY_1)] is None, key

    changes = wh.query(
        f"select * from marts.segment_membership_changes where change_date = '{DAY_1}'"
    )
    got = {(row.segment_name, row.customer_id, row.change_type) for row in changes.itertuples()}
    want = {(*key, "entered") for key in entered} | {(*key, "exited") for key in exited}
    assert got == want
    assert (VIP, enterer, "entered") in got
    assert all((*key, "exited") in got for key in left)

    # who was in the VIP segment on D: exactly the members of the D build
    vip_on_day_0 = wh.query(
        f"""
        select customer_id from marts.segment_membership_history
        where segment_name = '{VIP}' and valid_from <= '{DAY_0}'
            and (valid_to is null or valid_to > '{DAY_0}')
        """
    )
    assert set(vip_on_day_0["customer_id"]) == {c for s, c in before if s == VIP}

    # rebuilding the same day changes nothing
    wh.dbt("build", "--select", "segment_membership_history+", "--vars", next_day)
    assert len(wh.query("select * from marts.segment_membership_history")) == len(history)
    again = wh.query(
        f"select * from marts.segment_membership_changes where change_date = '{DAY_1}'"
    )
    assert len(again) == len(changes)


def build_with_extra_segment(
    warehouse: Warehouse, tmp_path: Path, sql: str, config: str
) -> subprocess.CompletedProcess[str]:
    """Build a copy of the project with one more segment `segment_broken`
    (`sql`, and `config` as the YAML under its `config:` key)."""
    project = tmp_path / "project"
    shutil.copytree(
        DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    segments = project / "models" / "marts" / "segments"
    (segments / "segment_broken.sql").write_text(sql)
    (segments / "_broken__models.yml").write_text(
        "version: 2\nmodels:\n  - name: segment_broken\n    config:\n" + config
    )
    union = project / "models" / "marts" / "audiences" / "segment_memberships.sql"
    union.write_text("-- depends_on: {{ ref('segment_broken') }}\n" + union.read_text())
    return warehouse.dbt(
        "build", "--select", "segment_broken", "segment_memberships", project=project, check=False
    )


META = "      meta:\n        cdp_segment: {audience_name: Broken, description: x, owner: test}\n"


def test_segment_without_customer_id_fails_the_build(
    warehouse_copy: Warehouse, tmp_path: Path
) -> None:
    result = build_with_extra_segment(warehouse_copy, tmp_path, "select 1 as member_id\n", META)
    assert result.returncode != 0
    assert "segment model 'segment_broken' does not return a customer_id column" in result.stdout


def test_segment_without_contract_fails_the_build(
    warehouse_copy: Warehouse, tmp_path: Path
) -> None:
    result = build_with_extra_segment(
        warehouse_copy, tmp_path, "select 'c1' as customer_id\n", META
    )
    assert result.returncode != 0
    assert "segment 'segment_broken' has no enforced contract" in result.stdout


def test_segment_listing_syncs_in_its_meta_fails_the_build(
    warehouse_copy: Warehouse, tmp_path: Path
) -> None:
    result = build_with_extra_segment(
        warehouse_copy,
        tmp_path,
        "select 'c1' as customer_id\n",
        "      contract: {enforced: true}\n"
        "      meta:\n        cdp_segment:\n"
        "          {audience_name: Broken, description: x, owner: test, syncs: [gone]}\n"
        "    columns:\n      - {name: customer_id, data_type: varchar}\n",
    )
    assert result.returncode != 0
    assert "segment 'segment_broken': meta cdp_segment.syncs is not read any more" in result.stdout
