"""The raw-table keys of sources that declare identity in YAML (cdp/landing/declared_keys.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cdp.landing import tombstones
from cdp.landing.declared_keys import declared_record_keys


def manifest(meta: dict[str, object], source: str = "source.cdp.febrl.febrl_people") -> dict:
    return {
        "nodes": {
            "model.cdp.stg_febrl__people": {
                "resource_type": "model",
                "config": {"meta": {"cdp_identity": meta}},
                "depends_on": {"nodes": [source]},
            },
            "model.cdp.stg_shop__customers": {
                "resource_type": "model",
                "config": {"meta": {"cdp_identity": {"source_name": "x", "record_id": "id"}}},
                "depends_on": {"nodes": ["source.cdp.shop.shop_customers"]},
            },
        },
        "sources": {
            "source.cdp.febrl.febrl_people": {"name": "febrl_people", "identifier": "febrl_people"},
            "source.cdp.shop.shop_customers": {"name": "shop_customers"},
        },
    }


def test_a_declaring_model_gives_its_raw_table_the_declared_record_key() -> None:
    found = declared_record_keys(manifest({"source_name": "febrl_people", "record_id": "rec_id"}))
    assert found["febrl_people"] == ("febrl_people", "{rec_id}")
    renamed = {"source_name": "febrl_people", "record_id": "rec_id", "raw_record_id": "id"}
    assert declared_record_keys(manifest(renamed))["febrl_people"] == ("febrl_people", "{id}")


def test_table_keys_add_declared_tables_and_keep_the_shipped_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "manifest.json"
    monkeypatch.setenv("CDP_DBT_MANIFEST", str(path))
    assert "febrl_people" not in tombstones.TABLE_KEYS  # no manifest yet
    path.write_text(json.dumps(manifest({"source_name": "febrl_people", "record_id": "rec_id"})))
    keys = tombstones.TABLE_KEYS["febrl_people"]
    assert keys.records == (("febrl_people", "{rec_id}"),)
    assert keys.emails == () and keys.own is None
    hashes = tombstones.row_hashes("febrl_people", lambda name: f"t.{name}")
    assert hashes == [
        ("record", "sha256('febrl_people:' || nullif(upper(trim(cast(t.rec_id as varchar))), ''))")
    ]
    # A shipped table keeps its shipped keys, whatever a declaration says.
    assert (
        tombstones.TABLE_KEYS["shop_customers"] is tombstones.SHIPPED_TABLE_KEYS["shop_customers"]
    )
    # A changed manifest is read again.
    path.write_text(json.dumps(manifest({"source_name": "febrl_people", "record_id": "other"})))
    os.utime(path, (1, 1))
    assert tombstones.TABLE_KEYS["febrl_people"].records == (("febrl_people", "{other}"),)
    path.write_text("not json")
    os.utime(path, (2, 2))
    assert "febrl_people" not in tombstones.TABLE_KEYS
