"""Assets by domain: ingestion (raw tables), dbt (every model), syncs (reverse ETL)."""
