"""Spark keeps column comments in its Hive metastore, whose COMMENT column is
varchar(256); a longer column description (persist_docs) makes the build of
that model, and of every table whose CTAS copies the column, fail on Spark."""

from __future__ import annotations

from pathlib import Path

import yaml

MODELS = Path(__file__).resolve().parents[1] / "dbt_project" / "models"
HIVE_COMMENT_LIMIT = 256


def test_every_column_description_fits_the_hive_metastore() -> None:
    too_long = []
    checked = 0
    for path in sorted(MODELS.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in data.get("models") or []:
            for column in model.get("columns") or []:
                description = str(column.get("description") or "")
                checked += 1
                if "{{" not in description and len(description) > HIVE_COMMENT_LIMIT:
                    too_long.append(f"{model['name']}.{column['name']}: {len(description)}")
    assert checked > 100
    assert too_long == [], "column descriptions over 256 characters: " + ", ".join(too_long)
