"""Great Expectations 1.x suites for the warehouse, defined in code.

Each suite module builds a `gx.ExpectationSuite`; `expectations.runner.validate`
runs one over a DataFrame in an ephemeral context and returns a `SuiteOutcome`;
`orchestration/defs/checks.py` turns outcomes into Dagster asset checks.
See README.md.
"""
