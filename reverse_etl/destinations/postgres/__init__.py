"""PostgreSQL destination: upserts into a table, each batch recorded in a ledger table."""

from reverse_etl.destinations.postgres.client import PostgresDestination
from reverse_etl.destinations.postgres.config import PostgresSettings

__all__ = ["PostgresDestination", "PostgresSettings"]
