"""Whether the scoring step may run after a dbt phase that did not fully succeed.

`dbt build` skips only what depends on a failed node and builds the rest.
`cdp build` keeps that promise across its scoring step: when phase 1 fails,
the scores are still computed (and phase 3 still runs) if every table the
scoring reads was built in that phase, with its ancestors, and no test on
any of them failed. Otherwise the scoring would read a stale table left by
an earlier build, so it does not run. The command exits non-zero either way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cdp.predictions.features import (
    FEATURES_RELATION,
    FEATURES_SCHEMA,
    RECOMMENDATION_EVALUATION_RELATION,
    WINDOWS_RELATION,
)

SCORING_INPUTS = tuple(
    f"model.cdp.{name}"
    for name in (WINDOWS_RELATION, FEATURES_RELATION, RECOMMENDATION_EVALUATION_RELATION)
)
_GOOD = {"success", "pass", "warn"}


def scoring_blockers(run_results: Mapping[str, Any] | None, manifest_path: Path) -> list[str]:
    """Why the scoring cannot run on what a dbt phase built; [] when it can.

    `run_results` is that phase's run_results.json and `manifest_path` the
    manifest.json dbt wrote beside it. A blocker is a scoring input
    (intermediate.int_prediction_* in FEATURES_SCHEMA) that did not build, or
    a failed or skipped node among their ancestors and the tests on them.
    """
    if run_results is None:
        return ["dbt wrote no run_results.json"]
    if not manifest_path.exists():
        return [f"dbt wrote no {manifest_path}"]
    parents: dict[str, list[str]] = json.loads(manifest_path.read_text()).get("parent_map", {})
    status = {str(r["unique_id"]): str(r["status"]) for r in run_results.get("results", [])}

    needed: set[str] = set()
    pending = list(SCORING_INPUTS)
    while pending:
        node = pending.pop()
        if node not in needed:
            needed.add(node)
            pending.extend(parents.get(node, []))

    blockers = [
        f"{node} ({FEATURES_SCHEMA} input of the scoring) did not build: "
        f"{status.get(node, 'not run')}"
        for node in SCORING_INPUTS
        if status.get(node) != "success"
    ]
    for node, state in sorted(status.items()):
        if state in _GOOD or node in SCORING_INPUTS:
            continue
        guards_needed = node.startswith(("test.", "unit_test.")) and bool(
            needed & set(parents.get(node, []))
        )
        if node in needed or guards_needed:
            blockers.append(f"{node}: {state}")
    return blockers
