"""Identity resolution tooling: report, explain and evaluate the resolved customers.

The resolution itself runs in dbt (models/intermediate/identity, marts/identity);
this package reads its tables from the DuckDB warehouse.
"""
