"""When phase 1 of `cdp build` fails, the scoring runs only on freshly built inputs.

Small run_results/manifest pairs shaped like dbt's: the end-to-end case (a
Spark build whose phase 1 fails on a node the scoring does not read, then
scores) is tests/engines/test_cross_engine_spark.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from cdp.predictions.readiness import SCORING_INPUTS, scoring_blockers

WINDOWS, FEATURES, RECOMMENDATIONS = SCORING_INPUTS
STAGING = "model.cdp.stg_shop__orders"
HISTORY = "model.cdp.segment_membership_history"
FEATURES_TEST = "test.cdp.not_null_int_prediction_features_customer_id.1a2b"
HISTORY_TEST = "test.cdp.unique_segment_membership_history_key.3c4d"


def _manifest(tmp_path: Path) -> Path:
    parents = {
        STAGING: [],
        WINDOWS: [],
        FEATURES: [STAGING, WINDOWS],
        RECOMMENDATIONS: [STAGING],
        HISTORY: [STAGING],
        FEATURES_TEST: [FEATURES],
        HISTORY_TEST: [HISTORY],
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"parent_map": parents}))
    return path


def _results(**status: str) -> dict[str, object]:
    everything = {
        STAGING: "success",
        WINDOWS: "success",
        FEATURES: "success",
        RECOMMENDATIONS: "success",
        HISTORY: "success",
        FEATURES_TEST: "pass",
        HISTORY_TEST: "pass",
    }
    names = {
        "staging": STAGING,
        "features": FEATURES,
        "history": HISTORY,
        "features_test": FEATURES_TEST,
        "history_test": HISTORY_TEST,
    }
    everything |= {names[key]: value for key, value in status.items()}
    return {"results": [{"unique_id": k, "status": v} for k, v in everything.items()]}


def test_a_failure_the_scoring_does_not_read_does_not_block(tmp_path: Path) -> None:
    results = _results(history="error", history_test="skipped")
    assert scoring_blockers(results, _manifest(tmp_path)) == []


def test_a_failed_input_blocks(tmp_path: Path) -> None:
    blockers = scoring_blockers(_results(features="error"), _manifest(tmp_path))
    assert any(FEATURES in b and "error" in b for b in blockers), blockers


def test_a_failed_ancestor_or_test_of_an_input_blocks(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    assert [
        b for b in scoring_blockers(_results(staging="error"), manifest) if b.startswith(STAGING)
    ] == [STAGING + ": error"]
    assert scoring_blockers(_results(features_test="fail"), manifest) == [FEATURES_TEST + ": fail"]


def test_an_input_missing_from_the_run_blocks(tmp_path: Path) -> None:
    results = _results()
    results["results"] = [r for r in results["results"] if r["unique_id"] != WINDOWS]  # type: ignore[attr-defined]
    assert scoring_blockers(results, _manifest(tmp_path)) == [
        f"{WINDOWS} (intermediate input of the scoring) did not build: not run"
    ]


def test_without_dbt_artifacts_it_blocks(tmp_path: Path) -> None:
    assert scoring_blockers(None, _manifest(tmp_path)) != []
    assert scoring_blockers(_results(), tmp_path / "absent.json") != []
