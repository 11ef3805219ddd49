"""Google Ads Customer Match destination: hashed members through offline user data jobs."""

from reverse_etl.destinations.google_ads_customer_match.client import (
    GoogleAdsCustomerMatchDestination,
)
from reverse_etl.destinations.google_ads_customer_match.config import (
    GoogleAdsCustomerMatchSettings,
)

__all__ = ["GoogleAdsCustomerMatchDestination", "GoogleAdsCustomerMatchSettings"]
