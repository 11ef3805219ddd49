"""The sync engine: diff in DuckDB, outbox-guarded batches, run history.

schema.py  tables of the `reverse_etl` schema
diff.py    source projection, validation and the diff against acknowledged state
state.py   every write to the state tables (one transaction per batch)
deliver.py delivering one batch exactly once (reconcile on ambiguous outcomes)
runner.py  one sync run end to end (an optional checkpoint observer sees each batch's points)
plan.py    the diff without sending (`cdp sync --plan`)
"""
