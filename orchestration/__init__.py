"""Dagster orchestration of the platform. Load `orchestration.definitions:defs`."""
