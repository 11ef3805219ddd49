"""Read-only access to the identity tables of the configured warehouse, for `cdp identity`."""

from __future__ import annotations

from cdp.config import Settings
from cdp.warehouse import Warehouse, open_warehouse

# Every relation `cdp identity report` and `explain` read.
IDENTITY_RELATIONS = (
    ("marts", "customers"),
    ("marts", "customer_source_records"),
    ("marts", "customer_identifiers"),
    ("marts", "customer_id_history"),
    ("marts", "identity_edges"),
    ("intermediate", "int_identity_records_prepared"),
    ("intermediate", "int_identity_identifiers_screened"),
    ("intermediate", "int_identity_clusters"),
)


class IdentityDataMissing(RuntimeError):
    """The warehouse has no identity tables yet (run `cdp build` first)."""


def connect(settings: Settings) -> Warehouse:
    """Open the warehouse read-only; IdentityDataMissing (one line) when the warehouse
    or any identity relation the commands read has not been built."""
    if settings.target == "duckdb" and not settings.warehouse_path.exists():
        raise IdentityDataMissing(
            f"no warehouse at {settings.warehouse_path}; run `cdp run` or `cdp build`"
        )
    warehouse = open_warehouse(settings, read_only=True)
    present = warehouse.relations()
    missing = [f"{s}.{n}" for s, n in IDENTITY_RELATIONS if (s, n) not in present]
    if missing:
        warehouse.close()
        raise IdentityDataMissing(
            f"{warehouse.description} has no {', '.join(missing)}; run `cdp build` first"
        )
    return warehouse
