"""Meta (Facebook) Custom Audiences destination: hashed members added and removed."""

from reverse_etl.destinations.meta_custom_audiences.client import MetaCustomAudiencesDestination
from reverse_etl.destinations.meta_custom_audiences.config import MetaCustomAudiencesSettings

__all__ = ["MetaCustomAudiencesDestination", "MetaCustomAudiencesSettings"]
