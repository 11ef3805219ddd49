"""The pieces `orchestration/definitions.py` puts together (see orchestration/README.md)."""
