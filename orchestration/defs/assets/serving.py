"""The serving store's refresh (cdp/serve/store) as an asset below the build.

`serving/store` hangs below the build's last assets (every dbt asset and the
predictions, as `privacy/erasures_rebuilt`), so it runs only when they all
succeeded and refreshes the store with the same routine `cdp build` ends with:
only the customers the build's change set names when the store holds the
build before, every customer otherwise (docs/serving-store.md).
"""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from orchestration.defs.assets.privacy import _last_build_keys
from orchestration.defs.resources import WarehouseResource

STORE_KEY = AssetKey(["serving", "store"])


@asset(
    key=STORE_KEY,
    deps=_last_build_keys(),
    group_name="serving",
    kinds={"sqlite", "redis"},
    description="The serving store the Profile API and the customer page read, refreshed "
    "from the built marts (full, or only the customers the change set names).",
)
def serving_store(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    from cdp.serve.store.refresh import refresh

    result = refresh(warehouse.settings())
    context.log.info(result.render())
    return MaterializeResult(
        metadata={
            "build_id": result.build_id,
            "mode": result.mode,
            "customers_written": result.customers,
            "seconds": round(result.seconds, 3),
        }
    )
