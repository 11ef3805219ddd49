"""Privacy operations on the warehouse: erasure (right to be forgotten) and access export.

`subject.py` resolves a request to a person's customers, keys and raw rows,
`erase.py` deletes them everywhere and keeps a hashed tombstone and an audit
record, `destinations.py` follows up on what syncs had sent them, `export.py`
writes everything held about a person as one JSON document, `cli.py` is the
`cdp privacy` command group, `connection.py` opens the target (DuckDB or
PostgreSQL; docs/engines.md, "Privacy on every engine"). Design: docs/privacy.md.
"""

from cdp.privacy.subject import ErasureRequest, PrivacyError

__all__ = ["ErasureRequest", "PrivacyError"]
