"""`cdp serve`: the HTTP service (collection API now; profile API and customer page next).

See cdp/serve/README.md and docs/collect.md."""

from cdp.serve.app import create_app
from cdp.serve.settings import ServeSettings, SettingsError

__all__ = ["ServeSettings", "SettingsError", "create_app"]
