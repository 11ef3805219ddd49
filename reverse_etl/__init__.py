"""Reverse ETL: diff-based syncs from warehouse models to SaaS destinations.

See `reverse_etl/README.md` for the sync YAML reference, the state model and
the exactly-once argument.
"""
