"""The Profile API (Segment's paths and shapes) in `cdp serve`: docs/profiles.md."""

from cdp.serve.profiles.routes import install, router

__all__ = ["install", "router"]
