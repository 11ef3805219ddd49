"""The GDPR export button: the same routine as `cdp privacy export`, read-only.

The export reads the warehouse itself (every raw row, sync payloads: more than
the serving store holds), so while a build holds the DuckDB file it waits up to
CDP_UI_EXPORT_WAIT seconds and then reports `ExportBusy` (the page answers 503
and says to try again when the build ends); the rest of the page keeps working
from the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdp.config import Settings
from cdp.privacy.export import dumps, export_person
from cdp.privacy.subject import ErasureRequest, PrivacyError
from cdp.warehouse import WarehouseError, WarehouseLocked, connect_duckdb


class ExportBusy(Exception):
    """A build (or another writer) holds the warehouse; one line naming it."""


class ExportFailed(Exception):
    """The export cannot run (unknown person, no warehouse, another engine); one line."""


@dataclass(frozen=True)
class ExportFile:
    name: str
    text: str


def export_customer(
    settings: Settings, customer_id: str, requested_by: str, wait_s: float
) -> ExportFile:
    """Everything held about `customer_id`, as `cdp privacy export --customer-id` writes it."""
    if settings.target != "duckdb":
        raise ExportFailed(
            f"the export button reads DuckDB; on {settings.target} run "
            "`cdp privacy export --customer-id ...`"
        )
    request = ErasureRequest("customer_id", customer_id, requested_by, "access request (ui)")
    try:
        con = connect_duckdb(
            settings.warehouse_path, read_only=True, timeout=wait_s, say=lambda _m: None
        )
    except WarehouseLocked as exc:
        raise ExportBusy(str(exc)) from None
    except WarehouseError as exc:
        raise ExportFailed(str(exc)) from None
    try:
        document = export_person(con, request)
    except PrivacyError as exc:
        raise ExportFailed(str(exc)) from None
    finally:
        con.close()
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", customer_id)[:80]
    return ExportFile(f"access-{safe}.json", dumps(document))
