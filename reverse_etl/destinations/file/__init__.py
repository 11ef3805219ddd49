"""File destination: the audience as a CSV or Parquet snapshot plus one change file per batch."""

from reverse_etl.destinations.file.client import FileDestination
from reverse_etl.destinations.file.config import FileSettings

__all__ = ["FileDestination", "FileSettings"]
