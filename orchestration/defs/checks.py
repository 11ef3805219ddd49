"""Great Expectations suites as Dagster asset checks, and freshness checks on raw sources.

Every GX check runs a suite from `expectations/` over a warehouse table and returns
an `AssetCheckResult` whose metadata lists each failed expectation. Severity: any
failed `critical` expectation gives ERROR, only `warning` failures give WARN.
Blocking (a failure with ERROR stops everything downstream in the run): raw landing,
`customers` (the golden table) and each segment. Consent is reported, not blocking.
A check whose model is not in the dbt project is not defined; a table that should
exist but does not fails the check with the reason.

The suites run on every engine: each check opens the warehouse CDP_TARGET names
through `cdp/warehouse` (`expectations/inputs.py`) and validates the relation as a
pandas DataFrame. The check functions take a `Warehouse` (or a DuckDB connection,
which they wrap).

The check functions are plain functions (tested without Dagster); `defs()` makes
them asset checks from the manifest and the landing registry when the
definitions load.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    Definitions,
    MetadataValue,
    asset_check,
    build_last_update_freshness_checks,
    build_sensor_for_freshness_checks,
    definitions,
)

from cdp.landing import Registry
from cdp.landing.manifest import METADATA_COLUMNS
from cdp.warehouse import Warehouse
from expectations import inputs as wh
from expectations.config import Thresholds, load_thresholds
from expectations.runner import SuiteOutcome, validate
from expectations.suites import (
    build_consent_suite,
    build_customer_id_stability_suite,
    build_customers_suite,
    build_raw_landing_suite,
    build_segment_suite,
)
from orchestration.defs.assets.ingestion import load_landing_registry, raw_asset_key
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.translator import model_asset_key, model_relation, segment_models

GOLDEN_MODEL = "customers"
CONSENT_MODEL = "stg_consent__consent_events"


# --- plain functions (tested without Dagster) ----------------------------------------


def outcome_to_result(outcomes: Sequence[SuiteOutcome], extra: Mapping[str, Any] | None = None):
    """One AssetCheckResult for one or more suite outcomes."""
    failures = [f for o in outcomes for f in o.failures]
    critical = [f for o in outcomes for f in o.critical_failures]
    metadata: dict[str, Any] = {}
    for outcome in outcomes:
        for key, value in outcome.metadata().items():
            name = key if len(outcomes) == 1 else f"{outcome.suite_name}/{key}"
            if key == "failed":
                value = MetadataValue.md("\n".join(f"- {line}" for line in value.splitlines()))
            elif key == "data_docs":
                value = MetadataValue.path(value)
            metadata[name] = value
    metadata.update(extra or {})
    description = "; ".join(o.describe().splitlines()[0] for o in outcomes)
    if failures:
        description = "\n".join(o.describe() for o in outcomes if not o.success)
    return AssetCheckResult(
        passed=not failures,
        severity=AssetCheckSeverity.ERROR if critical else AssetCheckSeverity.WARN,
        metadata=metadata,
        description=description,
    )


def missing_relation(schema: str, name: str) -> AssetCheckResult:
    return AssetCheckResult(
        passed=False,
        severity=AssetCheckSeverity.ERROR,
        description=f"{schema}.{name} does not exist in the warehouse; build it first",
    )


def check_raw_table(
    con: Warehouse | Any, table: str, columns: Sequence[str], thresholds: Thresholds
) -> AssetCheckResult:
    con = wh.as_warehouse(con)
    if not wh.relation_exists(con, "raw", table):
        return missing_relation("raw", table)
    before = wh.raw_rows_before_last_load(con, table)
    suite = build_raw_landing_suite(table, columns, before, thresholds.raw_landing)
    outcome = validate(wh.read_relation(con, "raw", table), suite, asset_name=table)
    return outcome_to_result([outcome], {"rows_before_last_load": before or 0})


def check_customers(
    con: Warehouse | Any, schema: str, name: str, thresholds: Thresholds
) -> AssetCheckResult:
    """Validate the golden table; on success, remember its ids as the next baseline."""
    con = wh.as_warehouse(con)
    if not wh.relation_exists(con, schema, name):
        return missing_relation(schema, name)
    outcomes = [
        validate(
            wh.read_relation(con, schema, name),
            build_customers_suite(thresholds.customers),
            asset_name=name,
        )
    ]
    changes = wh.customer_id_changes(con)
    extra: dict[str, Any] = {}
    if changes is None:
        extra["id_stability"] = "no earlier accepted build to compare with"
    else:
        counts = changes["change"].value_counts().to_dict()
        extra.update({f"ids_{kind}": int(counts.get(kind, 0)) for kind in ("kept", "new", "gone")})
        extra["changed_id_share"] = round(
            (extra["ids_new"] + extra["ids_gone"]) / max(len(changes), 1), 4
        )
        outcomes.append(
            validate(
                changes,
                build_customer_id_stability_suite(thresholds.customers),
                asset_name=f"{name}_id_changes",
            )
        )
    result = outcome_to_result(outcomes, extra)
    if result.passed or result.severity == AssetCheckSeverity.WARN:
        wh.record_customer_ids(con)
    return result


def check_consent(
    con: Warehouse | Any, schema: str, name: str, thresholds: Thresholds
) -> AssetCheckResult:
    con = wh.as_warehouse(con)
    if not wh.relation_exists(con, schema, name):
        return missing_relation(schema, name)
    outcome = validate(
        wh.consent_frame(con), build_consent_suite(thresholds.consent), asset_name=name
    )
    return outcome_to_result([outcome])


def check_segment(
    con: Warehouse | Any, schema: str, name: str, thresholds: Thresholds
) -> AssetCheckResult:
    con = wh.as_warehouse(con)
    if not wh.relation_exists(con, schema, name):
        return missing_relation(schema, name)
    frame = wh.read_relation(con, schema, name)
    previous = wh.previous_segment_size(con, name)
    outcome = validate(
        frame, build_segment_suite(name, previous, thresholds.segments), asset_name=name
    )
    result = outcome_to_result([outcome], {"members": len(frame), "previous_members": previous})
    if result.passed:
        wh.record_segment_size(con, name, len(frame))
    return result


# --- Dagster checks ----------------------------------------------------------------------

Runner = Callable[[Warehouse, Thresholds], AssetCheckResult]


def _gx_check(
    asset: AssetKey, name: str, description: str, blocking: bool, run: Runner, writes: bool
) -> AssetChecksDefinition:
    @asset_check(asset=asset, name=name, description=description, blocking=blocking)
    def _check(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> AssetCheckResult:
        thresholds = load_thresholds()
        with wh.connect(warehouse.settings(), read_only=not writes) as con:
            result = run(con, thresholds)
        log = context.log.info if result.passed else context.log.error
        log(result.description or "")
        return result

    return _check


def raw_landing_checks(registry: Registry) -> list[AssetChecksDefinition]:
    checks = []
    for spec in registry:
        columns = [c.name for c in spec.columns] + [name for name, _ in METADATA_COLUMNS]

        def run(con, thresholds, table=spec.name, columns=columns):  # type: ignore[no-untyped-def]
            return check_raw_table(con, table, columns, thresholds)

        checks.append(
            _gx_check(
                raw_asset_key(spec.name),
                "gx_raw_landing",
                "GX suite raw_landing: exactly the declared columns; the last load did not "
                "shrink the table or grow it beyond the configured factor.",
                blocking=True,
                run=run,
                writes=False,
            )
        )
    return checks


def model_checks(manifest: Mapping[str, Any]) -> list[AssetChecksDefinition]:
    checks = []
    golden = model_asset_key(manifest, GOLDEN_MODEL)
    relation = model_relation(manifest, GOLDEN_MODEL)
    if golden is not None and relation is not None:

        def run_customers(con, thresholds, relation=relation):  # type: ignore[no-untyped-def]
            return check_customers(con, *relation, thresholds)

        checks.append(
            _gx_check(
                golden,
                "gx_customers",
                "GX suite customers: unique non-null ids, cluster size bound (critical); "
                "email/phone validity, null rates, share of ids changed since the last "
                "accepted build (warning). Blocking.",
                blocking=True,
                run=run_customers,
                writes=True,
            )
        )
    consent = model_asset_key(manifest, CONSENT_MODEL)
    consent_relation = model_relation(manifest, CONSENT_MODEL)
    if consent is not None and consent_relation is not None:

        def run_consent(con, thresholds, relation=consent_relation):  # type: ignore[no-untyped-def]
            return check_consent(con, *relation, thresholds)

        checks.append(
            _gx_check(
                consent,
                "gx_consent",
                "GX suite consent: unique event ids, known purposes, channels and statuses; "
                "events name a person. Not blocking.",
                blocking=False,
                run=run_consent,
                writes=False,
            )
        )
    for node in segment_models(manifest):
        key = model_asset_key(manifest, node["name"])
        seg_relation = model_relation(manifest, node["name"])
        if key is None or seg_relation is None:
            continue

        def run_segment(con, thresholds, relation=seg_relation):  # type: ignore[no-untyped-def]
            return check_segment(con, *relation, thresholds)

        checks.append(
            _gx_check(
                key,
                "gx_segment",
                "GX suite segment: not empty, unique members, size within the configured "
                "change of the last accepted build. Blocking.",
                blocking=True,
                run=run_segment,
                writes=True,
            )
        )
    return checks


_PERIODS = {"minute": "minutes", "hour": "hours", "day": "days"}


def source_freshness_bounds(manifest: Mapping[str, Any]) -> dict[AssetKey, timedelta]:
    """warn_after of each dbt source table (the sources YAML), default one day."""
    bounds: dict[AssetKey, timedelta] = {}
    for source in manifest.get("sources", {}).values():
        freshness = source.get("freshness") or {}
        warn = freshness.get("warn_after") or {}
        count, period = warn.get("count"), _PERIODS.get(str(warn.get("period")))
        delta = timedelta(**{period: count}) if count and period else timedelta(days=1)
        bounds[raw_asset_key(source["name"])] = delta
    return bounds


def freshness_checks(manifest: Mapping[str, Any], registry: Registry) -> list:
    """A last-update freshness check on every ingestion asset, bound from its source YAML."""
    declared = {raw_asset_key(spec.name) for spec in registry}
    by_bound: dict[timedelta, list[AssetKey]] = {}
    for key, bound in source_freshness_bounds(manifest).items():
        if key in declared:
            by_bound.setdefault(bound, []).append(key)
    checks: list = []
    for bound, keys in sorted(by_bound.items()):
        ordered: list[AssetKey] = sorted(keys, key=lambda k: k.to_user_string())
        checks.extend(
            build_last_update_freshness_checks(
                assets=ordered,
                lower_bound_delta=bound,
                severity=AssetCheckSeverity.WARN,
            )
        )
    return checks


def freshness_sensor(freshness: Sequence[AssetChecksDefinition]):  # type: ignore[no-untyped-def]
    return build_sensor_for_freshness_checks(
        freshness_checks=freshness, name="raw_freshness", minimum_interval_seconds=600
    )


@definitions
def defs() -> Definitions:
    """The checks of the prepared manifest and the declared raw tables, and the sensor
    that evaluates the freshness checks."""
    from orchestration.defs.assets.dbt import dbt_manifest

    registry = load_landing_registry()
    freshness = freshness_checks(dbt_manifest, registry)
    return Definitions(
        asset_checks=[*raw_landing_checks(registry), *model_checks(dbt_manifest), *freshness],
        sensors=[freshness_sensor(freshness)],
    )
